import { Command } from "commander";
import type { Deps, GlobalOptions } from "../../deps.js";
import { UsageError } from "../../errors.js";
import { clusterApi } from "../../kube/cluster.js";
import type { Pod } from "../../kube/types.js";
import { computeEdges, EDGE_FAMILIES, formatEdgesJson, formatEdgesTable, podIdentity, type EdgePod } from "../../viz/edges.js";
import { attachedLabels } from "../../viz/labels.js";
import { parseResourceArgs, type ResourceType } from "../../viz/resources.js";
import { podKey, Scraper } from "../../viz/scrape.js";
import { globals, parseNamespace } from "../shared.js";
import { contextNamespace, scrapable } from "./common.js";

export interface EdgesOptions {
  namespace?: string;
  allNamespaces: boolean;
  output: string;
}

/** Types with an owner label on both ends of a connection (attached `<T>`, destination `dst_<T>`). */
const EDGE_TYPES = new Set<ResourceType>(["cronjob", "daemonset", "deployment", "job", "namespace", "pod", "replicaset", "replicationcontroller", "statefulset"]);

/** B5's rules, before any I/O. Returns the canonical type. */
export function validateEdgesOptions(args: string[], o: EdgesOptions, namespace: string, namespaceSet: boolean): ResourceType {
  if (args.length !== 1) throw new UsageError(`edges takes exactly one resource type, got ${args.length}`, "e.g. `mesh viz edges deploy -n emojivoto` or `mesh viz edges po -A`");
  if (o.allNamespaces && namespaceSet) throw new UsageError("-A/--all-namespaces and -n/--namespace flags are mutually exclusive");
  const [ref] = parseResourceArgs(args, namespace);
  if (ref.name !== undefined) throw new UsageError(`Edges cannot be returned for a specific resource name; remove ${ref.name} from query`);
  if (!EDGE_TYPES.has(ref.type)) throw new UsageError(`Resource type is not supported: ${ref.type}`, "use deploy, sts, ds, rs, rc, job, cj, po or ns");
  if (!["table", "json", "wide"].includes(o.output)) throw new UsageError("--output supports table, json and wide");
  return ref.type;
}

export const edgesCommand = (deps: Deps) =>
  new Command("edges")
    .usage("[flags] (RESOURCETYPE)")
    .argument("[type...]")
    .addHelpText(
      "after",
      `
Connections between resources of one type that start or end in the namespace, with the
client's and server's mTLS identities, from one scrape of every meshed proxy's open
connections (RBAC: list pods, get pods/proxy in every namespace).

Examples:
  mesh viz edges po -n test
  mesh viz edges deploy -A -o wide`,
    )
    .option("-n, --namespace <ns>", "namespace the edges start or end in (default: the kubeconfig context's, else default)")
    .option("-A, --all-namespaces", "edges across all namespaces", false)
    .option("-o, --output <format>", "output format: table, json or wide", "table")
    .action(async (args: string[], opts: EdgesOptions, cmd: Command) => {
      const g = globals(cmd);
      const namespaceSet = cmd.getOptionValueSource("namespace") === "cli";
      if (opts.namespace !== undefined) parseNamespace(opts.namespace);
      const namespace = opts.namespace || ((await contextNamespace(g.kubeconfig, g.context, deps.env)) ?? "default");
      const type = validateEdgesOptions(args, opts, namespace, namespaceSet);
      await runEdges(deps, g, opts, type, namespace);
    });

export async function runEdges(deps: Deps, g: GlobalOptions, o: EdgesOptions, type: ResourceType, namespace: string): Promise<void> {
  const cluster = clusterApi(await deps.cluster(g));
  try {
    // Edges into the namespace may start anywhere: every meshed proxy of the cluster is read once.
    const all = await cluster.listPods("");
    const byKey = new Map<string, Pod>(all.map((p) => [podKey(p), p]));
    const pods = all.filter(scrapable(g.linkerdNamespace));
    const warn = (m: string) => deps.io.stderr.write(`warning: ${m}\n`);
    const scraper = new Scraper(cluster.withTimeout(15_000), { families: EDGE_FAMILIES, now: () => deps.now().getTime(), warn });
    const scraped = await scraper.round(pods);
    scraper.flushWarnings();
    const inputs: EdgePod[] = [];
    for (const p of pods) {
      const s = scraped.get(podKey(p));
      if (s) inputs.push({ attached: attachedLabels(p), connections: s.metrics.samples.get("tcp_open_connections") ?? new Map() });
    }
    const edges = computeEdges(inputs, { type, namespace: o.allNamespaces ? undefined : namespace }, (pod, ns) => {
      const p = byKey.get(`${ns}/${pod}`);
      return p ? podIdentity(p) : undefined;
    });
    if (o.output === "json") {
      deps.io.stdout.write(formatEdgesJson(edges));
      return;
    }
    const table = formatEdgesTable(edges, { wide: o.output === "wide" });
    if (table) deps.io.stdout.write(table);
    else deps.io.stderr.write("No edges found.\n");
  } finally {
    cluster.close();
  }
}
