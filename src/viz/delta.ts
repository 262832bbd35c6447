import type { Buckets, Exposition, LabelSet } from "./exposition.js";

/**
 * Two scrapes of a pod's proxy into per-series increases (Part D2). Counters and histogram
 * buckets become deltas; gauges are read from the later scrape. No delta is ever negative.
 */

/** One scrape of one proxy: the parsed payload and the local time its response arrived. */
export interface PodScrape {
  /** Local time of the response, ms since the epoch. */
  time: number;
  metrics: Exposition;
}

export interface PodDelta {
  /** Seconds the deltas cover (D2 step 6, from the proxies' uptimes when they report them). Always > 0. */
  dt: number;
  /** The proxy restarted between the scrapes, or started after the first one. */
  restarted: boolean;
  /** Counter metric name → series → increase. */
  counters: Map<string, Map<LabelSet, number>>;
  /** Histogram family → series (labels without `le`) → bucket increases (cumulative). */
  buckets: Map<string, Map<LabelSet, Buckets>>;
  /** Gauge metric name → series → value in the later scrape. */
  gauges: Map<string, Map<LabelSet, number>>;
}

/** `process_start_time_seconds` of a scrape, if present. */
export function startTime(e: Exposition): number | undefined {
  const m = e.samples.get("process_start_time_seconds");
  if (!m) return undefined;
  for (const v of m.values()) if (Number.isFinite(v)) return v;
  return undefined;
}

/**
 * `process_uptime_seconds_total` of a scrape, if present: the proxy's own clock at the moment it
 * rendered the payload, so the difference of two scrapes' uptimes is the exact interval between
 * the counter readings, free of network, API-server and client scheduling delays and of clock skew
 * between this machine and the node.
 */
export function uptime(e: Exposition): number | undefined {
  const m = e.samples.get("process_uptime_seconds_total");
  if (!m) return undefined;
  for (const v of m.values()) if (Number.isFinite(v) && v >= 0) return v;
  return undefined;
}

/**
 * Whether a metric is a gauge: its `# TYPE` says so; without one, names ending in `_total`,
 * `_count`, `_sum` or `_bucket` are counters and everything else a gauge.
 */
export function isGauge(e: Exposition, name: string): boolean {
  const t = e.types.get(name);
  if (t !== undefined) return t === "gauge" || t === "untyped" || t === "unknown";
  for (const s of ["_count", "_sum"]) {
    if (name.endsWith(s)) {
      const ft = e.types.get(name.slice(0, -s.length));
      if (ft === "histogram" || ft === "summary") return false;
    }
  }
  return !/_(total|count|sum|bucket)$/.test(name);
}

function counterDelta(a: number | undefined, b: number): number | undefined {
  if (Number.isNaN(b) || b === Infinity || b === -Infinity) return undefined;
  if (a === undefined || Number.isNaN(a)) return Math.max(0, b); // new series (or no baseline)
  return b >= a ? b - a : Math.max(0, b); // b < a: reset (re-created or wrapped)
}

function bucketsDelta(a: Buckets | undefined, b: Buckets): Buckets {
  const out: Buckets = { le: b.le.slice(), counts: new Array<number>(b.le.length) };
  // A histogram resets as a whole: if any bucket went down, the series was re-created.
  let reset = a === undefined;
  const prev: (number | undefined)[] = [];
  if (a)
    for (let k = 0; k < b.le.length; k++) {
      const i = a.le[k] === b.le[k] ? k : a.le.indexOf(b.le[k]);
      const av = i >= 0 ? a.counts[i] : undefined;
      prev.push(av);
      if (av !== undefined && b.counts[k] < av) reset = true;
    }
  for (let k = 0; k < b.le.length; k++) {
    const bv = b.counts[k];
    const d = reset ? bv : counterDelta(prev[k], bv);
    out.counts[k] = d === undefined || Number.isNaN(d) ? 0 : Math.max(0, d);
  }
  return out;
}

/**
 * The deltas of one pod between scrape `a` and `b`. `roundStart` is the local time (ms) the first
 * round of scrapes began: a pod without scrape A counts only if its proxy started after it.
 * Returns undefined when the pod has no usable baseline.
 */
