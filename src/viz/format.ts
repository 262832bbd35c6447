import { goJsonIndent } from "../output/go-json.js";
import { sanitize } from "../output/sanitize.js";
import { RESOURCE_ORDER, shortTypeName, type ResourceType } from "./resources.js";
import type { StatRow } from "./stat.js";

/**
 * `viz stat` output: Linkerd's right-aligned tables (B1, B3.1) and its JSON (B3.2).
 */

/** Go's `%.<digits>f`: like toFixed, but an exact tie rounds to even (Go) instead of up (JS). */
export function goFixed(x: number, digits: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "+Inf" : "-Inf";
  const abs = Math.abs(x);
  if (abs >= 1e21) return x.toFixed(digits);
  const extra = 30;
  const long = abs.toFixed(digits + extra);
  const tail = long.slice(long.length - extra);
  let out: string;
  if (/^50*$/.test(tail)) {
    // Exactly halfway: keep the truncated digits when the last one is even.
    const cut = long.slice(0, long.length - extra);
    const trimmed = cut.endsWith(".") ? cut.slice(0, -1) : cut;
    const last = trimmed.charCodeAt(trimmed.length - 1) - 48;
    out = last % 2 === 0 ? trimmed : abs.toFixed(digits);
  } else out = abs.toFixed(digits);
  return x < 0 || Object.is(x, -0) ? `-${out}` : out;
}

/**
 * Go's tabwriter with AlignRight and padding 3 as Linkerd uses it: every cell ends with a tab, a
 * column is as wide as its widest cell plus 3, cells are right-aligned, then the first 3
 * characters of every line are dropped. Width counts code points.
 */
export function renderColumns(lines: string[][]): string {
  const width: number[] = [];
  const len = (s: string) => Array.from(s).length;
  for (const cells of lines) cells.forEach((c, i) => (width[i] = Math.max(width[i] ?? 0, len(c) + 3)));
  return lines.map((cells) => cells.map((c, i) => " ".repeat(width[i] - len(c)) + c).join("").slice(3) + "\n").join("");
}

const rightPad = (s: string, n: number) => s + " ".repeat(Math.max(0, n - Array.from(s).length));

export interface TableOptions {
  allNamespaces: boolean;
  wide: boolean;
  /** mesh's own PROXY_VERSION column (with -o wide and --proxy-version-mismatch). */
  proxyVersion?: boolean;
}

/** Whether rows of this type show TCP columns (B3.1). */
export function showsTcp(kind: ResourceType): boolean {
  return kind !== "authority" && kind !== "serverauthorization" && kind !== "authorizationpolicy" && kind !== "httproute";
}

/** Rows grouped into tables in Linkerd's fixed type order. */
export function tablesOf(rows: StatRow[]): [ResourceType, StatRow[]][] {
  const byType = new Map<ResourceType, StatRow[]>();
  for (const r of rows) {
    let list = byType.get(r.kind);
    if (!list) byType.set(r.kind, (list = []));
    list.push(r);
  }
  return RESOURCE_ORDER.filter((t) => byType.has(t)).map((t) => [t, byType.get(t)!]);
}

const cell = (s: string) => sanitize(s, 253);

/** Table or wide output; "" when there are no rows (the caller says "No traffic found."). */
export function formatStatTable(rows: StatRow[], o: TableOptions): string {
  const tables = tablesOf(rows);
  if (tables.length === 0) return "";
  const prefix = tables.length > 1;
  const nameOf = (r: StatRow) => (prefix ? `${shortTypeName(r.kind)}/` : "") + cell(r.name);
  let maxName = "NAME".length;
  let maxNs = "NAMESPACE".length;
  for (const r of rows) {
    maxName = Math.max(maxName, Array.from(nameOf(r)).length);
    maxNs = Math.max(maxNs, Array.from(cell(r.namespace)).length);
  }
  const out: string[] = [];
  for (const [kind, list] of tables) {
    const tcp = showsTcp(kind);
    const header: string[] = [];
    if (o.allNamespaces) header.push(rightPad("NAMESPACE", maxNs));
    header.push(rightPad("NAME", maxName));
    if (kind === "pod") header.push("STATUS");
    header.push("MESHED", "SUCCESS", "RPS", "LATENCY_P50", "LATENCY_P95", "LATENCY_P99");
    if (tcp) header.push("TCP_CONN");
    if (tcp && o.wide) header.push("READ_BYTES/SEC", "WRITE_BYTES/SEC");
    if (o.proxyVersion) header.push("PROXY_VERSION");
    const lines: string[][] = [header];
    for (const r of list) {
      const cells: string[] = [];
      if (o.allNamespaces) cells.push(rightPad(cell(r.namespace), maxNs));
      cells.push(rightPad(nameOf(r), maxName));
      if (kind === "pod") cells.push(cell(r.status ?? ""));
      cells.push(r.meshed);
      const s = r.stats;
      if (s) {
        cells.push(`${goFixed(s.success * 100, 2)}%`, `${goFixed(s.rps, 1)}rps`, `${s.p50}ms`, `${s.p95}ms`, `${s.p99}ms`);
        if (tcp) cells.push(String(Math.round(s.tcpConn)));
        if (tcp && o.wide) cells.push(`${goFixed(s.readRate, 1)}B/s`, `${goFixed(s.writeRate, 1)}B/s`);
      } else {
        cells.push("-", "-", "-", "-", "-");
        if (tcp) cells.push("-");
        if (tcp && o.wide) cells.push("-", "-");
      }
      if (o.proxyVersion) cells.push(r.proxyVersions?.length ? r.proxyVersions.map((v) => cell(v)).join(",") : "-");
      lines.push(cells);
    }
    out.push(renderColumns(lines));
  }
  return out.join("\n");
}

/** B3.2: the JSON array, two-space indented, keys in Linkerd's order. */
export function formatStatJson(rows: StatRow[], o: { proxyVersion?: boolean } = {}): string {
  const items = tablesOf(rows).flatMap(([kind, list]) =>
    list.map((r) => {
      const s = r.stats;
      const item: Record<string, unknown> = {
        namespace: r.namespace,
        kind,
        name: r.name,
        success: s ? s.success : null,
        rps: s ? s.rps : null,
        latency_ms_p50: s ? s.p50 : null,
        latency_ms_p95: s ? s.p95 : null,
        latency_ms_p99: s ? s.p99 : null,
      };
      if (s && showsTcp(kind)) {
        item.tcp_open_connections = Math.round(s.tcpConn);
        item.tcp_read_bytes_rate = s.readRate;
        item.tcp_write_bytes_rate = s.writeRate;
      }
      if (o.proxyVersion && r.proxyVersions) item.proxy_versions = r.proxyVersions;
      if (r.fixes) item.restart = r.fixes;
      return item;
    }),
  );
  return `${goJsonIndent(items)}\n`;
}
