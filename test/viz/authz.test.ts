import { test } from "node:test";
import assert from "node:assert/strict";
import { run } from "../../src/cli.js";
import type { Deps } from "../../src/deps.js";
import { memoryIo } from "../../src/io.js";
import { authzCells, authzSelector, formatAuthzJson, formatAuthzTable, goFloat32, type AuthzRow } from "../../src/viz/authz.js";
import { expectGolden } from "../helpers/golden.js";
import { fakeMesh, histogram, list, pod, T0, type Fake } from "./fake-mesh.js";

// emojivoto: web-1 (deploy/web) has a Server web-http on 8080 with an AuthorizationPolicy
// web-authz, an HTTPRoute `metrics` whose policy saw no requests, denials on web-http, and the
// admin port under the default policy; emoji-1 (deploy/emoji) has its own Server. Scraped twice,
// 10 s apart by the fake clock.
const NS = "emojivoto";
const start = `process_start_time_seconds ${T0 / 1000 - 3600}`;
const tls = 'tls="true",client_id="default.emojivoto.serviceaccount.identity.linkerd.cluster.local"';
const target = (ip: string, port: number) => `target_addr="${ip}:${port}",target_ip="${ip}",target_port="${port}"`;
const srv = (name: string) => `srv_group="policy.linkerd.io",srv_kind="server",srv_name="${name}"`;
const dflt = 'srv_group="",srv_kind="default",srv_name="all-unauthenticated"';
const route = (kind: string, name: string) => `route_group="${kind === "default" ? "" : "policy.linkerd.io"}",route_kind="${kind}",route_name="${name}"`;
const authz = (kind: string, name: string) => `authz_group="${kind === "default" ? "" : "policy.linkerd.io"}",authz_kind="${kind}",authz_name="${name}"`;
const cls = (c: "success" | "failure", code = c === "success" ? 200 : 500) => `status_code="${code}",classification="${c}",grpc_status="",error=""`;

function web(n: 0 | 1): string {
  const ip = "10.42.0.21";
  const app = `direction="inbound",authority="web-svc.emojivoto.svc.cluster.local:80",${target(ip, 8080)},${tls},${srv("web-http")},${route("default", "default")},${authz("authorizationpolicy", "web-authz")}`;
  const admin = `direction="inbound",${target(ip, 4191)},tls="no_identity",no_tls_reason="no_tls_from_remote",${dflt},${route("default", "default")},${authz("default", "all-unauthenticated")}`;
  return [
    "# TYPE inbound_http_authz_allow_total counter",
    `inbound_http_authz_allow_total{${target(ip, 8080)},${srv("web-http")},${route("default", "default")},${authz("authorizationpolicy", "web-authz")},${tls}} ${n ? 1105 : 1000}`,
    `inbound_http_authz_allow_total{${target(ip, 8080)},${srv("web-http")},${route("httproute", "metrics")},${authz("authorizationpolicy", "metrics-scrape")},${tls}} 7`,
    `inbound_http_authz_allow_total{${target(ip, 4191)},${dflt},${route("default", "default")},${authz("default", "all-unauthenticated")},tls="no_identity",no_tls_reason="no_tls_from_remote"} ${n ? 41 : 20}`,
    // a default-policy series that saw nothing in the window: no row
    `inbound_http_authz_allow_total{${target(ip, 9090)},${dflt},${route("default", "probe")},${authz("default", "probe")},tls="no_identity",no_tls_reason="no_tls_from_remote"} 3`,
    "# TYPE inbound_http_authz_deny_total counter",
    `inbound_http_authz_deny_total{${target(ip, 8080)},${srv("web-http")},${route("default", "default")},tls="no_identity",no_tls_reason="no_tls_from_remote"} ${n ? 80 : 50}`,
    "# TYPE response_latency_ms histogram",
    histogram("response_latency_ms", `${app},status_code="200"`, n ? { "5": 570, "10": 1000, "20": 1105 } : { "5": 500, "10": 900, "20": 1000 }),
    histogram("response_latency_ms", `${admin},status_code="200"`, n ? { "1": 41 } : { "1": 20 }),
    "# TYPE response_total counter",
    `response_total{${app},${cls("success")}} ${n ? 1100 : 1000}`,
    `response_total{${app},${cls("failure")}} ${n ? 5 : 0}`,
    `response_total{${admin},${cls("success")}} ${n ? 41 : 20}`,
    "# TYPE process_start_time_seconds gauge",
    start,
    "",
  ].join("\n");
}

function emoji(n: 0 | 1): string {
  const ip = "10.42.0.19";
  const app = `direction="inbound",${target(ip, 8080)},${tls},${srv("emoji-grpc")},${route("default", "default")},${authz("serverauthorization", "emoji-saz")}`;
  return [
    "# TYPE response_total counter",
    `response_total{${app},${cls("success")}} ${n ? 500 : 0}`,
    "# TYPE process_start_time_seconds gauge",
    start,
    "",
  ].join("\n");
}

