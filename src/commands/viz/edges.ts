import { Command } from "commander";
import type { Deps, GlobalOptions } from "../../deps.js";
import { UsageError } from "../../errors.js";
import { withVia } from "../../viz/via.js";
import { viaOption, type Via } from "../../viz/via-option.js";
import { clusterApi, type ClusterApi } from "../../kube/cluster.js";
import type { Pod } from "../../kube/types.js";
import { computeEdges, EDGE_FAMILIES, edgeGroupLabels, edgesFromGroups, formatEdgesJson, formatEdgesTable, podIdentity, type Edge, type EdgePod, type EdgeQuery } from "../../viz/edges.js";
import { buildEdgesPromQuery, edgeGroupsFromPrometheus, parsePrometheusUrl, PrometheusClient } from "../../viz/prometheus.js";
import { attachedLabels } from "../../viz/labels.js";
import { parseResourceArgs, type ResourceType } from "../../viz/resources.js";
import { podKey, Scraper } from "../../viz/scrape.js";
import { globals, parseNamespace } from "../shared.js";
import { contextNamespace, scrapable } from "./common.js";

export interface EdgesOptions {
  /** How to reach the proxies' admin port (--via; default auto). */
  via?: Via;
  namespace?: string;
  allNamespaces: boolean;
  output: string;
  /** Read the connections from this Prometheus instead of scraping the proxies (also MESH_PROMETHEUS_URL). */
  prometheusUrl?: string;
}

/** Types with an owner label on both ends of a connection (attached `<T>`, destination `dst_<T>`). */
const EDGE_TYPES = new Set<ResourceType>(["cronjob", "daemonset", "deployment", "job", "namespace", "pod", "replicaset", "replicationcontroller", "statefulset"]);

/** B5's rules, before any I/O. Returns the canonical type. */
export function validateEdgesOptions(args: string[], o: EdgesOptions, namespace: string, namespaceSet: boolean): ResourceType {
  if (o.prometheusUrl) parsePrometheusUrl(o.prometheusUrl);
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
  mesh viz edges deploy -A -o wide
  mesh viz edges deploy -n test --prometheus-url http://localhost:9090

With --prometheus-url (or MESH_PROMETHEUS_URL), the open connections come from an existing
Prometheus that scrapes the proxies with Linkerd-viz's labels, through Linkerd's own query; the
client pods' identities still come from the API server.`,
    )
    .option("-n, --namespace <ns>", "namespace the edges start or end in (default: the kubeconfig context's, else default)")
    .option("-A, --all-namespaces", "edges across all namespaces", false)
    .option("-o, --output <format>", "output format: table, json or wide", "table")
    .option("--prometheus-url <url>", "read the connections from this Prometheus (Linkerd-viz's, or one with its labels) instead of scraping every proxy (env: MESH_PROMETHEUS_URL)")
    .addOption(viaOption())
    .action(async (args: string[], opts: EdgesOptions, cmd: Command) => {
      const g = globals(cmd);
      const namespaceSet = cmd.getOptionValueSource("namespace") === "cli";
      if (opts.namespace !== undefined) parseNamespace(opts.namespace);
      const namespace = opts.namespace || ((await contextNamespace(g.kubeconfig, g.context, deps.env)) ?? "default");
      opts.prometheusUrl = opts.prometheusUrl || deps.env.MESH_PROMETHEUS_URL || undefined;
      const type = validateEdgesOptions(args, opts, namespace, namespaceSet);
      await runEdges(deps, g, opts, type, namespace);
    });

export async function runEdges(deps: Deps, g: GlobalOptions, o: EdgesOptions, type: ResourceType, namespace: string): Promise<void> {
  const cluster = withVia(clusterApi(await deps.cluster(g)), o.via ?? "auto", deps.io.stderr);
  try {
    const q = { type, namespace: o.allNamespaces ? undefined : namespace };
    const edges = o.prometheusUrl ? await edgesFromPrometheus(deps, g, cluster, o.prometheusUrl, q) : await edgesFromScrapes(deps, g, cluster, q);
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

/** One scrape of every meshed proxy of the cluster: edges into the namespace may start anywhere. */
async function edgesFromScrapes(deps: Deps, g: GlobalOptions, cluster: ClusterApi, q: EdgeQuery): Promise<Edge[]> {
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
  return computeEdges(inputs, q, (pod, ns) => {
    const p = byKey.get(`${ns}/${pod}`);
    return p ? podIdentity(p) : undefined;
  });
}

/** Namespaces listed one by one below this many; above, all pods in one list. */
const MAX_NAMESPACE_LISTS = 8;

/**
 * Linkerd's edges query against an existing Prometheus; the client identities come from the
 * source pods the samples name, read from the API server (only their namespaces, when few).
 */
async function edgesFromPrometheus(deps: Deps, g: GlobalOptions, cluster: ClusterApi, url: string, q: EdgeQuery): Promise<Edge[]> {
  const client = new PrometheusClient(parsePrometheusUrl(url));
  const groups = edgeGroupsFromPrometheus(q.type, await client.query(buildEdgesPromQuery(q.type)));
  const labels = edgeGroupLabels(q.type);
  const [srcNsAt, dstNsAt] = [labels.indexOf("namespace", 2), labels.indexOf("dst_namespace", 2)];
  const wanted = groups.filter((gr) => gr.sum !== 0 && (q.namespace === undefined || gr.values[srcNsAt] === q.namespace || gr.values[dstNsAt] === q.namespace));
  const namespaces = [...new Set(wanted.map((gr) => gr.values[srcNsAt]))].sort();
  const pods = namespaces.length === 0 ? [] : namespaces.length <= MAX_NAMESPACE_LISTS ? (await Promise.all(namespaces.map((ns) => cluster.listPods(ns)))).flat() : await cluster.listPods("");
  const byKey = new Map<string, Pod>(pods.map((p) => [podKey(p), p]));
  if (g.verbose) deps.io.stderr.write(`mesh viz edges: ${client.counters.queries} Prometheus queries to ${client.target.display} (${(client.counters.bytes / 1e6).toFixed(2)} MB), ${cluster.requestCount()} API requests\n`);
  return edgesFromGroups(wanted, q, (pod, ns) => {
    const p = byKey.get(`${ns}/${pod}`);
    return p ? podIdentity(p) : undefined;
  });
}
