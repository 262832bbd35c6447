import { test } from "node:test";
import assert from "node:assert/strict";
import { discountOwnScrape, podDelta, type PodDelta, type PodScrape } from "../../src/viz/delta.js";
import { Interner, parseExposition, type LabelSet } from "../../src/viz/exposition.js";

const T0 = 1_717_171_300_000;
const interner = new Interner();
const scrape = (time: number, text: string): PodScrape => ({ time, metrics: parseExposition(text, { interner }) });
const HEAD = "# TYPE c_total counter\n# TYPE g gauge\n# TYPE h histogram\n";
const start = (s: number) => `process_start_time_seconds ${s}\n`;

function values(d: PodDelta, name: string): Record<string, number> {
  return Object.fromEntries([...(d.counters.get(name) ?? d.gauges.get(name) ?? [])].map(([l, v]: [LabelSet, number]) => [l.s ?? "", v]));
}
function allNonNegative(d: PodDelta): boolean {
  for (const m of d.counters.values()) for (const v of m.values()) if (!(v >= 0)) return false;
  for (const m of d.buckets.values()) for (const b of m.values()) if (b.counts.some((v) => !(v >= 0))) return false;
  return true;
}

test("series in both scrapes: B − A; a reset (B < A): B; only in B: B; only in A: ignored", () => {
  const a = scrape(T0, `${HEAD}${start(100)}c_total{s="up"} 10\nc_total{s="reset"} 50\nc_total{s="gone"} 7\n`);
  const b = scrape(T0 + 10_000, `${HEAD}${start(100)}c_total{s="up"} 25\nc_total{s="reset"} 4\nc_total{s="new"} 3\n`);
  const d = podDelta(a, b, T0)!;
  assert.deepEqual(values(d, "c_total"), { up: 15, reset: 4, new: 3 });
  assert.equal(d.dt, 10);
  assert.equal(d.restarted, false);
  assert.ok(allNonNegative(d));
});

test("gauges come from B; process start time and TYPE decide gauge vs counter", () => {
  const a = scrape(T0, `${HEAD}${start(100)}g{s="x"} 9\n`);
  const b = scrape(T0 + 10_000, `${HEAD}${start(100)}g{s="x"} 2\nuntyped_total 5\nother 3\n`);
  const d = podDelta(a, b, T0)!;
  assert.deepEqual(values(d, "g"), { x: 2 });
  assert.deepEqual(values(d, "untyped_total"), { "": 5 }); // no TYPE, ends in _total: a counter
  assert.deepEqual(values(d, "other"), { "": 3 }); // no TYPE: a gauge
  assert.ok(d.gauges.has("other") && d.counters.has("untyped_total"));
});

test("restart between scrapes: every A series is absent, Δt from the new start time", () => {
  const a = scrape(T0, `${HEAD}${start(T0 / 1000 - 3600)}c_total{s="x"} 1000\n`);
  const b = scrape(T0 + 10_000, `${HEAD}${start(T0 / 1000 + 4)}c_total{s="x"} 30\n`);
  const d = podDelta(a, b, T0)!;
  assert.deepEqual(values(d, "c_total"), { x: 30 });
  assert.equal(d.restarted, true);
  assert.equal(d.dt, 6);
  // had B been ≥ A without the start time changing, it would have been B − A; here it is B even though 1030 > 1000
  const b2 = scrape(T0 + 10_000, `${HEAD}${start(T0 / 1000 + 4)}c_total{s="x"} 1030\n`);
  assert.deepEqual(values(podDelta(a, b2, T0)!, "c_total"), { x: 1030 });
});

test("pods only in B count from zero only when they started after A", () => {
  const late = scrape(T0 + 10_000, `${HEAD}${start(T0 / 1000 + 2)}c_total{s="x"} 40\n`);
  const d = podDelta(undefined, late, T0)!;
  assert.deepEqual(values(d, "c_total"), { x: 40 });
  assert.equal(d.dt, 8);
  const early = scrape(T0 + 10_000, `${HEAD}${start(T0 / 1000 - 60)}c_total{s="x"} 40\n`);
  assert.equal(podDelta(undefined, early, T0), undefined);
  const unknown = scrape(T0 + 10_000, `${HEAD}c_total{s="x"} 40\n`);
  assert.equal(podDelta(undefined, unknown, T0), undefined);
});

