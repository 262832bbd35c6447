import type { LabelSet } from "./exposition.js";
import { renderColumns, goFixed } from "./format.js";
import { labelOf, type AttachedLabels } from "./labels.js";
import { histogramQuantile, latencyMs } from "./quantile.js";
import type { PodSample } from "./stat.js";
import { goJsonIndent } from "../output/go-json.js";
import { sanitize } from "../output/sanitize.js";

/**
 * `viz routes` from proxy metrics (spec B4, D4): the ServiceProfile routes of a destination, each
 * with the numbers of the `route_*` families over two scrapes, plus `[DEFAULT]` for requests that
 * matched no route. Pure: the command finds the profiles and the pods, and scrapes.
 */

/** Families routes reads from each scrape. */
export const ROUTE_FAMILIES = ["route_response_total", "route_actual_response_total", "route_response_latency_ms", "process_start_time_seconds"] as const;

/** The row name of requests that matched no route (series without `rt_route`). */
export const DEFAULT_ROUTE = "[DEFAULT]";

/** One ServiceProfile as routes uses it (a missing profile is an empty default one with the same name). */
export interface RouteProfile {
  /** Column 2: the Service's name, or the profile's name for authority queries. */
  column: string;
  /** The profile's name: the logical destination `<svc>.<ns>.svc.<cluster domain>`. */
  name: string;
  /** `spec.routes[].name`, in order. */
  routes: string[];
}

/** What one table selects: direction and source labels (equality, as Prometheus stored them), and the profiles. */
export interface RouteQuery {
  direction: "inbound" | "outbound";
  /** Label → value that every selected series must carry (`deployment=web`, `namespace=emojivoto`). */
  labels: Record<string, string>;
  profiles: RouteProfile[];
}

export interface RouteRow {
  route: string;
  /** Column 2 (Service, or the authority's profile name). */
  authority: string;
  success: number;
  failure: number;
  actualSuccess: number;
  actualFailure: number;
  /** Σ over pods of responses/Δt (route_response_total). */
  rps: number;
  /** The same over route_actual_response_total (attempts, retries included). */
  actualRps: number;
  p50: number;
  p95: number;
  p99: number;
}

/** One table: the object it is for (`deployment/web`) and its rows, sorted as Linkerd sorts them. */
export interface RouteTable {
  resource: string;
  rows: RouteRow[];
}

interface Acc {
  row: RouteRow;
  /** (dst with port, classification) → count, rounded per group as Prometheus' `sum by` would be. */
  counts: Map<string, number>;
  actual: Map<string, number>;
  le: Map<number, number>;
}

/** `dst` without its `:port`, the way Linkerd keys route samples. */
export function dstName(dst: string): string {
  return dst.split(":")[0];
}

const selected = (attached: AttachedLabels, labels: LabelSet, q: RouteQuery) => {
  if (labels.direction !== q.direction) return false;
  for (const [k, v] of Object.entries(q.labels)) if (labelOf(attached, labels, k) !== v) return false;
  return true;
};

const emptyRow = (route: string, authority: string): RouteRow => ({ route, authority, success: 0, failure: 0, actualSuccess: 0, actualFailure: 0, rps: 0, actualRps: 0, p50: 0, p95: 0, p99: 0 });
const rowKey = (dst: string, route: string) => `${dst}\u0000${route}`;

/**
 * The rows a table can have, keyed by (profile name, route; "" for `[DEFAULT]`): every route of
 * every profile plus `[DEFAULT]`, all zero. `find` maps a series' `dst` (port cut off) and
 * `rt_route` to its row; undefined for routes the profiles do not name (Linkerd ignores those).
 */
export function routeRowIndex(profiles: RouteProfile[]): { rows: Map<string, RouteRow>; find: (dst: string, route: string | undefined) => RouteRow | undefined } {
  const rows = new Map<string, RouteRow>();
  for (const p of profiles) {
    for (const r of p.routes) rows.set(rowKey(p.name, r), emptyRow(r, p.column));
    rows.set(rowKey(p.name, ""), emptyRow(DEFAULT_ROUTE, p.column));
  }
  return { rows, find: (dst, route) => rows.get(rowKey(dstName(dst), route ?? "")) };
}

