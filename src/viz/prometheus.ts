import { MeshError, UsageError } from "../errors.js";
import { sanitize } from "../output/sanitize.js";
import { latencyMs } from "./quantile.js";
import { edgeGroupLabels, type EdgeGroup } from "./edges.js";
import { routeRowIndex, sortRouteRows, type RouteQuery, type RouteRow } from "./routes.js";
import { groupKey, type GroupStats, type Matcher, type StatQuery } from "./stat.js";

/**
 * `viz stat`, `routes` and `edges` from an existing Prometheus (`--prometheus-url`): the PromQL
 * Linkerd-viz's metrics API runs (B2.1, B4, B5) over the selectors and groupings of B2.2 — taken
 * from the same `StatQuery`/`RouteQuery` the scrape path evaluates, so both sources select the
 * same series — and a small HTTP client for Prometheus' instant-query API with timeouts, a size
 * cap and errors that name the server.
 *
 * The Prometheus must attach Linkerd-viz's target labels (`namespace`, `pod`, `deployment`, …,
 * `k8s_job`; see B2): Linkerd-viz's own Prometheus does.
 */

// ---------------------------------------------------------------------------------------------
// Query building (pure)

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A PromQL string literal (double-quoted; backslash, quote and control characters escaped). */
export function promString(s: string): string {
  // JSON's escapes (\" \\ \n \t \uXXXX) are all valid in PromQL's Go-style string literals.
  return JSON.stringify(s.replace(/[\ud800-\udfff]/gu, "\ufffd"));
}

/**
 * A PromQL label selector `{a="x", b=~"y"}`: one matcher per entry, sorted as text (so the
 * query text is stable whatever order the matchers were built in), joined with ", ".
 * Regex values are used as they are: Prometheus anchors them at both ends.
 */
export function promSelector(matchers: readonly Matcher[]): string {
  const parts = matchers.map((m) => {
    if (!LABEL_NAME.test(m.name)) throw new MeshError(`cannot query Prometheus for label "${sanitize(m.name, 60)}": not a valid label name`);
    return `${m.name}${m.regex ? "=~" : "="}${promString(m.value)}`;
  });
  parts.sort();
  return `{${parts.join(", ")}}`;
}

