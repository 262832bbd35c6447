import { test } from "node:test";
import assert from "node:assert/strict";
import { parseAccessLog, splitHostPort, splitKubeletTimestamp, splitUri } from "../../src/viz/tap/access-log.js";
import { buildIndex, destinationPort, matchesFilter, podInfo, RateBudget, toTapEvents, toTapRequest, type TapFilter } from "../../src/viz/tap/events.js";
import { formatTapEvent, formatTapJson, formatTapLine } from "../../src/viz/tap/format.js";
import type { Pod, Service } from "../../src/kube/types.js";

const pod = (name: string, ip: string, extra: Partial<Pod["metadata"]> = {}, ports: { name?: string; containerPort: number }[] = [{ name: "http", containerPort: 8080 }]): Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "shop", labels: { app: name.split("-")[0], "pod-template-hash": "7d9f", "linkerd.io/control-plane-ns": "linkerd" }, ownerReferences: [{ kind: "ReplicaSet", name: `${name.split("-")[0]}-7d9f`, controller: true }], ...extra },
  spec: { serviceAccountName: name.split("-")[0], containers: [{ name: "app", ports }, { name: "linkerd-proxy", ports: [{ name: "linkerd-admin", containerPort: 4191 }] }] },
  status: { phase: "Running", podIP: ip },
});
const svc = (name: string, port: number, targetPort?: number | string): Service => ({ apiVersion: "v1", kind: "Service", metadata: { name, namespace: "shop" }, spec: { ports: [{ port, targetPort }] } });

const web = pod("web-1", "10.42.0.21");
const bot = pod("bot-1", "10.42.0.17");
const index = buildIndex([web, bot], [svc("web-svc", 80, "http"), svc("api", 8081, 9090)]);

const JSON_LINE =
  '{"client.addr":"10.42.0.17:52244","client.id":"bot.shop.serviceaccount.identity.linkerd.cluster.local","host":"web-svc.shop.svc.cluster.local:80","method":"GET","processing_ns":"30101","request_bytes":"","response_bytes":"2519","status":200,"timestamp":"2026-01-01T00:00:01.250000000Z","total_ns":"1812345","trace_id":"","uri":"http://web-svc.shop.svc.cluster.local:80/api/list?page=2","user_agent":"Go-http-client/1.1","version":"HTTP/2.0"}';
const APACHE_LINE = '10.42.0.99:40000 - - [2026-01-01T00:00:02Z] "POST /submit HTTP/1.1" 503';

test("kubelet timestamps are split off only when requested", () => {
  assert.deepEqual(splitKubeletTimestamp(`2026-01-01T00:00:01.123456789Z ${APACHE_LINE}`), { kubeletTime: "2026-01-01T00:00:01.123456789Z", text: APACHE_LINE });
  assert.deepEqual(splitKubeletTimestamp(APACHE_LINE), { text: APACHE_LINE });
  assert.deepEqual(splitKubeletTimestamp("2026-01-01T00:00:01Z x", false), { text: "2026-01-01T00:00:01Z x" });
});

test("json access-log lines parse with numbers from strings and empties left out", () => {
  assert.deepEqual(parseAccessLog(JSON_LINE), {
    format: "json",
    clientAddr: "10.42.0.17:52244",
    clientId: "bot.shop.serviceaccount.identity.linkerd.cluster.local",
    timestamp: "2026-01-01T00:00:01.250000000Z",
    method: "GET",
    uri: "http://web-svc.shop.svc.cluster.local:80/api/list?page=2",
    version: "HTTP/2.0",
    status: 200,
    totalNs: 1812345,
    processingNs: 30101,
    responseBytes: 2519,
    userAgent: "Go-http-client/1.1",
    host: "web-svc.shop.svc.cluster.local:80",
  });
});

