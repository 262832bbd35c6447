import { test } from "node:test";
import assert from "node:assert/strict";
import { ExpositionError, ExpositionParser, Interner, parseExposition, parseValue } from "../../src/viz/exposition.js";
import { payload } from "./payload.js";

const E1_HIST = `# HELP response_latency_ms Elapsed times
# TYPE response_latency_ms histogram
response_latency_ms_bucket{direction="inbound",status_code="200",le="1"} 0
response_latency_ms_bucket{direction="inbound",status_code="200",le="5"} 705
response_latency_ms_bucket{direction="inbound",status_code="200",le="+Inf"} 1203
response_latency_ms_count{direction="inbound",status_code="200"} 1203
response_latency_ms_sum{direction="inbound",status_code="200"} 6342
`;

test("keeps only requested families; histogram buckets lose le and share one label set", () => {
  const e = parseExposition(`${E1_HIST}request_total{direction="inbound"} 7\n`, { families: ["response_latency_ms"] });
  assert.equal(e.samples.has("request_total"), false);
  const [[labels, b]] = [...e.buckets.get("response_latency_ms")!];
  assert.deepEqual({ ...labels }, { direction: "inbound", status_code: "200" });
  assert.deepEqual(b, { le: [1, 5, Infinity], counts: [0, 705, 1203] });
  assert.equal([...e.samples.get("response_latency_ms_count")!.values()][0], 1203);
  assert.equal([...e.samples.get("response_latency_ms_sum")!.values()][0], 6342);
  // _count carries the same labels: the very same interned object
  assert.equal([...e.samples.get("response_latency_ms_count")!.keys()][0], labels);
  assert.equal(e.types.get("response_latency_ms"), "histogram");
});

test("chunks split anywhere (also inside a UTF-8 character) give the same result", () => {
  const text = `a_total{k="vé\\"x"} 1\n${E1_HIST}a_total{k="é"} 2`;
  const whole = parseExposition(text, { families: ["a_total", "response_latency_ms"] });
  const bytes = Buffer.from(text);
  for (const size of [1, 2, 3, 7, 64]) {
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
    const e = parseExposition(chunks, { families: ["a_total", "response_latency_ms"] });
    assert.deepEqual([...e.samples.get("a_total")!].map(([l, v]) => [{ ...l }, v]), [...whole.samples.get("a_total")!].map(([l, v]) => [{ ...l }, v]));
    assert.deepEqual([...e.buckets.get("response_latency_ms")!.values()], [...whole.buckets.get("response_latency_ms")!.values()]);
    assert.equal(e.bytes, bytes.length);
  }
  assert.deepEqual([...whole.samples.get("a_total")!.keys()].map((l) => l.k), ['vé"x', "é"]);
});

test("label value escapes: \\\\, \\\" and \\n; other pairs kept as written", () => {
  const e = parseExposition('m{a="x\\\\y",b="q\\"uote",c="line\\nbreak",d="keep\\t"} 1\n');
  assert.deepEqual({ ...[...e.samples.get("m")!.keys()][0] }, { a: "x\\y", b: 'q"uote', c: "line\nbreak", d: "keep\\t" });
});

test("special values, optional timestamps, blank lines, CRLF, spaces and trailing commas", () => {
  const e = parseExposition(["", "  ", "a{x=\"1\",} +Inf", "a{x=\"2\"} -Inf 1717171205000", "a{x=\"3\"} NaN\r", "a { x = \"4\" , } 1.5e3", "b 12 -5", "# just a comment", "# TYPE a gauge"].join("\n"));
  const a = [...e.samples.get("a")!].map(([l, v]) => [l.x, v]);
  assert.deepEqual(a.slice(0, 2), [["1", Infinity], ["2", -Infinity]]);
  assert.ok(Number.isNaN(a[2][1] as number));
  assert.deepEqual(a[3], ["4", 1500]);
  assert.equal([...e.samples.get("b")!.values()][0], 12);
  assert.equal(e.types.get("a"), "gauge");
});

test("a repeated series: the later value wins", () => {
  const e = parseExposition('r_total{a="1"} 5\nr_total{a="1"} 9\nr_total{ a="1" } 11\n');
  assert.deepEqual([...e.samples.get("r_total")!.values()], [11]);
});

test("label order does not matter: equal sets are one object across parsers sharing an interner", () => {
  const interner = new Interner();
  const a = parseExposition('m{x="1",y="2"} 1\n', { interner });
  const b = parseExposition('m{y="2",x="1"} 2\n', { interner });
  assert.equal([...a.samples.get("m")!.keys()][0], [...b.samples.get("m")!.keys()][0]);
  assert.ok(Object.isFrozen([...a.samples.get("m")!.keys()][0]));
});

test("bucket with le not last, and histograms without the fast path", () => {
  const e = parseExposition('h_bucket{le="2",a="x"} 3\nh_bucket{a="x",le="+Inf"} 4\n', { families: ["h"] });
  const [[l, b]] = [...e.buckets.get("h")!];
  assert.deepEqual({ ...l }, { a: "x" });
  assert.deepEqual(b, { le: [2, Infinity], counts: [3, 4] });
});

