import type { Buckets, LabelSet } from "./exposition.js";
import type { PodDelta } from "./delta.js";
import { kindLabel, type AttachedLabels } from "./labels.js";
import { histogramQuantile, latencyMs } from "./quantile.js";
import type { ResourceRef, ResourceType } from "./resources.js";
import { isMeshed, podStatus, type Target } from "./objects.js";
import type { Pod } from "../kube/types.js";

/**
 * `viz stat` from proxy metrics: which series a query selects and how it groups them (B2.2),
 * the numbers of each group (B2.1 over D2's deltas), and the rows of B3.
 */

/** Families stat reads from each scrape. */
export const STAT_FAMILIES = ["response_total", "response_latency_ms", "tcp_open_connections", "tcp_read_bytes_total", "tcp_write_bytes_total", "process_start_time_seconds", "process_uptime_seconds_total", "proxy_build_info"] as const;

/** A label matcher: equality, or a fully anchored regex (Prometheus `=~`). */
export interface Matcher {
  name: string;
  value: string;
  regex?: RegExp;
}

export interface StatQuery {
  selector: Matcher[];
  /** Labels whose values key a group (namespace label first, then the name label). */
  groupBy: string[];
  /** `peer` of the byte counters: `src` for inbound stats, `dst` for --to/--from and services. */
  bytesPeer: "src" | "dst";
}

/** One resource argument with the command's flags, as the query builder needs them. */
export interface StatRequest {
  ref: ResourceRef;
  allNamespaces: boolean;
  to?: ResourceRef;
  from?: ResourceRef;
  /** Cluster domain, for service authorities (`cluster.local`). */
  clusterDomain: string;
}

const eq = (name: string, value: string): Matcher => ({ name, value });

/** The label naming a resource of this type in source-side (attached) labels. */
function srcLabel(type: ResourceType): string {
  return type === "authority" ? "authority" : kindLabel(type);
}

/** The label naming a resource of this type on the destination side (`dst_*`). */
function dstLabel(type: ResourceType): string {
  return type === "authority" ? "authority" : `dst_${kindLabel(type)}`;
}

/** Matchers for the source side of a request (the object itself, or the --from object). */
function sourceMatchers(ref: ResourceRef, allNamespaces: boolean): Matcher[] {
  const m: Matcher[] = [];
  if (ref.type === "namespace") {
    if (ref.name !== undefined) m.push(eq("namespace", ref.name));
    return m;
  }
  if (ref.name !== undefined) m.push(eq(srcLabel(ref.type), ref.name));
  if (!allNamespaces && ref.namespace) m.push(eq("namespace", ref.namespace));
  return m;
}

/** Matchers for a destination (the --to object, or the target with --from): only when it is named. */
function destinationMatchers(ref: ResourceRef): Matcher[] {
  if (ref.name === undefined) return [];
  if (ref.type === "namespace") return [eq("dst_namespace", ref.name)];
  if (ref.type === "authority") return [eq("authority", ref.name)];
  const m = [eq(dstLabel(ref.type), ref.name)];
  if (ref.namespace) m.push(eq("dst_namespace", ref.namespace));
  return m;
}

function escapeRegexKeepDots(s: string): string {
  // Linkerd splices names into the regex without escaping (its dots match any character); names
  // are DNS labels, so only a stray metacharacter from a hand-typed argument needs neutralising.
  return s.replace(/[\\^$*+?()[\]{}|/]/g, "\\$&");
}

