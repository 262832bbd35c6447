import { Command, Option } from "commander";
import { parseAllDocuments } from "yaml";
import type { Deps, GlobalOptions } from "../deps.js";
import { ChecksFailed, MeshError, UsageError } from "../errors.js";
import type { ClusterApi } from "../kube/cluster.js";
import type { KubeObject } from "../kube/types.js";
import { LINKERD_VERSION } from "../version.js";
import { globals, parseDuration, parseNamespace } from "./shared.js";

export interface CheckOptions {
  pre: boolean;
  crds: boolean;
  proxy: boolean;
  namespace: string;
  linkerdCniEnabled: boolean;
  cniNamespace: string;
  expectedVersion?: string;
  cliVersionOverride?: string;
  output: string;
  failOn: "error" | "warning";
  wait: number;
  requestTimeout: number;
}

export const VERSION_CHECK_URL = "https://versioncheck.linkerd.io/version.json";
/** How long `can determine the latest version` waits for the version service before it warns. */
export const VERSION_CHECK_TIMEOUT_MS = 3_000;

/** Linkerd's flag validation, with its wording; a usage error (exit 2) as everywhere in mesh (linkerd exits 1). */
export function validateCheckOptions(o: Pick<CheckOptions, "pre" | "crds" | "proxy" | "linkerdCniEnabled" | "output">): void {
  const problem =
    o.pre && o.proxy
      ? "--pre and --proxy flags are mutually exclusive"
      : o.pre && o.crds
        ? "--pre and --crds flags are mutually exclusive"
        : !o.pre && o.linkerdCniEnabled
          ? "--linkerd-cni-enabled can only be used with --pre"
          : !["table", "json", "short"].includes(o.output)
            ? `Invalid output type '${o.output}'. Supported output types are: json, table, short`
            : undefined;
  if (problem) throw new UsageError(`Validation error when executing check command: ${problem}`, "run `mesh check --help` for usage");
}

/** The version service's answer, or an error that says why the latest version could not be looked up. */
export async function fetchLatestVersions(url: string, cliVersion: string, uuid: string, timeoutMs = VERSION_CHECK_TIMEOUT_MS): Promise<unknown> {
  const target = `${url}?version=${encodeURIComponent(cliVersion)}&uuid=${encodeURIComponent(uuid)}&source=cli`;
  const host = new URL(url).host;
  let res: Response;
  try {
    res = await fetch(target, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const why =
      err.name === "TimeoutError" || err.name === "AbortError"
        ? `no answer within ${timeoutMs / 1000}s`
        : err.cause?.code === "ENOTFOUND" || err.cause?.code === "EAI_AGAIN"
          ? `cannot resolve ${host}`
          : (err.cause?.message ?? err.message);
    throw new Error(`cannot look up the latest version at ${host} (${why}); offline? pass --expected-version to compare against a known version`);
  }
  if (res.status !== 200) {
    await res.body?.cancel().catch(() => undefined);
    throw new Error(`unexpected versioncheck response: ${res.status} ${res.statusText}`.trimEnd());
  }
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error("unexpected versioncheck response: not JSON");
  }
}

/** The objects `mesh install` renders by default (for the --pre dry-run), by running it in-process. */
async function defaultInstallObjects(deps: Deps, g: GlobalOptions): Promise<KubeObject[]> {
  const [{ run }, { memoryIo }] = await Promise.all([import("../cli.js"), import("../io.js")]);
  const m = memoryIo();
  const code = await run(["install", "--ignore-cluster", "-L", g.linkerdNamespace, "-o", "json"], { ...deps, io: m.io });
  if (code !== 0) throw new Error(`Error rendering install manifest: ${m.stderr().trim().replace(/^error: /, "")}`);
  const out = m.stdout();
  // JSON (a List) parses far faster than the YAML stream; accept either.
  const docs = out.trimStart().startsWith("{") ? [JSON.parse(out) as { kind?: string; items?: KubeObject[] }] : parseAllDocuments(out).map((d) => d.toJS() as KubeObject);
  return docs
    .flatMap((d) => (d && (d as { kind?: string }).kind === "List" ? ((d as { items?: KubeObject[] }).items ?? []) : [d as KubeObject]))
    .filter((o): o is KubeObject => Boolean(o?.kind && o.metadata?.name));
}

