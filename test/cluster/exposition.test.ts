import { test } from "node:test";
import assert from "node:assert/strict";
import { LATENCY_BOUNDS, formatNumber, histogramOf, renderMetrics, type ProxyContext } from "./exposition.js";
import { latencyCdf, parseTrafficModel, resolveFlows, type PodInfo, type TrafficModel } from "./traffic-model.js";

const self: PodInfo = {
  namespace: "emojivoto",
  name: "web-1",
  ip: "10.244.1.3",
  serviceAccount: "web",
  labels: { app: "web" },
  meshed: true,
};
const emoji: PodInfo = {
  namespace: "emojivoto",
  name: "emoji-abc-1",
  ip: "10.244.1.4",
  serviceAccount: "emoji",
  labels: { app: "emoji", "pod-template-hash": "abc", "linkerd.io/control-plane-ns": "linkerd" },
  owner: { kind: "ReplicaSet", name: "emoji-abc" },
  meshed: true,
};
const model: TrafficModel = {
  flows: [
    {
      direction: "inbound",
      rps: 10,
      successRate: 0.9,
      latencyMs: [{ ms: 3, weight: 1 }, { ms: 35, weight: 1 }],
      authority: "web-svc.emojivoto.svc.cluster.local:80",
      route: "GET /api/list",
    },
    { direction: "outbound", rps: 4, grpc: true, successRate: 0.5, to: { service: "emoji-svc", port: 8080, selector: { app: "emoji" } } },
  ],
};
const ctx = (now: number, extra: Partial<ProxyContext> = {}): ProxyContext => ({
  podIp: self.ip,
  startedAt: 1_700_000_000,
  now,
  certExpiry: 1_700_086_400,
  ...extra,
});
const flows = resolveFlows(model, { self, pods: [self, emoji], defaultClientIp: "10.244.0.1" });

/** name{labels} → value, for assertions. */
function samples(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const i = line.lastIndexOf(" ");
    m.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return m;
}

function find(s: Map<string, number>, name: string, ...parts: string[]): number {
  const hits = [...s].filter(([k]) => k.startsWith(`${name}{`) || k === name).filter(([k]) => parts.every((p) => k.includes(p)));
  assert.equal(hits.length, 1, `${name} ${parts.join(" ")}: ${hits.map(([k]) => k).join("\n")}`);
  return hits[0][1];
}

const IN = 'direction="inbound",authority="web-svc.emojivoto.svc.cluster.local:80"';

test("every family has HELP and TYPE, in the proxy's family order", () => {
  const text = renderMetrics(flows, ctx(1_700_000_030));
  const names = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => m[1]);
  assert.deepEqual(names, [
    "inbound_http_authz_allow_total",
    "identity_cert_expiration_timestamp_seconds",
    "identity_cert_refresh_count",
    "request_total",
    "response_latency_ms",
    "response_total",
    "route_request_total",
    "route_response_latency_ms",
    "route_response_total",
    "tcp_open_total",
    "tcp_open_connections",
    "tcp_read_bytes_total",
    "tcp_write_bytes_total",
    "process_start_time_seconds",
    "process_uptime_seconds_total",
    "process_cpu_seconds_total",
    "process_virtual_memory_bytes",
    "process_resident_memory_bytes",
    "process_open_fds",
    "process_max_fds",
    "proxy_build_info",
  ]);
  for (const n of names) assert.match(text, new RegExp(`# HELP ${n} .+\\n# TYPE ${n} `));
  assert.ok(text.endsWith("\n"));
  assert.doesNotMatch(text, /# EOF|_created/);
});