function fake(): Fake {
  return fakeMesh({
    objects: {
      [`/api/v1/namespaces/${NS}/pods`]: list([pod(NS, "web-1", "web"), pod(NS, "emoji-1", "emoji"), pod(NS, "plain-1", "plain", { meshed: false })]),
    },
    metrics: { [`${NS}/web-1`]: [web(0), web(1)], [`${NS}/emoji-1`]: [emoji(0), emoji(1)] },
  });
}

async function authzCmd(args: string[], f: Fake = fake()) {
  const m = memoryIo();
  const deps: Deps = { io: m.io, now: f.now, env: {}, cluster: async () => f.cluster };
  const code = await run(["viz", "authz", "--interval", "5ms", "-n", NS, ...args], deps);
  return { code, stdout: m.stdout(), stderr: m.stderr(), paths: f.paths };
}

test("authz deploy/web: a row per route, server and authorization; denials on their own row", async () => {
  const r = await authzCmd(["deploy/web"]);
  assert.equal(r.code, 0, r.stderr);
  expectGolden("viz/authz-deploy.txt", r.stdout);
  const lines = r.stdout.split("\n");
  assert.match(lines[0], /^ROUTE {4}SERVER {23}AUTHORIZATION {23}UNAUTHORIZED {2}SUCCESS {6}RPS {2}LATENCY_P50 {2}LATENCY_P95 {2}LATENCY_P99 {2}$/);
  // admin port: 21 scrapes in 10 s, minus mesh's own first scrape → 2.0rps
  assert.match(lines[1], /^default +default:all-unauthenticated +default\/all-unauthenticated +0\.0rps +100\.00% +2\.0rps +1ms +1ms +1ms {2}$/);
  // 30 denials in 10 s, no responses under an authorization → 0.00%, 0.0rps
  assert.match(lines[2], /^default +web-http +3\.0rps +0\.00% +0\.0rps +0ms +0ms +0ms {2}$/);
  // +100 ok, +5 failed: 95.24%, 10.5rps; latency Δ le5 70, le10 100, le20 105 → 5/10/18 ms
  assert.match(lines[3], /^default +web-http +authorizationpolicy\/web-authz +0\.0rps +95\.24% +10\.5rps +5ms +10ms +18ms {2}$/);
  // a non-default authorization without requests: dashes
  assert.match(lines[4], /^metrics +web-http +authorizationpolicy\/metrics-scrape( +-){6} {2}$/);
  assert.equal(lines.length, 6, "the probe default row without requests and emoji's Server are not shown");
  assert.ok(!r.stdout.includes("emoji"));
  // only web's pod was scraped (twice), not emoji's nor the unmeshed pod
  assert.deepEqual(r.paths.filter((p) => p.includes(":4191")), [`/api/v1/namespaces/${NS}/pods/web-1:4191/proxy/metrics`, `/api/v1/namespaces/${NS}/pods/web-1:4191/proxy/metrics`]);
  assert.equal(r.stderr, "");
});

test("authz -o json: Linkerd's keys (sorted), float32 numbers parsed from the cells, dashes left out", async () => {
  const r = await authzCmd(["deploy", "web", "-o", "json"]);
  assert.equal(r.code, 0, r.stderr);
  expectGolden("viz/authz-deploy.json", r.stdout);
  const doc = JSON.parse(r.stdout) as Record<string, unknown>[];
  assert.equal(doc.length, 4);
  assert.deepEqual(Object.keys(doc[2]), ["authorization", "latency_ms_p50", "latency_ms_p95", "latency_ms_p99", "route", "rps", "server", "success", "unauthorized"]);
  assert.equal(doc[2].authorization, "authorizationpolicy/web-authz");
  assert.equal(doc[2].latency_ms_p99, 18);
  assert.equal(doc[2].rps, 10.5);
  // Linkerd parses "95.24%" into a float32 and divides it by 100 in float32: 0.95239997 in Go's text
  assert.match(r.stdout, /"success": 0\.95239997,/);
  assert.deepEqual(doc[3], { authorization: "authorizationpolicy/metrics-scrape", route: "metrics", server: "web-http" });
  assert.equal(doc[1].authorization, "");
  assert.equal(doc[1].unauthorized, 3);
});

test("authz srv/web-http and ap/NAME select by the policy labels across the namespace's meshed pods", async () => {
  const s = await authzCmd(["srv/web-http"]);
  assert.equal(s.code, 0, s.stderr);
  assert.equal(s.stdout.split("\n").length, 5);
  assert.ok(!s.stdout.includes("default:all-unauthenticated"));
  assert.equal(s.paths.filter((p) => p.includes(":4191")).length, 4, "both meshed pods, twice");
  const a = await authzCmd(["saz/emoji-saz"]);
  assert.match(a.stdout, /^default +emoji-grpc +serverauthorization\/emoji-saz +0\.0rps +100\.00% +50\.0rps +0ms +0ms +0ms {2}$/m);
  assert.equal(a.stdout.split("\n").length, 3);
});