test("malformed lines of requested families: an error naming the line number", () => {
  const cases: [string, RegExp][] = [
    ['m{a="1"} \n', /line 1: m: missing value/],
    ['\n\nm{a="1} 3\n', /line 3: m: missing closing brace|line 3: m: unterminated/],
    ['m{a="1",a="2"} 3\n', /line 1: m: duplicate label "a"/],
    ['m{1a="1"} 3\n', /line 1: m: invalid label name/],
    ["m 12abc\n", /line 1: m: invalid value "12abc"/],
    ["m 1 2 3\n", /line 1: m: unexpected text after the timestamp/],
    ["m 1 1.5\n", /line 1: m: invalid timestamp/],
    ["m 0x1f\n", /invalid value "0x1f"/],
    ['m{a="1"}3\n', /expected a space before the value/],
    ['m{a "1"} 3\n', /expected "=" after label name "a"/],
    ["{a=\"1\"} 3\n", /line 1: expected a metric name/],
    ["m-x 3\n", /line 1: invalid character after metric name/],
    ['h_bucket{a="1"} 3\n', /bucket without an "le" label/],
  ];
  for (const [text, re] of cases) {
    assert.throws(() => parseExposition(text, { families: ["m", "h"] }), (e: unknown) => e instanceof ExpositionError && re.test(e.message), text);
  }
});

test("skip mode drops malformed lines, counts them and keeps the first few", () => {
  const e = parseExposition('m 1\nm{a="1"} oops\nm{a="2"} 2\n', { onError: "skip" });
  assert.equal(e.skipped, 1);
  assert.deepEqual(e.errors, [{ line: 2, message: 'm: invalid value "oops"' }]);
  assert.deepEqual([...e.samples.get("m")!.values()], [1, 2]);
});

test("lines of families not requested are not validated", () => {
  const e = parseExposition('junk_total{ bad 1 2 3 4\nm 1\n', { families: ["m"] });
  assert.deepEqual([...e.samples.get("m")!.values()], [1]);
});

test("parseValue follows the format, not JavaScript's Number()", () => {
  assert.equal(parseValue("1203"), 1203);
  assert.equal(parseValue("12.34"), 12.34);
  assert.equal(parseValue("+Inf"), Infinity);
  assert.equal(parseValue("inf"), Infinity);
  assert.equal(parseValue("-Inf"), -Infinity);
  assert.ok(Number.isNaN(parseValue("NaN")!));
  for (const bad of ["", "0x10", "0b1", "1_0", "abc", "Infinityx"]) assert.equal(parseValue(bad), undefined, bad);
});

test("a whole synthetic proxy payload: every requested family read", () => {
  const text = payload({ ip: "10.42.0.21", success: 1203, failure: 7, admin: 3, start: 1717171205, out: { success: 2395, failure: 11, pod: "emoji-1", readBytes: 10, writeBytes: 20 } });
  let n = 0;
  const p = new ExpositionParser(() => n++, { families: ["response_total", "response_latency_ms", "process_start_time_seconds"] });
  p.write(text);
  p.end();
  // 4 response_total (app 200/500 incl.), 2 outbound, 2 histograms × 28, 1 start time
  assert.equal(n, 3 + 2 + 2 * 28 + 1);
  assert.equal(p.skipped, 0);
});

test("Interner: one object per distinct label set, whatever the order; sets whose hashes collide stay apart", () => {
  const i = new Interner();
  const a = i.labelSet(["pod", "web-1", "namespace", "emojivoto"]);
  assert.equal(i.labelSet(["namespace", "emojivoto", "pod", "web-1"]), a);
  assert.deepEqual(Object.keys(a), ["namespace", "pod"]);
  assert.notEqual(i.labelSet(["pod", "web-2", "namespace", "emojivoto"]), a);
  assert.notEqual(i.labelSet(["pod", "web-1"]), a);
  // `v129599` and `v732382` hash alike as values of `pod` (found by search): still two sets.
  const x = i.labelSet(["pod", "v129599"]);
  const y = i.labelSet(["pod", "v732382"]);
  assert.notEqual(x, y);
  assert.deepEqual([x.pod, y.pod], ["v129599", "v732382"]);
  assert.equal(i.labelSet(["pod", "v732382"]), y);
  assert.equal(i.labelSet(["pod", "v129599"]), x);
  assert.equal(i.size, 5);
});

test("Interner.forgetRaw: the label texts go, the sets stay: the next scrape finds the same objects", () => {
  const interner = new Interner();
  const a = parseExposition(E1_HIST, { interner });
  const set = [...a.buckets.get("response_latency_ms")!.keys()][0];
  assert.equal(interner.fromRaw('direction="inbound",status_code="200",'), set);
  interner.forgetRaw();
  assert.equal(interner.fromRaw('direction="inbound",status_code="200",'), undefined);
  const b = parseExposition(E1_HIST, { interner });
  assert.equal([...b.buckets.get("response_latency_ms")!.keys()][0], set);
  assert.equal([...b.samples.get("response_latency_ms_count")!.keys()][0], set);
  assert.equal(interner.size, 1);
});