/** B2.2: the selector and grouping of one request. */
export function buildQuery(req: StatRequest): StatQuery {
  const { ref, to, from } = req;
  if (ref.type === "service") {
    const name = ref.name !== undefined ? escapeRegexKeepDots(ref.name) : ".+";
    const ns = req.allNamespaces || !ref.namespace ? ".+" : escapeRegexKeepDots(ref.namespace);
    const selector: Matcher[] = [eq("direction", "outbound"), { name: "authority", value: `${name}.${ns}.svc.${req.clusterDomain}.*`, regex: new RegExp(`^(?:${name}.${ns}.svc.${escapeRegexKeepDots(req.clusterDomain)}.*)$`) }];
    if (to) selector.push(...destinationMatchers(to));
    if (from) selector.push(...sourceMatchers(from, false));
    return { selector, groupBy: ["dst_namespace", "dst_service"], bytesPeer: "dst" };
  }
  if (from) {
    const selector = [eq("direction", "outbound"), ...sourceMatchers(from, false), ...destinationMatchers(ref)];
    const groupBy = ref.type === "namespace" ? ["dst_namespace"] : ["dst_namespace", dstLabel(ref.type)];
    return { selector, groupBy, bytesPeer: "dst" };
  }
  const groupBy = ref.type === "namespace" ? ["namespace"] : ["namespace", srcLabel(ref.type)];
  if (to) return { selector: [eq("direction", "outbound"), ...sourceMatchers(ref, req.allNamespaces), ...destinationMatchers(to)], groupBy, bytesPeer: "dst" };
  return { selector: [eq("direction", "inbound"), ...sourceMatchers(ref, req.allNamespaces)], groupBy, bytesPeer: "src" };
}

/** One pod's deltas with the labels Prometheus would have attached. */
export interface PodSample {
  delta: PodDelta;
  attached: AttachedLabels;
}

export interface GroupStats {
  /** Success and failure counts (each classification/tls group rounded, as Linkerd does). */
  success: number;
  failure: number;
  /** Σ over pods of requests/Δt. */
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  tcpConn: number;
  readRate: number;
  writeRate: number;
}

interface Acc {
  counts: Map<string, number>;
  rps: number;
  le: Map<number, number>;
  tcpConn: number;
  read: number;
  write: number;
}

const get = (attached: AttachedLabels, labels: LabelSet, name: string): string => attached[name] ?? labels[name] ?? "";

function matches(sel: Matcher[], attached: AttachedLabels, labels: LabelSet): boolean {
  for (const m of sel) {
    const v = get(attached, labels, m.name);
    if (m.regex ? !m.regex.test(v) : v !== m.value) return false;
  }
  return true;
}

/** The key of a group: its group-by label values joined with NUL. */
export function groupKey(values: string[]): string {
  return values.join("\u0000");
}

/**
 * The numbers of every group a query selects (B2.1 over the deltas of D2). A group exists when
 * any selected series exists in the later scrape, even with no increase.
 */
export function aggregate(pods: Iterable<PodSample>, q: StatQuery): Map<string, GroupStats> {
  const agg = new Aggregator(q);
  for (const p of pods) agg.add(p);
  return agg.result();
}

/**
 * aggregate() one pod at a time: `add` folds a pod's deltas into the groups, so the caller can
 * let each pod's deltas go as soon as they are added.
 */
export class Aggregator {
  private readonly accs = new Map<string, Acc>();

  constructor(private readonly q: StatQuery) {}

  private acc(key: string): Acc {
    let a = this.accs.get(key);
    if (!a) this.accs.set(key, (a = { counts: new Map(), rps: 0, le: new Map(), tcpConn: 0, read: 0, write: 0 }));
    return a;
  }