/** A Prometheus duration for a range selector: whole units, largest first (`1m`, `1m30s`, `15s500ms`). */
export function promDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 1) throw new MeshError(`cannot query Prometheus over a window of ${ms}ms`);
  let rest = Math.round(ms);
  let out = "";
  for (const [unit, size] of [
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1_000],
    ["ms", 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}

export const QUANTILES = { p50: "0.5", p95: "0.95", p99: "0.99" } as const;
export type QuantileName = keyof typeof QUANTILES;

/** The instant queries of one stat request (B2.1). TCP queries only for types that show TCP. */
export interface StatPromQueries {
  /** `Σ increase(response_total)` by (group, classification, tls). */
  requests: string;
  /** `histogram_quantile(q, Σ irate(response_latency_ms_bucket))` by (le, group). */
  latency: Record<QuantileName, string>;
  /** `Σ tcp_open_connections` by (group): an instant gauge, no `peer` filter. */
  tcpConnections?: string;
  /** `Σ increase(tcp_{read,write}_bytes_total{peer=P})` by (group). */
  readBytes?: string;
  writeBytes?: string;
}

export function buildStatPromQueries(q: StatQuery, windowMs: number, opts: { tcp: boolean }): StatPromQueries {
  for (const g of q.groupBy) if (!LABEL_NAME.test(g)) throw new MeshError(`cannot group Prometheus results by "${sanitize(g, 60)}": not a valid label name`);
  const sel = promSelector(q.selector);
  const w = promDuration(windowMs);
  const by = q.groupBy.join(", ");
  const latency = {} as Record<QuantileName, string>;
  for (const [name, value] of Object.entries(QUANTILES) as [QuantileName, string][])
    latency[name] = `histogram_quantile(${value}, sum(irate(response_latency_ms_bucket${sel}[${w}])) by (le, ${by}))`;
  const out: StatPromQueries = { requests: `sum(increase(response_total${sel}[${w}])) by (${by}, classification, tls)`, latency };
  if (opts.tcp) {
    const bytesSel = promSelector([...q.selector.filter((m) => m.name !== "peer"), { name: "peer", value: q.bytesPeer }]);
    out.tcpConnections = `sum(tcp_open_connections${sel}) by (${by})`;
    out.readBytes = `sum(increase(tcp_read_bytes_total${bytesSel}[${w}])) by (${by})`;
    out.writeBytes = `sum(increase(tcp_write_bytes_total${bytesSel}[${w}])) by (${by})`;
  }
  return out;
}

/** The instant queries of one routes table (B4). */
export interface RoutePromQueries {
  /** `Σ increase(route_response_total)` by (rt_route, dst, classification). */
  requests: string;
  /** The same over `route_actual_response_total` (attempts, retries included): only with --to. */
  actual?: string;
  /** `histogram_quantile(q, Σ irate(route_response_latency_ms_bucket))` by (le, dst, rt_route). */
  latency: Record<QuantileName, string>;
}

/**
 * The matcher of a routes query's `dst`: any of the profile names, optionally followed by a port
 * (the label is the logical address `name:port`). The names are joined as they are (their dots
 * match any character, as in Linkerd), sorted so the query text is stable.
 */
export function routeDstMatcher(profileNames: readonly string[]): Matcher {
  const names = [...new Set(profileNames)].sort().join("|");
  const value = `(${names})(:\\d+)?`;
  return { name: "dst", value, regex: new RegExp(`^(?:${value})$`) };
}

/**
 * B4's queries for one table: direction (`inbound`, or `outbound` with --to), the target
 * object's labels (`<kind>="<name>"`, `namespace`), the `dst` of its profiles; grouped by route,
 * `dst` (port included: rows cut it off) and classification.
 */
export function buildRoutePromQueries(q: RouteQuery, windowMs: number): RoutePromQueries {
  const matchers: Matcher[] = [{ name: "direction", value: q.direction }, ...Object.entries(q.labels).map(([name, value]) => ({ name, value }))];
  if (q.profiles.length) matchers.push(routeDstMatcher(q.profiles.map((p) => p.name)));
  const sel = promSelector(matchers);
  const w = promDuration(windowMs);
  const latency = {} as Record<QuantileName, string>;
  for (const [name, value] of Object.entries(QUANTILES) as [QuantileName, string][])
    latency[name] = `histogram_quantile(${value}, sum(irate(route_response_latency_ms_bucket${sel}[${w}])) by (le, dst, rt_route))`;
  const out: RoutePromQueries = { requests: `sum(increase(route_response_total${sel}[${w}])) by (rt_route, dst, classification)`, latency };
  if (q.direction === "outbound") out.actual = `sum(increase(route_actual_response_total${sel}[${w}])) by (rt_route, dst, classification)`;
  return out;
}

/** The edges query (B5): open outbound connections between objects of one type, by both ends, pod, identities and TLS. */
export function buildEdgesPromQuery(type: string): string {
  const [src, dst, ...rest] = edgeGroupLabels(type);
  const sel = [`direction="outbound"`, `${src}!=""`, `${dst}!=""`].sort().join(", ");
  return `sum(tcp_open_connections{${sel}}) by (${[src, dst, ...rest].join(", ")})`;
}

/** Per-pod proxy versions (for the PROXY_VERSION column), optionally only in some namespaces. */
export function proxyVersionQuery(namespaces?: readonly string[]): string {
  const sel = namespaces?.length ? `{namespace=~${promString(namespaces.map(escapeRegex).join("|"))}}` : "";
  return `count(proxy_build_info${sel}) by (namespace, pod, version)`;
}

const escapeRegex = (s: string) => s.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&");

// ---------------------------------------------------------------------------------------------
// Results (pure)

/** One element of an instant vector. */
export interface PromSample {
  metric: Record<string, string>;
  value: number;
}

/** Results of the queries of StatPromQueries (absent TCP results: no TCP). */
export interface StatPromResults {
  requests: PromSample[];
  latency: Record<QuantileName, PromSample[]>;
  tcpConnections?: PromSample[];
  readBytes?: PromSample[];
  writeBytes?: PromSample[];
}

/** Linkerd's reading of a sample: rounded half away from zero to a whole number; NaN (and anything not finite or negative) is 0. */
export function wholeValue(v: number): number {
  if (!Number.isFinite(v) || v <= 0) return 0;
  return Math.round(v); // positive: Math.round is half away from zero
}

/**
 * The numbers of every group the results name, in the shape the scrape path produces. As in
 * Linkerd's metrics API: each (group, classification, tls) count is rounded before being added
 * up; RPS is (success + failure) / window; byte rates are the rounded increase / window; a group
 * exists when the request or latency queries returned a sample for it (TCP numbers alone do not
 * make one).
 */
export function groupsFromPrometheus(q: StatQuery, windowMs: number, r: StatPromResults): Map<string, GroupStats> {
  const seconds = windowMs / 1000;
  const out = new Map<string, GroupStats>();
  const keyOf = (s: PromSample) => groupKey(q.groupBy.map((l) => s.metric[l] ?? ""));
  const group = (s: PromSample): GroupStats => {
    const key = keyOf(s);
    let g = out.get(key);
    if (!g) out.set(key, (g = { success: 0, failure: 0, rps: 0, p50: 0, p95: 0, p99: 0, tcpConn: 0, readRate: 0, writeRate: 0 }));
    return g;
  };
  for (const s of r.requests) {
    const g = group(s);
    const cls = s.metric.classification;
    if (cls === "success") g.success += wholeValue(s.value);
    else if (cls === "failure") g.failure += wholeValue(s.value);
  }
  for (const name of Object.keys(QUANTILES) as QuantileName[]) for (const s of r.latency[name]) group(s)[name] = latencyMs(Number.isFinite(s.value) && s.value >= 0 ? s.value : NaN);
  for (const g of out.values()) g.rps = (g.success + g.failure) / seconds;
  const onExisting = (samples: PromSample[] | undefined, set: (g: GroupStats, v: number) => void) => {
    for (const s of samples ?? []) {
      const g = out.get(keyOf(s));
      if (g) set(g, wholeValue(s.value));
    }
  };
  onExisting(r.tcpConnections, (g, v) => (g.tcpConn = v));
  onExisting(r.readBytes, (g, v) => (g.readRate = v / seconds));
  onExisting(r.writeBytes, (g, v) => (g.writeRate = v / seconds));
  return out;
}

/** Results of RoutePromQueries (`actual` only with --to). */
export interface RoutePromResults {
  requests: PromSample[];
  actual?: PromSample[];
  latency: Record<QuantileName, PromSample[]>;
}

/**
 * The rows of one routes table from Prometheus, as Linkerd's metrics API reads them: each
 * sample goes to the row of its `dst` (port cut off) and `rt_route` ([DEFAULT] without one), and
 * samples of routes the profiles do not name are dropped; counts are rounded per sample before
 * they are added; RPS is (success + failure) / window, for the actual counts too.
 */
export function routeRowsFromPrometheus(q: RouteQuery, windowMs: number, r: RoutePromResults): RouteRow[] {
  const seconds = windowMs / 1000;
  const { rows, find } = routeRowIndex(q.profiles);
  const count = (samples: PromSample[] | undefined, ok: "success" | "actualSuccess", bad: "failure" | "actualFailure") => {
    for (const s of samples ?? []) {
      const row = find(s.metric.dst ?? "", s.metric.rt_route);
      if (!row) continue;
      if (s.metric.classification === "success") row[ok] += wholeValue(s.value);
      else if (s.metric.classification === "failure") row[bad] += wholeValue(s.value);
    }
  };
  count(r.requests, "success", "failure");
  count(r.actual, "actualSuccess", "actualFailure");
  for (const name of Object.keys(QUANTILES) as QuantileName[])
    for (const s of r.latency[name]) {
      const row = find(s.metric.dst ?? "", s.metric.rt_route);
      if (row) row[name] = latencyMs(Number.isFinite(s.value) && s.value >= 0 ? s.value : NaN);
    }
  for (const row of rows.values()) {
    row.rps = (row.success + row.failure) / seconds;
    row.actualRps = (row.actualSuccess + row.actualFailure) / seconds;
  }
  return sortRouteRows([...rows.values()]);
}

/** The groups of the edges query's result, for edgesFromGroups. */
export function edgeGroupsFromPrometheus(type: string, samples: PromSample[]): EdgeGroup[] {
  const labels = edgeGroupLabels(type);
  return samples.map((s) => ({ values: labels.map((l) => s.metric[l] ?? ""), sum: s.value }));
}

/** `namespace/pod` → version, from proxyVersionQuery's result. */
export function proxyVersionsFrom(samples: PromSample[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of samples) {
    const { namespace, pod, version } = s.metric;
    if (namespace !== undefined && pod !== undefined && version) out.set(`${namespace}/${pod}`, version);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The HTTP client

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;
const HINT = "check --prometheus-url (or MESH_PROMETHEUS_URL): it is the Prometheus server's base URL, e.g. http://prometheus.linkerd-viz.svc:9090";

/** An error from Prometheus or on the way to it; the message names the server. */
export class PrometheusError extends MeshError {
  constructor(message: string, hint?: string, cause?: unknown) {
    super(message, hint, 1, cause);
    this.name = "PrometheusError";
  }
}

export interface PrometheusTarget {
  /** The instant-query endpoint (`…/api/v1/query`), without credentials. */
  endpoint: URL;
  /** The base URL as shown in messages: no credentials, query or fragment. */
  display: string;
  /** `Basic …` from credentials in the URL, if any. */
  authorization?: string;
}

/**
 * Parses `--prometheus-url`: http or https, optional `user:password@` (sent as basic auth, never
 * shown), optional path prefix (a Prometheus behind a proxy at `/prometheus/`). A URL that
 * already ends in `/api/v1` or `/api/v1/query` is accepted as its base.
 */
export function parsePrometheusUrl(raw: string): PrometheusTarget {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    throw new UsageError(`--prometheus-url "${sanitize(raw, 120)}" is not a URL`, "give the server's base URL, e.g. http://localhost:9090");
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new UsageError(`--prometheus-url must be an http:// or https:// URL, not "${sanitize(u.protocol, 20)}"`, "e.g. http://localhost:9090");
  let authorization: string | undefined;
  if (u.username || u.password) authorization = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString("base64")}`;
  u.username = "";
  u.password = "";
  u.search = "";
  u.hash = "";
  u.pathname = u.pathname.replace(/\/api\/v1(?:\/query)?\/*$/, "/").replace(/\/*$/, "/");
  const display = u.href.replace(/\/$/, "");
  return { endpoint: new URL("api/v1/query", u), display, authorization };
}

export interface PrometheusClientOptions {
  /** Per query: connecting, waiting for headers and reading the body together. */
  timeoutMs?: number;
  /** Largest body accepted for one query. */
  maxBytes?: number;
  /** Queries in flight at once. */
  concurrency?: number;
  /** Counts queries and bytes (for --verbose). */
  counters?: { queries: number; bytes: number };
}

interface ApiBody {
  status?: unknown;
  errorType?: unknown;
  error?: unknown;
  data?: { resultType?: unknown; result?: unknown };
}

/** Prometheus' instant-query API, GET `…/api/v1/query?query=…` (evaluated at the server's now, as Linkerd does). */
export class PrometheusClient {
  readonly target: PrometheusTarget;
  private readonly timeoutMs: number;
  private readonly maxBytes: number;
  private readonly concurrency: number;
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  readonly counters: { queries: number; bytes: number };

  constructor(url: string | PrometheusTarget, o: PrometheusClientOptions = {}) {
    this.target = typeof url === "string" ? parsePrometheusUrl(url) : url;
    this.timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxBytes = o.maxBytes ?? DEFAULT_MAX_BYTES;
    this.concurrency = Math.max(1, o.concurrency ?? 6);
    this.counters = o.counters ?? { queries: 0, bytes: 0 };
  }

  /** Runs an instant query whose result must be a vector. `cancel` abandons it (rejecting with its reason). */
  async query(promql: string, cancel?: AbortSignal): Promise<PromSample[]> {
    await this.acquire();
    try {
      cancel?.throwIfAborted();
      return await this.run(promql, cancel);
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.active < this.concurrency) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }

  private async run(promql: string, cancel?: AbortSignal): Promise<PromSample[]> {
    // Bundled (dist/), undici is its CommonJS build and a dynamic import gives `{ default: exports }`.
    const undici = (await import("undici")) as typeof import("undici") & { default?: typeof import("undici") };
    const request = typeof undici.request === "function" ? undici.request : undici.default!.request;
    const where = `Prometheus at ${this.target.display}`;
    const url = new URL(this.target.endpoint);
    url.searchParams.set("query", promql);
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.target.authorization) headers.authorization = this.target.authorization;
    const timer = AbortSignal.timeout(this.timeoutMs);
    const signal = cancel ? AbortSignal.any([timer, cancel]) : timer;
    const timedOut = () => (cancel?.aborted ? cancel.reason : timedOutError());
    const timedOutError = () => new PrometheusError(`${where} did not answer within ${formatSeconds(this.timeoutMs)}`, "is the server up and reachable from here? a slow server may need a shorter -t");
    this.counters.queries++;
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(url, { method: "GET", headers, signal, headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs });
    } catch (err) {
      if (signal.aborted || isTimeout(err)) throw timedOut();
      throw new PrometheusError(`cannot reach ${where}: ${describeNetworkError(err)}`, HINT, err);
    }
    const declared = Number(res.headers["content-length"]);
    const tooBig = () => new PrometheusError(`${where} sent more than ${formatBytes(this.maxBytes)} for one query`, "narrow the query (-n instead of -A, a named resource) or check that the URL is a Prometheus server");
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      if (Number.isFinite(declared) && declared > this.maxBytes) throw tooBig();
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > this.maxBytes) throw tooBig();
        chunks.push(chunk);
      }
    } catch (err) {
      res.body.destroy();
      if (err instanceof PrometheusError) throw err;
      if (signal.aborted || isTimeout(err)) throw timedOut();
      throw new PrometheusError(`${where}: the response broke off: ${describeNetworkError(err)}`, HINT, err);
    }
    this.counters.bytes += size;
    const text = Buffer.concat(chunks).toString("utf8");
    const type = String(res.headers["content-type"] ?? "");
    let body: ApiBody | undefined;
    try {
      body = JSON.parse(text) as ApiBody;
    } catch {
      body = undefined;
    }
    const apiError = body && typeof body === "object" && body.status === "error" ? body : undefined;
    if (res.statusCode < 200 || res.statusCode > 299 || apiError) {
      if (apiError) {
        const kind = typeof apiError.errorType === "string" && apiError.errorType ? ` ${sanitize(apiError.errorType, 40)}` : "";
        const msg = typeof apiError.error === "string" ? sanitize(apiError.error, 300) : "no error message";
        throw new PrometheusError(`${where} rejected a query (${res.statusCode}${kind}): ${msg}`, `the query was: ${sanitize(promql, 400)}`);
      }
      const what = body === undefined ? ` (${describeText(type, text)})` : "";
      const hint = res.statusCode === 401 || res.statusCode === 403 ? "the server wants credentials: put them in the URL (http://user:password@host:9090)" : res.statusCode === 404 ? `${HINT}; ${this.target.endpoint.pathname} was not found there` : HINT;
      throw new PrometheusError(`${where} answered HTTP ${res.statusCode}${what}`, hint);
    }
    if (body === undefined) throw new PrometheusError(`${where} did not answer with the Prometheus API's JSON (${describeText(type, text)})`, HINT);
    if (body.status !== "success" || !body.data || typeof body.data !== "object") throw new PrometheusError(`${where} answered with JSON that is not a Prometheus query result`, HINT);
    if (body.data.resultType !== "vector") throw new PrometheusError(`${where} answered a ${sanitize(String(body.data.resultType), 20)} where a vector was expected`, `the query was: ${sanitize(promql, 400)}`);
    return parseVector(body.data.result, where);
  }
}

function parseVector(result: unknown, where: string): PromSample[] {
  if (!Array.isArray(result)) throw new PrometheusError(`${where} answered a vector without a result list`, HINT);
  const out: PromSample[] = [];
  for (const item of result as unknown[]) {
    const it = item as { metric?: unknown; value?: unknown };
    if (!it || typeof it !== "object" || !Array.isArray(it.value) || it.value.length !== 2) throw new PrometheusError(`${where} answered a malformed vector sample`, HINT);
    const metric: Record<string, string> = {};
    if (it.metric && typeof it.metric === "object") for (const [k, v] of Object.entries(it.metric as Record<string, unknown>)) if (typeof v === "string") metric[k] = v;
    out.push({ metric, value: parseSampleValue(it.value[1]) });
  }
  return out;
}

/** Prometheus writes sample values as strings: decimals, `NaN`, `+Inf`, `-Inf`. */
export function parseSampleValue(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v !== "string") return NaN;
  if (v === "+Inf" || v === "Inf") return Infinity;
  if (v === "-Inf") return -Infinity;
  const n = Number(v);
  return v.trim() === "" ? NaN : n;
}