/**
 * The rows of one table: every route of every profile plus `[DEFAULT]`, each with the numbers of
 * the selected series whose `dst` (port cut off) is that profile's name. Samples for routes the
 * profile does not name are ignored, as Linkerd ignores them.
 */
export function computeRouteRows(pods: Iterable<PodSample>, q: RouteQuery): RouteRow[] {
  const index = routeRowIndex(q.profiles);
  const accs = new Map<RouteRow, Acc>();
  for (const row of index.rows.values()) accs.set(row, { row, counts: new Map(), actual: new Map(), le: new Map() });
  const find = (labels: LabelSet) => {
    const row = index.find(labels.dst ?? "", labels.rt_route);
    return row && accs.get(row);
  };
  for (const { delta, attached } of pods) {
    for (const [family, field] of [
      ["route_response_total", "counts"],
      ["route_actual_response_total", "actual"],
    ] as const) {
      for (const [labels, d] of delta.counters.get(family) ?? []) {
        if (!selected(attached, labels, q)) continue;
        const a = find(labels);
        if (!a) continue;
        const cls = labels.classification ?? "";
        const sub = `${labels.dst ?? ""}\u0000${cls}`;
        a[field].set(sub, (a[field].get(sub) ?? 0) + d);
        if (cls === "success" || cls === "failure") {
          if (field === "counts") a.row.rps += d / delta.dt;
          else a.row.actualRps += d / delta.dt;
        }
      }
    }
    for (const [labels, b] of delta.buckets.get("route_response_latency_ms") ?? []) {
      if (!selected(attached, labels, q)) continue;
      const a = find(labels);
      if (!a) continue;
      for (let i = 0; i < b.le.length; i++) a.le.set(b.le[i], (a.le.get(b.le[i]) ?? 0) + b.counts[i]);
    }
  }
  const rows: RouteRow[] = [];
  for (const a of accs.values()) {
    for (const [field, ok, bad] of [
      ["counts", "success", "failure"],
      ["actual", "actualSuccess", "actualFailure"],
    ] as const) {
      for (const [sub, n] of a[field]) {
        const cls = sub.slice(sub.indexOf("\u0000") + 1);
        if (cls === "success") a.row[ok] += Math.round(n);
        else if (cls === "failure") a.row[bad] += Math.round(n);
      }
    }
    const bounds = [...a.le.keys()];
    const counts = bounds.map((b) => a.le.get(b)!);
    a.row.p50 = latencyMs(histogramQuantile(0.5, bounds, counts));
    a.row.p95 = latencyMs(histogramQuantile(0.95, bounds, counts));
    a.row.p99 = latencyMs(histogramQuantile(0.99, bounds, counts));
    rows.push(a.row);
  }
  return sortRouteRows(rows);
}

/** Byte order of column 2 + route name (so `[DEFAULT]` sorts between upper- and lower-case names). */
export function sortRouteRows(rows: RouteRow[]): RouteRow[] {
  const k = (r: RouteRow) => r.authority + r.route;
  return rows.sort((a, b) => (k(a) < k(b) ? -1 : k(a) > k(b) ? 1 : 0));
}

export const hasRequestData = (r: RouteRow) => r.success + r.failure + r.actualSuccess + r.actualFailure > 0;
const ratio = (ok: number, bad: number) => (ok + bad === 0 ? 0 : ok / (ok + bad));

export interface RouteFormatOptions {
  /** `--to` was given: JSON says effective/actual; with `wide`, so does the table. */
  to: boolean;
  wide: boolean;
  /** Column 2 is SERVICE (else AUTHORITY: the destination is an authority). */
  dstIsService: boolean;
}

const cell = (s: string) => sanitize(s, 253);
const byResource = (tables: RouteTable[]) => [...tables].sort((a, b) => (a.resource < b.resource ? -1 : a.resource > b.resource ? 1 : 0));