  add({ delta, attached }: PodSample): void {
    const q = this.q;
    // Matching is per label set; one pod's series share attached labels, so cache per pod.
    const cache = new Map<LabelSet, string | null>();
    const keyIfSelected = (labels: LabelSet): string | null => {
      let k = cache.get(labels);
      if (k === undefined) {
        k = matches(q.selector, attached, labels) ? groupKey(q.groupBy.map((g) => get(attached, labels, g))) : null;
        cache.set(labels, k);
      }
      return k;
    };
    for (const [labels, d] of delta.counters.get("response_total") ?? []) {
      const k = keyIfSelected(labels);
      if (k === null) continue;
      const a = this.acc(k);
      const sub = `${labels.classification ?? ""}\u0000${labels.tls ?? ""}`;
      a.counts.set(sub, (a.counts.get(sub) ?? 0) + d);
      if (labels.classification === "success" || labels.classification === "failure") a.rps += d / delta.dt;
    }
    for (const [labels, b] of delta.buckets.get("response_latency_ms") ?? []) {
      const k = keyIfSelected(labels);
      if (k === null) continue;
      const a = this.acc(k);
      for (let i = 0; i < b.le.length; i++) a.le.set(b.le[i], (a.le.get(b.le[i]) ?? 0) + b.counts[i]);
    }
    for (const [labels, v] of delta.gauges.get("tcp_open_connections") ?? []) {
      const k = keyIfSelected(labels);
      if (k !== null && Number.isFinite(v)) this.acc(k).tcpConn += v;
    }
    for (const [family, field] of [
      ["tcp_read_bytes_total", "read"],
      ["tcp_write_bytes_total", "write"],
    ] as const) {
      for (const [labels, d] of delta.counters.get(family) ?? []) {
        if (labels.peer !== q.bytesPeer) continue;
        const k = keyIfSelected(labels);
        if (k !== null) this.acc(k)[field] += d / delta.dt;
      }
    }
  }

  result(): Map<string, GroupStats> {
    const out = new Map<string, GroupStats>();
    for (const [key, a] of this.accs) {
      let success = 0;
      let failure = 0;
      for (const [sub, n] of a.counts) {
        const cls = sub.slice(0, sub.indexOf("\u0000"));
        const r = Math.round(n);
        if (cls === "success") success += r;
        else if (cls === "failure") failure += r;
      }
      const bounds = [...a.le.keys()];
      const counts = bounds.map((b) => a.le.get(b)!);
      out.set(key, {
        success,
        failure,
        rps: a.rps,
        p50: latencyMs(histogramQuantile(0.5, bounds, counts)),
        p95: latencyMs(histogramQuantile(0.95, bounds, counts)),
        p99: latencyMs(histogramQuantile(0.99, bounds, counts)),
        tcpConn: a.tcpConn,
        readRate: a.read,
        writeRate: a.write,
      });
    }
    return out;
  }
}

/** One group of a counter family: `Σ increase` rounded (Linkerd's `extractSampleValue`), and Σ over pods of Δ/Δt. */
export interface CounterSum {
  count: number;
  rate: number;
}

/**
 * `sum(increase(<family>{selector}[W])) by (groupBy)` over the deltas: per group, the rounded
 * count and the rate. Used for counters read beside `response_total`, such as
 * `inbound_http_authz_allow_total` and `_deny_total` (which carry no `direction` label).
 */
export function sumCounters(pods: Iterable<PodSample>, family: string, selector: Matcher[], groupBy: string[]): Map<string, CounterSum> {
  const raw = new Map<string, CounterSum>();
  for (const { delta, attached } of pods) {
    for (const [labels, d] of delta.counters.get(family) ?? []) {
      if (!matches(selector, attached, labels)) continue;
      const k = groupKey(groupBy.map((g) => get(attached, labels, g)));
      const s = raw.get(k) ?? { count: 0, rate: 0 };
      s.count += d;
      s.rate += d / delta.dt;
      raw.set(k, s);
    }
  }
  for (const s of raw.values()) s.count = Math.round(s.count);
  return raw;
}

/** The numbers a row shows when it has request data: a group's, with success as a ratio 0..1. */
export type RowStats = Omit<GroupStats, "failure">;

