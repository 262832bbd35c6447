import { test } from "node:test";
import assert from "node:assert/strict";
import { History, type Point } from "../../src/dashboard/history.js";

const p = (t: number, rps: number | null = t): Point => ({ t, success: 1, rps, p50: 1, p95: 2, p99: 3 });

test("keeps at most maxPoints per key, oldest dropped first", () => {
  const h = new History(3);
  for (let t = 1; t <= 5; t++) h.record(new Map([["a", p(t)]]));
  assert.deepEqual(h.get("a").map((x) => x.t), [3, 4, 5]);
});

test("a key missing from a round is forgotten (the object is gone)", () => {
  const h = new History(10);
  h.record(new Map([["a", p(1)], ["b", p(1)]]));
  h.record(new Map([["a", p(2)]]));
  assert.equal(h.keys, 1);
  assert.deepEqual(h.get("b"), []);
  assert.deepEqual(h.get("a").map((x) => x.t), [1, 2]);
});

test("get returns a copy", () => {
  const h = new History(4);
  h.record(new Map([["a", p(1, null)]]));
  h.get("a").push(p(9));
  assert.equal(h.get("a").length, 1);
  assert.equal(h.get("a")[0].rps, null);
});

test("needs room for two points", () => assert.throws(() => new History(1)));
