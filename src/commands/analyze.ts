import { Command, InvalidArgumentError, Option } from "commander";
import type { Deps } from "../deps.js";
import { MeshError, UsageError } from "../errors.js";
import { fetchWithUndici, resolveInputs } from "../inject/io.js";
import { pickInjectValues } from "../inject/overrides.js";
import { clusterApi } from "../kube/cluster.js";
import { Memo } from "../checks/memo.js";
import { checkEnv, type CheckWorld } from "../checks/context.js";
import { analyze } from "../analyze/index.js";
import { readCluster, type ClusterState } from "../analyze/cluster.js";
import { formatJson, formatSarif, formatSummary, formatTable, summarize } from "../analyze/format.js";
import { loadInputs } from "../analyze/load.js";
import { SEVERITY_RANK, type Obj, type Severity } from "../analyze/model.js";
import { parseSuppression, type Suppression } from "../analyze/run.js";
import { CREATED_BY, LINKERD_VERSION, MESH_VERSION } from "../version.js";
import { globals, parseNamespace } from "./shared.js";
import { injectDefaults } from "./inject.js";

export interface AnalyzeOptions {
  cluster: boolean;
  namespace?: string;
  allNamespaces: boolean;
  output: "table" | "json" | "sarif";
  failureThreshold: Severity;
  suppress: Suppression[];
}

function suppressionArg(value: string, previous: Suppression[] | undefined): Suppression[] {
  try {
    return [...(previous ?? []), parseSuppression(value)];
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

export const analyzeCommand = (deps: Deps) =>
  new Command("analyze")
    .usage("[options] [FILE|DIR|URL|-]...")
    .argument("[inputs...]", "manifests: files, directories (.yaml/.yml/.json, recursively), https:// URLs, or - for stdin")
    .option("--cluster", "read the cluster too: alone, analyse its objects; with files, lay the files over it as if applied", false)
    .option("-n, --namespace <ns>", "with --cluster, read this namespace only; for files, the namespace of objects that name none (default: default)", parseNamespace)
    .option("-A, --all-namespaces", "with --cluster, read every namespace (the default)", false)
    .addOption(new Option("-o, --output <format>", "output format").choices(["table", "json", "sarif"]).default("table"))
    .addOption(new Option("--failure-threshold <severity>", "exit 1 when a finding is at least this severe").choices(["info", "warning", "error"]).default("error"))
    .addOption(new Option("--suppress <CODE[=Kind/ns/name]>", "ignore a code, everywhere or for one object (repeatable)").argParser(suppressionArg).default([]))
    .addHelpText(
      "after",
      `
Finds Linkerd configuration that the API server accepts and the proxies silently ignore:
ServiceProfiles, HTTPRoutes, Servers and authorization policies that name nothing, unknown or
invalid config.linkerd.io annotations, pods injection refuses. Each finding has a stable code
(MESH1xx routing, 2xx policy, 3xx injection and annotations, 4xx control plane), the file and
line it comes from, and the fix. An object annotated analyze.mesh/suppress: "MESH201,MESH204"
is exempt from those codes.

Examples:
  mesh analyze k8s/                              # files only: no cluster contacted
  mesh analyze --cluster                         # the live cluster, every namespace
  mesh analyze --cluster -n emojivoto k8s/app.yaml   # pre-apply: the file as if applied
  mesh analyze k8s/ -o sarif > analyze.sarif     # for CI code annotations`,
    )
    .action(async (inputs: string[], opts: AnalyzeOptions, cmd: Command) => {
      if (opts.namespace !== undefined && opts.allNamespaces) throw new UsageError("--namespace and --all-namespaces cannot be used together");
      const useCluster = opts.cluster || inputs.length === 0;
      const g = globals(cmd);
      const io = deps.io;

      let files: Obj[] | undefined;
      if (inputs.length) {
        const resolved = resolveInputs(inputs, { stdin: io.stdin, fetchUrl: (url) => fetchWithUndici(url), warn: (m) => io.stderr.write(`warning: ${m}\n`) });
        const loaded = await loadInputs(resolved, opts.namespace ?? "default");
        files = loaded.objects;
        if (loaded.skipped) io.stderr.write(`skipped ${loaded.skipped} document${loaded.skipped === 1 ? "" : "s"} without apiVersion and kind (not Kubernetes objects)\n`);
        if (!useCluster) io.stderr.write(`analysing ${files.length} object${files.length === 1 ? "" : "s"} from files only: no cluster contacted (add --cluster to check them against the cluster's state)\n`);
      }

      let state: ClusterState | undefined;
      let requests: (() => number) | undefined;
      let controlPlane;
      if (useCluster) {
        const cluster = clusterApi(await deps.cluster(g));
        const before = cluster.requestCount();
        requests = () => cluster.requestCount() - before;
        state = await readCluster(cluster, opts.namespace, g.linkerdNamespace);
        if (state.linkerdConfig) {
          // mesh check's context on this cluster, seeded with what was just read (no second list)
          const world: CheckWorld = { connect: async () => cluster, now: deps.now, fetchLatestVersions: async () => ({}), installObjects: async () => [] };
          const memo = new Memo();
          void memo.get("pods:*", async () => state!.pods.map((p) => p.value));
          void memo.get(`cm:${g.linkerdNamespace}`, async () => [state!.linkerdConfig]);
          const env = checkEnv({ mode: "default", controlPlaneNamespace: g.linkerdNamespace, cniNamespace: g.cniNamespace ?? "linkerd-cni", dataPlaneNamespace: opts.namespace ?? "", cniEnabled: false, cliVersion: LINKERD_VERSION }, world, memo);
          controlPlane = env.attempt().ctx;
        } else io.stderr.write(`no Linkerd control plane in namespace "${g.linkerdNamespace}" (no linkerd-config): control-plane analyzers skipped\n`);
      }

      const values = pickInjectValues(await injectDefaults());
      const inject = { values, overrides: {}, manual: false, enableDebugSidecar: false, namespace: g.linkerdNamespace, createdBy: CREATED_BY };
      const scope = opts.namespace && useCluster ? new Set([opts.namespace]) : undefined;
      const { findings, world } = await analyze({ files, cluster: state, scope, now: deps.now(), suppress: opts.suppress, controlPlane, inject });
      const source = files && state ? "files+cluster" : state ? "cluster" : "files";

      if (opts.output === "json") io.stdout.write(formatJson(findings, source));
      else if (opts.output === "sarif") io.stdout.write(formatSarif(findings, MESH_VERSION));
      else io.stdout.write(formatTable(findings, io.color));

      const summary = summarize(findings);
      const analysed = `${world.subjects.length} object${world.subjects.length === 1 ? "" : "s"} analysed`;
      // one list per resource type, linkerd-config, and (with a control plane) its issuer Secret: never one per object
      if (g.verbose && requests) io.stderr.write(`read the cluster with ${requests()} requests\n`);
      const failing = findings.filter((f) => SEVERITY_RANK[f.severity] >= SEVERITY_RANK[opts.failureThreshold]).length;
      if (failing) throw new MeshError(`${formatSummary(summary)} (${analysed}); ${failing} at or above the failure threshold (${opts.failureThreshold})`);
      io.stderr.write(`${formatSummary(summary)} (${analysed})\n`);
    });
