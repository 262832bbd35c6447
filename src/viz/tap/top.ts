// `viz top` (spec B7): requests aggregated into rows, and the table drawn from them. Pure.
import { sanitize } from "../../output/sanitize.js";
import type { ServiceProfile } from "../../kube/types.js";
import type { TapRequest } from "./events.js";

export interface TopSample {
  source: string;
  destination: string;
  method: string;
  path: string;
  route: string;
  latencyNs: number;
  success: boolean;
}

export interface TopRow extends TopSample {
  count: number;
  bestNs: number;
  worstNs: number;
  lastNs: number;
  successes: number;
  failures: number;
}

export interface TopOptions {
  routes?: boolean;
  hideSources?: boolean;
}

export const DEFAULT_ROUTE = "[DEFAULT]";

/** A row sample from one logged request: the pod name when known, else the IP; success is status < 500. */
export function topSample(r: TapRequest, route = DEFAULT_ROUTE): TopSample {
  const status = r.entry.status;
  return {
    source: r.source.labels.pod ?? r.source.ip,
    destination: r.destination.labels.pod ?? r.destination.ip,
    method: r.method,
    path: r.path,
    route,
    latencyNs: r.entry.totalNs ?? 0,
    // No status: the service failed without a response.
    success: status !== undefined && status < 500,
  };
}

/** Go's Duration.String() of a whole number of nanoseconds. */
export function goDuration(ns: number): string {
  if (ns === 0) return "0s";
  const neg = ns < 0;
  let n = Math.abs(Math.round(ns));
  let out: string;
  if (n < 1000) out = `${n}ns`;
  else if (n < 1e6) out = `${trim(n / 1e3)}µs`;
  else if (n < 1e9) out = `${trim(n / 1e6)}ms`;
  else {
    const h = Math.floor(n / 3.6e12);
    n -= h * 3.6e12;
    const m = Math.floor(n / 6e10);
    n -= m * 6e10;
    const s = `${trim(n / 1e9)}s`;
    out = h ? `${h}h${m}m${s}` : m ? `${m}m${s}` : s;
  }
  return neg ? `-${out}` : out;
}

const trim = (x: number) => x.toFixed(9).replace(/\.?0+$/, "");

/** Below 1 ms rounded to µs, below 1 s to ms, else to seconds (spec B7). */
export function formatTopDuration(ns: number): string {
  if (ns < 1e6) return goDuration(Math.round(ns / 1e3) * 1e3);
  if (ns < 1e9) return goDuration(Math.round(ns / 1e6) * 1e6);
  return goDuration(Math.round(ns / 1e9) * 1e9);
}

interface Column {
  header: string;
  value: (r: TopRow) => string;
  width: number;
  flexible: boolean;
  right: boolean;
  key: boolean;
}

/** Rows keyed by Source, Destination, Method, Path (or Route), merged and sorted by count. */
export class TopTable {
  private rows: TopRow[] = [];
  private readonly columns: Column[];

  constructor(opts: TopOptions = {}) {
    const col = (header: string, value: Column["value"], width: number, flexible: boolean, right: boolean, key: boolean): Column => ({ header, value, width, flexible, right, key });
    const cols: Column[] = [];
    if (!opts.hideSources) cols.push(col("Source", (r) => r.source, 23, true, false, true));
    cols.push(col("Destination", (r) => r.destination, 23, true, false, true));
    if (opts.routes) cols.push(col("Route", (r) => r.route, 47, true, false, true));
    else cols.push(col("Method", (r) => r.method, 10, false, false, true), col("Path", (r) => r.path, 37, true, false, true));
    cols.push(
      col("Count", (r) => String(r.count), 6, false, true, false),
      col("Best", (r) => formatTopDuration(r.bestNs), 6, false, true, false),
      col("Worst", (r) => formatTopDuration(r.worstNs), 6, false, true, false),
      col("Last", (r) => formatTopDuration(r.lastNs), 6, false, true, false),
      col("Success Rate", (r) => `${((100 * r.successes) / (r.successes + r.failures)).toFixed(2)}%`, 12, false, true, false),
    );
    this.columns = cols;
  }