test("apache access-log lines parse, with or without a status", () => {
  assert.deepEqual(parseAccessLog(APACHE_LINE), { format: "apache", clientAddr: "10.42.0.99:40000", clientId: "-", timestamp: "2026-01-01T00:00:02Z", method: "POST", uri: "/submit", version: "HTTP/1.1", status: 503 });
  assert.equal(parseAccessLog('[::1]:5 - - [2026-01-01T00:00:02Z] "GET / HTTP/2.0"')?.status, undefined);
});

test("diagnostic lines and junk are not access-log entries", () => {
  for (const line of [
    "[    12.345678s]  INFO ThreadId(01) linkerd2_proxy: admin interface on 0.0.0.0:4191",
    '{"timestamp":"[ 0.1s]","level":"INFO","fields":{"message":"starting"},"target":"linkerd2_proxy"}',
    '{"client.addr": broken',
    "",
    '10.0.0.1:1 - - [x] "GET / HTTP/1.1" 2000',
  ])
    assert.equal(parseAccessLog(line), undefined, line);
});

test("URIs and addresses split into their parts", () => {
  assert.deepEqual(splitUri("http://a.b:80/x?y=1"), { scheme: "http", authority: "a.b:80", path: "/x?y=1" });
  assert.deepEqual(splitUri("https://a.b"), { scheme: "https", authority: "a.b", path: "/" });
  assert.deepEqual(splitUri("/only?q"), { path: "/only?q" });
  assert.deepEqual(splitHostPort("10.0.0.1:80"), { host: "10.0.0.1", port: 80 });
  assert.deepEqual(splitHostPort("[fd00::1]:443"), { host: "fd00::1", port: 443 });
  assert.deepEqual(splitHostPort("web"), { host: "web", port: 0 });
});

test("pods carry Linkerd's workload labels", () => {
  assert.deepEqual(podInfo(web).labels, { pod: "web-1", namespace: "shop", serviceaccount: "web", control_plane_ns: "linkerd", pod_template_hash: "7d9f", deployment: "web" });
  assert.deepEqual(podInfo(web).ports, [{ name: "http", port: 8080 }]);
  const sts = pod("db-0", "10.42.0.30", { ownerReferences: [{ kind: "StatefulSet", name: "db", controller: true }], labels: {} });
  assert.deepEqual(podInfo(sts).labels, { pod: "db-0", namespace: "shop", serviceaccount: "db", statefulset: "db" });
});

const dstCases: [string, string, Pod, number][] = [
  ["a service FQDN maps the port to a named targetPort", "web-svc.shop.svc.cluster.local:80", web, 8080],
  ["a short service name in the pod's namespace", "api:8081", pod("api-1", "10.42.0.40", {}, [{ containerPort: 9090 }, { containerPort: 9091 }]), 9090],
  ["svc.ns without a port means port 80", "web-svc.shop", web, 8080],
  ["an IP:port authority gives the port", "10.42.0.21:8443", web, 8443],
  ["an unknown host falls back to the only container port", "example.com", web, 8080],
  ["no single port to fall back to gives 0", "example.com", pod("x-1", "10.0.0.9", {}, [{ containerPort: 1 }, { containerPort: 2 }]), 0],
];
for (const [name, authority, p, want] of dstCases) test(`destination port: ${name}`, () => assert.equal(destinationPort(authority, podInfo(p), index), want));

const req = toTapRequest(parseAccessLog(JSON_LINE)!, index.podsByIp.get("10.42.0.21")!, index);

test("a json entry becomes req, rsp and end events with Linkerd's lines", () => {
  const lines = toTapEvents(req, { base: 0, stream: 3 }).map((e) => formatTapLine(e));
  assert.deepEqual(lines, [
    "req id=0:3 proxy=in  src=10.42.0.17:52244 dst=10.42.0.21:8080 tls=true :method=GET :authority=web-svc.shop.svc.cluster.local:80 :path=/api/list?page=2",
    "rsp id=0:3 proxy=in  src=10.42.0.17:52244 dst=10.42.0.21:8080 tls=true :status=200 latency=1812µs",
    "end id=0:3 proxy=in  src=10.42.0.17:52244 dst=10.42.0.21:8080 tls=true duration=0µs response-length=2519B",
  ]);
});

