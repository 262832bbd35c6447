import { test } from "node:test";
import assert from "node:assert/strict";
import { accessLogFormat, accessLogLines, formatTimestamp, startupLines } from "./access-log.js";
import { resolveFlows, type PodInfo } from "./traffic-model.js";

const self: PodInfo = { namespace: "ns", name: "web-1", ip: "10.244.1.3", serviceAccount: "web", labels: {}, meshed: true };
const flows = resolveFlows(
  {
    flows: [
      { direction: "inbound", rps: 2, successRate: 0.5, authority: "web-svc.ns.svc.cluster.local:80", host: "web-svc.ns:80", route: "GET /api/list" },
      { direction: "inbound", rps: 1, clientId: null, path: "/js/app.js" },
      { direction: "outbound", rps: 100 },
    ],
  },
  { self, pods: [self], defaultClientIp: "10.244.0.1" },
);
const start = 1_717_171_500_000_000_000n;
const sec = 1_000_000_000n;

// The parsing rule from spec D5.
const APACHE = /^(\S+) (\S+) - \[([^\]]+)\] "(\S+) (\S+) (HTTP\/[0-9.]+)"(?: (\d{3}))?$/;

test("formatTimestamp: nine fractional digits, or none on a whole second", () => {
  assert.equal(formatTimestamp(1_717_171_501_428_371_213n), "2024-05-31T16:05:01.428371213Z");
  assert.equal(formatTimestamp(1_717_171_501_000_000_000n), "2024-05-31T16:05:01Z");
  assert.equal(formatTimestamp(1_717_171_501_000_000_010n), "2024-05-31T16:05:01.000000010Z");
});

test("accessLogFormat accepts apache and json in any case", () => {
  assert.equal(accessLogFormat("JSON"), "json");
  assert.equal(accessLogFormat("apache"), "apache");
  assert.equal(accessLogFormat("common"), undefined);
  assert.equal(accessLogFormat(undefined), undefined);
});

test("apache lines: one per inbound request in the window, in time order", () => {
  const lines = accessLogLines(flows, "apache", start, start, start + 2n * sec);
  // 2 rps × 2 s + 1 rps × 2 s; outbound requests are not logged.
  assert.equal(lines.length, 6);
  for (let i = 1; i < lines.length; i++) assert.ok(lines[i - 1].atNs <= lines[i].atNs);
  const m = lines[0].text.match(APACHE)!;
  assert.ok(m, lines[0].text);
  assert.deepEqual(m.slice(1), [
    "10.244.0.1:40000",
    "default.ns.serviceaccount.identity.linkerd.cluster.local",
    "2024-05-31T16:05:00.500000000Z",
    "GET",
    "http://web-svc.ns:80/api/list",
    "HTTP/2.0",
    "200",
  ]);
  const plain = lines.find((l) => l.text.includes("/js/app.js"))!;
  assert.match(plain.text, /^10\.244\.0\.1:40001 - - \[2024-05-31T16:05:01Z\] "GET \/js\/app\.js HTTP\/1\.1" 200$/);
  assert.equal(lines.filter((l) => l.text.endsWith(" 500")).length, 2);
});

test("json lines: keys in byte order, status a number, the rest strings", () => {
  const [line] = accessLogLines(flows, "json", start, start, start + sec / 2n);
  const obj = JSON.parse(line.text) as Record<string, unknown>;
  const keys = Object.keys(obj);
  assert.deepEqual(keys, [...keys].sort());
  assert.deepEqual(keys, ["client.addr", "client.id", "host", "method", "processing_ns", "request_bytes", "response_bytes", "status", "timestamp", "total_ns", "trace_id", "uri", "user_agent", "version"]);
  assert.equal(obj.status, 200);
  for (const k of keys) if (k !== "status") assert.equal(typeof obj[k], "string", k);
  assert.equal(obj.host, "web-svc.ns:80");
});

test("a window counts exactly the requests made in it, and caps at max", () => {
  const a = accessLogLines(flows, "apache", start, start + 10n * sec, start + 20n * sec);
  assert.equal(a.length, 30);
  const b = accessLogLines(flows, "apache", start, start, start + 100n * sec, 7);
  assert.equal(b.length, 7);
  assert.equal(b[6].atNs, start + 100n * sec);
});

test("startup lines look like plain diagnostic lines", () => {
  for (const l of startupLines(start, "10.244.1.3")) {
    assert.match(l.text, /^\[\s*\d+\.\d{6}s\]  INFO ThreadId\(\d+\) /);
    assert.doesNotMatch(l.text, APACHE);
  }
});