  insert(s: TopSample): void {
    const clean: TopSample = { ...s, source: sanitize(s.source, 256), destination: sanitize(s.destination, 256), method: sanitize(s.method, 32), path: sanitize(s.path, 512), route: sanitize(s.route, 256) };
    const row: TopRow = { ...clean, count: 1, bestNs: s.latencyNs, worstNs: s.latencyNs, lastNs: s.latencyNs, successes: s.success ? 1 : 0, failures: s.success ? 0 : 1 };
    const keys = this.columns.filter((c) => c.key);
    const found = this.rows.find((r) => keys.every((c) => c.value(r) === c.value(row)));
    if (!found) {
      this.rows.push(row);
      return;
    }
    found.count++;
    found.bestNs = Math.min(found.bestNs, row.bestNs);
    found.worstNs = Math.max(found.worstNs, row.worstNs);
    found.lastNs = row.lastNs;
    found.successes += row.successes;
    found.failures += row.failures;
  }

  /** Rows by count, descending; equal counts keep their first-seen order. */
  sortedRows(): TopRow[] {
    return [...this.rows].sort((a, b) => b.count - a.count);
  }

  get size(): number {
    return this.rows.length;
  }

  /** The header line and one line per row (no trailing spaces), scrolled left by `scroll` columns. */
  render(scroll = 0): { header: string; rows: string[] } {
    const rows = this.sortedRows();
    const widths = this.columns.map((c) => (c.flexible ? Math.max(width(c.header), ...rows.map((r) => width(c.value(r)))) : c.width));
    const line = (cell: (c: Column) => string) =>
      this.columns
        .map((c, i) => {
          const text = cell(c);
          const pad = Math.max(0, widths[i] - width(text));
          return c.right ? " ".repeat(pad) + text : text + " ".repeat(pad);
        })
        .join("  ")
        .slice(scroll)
        .trimEnd();
    return { header: line((c) => c.header), rows: rows.map((r) => line((c) => c.value(r))) };
  }

  /** Total width of the table, for scrolling. */
  width(): number {
    const rows = this.rows;
    return this.columns.reduce((sum, c) => sum + (c.flexible ? Math.max(width(c.header), ...rows.map((r) => width(c.value(r)))) : c.width), 0) + 2 * (this.columns.length - 1);
  }
}

/** Display width in code points (mesh does not measure East Asian wide characters). */
const width = (s: string) => Array.from(s).length;

/** The heading lines of the full-screen view (B7). */
export const TOP_HELP = ["(press q to quit)", "(press a/LeftArrowKey to scroll left, d/RightArrowKey to scroll right)"];

// --- ServiceProfile routes (`--routes`) ---

interface RequestMatch {
  all?: RequestMatch[];
  any?: RequestMatch[];
  not?: RequestMatch;
  method?: string;
  pathRegex?: string;
}

interface Route {
  name?: string;
  condition?: RequestMatch;
}

function matches(m: RequestMatch | undefined, method: string, path: string): boolean {
  if (!m) return false;
  if (m.all && !m.all.every((x) => matches(x, method, path))) return false;
  if (m.any && !m.any.some((x) => matches(x, method, path))) return false;
  if (m.not && matches(m.not, method, path)) return false;
  if (m.method && m.method.toUpperCase() !== method.toUpperCase()) return false;
  if (m.pathRegex !== undefined) {
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${m.pathRegex})$`);
    } catch {
      return false;
    }
    if (!re.test(path)) return false;
  }
  return Boolean(m.all || m.any || m.not || m.method || m.pathRegex !== undefined);
}

/**
 * The route of a request under the ServiceProfile named after its authority's host (the FQDN
 * `<svc>.<ns>.svc.<cluster domain>`): the first route whose condition matches (path regexes
 * anchored at both ends), else `[DEFAULT]`.
 */
export function routeOf(profiles: ServiceProfile[], authority: string, method: string, path: string, namespace: string, clusterDomain = "cluster.local"): string {
  const host = authority.replace(/:\d+$/, "").replace(/\.$/, "");
  if (!host) return DEFAULT_ROUTE;
  const parts = host.split(".");
  const fqdn = parts.length === 1 ? `${host}.${namespace}.svc.${clusterDomain}` : parts.length === 2 ? `${host}.svc.${clusterDomain}` : parts.length === 3 && parts[2] === "svc" ? `${host}.${clusterDomain}` : host;
  const pathOnly = path.split("?")[0];
  const sp = profiles.find((p) => p.metadata.name === fqdn);
  for (const r of (sp?.spec?.routes ?? []) as Route[]) if (r.name && matches(r.condition, method, pathOnly)) return r.name;
  return DEFAULT_ROUTE;
}