/** Linkerd's route tables: one per object, each followed by an empty line, headed `==> type/name <==` when there are several. */
export function formatRoutesTable(tables: RouteTable[], o: RouteFormatOptions): string {
  const actual = o.to && o.wide;
  const many = tables.length > 1;
  let out = "";
  for (const t of byResource(tables)) {
    if (many) out += `==> ${cell(t.resource)} <==\n`;
    const width = Math.max(0, ...t.rows.map((r) => Array.from(cell(r.route)).length));
    const pad = (s: string) => s + " ".repeat(Math.max(0, width - Array.from(s).length));
    const header = [pad("ROUTE"), o.dstIsService ? "SERVICE" : "AUTHORITY"];
    header.push(...(actual ? ["EFFECTIVE_SUCCESS", "EFFECTIVE_RPS", "ACTUAL_SUCCESS", "ACTUAL_RPS"] : ["SUCCESS", "RPS"]), "LATENCY_P50", "LATENCY_P95", "LATENCY_P99");
    const lines: string[][] = [header];
    for (const r of t.rows) {
      const cells = [pad(cell(r.route)), cell(r.authority)];
      if (hasRequestData(r)) {
        cells.push(`${goFixed(ratio(r.success, r.failure) * 100, 2)}%`, `${goFixed(r.rps, 1)}rps`);
        if (actual) cells.push(`${goFixed(ratio(r.actualSuccess, r.actualFailure) * 100, 2)}%`, `${goFixed(r.actualRps, 1)}rps`);
        cells.push(`${r.p50}ms`, `${r.p95}ms`, `${r.p99}ms`);
      } else cells.push(...Array<string>(actual ? 7 : 5).fill("-"));
      lines.push(cells);
    }
    out += `${renderColumns(lines)}\n`;
  }
  return out;
}

/**
 * `-o json`: an object keyed by `type/name` (keys sorted), each an array of route entries; with
 * --to the pair success/rps becomes effective_*, actual_*. Rows without traffic carry zeros, and a
 * table without rows is left out, as in Linkerd.
 */
export function formatRoutesJson(tables: RouteTable[], o: Pick<RouteFormatOptions, "to">): string {
  const out: Record<string, unknown[]> = {};
  for (const t of byResource(tables)) {
    if (t.rows.length === 0) continue;
    out[t.resource] = t.rows.map((r) => {
      const e: Record<string, unknown> = { route: r.route, authority: r.authority };
      if (o.to) {
        e.effective_success = ratio(r.success, r.failure);
        e.effective_rps = r.rps;
        e.actual_success = ratio(r.actualSuccess, r.actualFailure);
        e.actual_rps = r.actualRps;
      } else {
        e.success = ratio(r.success, r.failure);
        e.rps = r.rps;
      }
      e.latency_ms_p50 = r.p50;
      e.latency_ms_p95 = r.p95;
      e.latency_ms_p99 = r.p99;
      return e;
    });
  }
  return `${goJsonIndent(out)}\n`;
}

/** The profile name of a Service: `<svc>.<ns>.svc.<cluster domain>`. */
export function profileName(service: string, namespace: string, clusterDomain: string): string {
  return `${service}.${namespace}.svc.${clusterDomain}`;
}

/** The profile a client in `clientNs` uses for a Service: its own namespace's first, then the Service's, else an empty default. */
export function profileFor(
  service: { name: string; namespace: string },
  clientNs: string,
  clusterDomain: string,
  lookup: (namespace: string, name: string) => { routes: string[] } | undefined,
): RouteProfile {
  const name = profileName(service.name, service.namespace, clusterDomain);
  const found = (clientNs ? lookup(clientNs, name) : undefined) ?? (service.namespace !== clientNs ? lookup(service.namespace, name) : undefined);
  return { column: service.name, name, routes: found?.routes ?? [] };
}

/** `spec.routes[].name` of a ServiceProfile object, skipping malformed entries. */
export function routeNames(spec: { routes?: unknown[] } | undefined): string[] {
  const out: string[] = [];
  for (const r of spec?.routes ?? []) {
    const n = (r as { name?: unknown } | null)?.name;
    if (typeof n === "string") out.push(n);
  }
  return out;
}
