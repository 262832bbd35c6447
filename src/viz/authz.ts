import { goFixed } from "./format.js";
import { kindLabel } from "./labels.js";
import { aggregate, sumCounters, type Matcher, type PodSample } from "./stat.js";
import type { ResourceRef } from "./resources.js";
import { goJsonIndent } from "../output/go-json.js";
import { sanitize } from "../output/sanitize.js";

/**
 * `viz authz` from proxy metrics (spec B3.3, C3, C4.1): the inbound traffic of a resource split by
 * the policy that admitted it — server, route and authorization, from the `srv_*`, `route_*` and
 * `authz_*` labels — with the rate of requests each server/route denied
 * (`inbound_http_authz_deny_total`). Pure: the command picks the pods and scrapes them.
 */

/** Families authz reads from each scrape. */
export const AUTHZ_FAMILIES = [
  "response_total",
  "response_latency_ms",
  "inbound_http_authz_allow_total",
  "inbound_http_authz_deny_total",
  "process_start_time_seconds",
  "process_uptime_seconds_total",
] as const;

/** The labels a row is keyed by (Linkerd's group-by for authz). */
export const AUTHZ_GROUP_BY = ["route_kind", "route_name", "authz_kind", "authz_name", "srv_kind", "srv_name"] as const;

/**
 * The label equalities that select a resource's series, as Linkerd's metrics API builds them
 * (`promQueryLabels`): policy resources by their `srv_*`/`authz_*`/`route_*` labels, other types by
 * the label Prometheus attaches (`deployment`, `pod`, …, `job` → `k8s_job`); a Service adds no
 * name label (a Linkerd quirk: all of the namespace's inbound traffic); `namespace` unless the
 * resource is a namespace (then the name is the `namespace` label).
 */
export function authzSelector(ref: ResourceRef): Record<string, string> {
  const out: Record<string, string> = {};
  if (ref.name !== undefined) {
    switch (ref.type) {
      case "server":
        out.srv_kind = "server";
        out.srv_name = ref.name;
        break;
      case "serverauthorization":
      case "authorizationpolicy":
        out.authz_kind = ref.type;
        out.authz_name = ref.name;
        break;
      case "httproute":
        out.route_name = ref.name;
        break;
      case "service":
        break;
      default:
        out[kindLabel(ref.type)] = ref.name;
    }
  }
  if (ref.type !== "namespace" && ref.namespace) out.namespace = ref.namespace;
  return out;
}

/** One row's numbers before formatting. */
export interface AuthzRow {
  routeKind: string;
  routeName: string;
  srvKind: string;
  srvName: string;
  authzKind: string;
  authzName: string;
  success: number;
  failure: number;
  /** Rounded `inbound_http_authz_allow_total` increase (not shown, as in Linkerd). */
  allowed: number;
  denied: number;
  /** Σ over pods of responses/Δt. */
  rps: number;
  /** Σ over pods of denied requests/Δt. */
  deniedRps: number;
  p50: number;
  p95: number;
  p99: number;
}

const toMatchers = (labels: Record<string, string>): Matcher[] => Object.entries(labels).map(([name, value]) => ({ name, value }));

/**
 * Every (route, server, authorization) combination any selected series names, with its numbers:
 * requests and latency from the inbound `response_*` families, denials and allowances from the
 * `inbound_http_authz_*` counters (which carry no `direction`; denials carry no `authz_*` labels,
 * so they form rows of their own with an empty authorization).
 */
export function computeAuthzRows(pods: PodSample[], selector: Record<string, string>): AuthzRow[] {
  const groupBy = [...AUTHZ_GROUP_BY];
  const requests = aggregate(pods, { selector: toMatchers({ ...selector, direction: "inbound" }), groupBy, bytesPeer: "src" });
  const allowed = sumCounters(pods, "inbound_http_authz_allow_total", toMatchers(selector), groupBy);
  const denied = sumCounters(pods, "inbound_http_authz_deny_total", toMatchers(selector), groupBy);
  const keys = new Set([...requests.keys(), ...allowed.keys(), ...denied.keys()]);
  const rows: AuthzRow[] = [];
  for (const key of keys) {
    const [routeKind, routeName, authzKind, authzName, srvKind, srvName] = key.split("\u0000");
    const r = requests.get(key);
    rows.push({
      routeKind,
      routeName,
      srvKind,
      srvName,
      authzKind,
      authzName,
      success: r?.success ?? 0,
      failure: r?.failure ?? 0,
      allowed: allowed.get(key)?.count ?? 0,
      denied: denied.get(key)?.count ?? 0,
      rps: r?.rps ?? 0,
      deniedRps: denied.get(key)?.rate ?? 0,
      p50: r?.p50 ?? 0,
      p95: r?.p95 ?? 0,
      p99: r?.p99 ?? 0,
    });
  }
  return rows;
}