function isTimeout(err: unknown): boolean {
  const e = err as { name?: string; code?: string } | undefined;
  return e?.name === "TimeoutError" || e?.name === "AbortError" || e?.code === "UND_ERR_HEADERS_TIMEOUT" || e?.code === "UND_ERR_BODY_TIMEOUT" || e?.code === "UND_ERR_CONNECT_TIMEOUT";
}

function describeNetworkError(err: unknown): string {
  const e = err as { message?: string; code?: string; cause?: { message?: string; code?: string } } | undefined;
  const code = e?.cause?.code ?? e?.code;
  const msg = e?.cause?.message ?? e?.message ?? String(err);
  return sanitize(code && !msg.includes(code) ? `${code}: ${msg}` : msg, 200);
}

/** A short, inert description of a body that is not the API's JSON (an HTML error page, a proxy's text). */
function describeText(type: string, text: string): string {
  const kind = type ? sanitize(type.split(";")[0], 60) : "no content type";
  const excerpt = sanitize(text.replace(/<[^>]*>/g, " "), 120);
  return excerpt ? `${kind}: "${excerpt}"` : `${kind}, empty body`;
}

const formatSeconds = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);
const formatBytes = (n: number) => (n >= 1024 * 1024 && n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MiB` : `${n} bytes`);

// ---------------------------------------------------------------------------------------------
// Putting it together

/**
 * Runs queries in parallel (bounded by the client); undefined entries answer undefined. The first
 * failure abandons the other queries, so a failing run does not wait for them.
 */
export async function queryAll(client: PrometheusClient, queries: readonly (string | undefined)[]): Promise<(PromSample[] | undefined)[]> {
  const batch = new AbortController();
  const run = (promql: string | undefined) =>
    promql === undefined
      ? Promise.resolve(undefined)
      : client.query(promql, batch.signal).catch((err: unknown) => {
          if (!batch.signal.aborted) batch.abort(err);
          throw err;
        });
  return Promise.all(queries.map(run));
}

/** Runs one request's queries and returns its groups. */
export async function statGroupsFromPrometheus(client: PrometheusClient, q: StatQuery, windowMs: number, opts: { tcp: boolean }): Promise<Map<string, GroupStats>> {
  const qs = buildStatPromQueries(q, windowMs, opts);
  const [requests, p50, p95, p99, tcpConnections, readBytes, writeBytes] = await queryAll(client, [qs.requests, qs.latency.p50, qs.latency.p95, qs.latency.p99, qs.tcpConnections, qs.readBytes, qs.writeBytes]);
  return groupsFromPrometheus(q, windowMs, { requests: requests!, latency: { p50: p50!, p95: p95!, p99: p99! }, tcpConnections, readBytes, writeBytes });
}

/** Runs one routes table's queries and returns its rows. */
export async function routeRowsFromPrometheusQueries(client: PrometheusClient, q: RouteQuery, windowMs: number): Promise<RouteRow[]> {
  const qs = buildRoutePromQueries(q, windowMs);
  const [requests, p50, p95, p99, actual] = await queryAll(client, [qs.requests, qs.latency.p50, qs.latency.p95, qs.latency.p99, qs.actual]);
  return routeRowsFromPrometheus(q, windowMs, { requests: requests!, actual, latency: { p50: p50!, p95: p95!, p99: p99! } });
}