test("histograms: per-bucket deltas; a bucket that went down resets the whole series", () => {
  const a = scrape(T0, `${HEAD}${start(1)}h_bucket{s="a",le="1"} 2\nh_bucket{s="a",le="+Inf"} 5\nh_bucket{s="r",le="1"} 9\nh_bucket{s="r",le="+Inf"} 9\n`);
  const b = scrape(T0 + 5_000, `${HEAD}${start(1)}h_bucket{s="a",le="1"} 4\nh_bucket{s="a",le="+Inf"} 11\nh_bucket{s="r",le="1"} 1\nh_bucket{s="r",le="+Inf"} 12\n`);
  const d = podDelta(a, b, T0)!;
  const byS = Object.fromEntries([...d.buckets.get("h")!].map(([l, v]) => [l.s, v.counts]));
  assert.deepEqual(byS, { a: [2, 6], r: [1, 12] });
  assert.ok(allNonNegative(d));
  assert.equal(d.dt, 5);
});

test("NaN and infinite counter values are dropped, never negative", () => {
  const a = scrape(T0, `${HEAD}${start(1)}c_total{s="n"} 5\nc_total{s="neg"} 5\n`);
  const b = scrape(T0 + 1_000, `${HEAD}${start(1)}c_total{s="n"} NaN\nc_total{s="i"} +Inf\nc_total{s="neg"} -3\n`);
  const d = podDelta(a, b, T0)!;
  assert.deepEqual(values(d, "c_total"), { neg: 0 });
});

test("clocks that did not move: Δt is never 0", () => {
  const a = scrape(T0, `${HEAD}${start(1)}c_total 1\n`);
  const d = podDelta(a, scrape(T0, `${HEAD}${start(1)}c_total 2\n`), T0)!;
  assert.ok(d.dt > 0);
});

test("mesh's own scrape is taken out: one admin request, one fast observation, the body's bytes", () => {
  const admin = 'direction="inbound",target_addr="10.0.0.1:4191",target_ip="10.0.0.1",target_port="4191",tls="no_identity",no_tls_reason="no_tls_from_remote"';
  const app = 'direction="inbound",authority="web:80",target_port="8080",tls="true"';
  const text = (n: number, bytes: number, appN: number) =>
    `# TYPE response_total counter\n# TYPE response_latency_ms histogram\n# TYPE tcp_write_bytes_total counter\n${start(1)}` +
    `response_total{${admin},status_code="200",classification="success",grpc_status="",error=""} ${n}\n` +
    `response_total{${app},status_code="200",classification="success",grpc_status="",error=""} ${appN}\n` +
    `response_latency_ms_bucket{${admin},status_code="200",le="1"} ${n}\nresponse_latency_ms_bucket{${admin},status_code="200",le="+Inf"} ${n}\n` +
    `tcp_write_bytes_total{direction="inbound",peer="src",target_port="4191"} ${bytes}\n`;
  const d = podDelta(scrape(T0, text(10, 1000, 5)), scrape(T0 + 10_000, text(11, 6300, 9)), T0)!;
  discountOwnScrape(d, 5000);
  const resp = Object.fromEntries([...d.counters.get("response_total")!].map(([l, v]) => [l.target_port, v]));
  assert.deepEqual(resp, { "4191": 0, "8080": 4 });
  assert.deepEqual([...d.buckets.get("response_latency_ms")!.values()][0].counts, [0, 0]);
  assert.deepEqual([...d.counters.get("tcp_write_bytes_total")!.values()], [300]);
  assert.ok(allNonNegative(d));
  // with nothing to discount (the scrape never counted), nothing goes below 0
  const d2 = podDelta(scrape(T0, text(10, 1000, 5)), scrape(T0 + 10_000, text(10, 1000, 5)), T0)!;
  discountOwnScrape(d2, 5000);
  assert.ok(allNonNegative(d2));
  assert.deepEqual([...d2.counters.get("tcp_write_bytes_total")!.values()], [0]);
});