test("counts follow the model: rps × elapsed, split by success rate", () => {
  const s = samples(renderMetrics(flows, ctx(1_700_000_030)));
  assert.equal(find(s, "request_total", IN), 300);
  assert.equal(find(s, "response_total", IN, 'status_code="200",classification="success",grpc_status="",error=""'), 270);
  assert.equal(find(s, "response_total", IN, 'status_code="500",classification="failure"'), 30);
  assert.equal(find(s, "route_request_total", 'direction="inbound",dst="web-svc.emojivoto.svc.cluster.local:80",rt_route="GET /api/list"'), 300);
  assert.equal(find(s, "inbound_http_authz_allow_total", 'target_addr="10.244.1.3:8080"'), 300);
  assert.equal(find(s, "request_total", 'direction="outbound"'), 120);
  assert.equal(find(s, "response_total", 'direction="outbound"', 'classification="failure",grpc_status="14"'), 60);
  assert.equal(find(s, "response_total", 'direction="outbound"', 'classification="success",grpc_status="0"'), 60);
  assert.equal(find(s, "identity_cert_expiration_timestamp_seconds"), 1_700_086_400);
  assert.equal(find(s, "process_start_time_seconds"), 1_700_000_000);
});

test("two scrapes differ by the model's rate", () => {
  const a = samples(renderMetrics(flows, ctx(1_700_000_100)));
  const b = samples(renderMetrics(flows, ctx(1_700_000_110)));
  assert.equal(find(b, "request_total", IN) - find(a, "request_total", IN), 100);
  assert.equal(find(b, "request_total", 'direction="outbound"') - find(a, "request_total", 'direction="outbound"'), 40);
});

test("inbound label order matches C4.1", () => {
  const text = renderMetrics(flows, ctx(1_700_000_030));
  const line = text.split("\n").find((l) => l.startsWith("request_total{direction=\"inbound\""))!;
  assert.equal(
    line,
    'request_total{direction="inbound",authority="web-svc.emojivoto.svc.cluster.local:80",target_addr="10.244.1.3:8080",target_ip="10.244.1.3",target_port="8080",tls="true",client_id="default.emojivoto.serviceaccount.identity.linkerd.cluster.local",srv_group="",srv_kind="default",srv_name="all-unauthenticated",route_group="",route_kind="default",route_name="default",authz_group="",authz_kind="default",authz_name="all-unauthenticated"} 300',
  );
});