test("an apache entry from an unmeshed client: no TLS, origin-form path, pod's port", () => {
  const r = toTapRequest(parseAccessLog(APACHE_LINE)!, podInfo(web), index);
  const lines = toTapEvents(r, { base: 1, stream: 0 }).map((e) => formatTapLine(e));
  assert.deepEqual(lines, [
    "req id=1:0 proxy=in  src=10.42.0.99:40000 dst=10.42.0.21:8080 tls=no_tls_from_remote :method=POST :authority= :path=/submit",
    "rsp id=1:0 proxy=in  src=10.42.0.99:40000 dst=10.42.0.21:8080 tls=no_tls_from_remote :status=503 latency=0µs",
    "end id=1:0 proxy=in  src=10.42.0.99:40000 dst=10.42.0.21:8080 tls=no_tls_from_remote duration=0µs response-length=0B",
  ]);
});

test("an entry without a status gives only the request event", () => {
  const r = toTapRequest(parseAccessLog('10.42.0.17:1 - - [t] "GET /x HTTP/1.1"')!, podInfo(web), index);
  assert.deepEqual(toTapEvents(r, { base: 0, stream: 0 }).map((e) => e.kind), ["req"]);
});

test("-o wide appends sorted src_ and dst_ labels", () => {
  const [first] = toTapEvents(req, { base: 0, stream: 3 });
  assert.equal(
    formatTapLine(first, true),
    "req id=0:3 proxy=in  src=10.42.0.17:52244 dst=10.42.0.21:8080 tls=true :method=GET :authority=web-svc.shop.svc.cluster.local:80 :path=/api/list?page=2" +
      " src_client_id=bot.shop.serviceaccount.identity.linkerd.cluster.local src_control_plane_ns=linkerd src_deployment=bot src_namespace=shop src_pod=bot-1 src_pod_template_hash=7d9f src_serviceaccount=bot src_tls=true" +
      " dst_control_plane_ns=linkerd dst_deployment=web dst_namespace=shop dst_pod=web-1 dst_pod_template_hash=7d9f dst_serviceaccount=web",
  );
});

test("-o json prints Linkerd's event objects", () => {
  const [rq, rsp, end] = toTapEvents(req, { base: 0, stream: 3 });
  const j = JSON.parse(formatTapJson(rq)) as Record<string, unknown>;
  assert.deepEqual(Object.keys(j), ["source", "destination", "routeMeta", "proxyDirection", "requestInitEvent"]);
  assert.deepEqual(j.requestInitEvent, { id: { base: 0, stream: 3 }, method: "GET", scheme: "HTTP", authority: "web-svc.shop.svc.cluster.local:80", path: "/api/list?page=2", headers: [{ name: "user-agent", valueStr: "Go-http-client/1.1" }] });
  assert.equal(j.proxyDirection, "INBOUND");
  assert.equal(j.routeMeta, null);
  assert.deepEqual((j.source as { ip: string; port: number }).port, 52244);
  assert.deepEqual(JSON.parse(formatTapJson(rsp)).responseInitEvent, { id: { base: 0, stream: 3 }, sinceRequestInit: { nanos: 1812345 }, httpStatus: 200, headers: null });
  assert.deepEqual(JSON.parse(formatTapJson(end)).responseEndEvent, { id: { base: 0, stream: 3 }, sinceRequestInit: { nanos: 1812345 }, sinceResponseInit: {}, responseBytes: 2519, trailers: null, grpcStatusCode: 0 });
  assert.ok(formatTapEvent(rq, "json").startsWith('{\n  "source": {\n    "ip": "10.42.0.17",'));
  assert.ok(formatTapEvent(rq, "json").endsWith("}\n"));
});