export function podDelta(a: PodScrape | undefined, b: PodScrape, roundStart: number): PodDelta | undefined {
  const startB = startTime(b.metrics);
  const upB = uptime(b.metrics);
  let restarted = false;
  let dt: number;
  let base: Exposition | undefined;
  if (a === undefined) {
    // D2 step 5: a pod only in B counts from zero if it started after A.
    if (startB === undefined || startB * 1000 <= roundStart) return undefined;
    restarted = true;
    dt = upB !== undefined && upB > 0 ? upB * 1000 : b.time - startB * 1000;
    if (!(dt > 0)) dt = b.time - roundStart;
  } else {
    const startA = startTime(a.metrics);
    const span = b.time - a.time;
    if (startA !== undefined && startB !== undefined && startA !== startB) {
      // D2 steps 1 and 6: a restart between the scrapes; everything in A is gone.
      restarted = true;
      if (upB !== undefined && upB > 0) dt = upB * 1000;
      else {
        dt = b.time - startB * 1000;
        if (!(dt > 0) || dt > span) dt = span;
      }
    } else {
      base = a.metrics;
      // The proxy's uptime measures the interval between the readings exactly; local response
      // times (first byte) are the fallback.
      const upA = uptime(a.metrics);
      dt = upA !== undefined && upB !== undefined && upB > upA ? (upB - upA) * 1000 : span;
    }
  }
  if (!(dt > 0)) dt = 1; // clocks that did not move: avoid dividing by zero (1 ms)
  const counters = new Map<string, Map<LabelSet, number>>();
  const gauges = new Map<string, Map<LabelSet, number>>();
  for (const [name, series] of b.metrics.samples) {
    if (isGauge(b.metrics, name)) {
      gauges.set(name, series);
      continue;
    }
    const prev = base?.samples.get(name);
    const out = new Map<LabelSet, number>();
    for (const [labels, bv] of series) {
      const d = counterDelta(prev?.get(labels), bv);
      if (d !== undefined) out.set(labels, d);
    }
    counters.set(name, out);
  }
  const buckets = new Map<string, Map<LabelSet, Buckets>>();
  for (const [family, series] of b.metrics.buckets) {
    const prev = base?.buckets.get(family);
    const out = new Map<LabelSet, Buckets>();
    for (const [labels, bb] of series) out.set(labels, bucketsDelta(prev?.get(labels), bb));
    buckets.set(family, out);
  }
  return { dt: dt / 1000, restarted, counters, buckets, gauges };
}

/**
 * Takes mesh's own first scrape out of a pod's deltas (D7 decision 2): that request reached the
 * proxy's admin port between the scrapes, so the later scrape counts it as an inbound request
 * (no authority, `target_port` = the admin port, status 200, success). One such request is
 * removed from `response_total`, one observation from the matching latency histogram (from its
 * lowest non-empty bucket: the scrape is assumed to be the fastest request), and `ownBytes` (the
 * body mesh received) from the admin port's `tcp_write_bytes_total{peer="src"}`. Nothing is
 * removed when the proxy restarted after the first scrape (which then never reached the counters).
 */
export function discountOwnScrape(d: PodDelta, ownBytes: number, adminPort = "4191"): void {
  if (d.restarted) return;
  const isOwn = (l: LabelSet) => l.direction === "inbound" && l.target_port === adminPort && l.authority === undefined;
  const responses = d.counters.get("response_total");
  let chosen: LabelSet | undefined;
  for (const [l, v] of responses ?? []) {
    if (!isOwn(l) || l.status_code !== "200" || l.classification !== "success" || v < 1) continue;
    // Prefer the plaintext series (API-server pod proxy requests are not mTLS), then the largest.
    const better = !chosen || (chosen.tls === "true" && l.tls !== "true") || ((chosen.tls === "true") === (l.tls === "true") && v > responses!.get(chosen)!);
    if (better) chosen = l;
  }
  if (chosen && responses) {
    responses.set(chosen, responses.get(chosen)! - 1);
    const skip = new Set(["classification", "grpc_status", "error"]);
    for (const [l, b] of d.buckets.get("response_latency_ms") ?? []) {
      const keys = Object.keys(l);
      if (keys.some((k) => skip.has(k))) continue;
      const same = keys.length === Object.keys(chosen).filter((k) => !skip.has(k)).length && keys.every((k) => l[k] === chosen![k]);
      if (!same) continue;
      const order = b.le.map((_, i) => i).sort((x, y) => b.le[x] - b.le[y]);
      const first = order.findIndex((i) => b.counts[i] >= 1);
      if (first >= 0) for (const i of order.slice(first)) b.counts[i] = Math.max(0, b.counts[i] - 1);
      break;
    }
  }
  if (ownBytes > 0) {
    const writes = d.counters.get("tcp_write_bytes_total");
    let best: LabelSet | undefined;
    for (const [l, v] of writes ?? []) if (l.direction === "inbound" && l.peer === "src" && l.target_port === adminPort && (!best || v > writes!.get(best)!)) best = l;
    if (best && writes) writes.set(best, Math.max(0, writes.get(best)! - ownBytes));
  }
}
