import type { LabelSet } from "./exposition.js";
import { renderColumns } from "./format.js";
import { kindLabel, labelOf, type AttachedLabels } from "./labels.js";
import { goJsonIndent } from "../output/go-json.js";
import { sanitize } from "../output/sanitize.js";
import type { Pod } from "../kube/types.js";

/**
 * `viz edges` from one scrape of every proxy (spec B5, D4): the outbound `tcp_open_connections`
 * gauge of each pod, whose attached owner label names the source and whose `dst_*` labels (from
 * the destination controller) name the destination. Pure.
 */

export const EDGE_FAMILIES = ["tcp_open_connections", "process_start_time_seconds"] as const;

/** One scraped pod: the labels Prometheus would attach, and its open-connection gauges. */
export interface EdgePod {
  attached: AttachedLabels;
  connections: Map<LabelSet, number>;
}

export interface Edge {
  src: string;
  srcNamespace: string;
  dst: string;
  dstNamespace: string;
  /** The source pod's proxy identity (full). */
  clientId: string;
  /** `server_id` of the connection (full). */
  serverId: string;
  /** The no-TLS reason mapped to Linkerd's words, "" when the connection is secured (or the reason is unmapped). */
  msg: string;
}

/** Linkerd's wording of `no_tls_reason` values; any other reason maps to "" (shown as secured, a Linkerd quirk). */
const REASONS: Record<string, string> = {
  disabled: "Disabled",
  loopback: "Loopback",
  no_authority_in_http_request: "No Authority In HTTP Request",
  not_http: "Not HTTP",
  not_provided_by_remote: "Not Provided By Remote",
  not_provided_by_service_discovery: "Not Provided By Service Discovery",
};

export interface EdgeQuery {
  /** Canonical resource type (`deployment`, `pod`, …). */
  type: string;
  /** Keep edges whose source or destination namespace is this one; undefined: all namespaces. */
  namespace?: string;
}

/** The labels an edge group is keyed by, in order: `<T>`, `dst_<T>`, then these. */
const GROUP_LABELS = ["pod", "server_id", "namespace", "dst_namespace", "no_tls_reason"] as const;

/** One group of `sum(tcp_open_connections) by (T, dst_T, pod, server_id, namespace, dst_namespace, no_tls_reason)`. */
export interface EdgeGroup {
  /** Values of `edgeGroupLabels(type)`, in that order. */
  values: string[];
  sum: number;
}

/** The group-by labels of the edges query for a type (`deployment, dst_deployment, pod, …`). */
export function edgeGroupLabels(type: string): string[] {
  const src = kindLabel(type);
  return [src, `dst_${src}`, ...GROUP_LABELS];
}

/**
 * The edges: `Σ tcp_open_connections{direction="outbound", <T>!="", dst_<T>!=""}` grouped by
 * (T, dst_T, pod, server_id, namespace, dst_namespace, no_tls_reason), zero sums dropped. The
 * first group of an edge (in byte order of its labels) decides its identities, and a group whose
 * source pod has no identity to offer (`clientIdOf` returns undefined) is skipped.
 */
export function computeEdges(pods: Iterable<EdgePod>, q: EdgeQuery, clientIdOf: (pod: string, namespace: string) => string | undefined): Edge[] {
  const groupLabels = edgeGroupLabels(q.type);
  const groups = new Map<string, EdgeGroup>();
  for (const { attached, connections } of pods) {
    for (const [labels, v] of connections) {
      if (labels.direction !== "outbound" || !Number.isFinite(v)) continue;
      const values = groupLabels.map((l) => labelOf(attached, labels, l) ?? "");
      if (!values[0] || !values[1]) continue;
      const k = values.join("\u0000");
      const g = groups.get(k);
      if (g) g.sum += v;
      else groups.set(k, { values, sum: v });
    }
  }
  return edgesFromGroups(groups.values(), q, clientIdOf);
}