test("outbound labels carry sorted dst_* labels (C4.2, C4.3)", () => {
  const text = renderMetrics(flows, ctx(1_700_000_030));
  const line = text.split("\n").find((l) => l.startsWith('request_total{direction="outbound"'))!;
  assert.equal(
    line,
    'request_total{direction="outbound",authority="emoji-svc.emojivoto.svc.cluster.local:8080",target_addr="10.244.1.4:8080",target_ip="10.244.1.4",target_port="8080",tls="true",server_id="emoji.emojivoto.serviceaccount.identity.linkerd.cluster.local",dst_control_plane_ns="linkerd",dst_deployment="emoji",dst_namespace="emojivoto",dst_pod="emoji-abc-1",dst_pod_template_hash="abc",dst_service="emoji-svc",dst_serviceaccount="emoji"} 120',
  );
  assert.match(text, /^tcp_open_connections\{direction="outbound",peer="dst",authority="emoji-svc[^}]*dst_deployment="emoji"[^}]*\} 1$/m);
});

test("histograms have 26 buckets with le last, then count and sum", () => {
  const text = renderMetrics(flows, ctx(1_700_000_030));
  const series = text.split("\n").filter((l) => l.startsWith("response_latency_ms") && l.includes('authority="web-svc') && l.includes('status_code="200"'));
  assert.equal(series.length, 28);
  assert.deepEqual(
    series.slice(0, 26).map((l) => l.match(/,le="([^"]+)"\} /)![1]),
    [...LATENCY_BOUNDS.map(String), "+Inf"],
  );
  const s = samples(series.join("\n"));
  // 270 successes, half at 3 ms, half at 35 ms.
  assert.equal(find(s, "response_latency_ms_bucket", 'status_code="200"', 'le="3"'), 135);
  assert.equal(find(s, "response_latency_ms_bucket", 'status_code="200"', 'le="30"'), 135);
  assert.equal(find(s, "response_latency_ms_bucket", 'status_code="200"', 'le="40"'), 270);
  assert.equal(find(s, "response_latency_ms_count", 'status_code="200"'), 270);
  assert.equal(find(s, "response_latency_ms_sum", 'status_code="200"'), 135 * 3 + 135 * 35);
});

test("histogramOf truncates to whole ms before bucketing", () => {
  const h = histogramOf(latencyCdf(1.9), 10);
  assert.equal(h.buckets[0], 10);
  assert.equal(h.sum, 10);
});

test("the admin server's own requests appear as inbound traffic on port 4191", () => {
  const text = renderMetrics([], ctx(1_700_000_030, { admin: { responses: { 200: 3 }, accepted: 2, open: 1, bytesRead: 300, bytesWritten: 9000 } }));
  const s = samples(text);
  assert.equal(find(s, "request_total", 'target_port="4191"', 'tls="no_identity",no_tls_reason="no_tls_from_remote"'), 3);
  assert.equal(find(s, "tcp_open_connections", 'target_port="4191"'), 1);
  assert.equal(find(s, "tcp_close_total", 'target_port="4191"', 'errno=""'), 1);
  assert.doesNotMatch(text, /authority=/);
});

test("no traffic yet: only the always-present families", () => {
  const text = renderMetrics(flows, ctx(1_700_000_000, { certExpiry: 0 }));
  assert.doesNotMatch(text, /^request_total/m);
  assert.match(text, /^identity_cert_expiration_timestamp_seconds 0$/m);
  assert.match(text, /^identity_cert_refresh_count 0$/m);
  assert.match(text, /^proxy_build_info\{version="2\.210\.4",git_sha="[^"]+",profile="release",date="[^"]+",vendor="linkerd"\} 1$/m);
});

test("formatNumber prints integers without a decimal point", () => {
  assert.equal(formatNumber(1203), "1203");
  assert.equal(formatNumber(12.34), "12.34");
});

test("inbound flows with policy resources carry their srv/route/authz labels; denials carry no authz", () => {
  const m: TrafficModel = {
    flows: [
      { direction: "inbound", rps: 2, policy: { server: "web-http", route: "api", authorization: "authorizationpolicy/web-authz" } },
      { direction: "inbound", rps: 1, authz: "deny", clientId: null, policy: { server: "web-http" } },
    ],
  };
  const text = renderMetrics(resolveFlows(m, { self, pods: [self], defaultClientIp: "10.244.0.1" }), ctx(1_700_000_010, { defaultPolicy: "deny" }));
  const srv = 'srv_group="policy.linkerd.io",srv_kind="server",srv_name="web-http"';
  assert.ok(text.includes(`inbound_http_authz_allow_total{target_addr="10.244.1.3:8080",target_ip="10.244.1.3",target_port="8080",${srv},route_group="policy.linkerd.io",route_kind="httproute",route_name="api",authz_group="policy.linkerd.io",authz_kind="authorizationpolicy",authz_name="web-authz",tls="true",`));
  assert.ok(text.includes(`inbound_http_authz_deny_total{target_addr="10.244.1.3:8080",target_ip="10.244.1.3",target_port="8080",${srv},route_group="",route_kind="default",route_name="default",tls="no_identity",no_tls_reason="no_tls_from_remote"} 10`));
  assert.match(text, /^response_total\{direction="inbound",[^}]*srv_name="web-http",route_group="policy\.linkerd\.io",route_kind="httproute",route_name="api",authz_group="policy\.linkerd\.io",authz_kind="authorizationpolicy",authz_name="web-authz",status_code="200",classification="success",grpc_status="",error=""\} 20$/m);
  assert.match(text, /^tcp_open_connections\{direction="inbound",peer="src",[^}]*srv_name="web-http"\} 1$/m);
  assert.throws(() => parseTrafficModel('{"flows":[{"direction":"inbound","rps":1,"policy":{"authorization":"web-authz"}}]}'), /policy\.authorization must be/);
});
