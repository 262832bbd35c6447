// What the dashboard's pages show, computed from one collection round with viz's own cores
// (stat's query, aggregation and rows; routes' and edges' computations): the JSON the page reads.
// Pure: the collector lists, scrapes and passes everything in.
import type { Pod } from "../kube/types.js";
import { compareVersions } from "../checks/versions.js";
import { proxyVersion } from "../checks/pods.js";
import { computeEdges, podIdentity, shortIdentity, type Edge, type EdgePod } from "../viz/edges.js";
import { kindLabel } from "../viz/labels.js";
import { isMeshed, podStatus, type Target } from "../viz/objects.js";
import type { ResourceType } from "../viz/resources.js";
import { computeRouteRows, hasRequestData, profileFor, type RouteProfile } from "../viz/routes.js";
import { aggregate, buildQuery, buildRows, type GroupStats, type PodSample, type StatRequest, type StatRow } from "../viz/stat.js";
import type { EdgeView, NamespaceSummary, Numbers, PodView, Point, RouteView, WorkloadSummary as WireWorkloadSummary } from "./wire.js";

export type { EdgeView, NamespaceSummary, Numbers, PodView, RouteView };

/** The workload types the namespace page lists (ReplicaSets of Deployments would repeat them). */
export const WORKLOAD_TYPES: readonly ResourceType[] = ["deployment", "statefulset", "daemonset", "cronjob", "job", "replicationcontroller"];

export type WorkloadSummary = WireWorkloadSummary<ResourceType>;

export const NO_NUMBERS: Numbers = { success: null, rps: null, p50: null, p95: null, p99: null };

export function numbersOf(row: Pick<StatRow, "stats">): Numbers {
  const s = row.stats;
  return s ? { success: s.success, rps: s.rps, p50: s.p50, p95: s.p95, p99: s.p99 } : { ...NO_NUMBERS };
}

export const pointOf = (t: number, n: Numbers): Point => ({ t, success: n.success, rps: n.rps, p50: n.p50, p95: n.p95, p99: n.p99 });

const totalOf = (row: StatRow) => Number(/\/(\d+)$/.exec(row.meshed)?.[1] ?? 0);

/** History keys. */
export const namespaceKey = (ns: string) => `ns/${ns}`;
export const workloadKey = (ns: string, kind: string, name: string) => `wl/${ns}/${kind}/${name}`;

/** Where a round's numbers come from: deltas of scrapes, or groups Prometheus computed. */
export type GroupSource = (req: StatRequest) => Promise<Map<string, GroupStats>> | Map<string, GroupStats>;

/** The group source of the agentless collection: stat's aggregation over the round's deltas. */
export function groupsFromSamples(samples: Iterable<PodSample>): GroupSource {
  const list = [...samples];
  return (req) => aggregate(list, buildQuery(req));
}

const request = (type: ResourceType, clusterDomain: string): StatRequest => ({ ref: { type, namespace: "" }, allNamespaces: true, clusterDomain });

/** Every namespace's row (as `mesh viz stat ns -A`), sorted by name. */
export async function namespaceSummaries(targets: Target[], groups: GroupSource, cp: string, clusterDomain: string): Promise<NamespaceSummary[]> {
  const req = request("namespace", clusterDomain);
  const rows = buildRows(req, targets, await groups(req), { controlPlaneNamespace: cp, unmeshed: true });
  return rows.map((r) => ({ name: r.name, meshed: r.meshedCount ?? 0, total: totalOf(r), ...numbersOf(r) })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Every workload's row (as `mesh viz stat <type> -A --unmeshed`), by namespace, then kind and name. */
export async function workloadSummaries(targetsByType: Map<ResourceType, Target[]>, groups: GroupSource, cp: string, clusterDomain: string): Promise<WorkloadSummary[]> {
  const out: WorkloadSummary[] = [];
  for (const type of WORKLOAD_TYPES) {
    const targets = targetsByType.get(type) ?? [];
    if (!targets.length) continue;
    const req = request(type, clusterDomain);
    for (const r of buildRows(req, targets, await groups(req), { controlPlaneNamespace: cp, unmeshed: true }))
      out.push({ namespace: r.namespace, kind: r.kind, name: r.name, meshed: r.meshedCount ?? 0, total: totalOf(r), ...numbersOf(r) });
  }
  const key = (w: WorkloadSummary) => `${w.namespace}\u0000${w.kind}\u0000${w.name}`;
  return out.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

export function podViews(pods: Pod[], cp: string, controlPlaneVersion: string | undefined): PodView[] {
  return pods
    .map((p) => {
      const meshed = isMeshed(p, cp);
      const version = meshed ? proxyVersion(p) : "";
      const outdated = Boolean(meshed && version && controlPlaneVersion && (compareVersions(version, controlPlaneVersion) ?? 0) < 0);
      return { name: p.metadata.name, status: podStatus(p), meshed, proxyVersion: version, outdated };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * The inbound routes of a workload (`mesh viz routes <kind>/<name>`): the ServiceProfile routes of
 * the Services that select its pods, plus `[DEFAULT]`, over the round's deltas of its pods.
 */
export function routeViews(target: Target, services: Target[], profiles: Map<string, string[]>, samples: PodSample[], clusterDomain: string): RouteView[] {
  const ns = target.ref.namespace;
  const mine = new Set(target.pods.map((p) => p.metadata.name));
  const lookup = (pns: string, name: string) => (pns === ns && profiles.has(name) ? { routes: profiles.get(name)! } : undefined);
  const chosen: RouteProfile[] = services.filter((s) => s.pods.some((p) => mine.has(p.metadata.name))).map((s) => profileFor({ name: s.ref.name ?? "", namespace: s.ref.namespace }, ns, clusterDomain, lookup));
  if (!chosen.length) return [];
  const rows = computeRouteRows(samples, { direction: "inbound", labels: { [kindLabel(target.ref.type)]: target.ref.name ?? "", namespace: ns }, profiles: chosen });
  return rows.map((r) => {
    const has = hasRequestData(r);
    const total = r.success + r.failure;
    return {
      route: r.route,
      service: r.authority,
      success: has && total > 0 ? r.success / total : null,
      rps: has ? r.rps : null,
      p50: has ? r.p50 : null,
      p95: has ? r.p95 : null,
      p99: has ? r.p99 : null,
    };
  });
}

/** A workload's edges (`mesh viz edges <kind>`), split into those that end at it and those that start from it. */
export function edgeViews(kind: ResourceType, ns: string, name: string, pods: EdgePod[], byKey: Map<string, Pod>): { inbound: EdgeView[]; outbound: EdgeView[] } {
  const edges = computeEdges(pods, { type: kind, namespace: ns }, (pod, pns) => {
    const p = byKey.get(`${pns}/${pod}`);
    return p ? podIdentity(p) : undefined;
  });
  const view = (e: Edge, inbound: boolean): EdgeView => ({
    peer: inbound ? `${e.srcNamespace}/${e.src}` : `${e.dstNamespace}/${e.dst}`,
    peerNamespace: inbound ? e.srcNamespace : e.dstNamespace,
    peerName: inbound ? e.src : e.dst,
    clientId: shortIdentity(e.clientId),
    serverId: shortIdentity(e.serverId),
    noTlsReason: e.msg,
  });
  return {
    inbound: edges.filter((e) => e.dst === name && e.dstNamespace === ns).map((e) => view(e, true)),
    outbound: edges.filter((e) => e.src === name && e.srcNamespace === ns).map((e) => view(e, false)),
  };
}
