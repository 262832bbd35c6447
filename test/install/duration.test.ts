import { test } from "node:test";
import assert from "node:assert/strict";
import { formatGoDuration, parseGoDuration } from "../../src/install/duration.js";

/** Input → Go's time.ParseDuration then Duration.String(). */
const cases: [string, string][] = [
  ["24h", "24h0m0s"],
  ["48h", "48h0m0s"],
  ["20s", "20s"],
  ["90s", "1m30s"],
  ["1h30m", "1h30m0s"],
  ["1.5h", "1h30m0s"],
  ["1.5s", "1.5s"],
  ["300ms", "300ms"],
  ["1500us", "1.5ms"],
  ["1µs", "1µs"],
  ["10ns", "10ns"],
  ["0", "0s"],
  ["-2m", "-2m0s"],
  ["8760h", "8760h0m0s"],
];

for (const [input, want] of cases)
  test(`Go duration ${input} → ${want}`, () => {
    const ns = parseGoDuration(input);
    assert.notEqual(ns, undefined);
    assert.equal(formatGoDuration(ns!), want);
  });

for (const bad of ["", "1", "h", "1d", "1 h", ".s", "3000000h"])
  test(`"${bad}" is not a Go duration`, () => {
    assert.equal(parseGoDuration(bad), undefined);
  });