test("hostile paths and authorities are made inert in every format", () => {
  const evil = toTapRequest(parseAccessLog(JSON.stringify({ "client.addr": "10.42.0.17:1", "client.id": "-", method: "GET", uri: "http://x\u001b]0;pwn\u0007:80/a b\u001b[2J\r\n<script>\u009b", status: 200 }))!, podInfo(web), index);
  for (const e of toTapEvents(evil, { base: 0, stream: 0 })) {
    for (const out of [formatTapEvent(e, ""), formatTapEvent(e, "wide"), formatTapEvent(e, "json")])
      assert.ok(!/[\x00-\x09\x0b-\x1f\x7f-\x9f]/.test(out), JSON.stringify(out));
    for (const out of [formatTapEvent(e, ""), formatTapEvent(e, "wide")]) assert.equal(out.indexOf("\n"), out.length - 1, "one line per event");
  }
  const line = formatTapLine(toTapEvents(evil, { base: 0, stream: 0 })[0]);
  assert.match(line, /:authority=x:80 :path=\/a%20b%20<script>$/);
  assert.match(formatTapJson(toTapEvents(evil, { base: 0, stream: 0 })[0]), /\\u003cscript\\u003e\\u009b/);
});

const filterCases: [string, TapFilter, boolean][] = [
  ["no filter", {}, true],
  ["method is upper-cased", { method: "get" }, true],
  ["other method", { method: "POST" }, false],
  ["scheme is upper-cased", { scheme: "http" }, true],
  ["other scheme", { scheme: "https" }, false],
  ["authority is exact", { authority: "web-svc.shop.svc.cluster.local:80" }, true],
  ["authority prefix is not enough", { authority: "web-svc" }, false],
  ["path is a prefix", { path: "/api" }, true],
  ["path prefix includes the query", { path: "/api/list?page" }, true],
  ["other path", { path: "/admin" }, false],
  ["--to keeps clients from the target", { sourceIps: new Set(["10.42.0.17"]) }, true],
  ["--to drops other clients", { sourceIps: new Set(["10.42.0.99"]) }, false],
  ["all ANDed", { method: "GET", path: "/api", authority: "nope" }, false],
];
for (const [name, f, want] of filterCases) test(`filter: ${name}`, () => assert.equal(matchesFilter(req, f), want));

test("--max-rps is split over pods, at least 1 per pod per second window", () => {
  const b = new RateBudget(10);
  b.setPodCount(3);
  assert.equal(b.perPod(), 3);
  const taken = (pod: string, at: number, n: number) => Array.from({ length: n }, () => b.take(pod, at)).filter(Boolean).length;
  assert.equal(taken("a", 0, 5), 3);
  assert.equal(taken("b", 10, 5), 3, "each pod has its own window");
  assert.equal(taken("a", 999, 1), 0, "same window");
  assert.equal(taken("a", 1000, 5), 3, "a new window");
  b.setPodCount(50);
  assert.equal(b.perPod(), 1);
  const tiny = new RateBudget(0.5);
  assert.equal(tiny.perPod(), 1);
});

test("accessLogHint: a workload is re-applied; a bare pod, which cannot change in place, is replaced", async () => {
  const { accessLogHint, accessLogFormat } = await import("../../src/viz/tap/pods.js");
  const pod = (name: string, owner?: { kind: string; name: string }, hash?: string) =>
    ({
      metadata: { name, namespace: "app", labels: hash ? { "pod-template-hash": hash } : {}, ownerReferences: owner ? [{ ...owner, controller: true }] : undefined },
      spec: { containers: [{ name: "app" }, { name: "linkerd-proxy", env: [] }] },
    }) as unknown as import("../../src/kube/types.js").Pod;
  const hint = accessLogHint([pod("web-abc-1", { kind: "ReplicaSet", name: "web-abc" }, "abc"), pod("web-abc-2", { kind: "ReplicaSet", name: "web-abc" }, "abc"), pod("solo")]);
  assert.equal(
    hint,
    "turn the proxy access log on and restart the pods: kubectl get deploy/web -n app -o yaml | mesh inject --access-log json - | kubectl apply -f -; " +
      "kubectl get pod/solo -n app -o yaml | mesh inject --access-log json - | kubectl replace --force -f -",
  );
  assert.equal(accessLogFormat(pod("x")), undefined);
});