export const checkCommand = (deps: Deps) =>
  new Command("check")
    .addHelpText(
      "after",
      `
Runs Linkerd's health checks (and a few of mesh's own) against the cluster
and prints one line per check. Exit code 1 when any check fails.

Examples:
  mesh check                              # after install: is the control plane healthy?
  mesh check --pre -L test                # before install, into namespace "test"
  mesh check --proxy -n app               # are the proxies in namespace "app" healthy?`,
    )
    .option("--pre", "checks to run before installing: can the control plane go into this cluster?", false)
    .option("--crds", "only check that the Linkerd CRDs are in place", false)
    .option("--proxy", "only check the data plane: the meshed pods and their proxies", false)
    .option("-n, --namespace <ns>", "namespace to use for --proxy checks (default: all namespaces)", "")
    .option("--linkerd-cni-enabled", "with --pre, assume the linkerd-cni plugin is already installed", false)
    .addOption(new Option("--cni-namespace <ns>", "namespace in which the linkerd-cni plugin is installed").default("linkerd-cni").argParser(parseNamespace))
    .option("--expected-version <version>", "compare versions with this one instead of looking up the latest version online")
    .addOption(new Option("--cli-version-override <version>", "pretend the CLI has this version (for testing)").hideHelp())
    .option("-o, --output <format>", "output format: table, json or short", "table")
    .addOption(new Option("--fail-on <severity>", "the lowest severity that fails the run (exit 1): error, or warning to fail CI on warnings such as certificates near expiry").choices(["error", "warning"]).default("error"))
    .addOption(new Option("--wait <duration>", "maximum time to wait for checks that retry").default(300_000, "5m0s").argParser(parseDuration))
    .addOption(new Option("--request-timeout <duration>", "timeout of each Kubernetes API request").default(30_000, "30s").argParser(parseDuration))
    .action(async (opts: CheckOptions, cmd: Command) => {
      validateCheckOptions(opts);
      const g = globals(cmd);
      const [{ runChecks }, { checkEnv }, { selectCategories, hintBaseUrl }, report, { theme }, { spinner }, { realClock }] = await Promise.all([
        import("../checks/runner.js"),
        import("../checks/context.js"),
        import("../checks/index.js"),
        import("../output/check-report.js"),
        import("../output/theme.js"),
        import("../output/spinner.js"),
        import("../checks/types.js"),
      ]);
      const cliVersion = opts.cliVersionOverride || LINKERD_VERSION;
      const mode = opts.crds ? "crds" : opts.pre ? "pre" : opts.proxy ? "proxy" : "default";
      const output = opts.output as "table" | "json" | "short";
      let cluster: Promise<ClusterApi> | undefined;
      const env = checkEnv(
        {
          mode,
          controlPlaneNamespace: g.linkerdNamespace,
          cniNamespace: opts.cniNamespace,
          dataPlaneNamespace: opts.namespace,
          cniEnabled: opts.linkerdCniEnabled,
          expectedVersion: opts.expectedVersion || undefined,
          cliVersion,
        },
        {
          connect: () => (cluster ??= Promise.all([deps.cluster(g), import("../kube/cluster.js")]).then(([c, { clusterApi }]) => clusterApi(c).withTimeout(opts.requestTimeout))),
          now: deps.now,
          fetchLatestVersions: (uuid) => fetchLatestVersions(deps.env.MESH_VERSIONCHECK_URL || VERSION_CHECK_URL, cliVersion, uuid),
          installObjects: () => defaultInstallObjects(deps, g),
        },
      );
      const clock = { ...realClock, now: () => deps.now().getTime() };
      const colors = theme(deps.io.color);
      const spin = output === "json" ? undefined : spinner(deps.io);
      try {
        const withExtensions = mode === "default" || mode === "proxy";
        // Extension namespaces are listed alongside the checks, not after them.
        if (withExtensions) env.attempt().ctx.namespaces("linkerd.io/extension").catch(() => undefined);
        let reachable = false;
        const results = observe(runChecks(selectCategories(mode, cliVersion), env, { deadline: clock.now() + opts.wait, clock, hintBase: hintBaseUrl(cliVersion) }), (r) => {
          if (r.checkId === "k8s-api-query" && r.status === "ok") reachable = true;
        });
        // JSON: one document for mesh's checks and the extensions' together.
        const shared = output === "json" ? new report.RunRenderer(output, colors, opts.failOn) : undefined;
        const { success } = await report.printRun(results, deps.io, output, colors, spin, { into: shared, failOn: opts.failOn });
        let allOk = success;
        // Without an API server there is nothing to find extensions with: the report above said why.
        if (withExtensions && reachable) {
          const { runExtensionChecks } = await import("../checks/extensions.js");
          try {
            const ext = await runExtensionChecks(env, { io: deps.io, env: deps.env, format: output, theme: colors, hintBase: hintBaseUrl(cliVersion), argv: extensionArgs(g, opts), spinner: spin, failOn: opts.failOn, into: shared });
            allOk = allOk && ext.success;
          } catch (e) {
            const message = `Failed to run extensions checks: ${(e as Error).message}`;
            if (!shared) throw new MeshError(message);
            // JSON: still one document, with the failure in it.
            shared.push({ category: "linkerd-extensions", checkId: "extensions", description: "can run the extension checks", hintUrl: `${hintBaseUrl(cliVersion)}extensions`, status: "error", retry: false, error: message });
            allOk = false;
          }
        }
        if (shared) deps.io.stdout.write(shared.end().text);
        else deps.io.stdout.write(report.formatStatus(allOk, colors));
        if (deps.env.MESH_CHECK_STATS === "1") deps.io.stderr.write(`mesh check: ${(await cluster?.catch(() => undefined))?.requestCount() ?? 0} API requests\n`);
        if (!allOk) throw new ChecksFailed();
      } finally {
        (await cluster?.catch(() => undefined))?.close();
      }
    });

/** Go's `time.Duration.String()` for whole milliseconds: `5m0s`, `1h0m0s`, `1.5s`, `500ms`. */
export function goDuration(ms: number): string {
  if (ms === 0) return "0s";
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  return `${h ? `${h}h` : ""}${h || m ? `${m}m` : ""}${s}s`;
}

async function* observe<T>(items: AsyncIterable<T>, f: (t: T) => void): AsyncGenerator<T> {
  for await (const t of items) {
    f(t);
    yield t;
  }
}

/** The flags Linkerd forwards to extension checks, then `--output=json`. */
function extensionArgs(g: GlobalOptions, o: CheckOptions): string[] {
  const args: string[] = [];
  if (g.context) args.push(`--context=${g.context}`);
  if (g.as) args.push(`--as=${g.as}`);
  for (const group of g.asGroup ?? []) args.push(`--as-group=${group}`);
  if (g.kubeconfig) args.push(`--kubeconfig=${g.kubeconfig}`);
  args.push(`--linkerd-namespace=${g.linkerdNamespace}`);
  if (g.verbose) args.push("--verbose=true");
  if (o.namespace) args.push(`--namespace=${o.namespace}`);
  args.push(`--proxy=${o.proxy}`);
  args.push(`--wait=${goDuration(o.wait)}`);
  args.push("--output=json");
  return args;
}