export interface StatRow {
  kind: ResourceType;
  namespace: string;
  name: string;
  /** kubectl-style status, pods only. */
  status?: string;
  /** `meshed/total`, or `-` for services and authorities. */
  meshed: string;
  meshedCount?: number;
  /** Undefined when success and failure are both 0: every stats column shows `-`. */
  stats?: RowStats;
  /** Distinct `proxy_build_info` versions of the row's scraped pods. */
  proxyVersions?: string[];
  /** With --proxy-version-mismatch: the commands that restart its outdated proxies. */
  fixes?: string[];
  /** The object's pods (for version fixes). */
  pods?: { namespace: string; name: string }[];
}

export function toRowStats(g: GroupStats | undefined): RowStats | undefined {
  if (!g || g.success + g.failure === 0) return undefined;
  return { success: g.success / (g.success + g.failure), rps: g.rps, p50: g.p50, p95: g.p95, p99: g.p99, tcpConn: g.tcpConn, readRate: g.readRate, writeRate: g.writeRate };
}

/** Types without pods of their own: their rows are never hidden for having no meshed pods. */
const NOT_POD_OWNERS = new Set<ResourceType>(["authority", "service", "server", "serverauthorization", "authorizationpolicy", "httproute"]);

export interface RowOptions {
  controlPlaneNamespace: string;
  unmeshed: boolean;
  /** Proxy version per pod (`ns/name`), from the latest scrape. */
  proxyVersions?: Map<string, string>;
}

/**
 * The rows of one request: every target object gets a row (B3.1), or with --to/--from only the
 * objects that have metrics; authorities come from the metrics alone. Rows with no meshed pods
 * are dropped for pod-owning types unless --unmeshed or --from.
 */
export function buildRows(req: StatRequest, targets: Target[], groups: Map<string, GroupStats>, o: RowOptions): StatRow[] {
  const rows: StatRow[] = [];
  const byKey = (ns: string, name: string) => (req.ref.type === "namespace" ? groupKey([name]) : groupKey([ns, name]));
  if (req.ref.type === "authority") {
    for (const [key, g] of groups) {
      const [ns, name] = key.split("\u0000");
      if (!name) continue; // series without an authority (e.g. the admin port's own requests)
      rows.push({ kind: "authority", namespace: ns, name, meshed: "-", stats: toRowStats(g) });
    }
  } else {
    for (const t of targets) {
      const ns = t.ref.namespace;
      const name = t.ref.name ?? "";
      const g = groups.get(byKey(ns, name));
      if ((req.to || req.from) && !g) continue;
      const isService = t.ref.type === "service";
      const meshedCount = t.pods.filter((p) => isMeshed(p, o.controlPlaneNamespace)).length;
      if (!isService && !NOT_POD_OWNERS.has(t.ref.type) && meshedCount === 0 && !o.unmeshed && !req.from) continue;
      const row: StatRow = {
        kind: t.ref.type,
        namespace: ns,
        name,
        meshed: isService ? "-" : `${meshedCount}/${t.pods.filter((p) => p.status?.phase !== "Failed").length}`,
        meshedCount,
        stats: toRowStats(g),
      };
      if (t.ref.type === "pod" && t.object) row.status = podStatus(t.object as Pod);
      if (o.proxyVersions) {
        const versions = new Set<string>();
        for (const p of t.pods) {
          const v = o.proxyVersions.get(`${p.metadata.namespace}/${p.metadata.name}`);
          if (v !== undefined) versions.add(v);
        }
        row.proxyVersions = [...versions].sort();
      }
      row.pods = t.pods.filter((p) => isMeshed(p, o.controlPlaneNamespace)).map((p) => ({ namespace: p.metadata.namespace ?? "", name: p.metadata.name }));
      rows.push(row);
    }
  }
  return rows;
}

/** Byte order of `namespace/name`, as Linkerd sorts rows. */
export function sortRows(rows: StatRow[]): StatRow[] {
  const key = (r: StatRow) => `${r.namespace}/${r.name}`;
  return rows.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** Bucket helper for tests and callers that build deltas by hand. */
export function buckets(le: number[], counts: number[]): Buckets {
  return { le, counts };
}