/**
 * Edges from the groups of the edges query (mesh's own sums, or Prometheus' result): groups are
 * taken in byte order of their label values, so the same groups give the same edges whatever
 * order they arrived in.
 */
export function edgesFromGroups(groups: Iterable<EdgeGroup>, q: EdgeQuery, clientIdOf: (pod: string, namespace: string) => string | undefined): Edge[] {
  const sorted = [...groups].map((g) => ({ g, k: g.values.join("\u0000") })).sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  const edges = new Map<string, Edge>();
  for (const { g } of sorted) {
    if (g.sum === 0 || !Number.isFinite(g.sum)) continue;
    const [s, d, pod, serverId, srcNs, dstNs, reason] = g.values;
    if (!s || !d) continue;
    if (q.namespace !== undefined && q.namespace !== srcNs && q.namespace !== dstNs) continue;
    const key = [s, srcNs, d, dstNs].join("\u0000");
    if (edges.has(key)) continue;
    const clientId = clientIdOf(pod, srcNs);
    if (clientId === undefined) continue;
    edges.set(key, { src: s, srcNamespace: srcNs, dst: d, dstNamespace: dstNs, clientId, serverId, msg: REASONS[reason] ?? "" });
  }
  const order = (e: Edge) => e.srcNamespace + e.dstNamespace + e.src + e.dst;
  return [...edges.values()].sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
}

/**
 * A pod's proxy identity as Linkerd derives it: env `LINKERD2_PROXY_IDENTITY_LOCAL_NAME` of its
 * `linkerd-proxy` container with `$(_pod_sa).$(_pod_ns)` filled in; "" without that variable;
 * undefined when the pod is not Running.
 */
export function podIdentity(pod: Pod): string | undefined {
  if (pod.status?.phase !== "Running") return undefined;
  const proxy = pod.spec.containers.find((c) => c.name === "linkerd-proxy");
  const v = proxy?.env?.find((e) => e.name === "LINKERD2_PROXY_IDENTITY_LOCAL_NAME")?.value;
  if (v === undefined) return "";
  const sa = pod.spec.serviceAccountName ?? "";
  return v.split("$(_pod_sa).$(_pod_ns)").join(`${sa}.${pod.metadata.namespace ?? ""}`);
}

/** An identity cut to its first two labels (`web.emojivoto`), as the CLI shows it. */
export function shortIdentity(id: string): string {
  if (!id) return id;
  const parts = id.split(".");
  return parts.length < 2 ? id : `${parts[0]}.${parts[1]}`;
}

const cell = (s: string) => sanitize(s, 253);
const pad = (s: string, n: number) => s + " ".repeat(Math.max(0, n - Array.from(s).length));

/** Table or wide output (every column padded to its widest value, SECURED `√` when secured); "" when there are no edges. */
export function formatEdgesTable(edges: Edge[], o: { wide: boolean }): string {
  if (edges.length === 0) return "";
  const rows = edges.map((e) => [e.src, e.dst, e.srcNamespace, e.dstNamespace, ...(o.wide ? [shortIdentity(e.clientId), shortIdentity(e.serverId)] : []), e.msg || "√"].map(cell));
  const header = ["SRC", "DST", "SRC_NS", "DST_NS", ...(o.wide ? ["CLIENT_ID", "SERVER_ID"] : []), "SECURED"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => Array.from(r[i]).length)));
  return renderColumns([header, ...rows].map((r) => r.map((c, i) => pad(c, widths[i]))));
}

/** `-o json`: the array of edges; identities shortened, `no_tls_reason` "" when secured. */
export function formatEdgesJson(edges: Edge[]): string {
  return `${goJsonIndent(
    edges.map((e) => ({
      src: e.src,
      src_namespace: e.srcNamespace,
      dst: e.dst,
      dst_namespace: e.dstNamespace,
      client_id: shortIdentity(e.clientId),
      server_id: shortIdentity(e.serverId),
      no_tls_reason: e.msg,
    })),
  )}\n`;
}