const COLUMNS = [
  { header: "ROUTE", left: true },
  { header: "SERVER", left: true },
  { header: "AUTHORIZATION", left: true },
  { header: "UNAUTHORIZED" },
  { header: "SUCCESS" },
  { header: "RPS" },
  { header: "LATENCY_P50" },
  { header: "LATENCY_P95" },
  { header: "LATENCY_P99" },
] as const;

const cell = (s: string) => sanitize(s, 253);

/**
 * The displayed cells, sorted by server, route, then authorization (byte order): a default server
 * shows as `default:<name>`, an authorization as `<kind>/<name>` (empty for denials). Rows with no
 * requests at all show dashes, and are left out when their authorization is empty or a default.
 */
export function authzCells(rows: AuthzRow[]): string[][] {
  const out: string[][] = [];
  for (const r of rows) {
    const server = r.srvKind === "default" ? `${cell(r.srvKind)}:${cell(r.srvName)}` : cell(r.srvName);
    const authz = r.authzKind === "" ? "" : `${cell(r.authzKind)}/${cell(r.authzName)}`;
    const route = cell(r.routeName);
    if (r.success + r.failure + r.denied > 0) {
      const ratio = r.success + r.failure === 0 ? 0 : r.success / (r.success + r.failure);
      out.push([route, server, authz, `${goFixed(r.deniedRps, 1)}rps`, `${goFixed(ratio * 100, 2)}%`, `${goFixed(r.rps, 1)}rps`, `${r.p50}ms`, `${r.p95}ms`, `${r.p99}ms`]);
    } else if (r.authzKind !== "" && r.authzKind !== "default") out.push([route, server, authz, "-", "-", "-", "-", "-", "-"]);
  }
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return out.sort((a, b) => cmp(a[1], b[1]) || cmp(a[0], b[0]) || cmp(a[2], b[2]));
}

/**
 * Linkerd's plain CLI table (not the tab-writer of stat): columns as wide as their widest cell or
 * header, the first three left-aligned and the rest right-aligned, every cell followed by two
 * spaces (so lines end in two spaces). A table without rows is just the header.
 */
export function formatAuthzTable(cells: string[][]): string {
  const len = (s: string) => Array.from(s).length;
  const widths = COLUMNS.map((c, i) => Math.max(c.header.length, ...cells.map((r) => len(r[i]))));
  const line = (row: readonly string[]) =>
    row.map((v, i) => {
      const pad = " ".repeat(widths[i] - len(v));
      return ("left" in COLUMNS[i] ? v + pad : pad + v) + "  ";
    }).join("") + "\n";
  return line(COLUMNS.map((c) => c.header)) + cells.map(line).join("");
}

/**
 * Go's shortest formatting of a float32 (`strconv.FormatFloat(x, 'f', -1, 32)`, which is what
 * encoding/json writes for a float32 between 1e-6 and 1e21).
 */
export function goFloat32(x: number): string {
  const f = Math.fround(x);
  if (f === 0) return "0";
  let digits = "";
  for (let p = 1; p <= 9; p++) {
    digits = f.toPrecision(p);
    if (Math.fround(Number(digits)) === f) break;
  }
  return plainDecimal(digits);
}

/** `1.5e+3` → `1500`, `2.5e-7` → `0.00000025`; plain numbers unchanged (trailing zeros trimmed). */
function plainDecimal(s: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(s);
  if (!m) return s;
  const [, sign, int, frac = "", exp = "0"] = m;
  const digits = int + frac;
  const point = int.length + Number(exp);
  let out: string;
  if (point <= 0) out = `0.${"0".repeat(-point)}${digits}`;
  else if (point >= digits.length) out = digits + "0".repeat(point - digits.length);
  else out = `${digits.slice(0, point)}.${digits.slice(point)}`;
  out = out.replace(/^0+(?=\d)/, "");
  if (out.includes(".")) out = out.replace(/0+$/, "").replace(/\.$/, "");
  return sign + out;
}

/**
 * `-o json` as Linkerd renders it: one object per displayed row (same order), built from the
 * table's cells — keys are the lower-cased headers (latencies as `latency_ms_p50` …) in Go's
 * sorted map-key order, `-` cells left out, numbers parsed back from the cells as float32 (SUCCESS
 * divided by 100), latencies as integers.
 */
export function formatAuthzJson(cells: string[][]): string {
  const items = cells.map((row) => {
    const entries: [string, string][] = [];
    row.forEach((v, i) => {
      if (v === "-") return;
      const field = COLUMNS[i].header.toLowerCase();
      if (field.startsWith("latency_")) entries.push([`latency_ms_${field.slice("latency_".length)}`, String(parseInt(v, 10))]);
      else if (field === "rps" || field === "unauthorized") entries.push([field, goFloat32(parseFloat(v))]);
      else if (field === "success") entries.push([field, goFloat32(Math.fround(Math.fround(parseFloat(v)) / 100))]);
      else entries.push([field, goJsonIndent(v)]);
    });
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `  {\n${entries.map(([k, v]) => `    ${goJsonIndent(k)}: ${v}`).join(",\n")}\n  }`;
  });
  return items.length ? `[\n${items.join(",\n")}\n]\n` : "[]\n";
}