test("authz with nothing to scrape prints the header alone and says why on stderr", async () => {
  const r = await authzCmd(["deploy/nope"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "ROUTE  SERVER  AUTHORIZATION  UNAUTHORIZED  SUCCESS  RPS  LATENCY_P50  LATENCY_P95  LATENCY_P99  \n");
  assert.match(r.stderr, /^warning: no running meshed pods in namespace emojivoto can carry traffic for deployment\/nope\n$/);
  const j = await authzCmd(["deploy/nope", "-o", "json"]);
  assert.equal(j.stdout, "[]\n");
});

test("authz: usage errors exit 2", async () => {
  const cases: [string[], RegExp][] = [
    [[], /authz takes one resource/],
    [["deploy", "a", "b"], /authz takes one resource/],
    [["deploy/web", "-o", "yaml"], /output format "yaml" is not supported/],
    [["deploy/web", "-t", "10s"], /metrics time window needs to be at least 15s/],
    [["deploy/web", "-t", "soon"], /invalid --time-window "soon"/],
    [["all"], /authz does not take 'all'/],
    [["bogus/x"], /unknown resource type "bogus"/],
    [["deploy/web", "-n", "Bad_NS"], /--namespace "Bad_NS" is not a valid namespace name/],
  ];
  for (const [args, re] of cases) {
    const r = await authzCmd(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
});

test("authzSelector: Linkerd's promQueryLabels", () => {
  assert.deepEqual(authzSelector({ type: "deployment", name: "web", namespace: "ns" }), { deployment: "web", namespace: "ns" });
  assert.deepEqual(authzSelector({ type: "job", name: "j", namespace: "ns" }), { k8s_job: "j", namespace: "ns" });
  assert.deepEqual(authzSelector({ type: "server", name: "s", namespace: "ns" }), { srv_kind: "server", srv_name: "s", namespace: "ns" });
  assert.deepEqual(authzSelector({ type: "authorizationpolicy", name: "p", namespace: "ns" }), { authz_kind: "authorizationpolicy", authz_name: "p", namespace: "ns" });
  assert.deepEqual(authzSelector({ type: "httproute", name: "r", namespace: "ns" }), { route_name: "r", namespace: "ns" });
  assert.deepEqual(authzSelector({ type: "service", name: "svc", namespace: "ns" }), { namespace: "ns" });
  assert.deepEqual(authzSelector({ type: "namespace", name: "ns", namespace: "" }), { namespace: "ns" });
  assert.deepEqual(authzSelector({ type: "deployment", namespace: "ns" }), { namespace: "ns" });
});

test("authzCells and formatAuthzTable: sorting, default servers, sanitised names", () => {
  const row = (o: Partial<AuthzRow>): AuthzRow => ({ routeKind: "default", routeName: "default", srvKind: "server", srvName: "s", authzKind: "", authzName: "", success: 0, failure: 0, allowed: 0, denied: 0, rps: 0, deniedRps: 0, p50: 0, p95: 0, p99: 0, ...o });
  const cells = authzCells([
    row({ srvName: "b", authzKind: "authorizationpolicy", authzName: "x\x1b[31m", success: 1, rps: 0.05 }),
    row({ srvName: "a", routeName: "z", denied: 2, deniedRps: 0.25 }),
    row({ srvName: "a", routeName: "y", authzKind: "default", authzName: "deny" }),
  ]);
  assert.deepEqual(cells, [
    ["z", "a", "", "0.2rps", "0.00%", "0.0rps", "0ms", "0ms", "0ms"],
    ["default", "b", "authorizationpolicy/x", "0.0rps", "100.00%", "0.1rps", "0ms", "0ms", "0ms"],
  ]);
  assert.equal(formatAuthzTable([]).split("\n").length, 2);
});

test("goFloat32: Go's shortest float32 text", () => {
  assert.equal(goFloat32(0), "0");
  assert.equal(goFloat32(10.5), "10.5");
  assert.equal(goFloat32(Math.fround(Math.fround(95.24) / 100)), "0.95239997");
  assert.equal(goFloat32(0.9524), "0.9524");
  assert.equal(goFloat32(Math.fround(0.1)), "0.1");
  assert.equal(goFloat32(1234567.9), "1234567.9");
  assert.equal(goFloat32(123456789), "123456790");
  assert.equal(goFloat32(0.0001), "0.0001");
  assert.equal(formatAuthzJson([]), "[]\n");
});
