import { test } from "node:test";
import assert from "node:assert/strict";
import { histogramQuantile, latencyMs, roundHalfAway } from "../../src/viz/quantile.js";

const LE = [1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500, 1000, 2000, 3000, 4000, 5000, 10000, 20000, 30000, 40000, 50000, Infinity];
// E1's inbound response_latency_ms histogram (1203 observations), cumulative
const E1 = [0, 12, 187, 466, 702, 1089, 1171, 1188, 1195, 1198, 1201, 1203, ...Array(14).fill(1203)];
// E1's route_response_latency_ms histogram
const E1_ROUTE = [0, 14, 190, 470, 705, 1090, 1172, 1189, 1195, 1198, 1201, 1203, ...Array(14).fill(1203)];

test("the spec's worked example (E1): 5ms, 17ms, 34ms", () => {
  // p50: rank 601.5 in (4,5]: 466 below, 236 inside: 4 + 135.5/236
  assert.ok(Math.abs(histogramQuantile(0.5, LE, E1) - (4 + 135.5 / 236)) < 1e-9);
  assert.equal(latencyMs(histogramQuantile(0.5, LE, E1)), 5);
  // p95: rank 1142.85 in (10,20]: 10 + 10 × 53.85/82 = 16.57
  assert.equal(latencyMs(histogramQuantile(0.95, LE, E1)), 17);
  // p99: rank 1190.97 in (30,40]: 30 + 10 × 2.97/7 = 34.24
  assert.equal(latencyMs(histogramQuantile(0.99, LE, E1)), 34);
});

test("E1's route histogram, computed by hand: 5ms, 16ms, 33ms", () => {
  // p50: 4 + (601.5-470)/235 = 4.56; p95: 10 + 10 × (1142.85-1090)/82 = 16.45; p99: 30 + 10 × (1190.97-1189)/6 = 33.28
  assert.deepEqual([0.5, 0.95, 0.99].map((q) => latencyMs(histogramQuantile(q, LE, E1_ROUTE))), [5, 16, 33]);
});

test("rank in the +Inf bucket gives the largest finite bound", () => {
  assert.equal(histogramQuantile(0.99, [10, Infinity], [1, 100]), 10);
});

test("first bucket interpolates from 0", () => {
  // 10 observations all ≤ 1: p50 = 0 + 1 × 5/10
  assert.equal(histogramQuantile(0.5, [1, 2, Infinity], [10, 10, 10]), 0.5);
});

test("unsorted input, merged equal bounds, non-monotonic counts", () => {
  // same as [5:4, 10:8, +Inf:8]; the duplicated 5 adds up (2+2), the 7 at 20 is raised to 8
  assert.equal(histogramQuantile(0.75, [10, Infinity, 5, 5, 20], [8, 8, 2, 2, 7]), 5 + 5 * (6 - 4) / 4);
});

test("NaN cases: no +Inf bucket, fewer than two buckets, no observations, NaN q", () => {
  assert.ok(Number.isNaN(histogramQuantile(0.5, [1, 2], [1, 2])));
  assert.ok(Number.isNaN(histogramQuantile(0.5, [Infinity], [3])));
  assert.ok(Number.isNaN(histogramQuantile(0.5, [1, Infinity], [0, 0])));
  assert.ok(Number.isNaN(histogramQuantile(NaN, [1, Infinity], [1, 1])));
  assert.equal(histogramQuantile(-1, [1, Infinity], [1, 1]), -Infinity);
  assert.equal(histogramQuantile(2, [1, Infinity], [1, 1]), Infinity);
  assert.equal(latencyMs(NaN), 0);
});

test("rounding is half away from zero (Go's math.Round), not JavaScript's", () => {
  assert.equal(roundHalfAway(2.5), 3);
  assert.equal(roundHalfAway(-2.5), -3);
  assert.equal(roundHalfAway(2.4999), 2);
  assert.equal(latencyMs(21.5), 22);
});
