import { test } from "node:test";
import assert from "node:assert/strict";
import { run } from "../../src/cli.js";
import type { Deps } from "../../src/deps.js";
import { memoryIo } from "../../src/io.js";
import { computeRouteRows, DEFAULT_ROUTE, formatRoutesTable, profileFor } from "../../src/viz/routes.js";
import { expectGolden } from "../helpers/golden.js";
import { deployment, fakeMesh, histogram, list, pod, replicaSet, service, T0, type Fake } from "./fake-mesh.js";

// emojivoto: web (behind web-svc, whose ServiceProfile names two routes) receives requests from
// vote-bot; scraped twice, 10 s apart by the fake clock.
const NS = "emojivoto";
const DST = 'dst="web-svc.emojivoto.svc.cluster.local:80"';
const cls = (c: "success" | "failure", code = c === "success" ? 200 : 500) => `status_code="${code}",classification="${c}",grpc_status="",error=""`;
const start = `process_start_time_seconds ${T0 / 1000 - 3600}`;

function web(n: 0 | 1): string {
  const list = 'direction="inbound",' + DST + ',rt_route="GET /api/list"';
  const dflt = 'direction="inbound",' + DST;
  return [
    "# TYPE route_response_latency_ms histogram",
    histogram("route_response_latency_ms", `${list},status_code="200"`, n ? { "5": 120, "10": 200, "20": 210 } : { "5": 50, "10": 100, "20": 105 }),
    histogram("route_response_latency_ms", `${dflt},status_code="200"`, n ? { "1": 40 } : { "1": 10 }),
    "# TYPE route_response_total counter",
    `route_response_total{${list},${cls("success")}} ${n ? 200 : 100}`,
    `route_response_total{${list},${cls("failure")}} ${n ? 10 : 5}`,
    `route_response_total{${dflt},${cls("success")}} ${n ? 40 : 10}`,
    // a route the profile no longer names: ignored
    `route_response_total{direction="inbound",${DST},rt_route="GET /old",${cls("success")}} ${n ? 99 : 0}`,
    // another profile's destination: not selected
    `route_response_total{direction="inbound",dst="emoji-svc.emojivoto.svc.cluster.local:8080",${cls("success")}} ${n ? 500 : 0}`,
    "# TYPE process_start_time_seconds gauge",
    start,
    "",
  ].join("\n");
}

function voteBot(n: 0 | 1): string {
  const l = 'direction="outbound",' + DST + ',rt_route="GET /api/list"';
  return [
    "# TYPE route_response_total counter",
    `route_response_total{${l},${cls("success")}} ${n ? 50 : 0}`,
    "# TYPE route_actual_response_total counter",
    `route_actual_response_total{${l},${cls("success")}} ${n ? 50 : 0}`,
    `route_actual_response_total{${l},${cls("failure")}} ${n ? 10 : 0}`,
    "# TYPE process_start_time_seconds gauge",
    start,
    "",
  ].join("\n");
}

const profile = { metadata: { name: "web-svc.emojivoto.svc.cluster.local", namespace: NS }, spec: { routes: [{ name: "GET /api/list", condition: {} }, { name: "GET /api/vote" }] } };

function fake(opts: { crd?: boolean } = {}): Fake {
  return fakeMesh({
    objects: {
      [`/api/v1/namespaces/${NS}/pods`]: list([pod(NS, "web-1", "web"), pod(NS, "vote-bot-1", "vote-bot")]),
      [`/apis/apps/v1/namespaces/${NS}/deployments`]: list([deployment(NS, "vote-bot"), deployment(NS, "web")]),
      [`/apis/apps/v1/namespaces/${NS}/replicasets`]: list([replicaSet(NS, "vote-bot"), replicaSet(NS, "web")]),
      [`/api/v1/namespaces/${NS}/services`]: list([service(NS, "web-svc", "web")]),
      ...(opts.crd === false ? {} : { [`/apis/linkerd.io/v1alpha2/namespaces/${NS}/serviceprofiles`]: list([profile]) }),
      "/api/v1/namespaces/linkerd/configmaps/linkerd-config": { metadata: { name: "linkerd-config" }, data: { values: "clusterDomain: cluster.local\n" } },
    },
    metrics: { [`${NS}/web-1`]: [web(0), web(1)], [`${NS}/vote-bot-1`]: [voteBot(0), voteBot(1)] },
  });
}

async function routes(args: string[], f: Fake = fake()) {
  const m = memoryIo();
  const deps: Deps = { io: m.io, now: f.now, env: {}, cluster: async () => f.cluster };
  const code = await run(["viz", "routes", "--interval", "5ms", "-n", NS, ...args], deps);
  return { code, stdout: m.stdout(), stderr: m.stderr() };
}

test("routes deploy/web: the profile's routes and [DEFAULT], numbers from the inbound route_* deltas", async () => {
  const r = await routes(["deploy/web"]);
  assert.equal(r.code, 0, r.stderr);
  expectGolden("viz/routes-deploy.txt", r.stdout);
  // list: +100 ok, +5 failed over 10 s; latency Δ le5 70, le10 100, le20 105 → p50 4.75, p95 9.96, p99 17.9
  assert.match(r.stdout, /^GET \/api\/list +web-svc +95\.24% +10\.5rps +5ms +10ms +18ms$/m);
  assert.match(r.stdout, /^GET \/api\/vote +web-svc( +-){5}$/m);
  assert.match(r.stdout, /^\[DEFAULT\] +web-svc +100\.00% +3\.0rps +1ms +1ms +1ms$/m);
  assert.match(r.stdout, /^ROUTE {11}SERVICE   SUCCESS {7}RPS/);
  assert.ok(r.stdout.endsWith("\n\n"), "each table is followed by an empty line");
  assert.equal(r.stderr, "");
});

test("routes svc/web-svc: the same table through the Service", async () => {
  const r = await routes(["svc/web-svc", "-o", "json"]);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(doc), ["service/web-svc"]);
  assert.deepEqual(
    doc["service/web-svc"].map((e: { route: string }) => e.route),
    ["GET /api/list", "GET /api/vote", DEFAULT_ROUTE],
  );
  assert.equal(doc["service/web-svc"][0].success, 100 / 105);
  assert.equal(doc["service/web-svc"][1].rps, 0); // rows without traffic carry zeros in JSON
});

test("routes deploy/vote-bot --to svc/web-svc -o wide: effective and actual (retries) from the outbound series", async () => {
  const r = await routes(["deploy/vote-bot", "--to", "svc/web-svc", "-o", "wide"]);
  assert.equal(r.code, 0, r.stderr);
  expectGolden("viz/routes-to-wide.txt", r.stdout);
  assert.match(r.stdout, /^ROUTE +SERVICE +EFFECTIVE_SUCCESS +EFFECTIVE_RPS +ACTUAL_SUCCESS +ACTUAL_RPS +LATENCY_P50/);
  assert.match(r.stdout, /^GET \/api\/list +web-svc +100\.00% +5\.0rps +83\.33% +6\.0rps +0ms +0ms +0ms$/m);
  const j = await routes(["deploy/vote-bot", "--to", "svc/web-svc", "-o", "json"]);
  expectGolden("viz/routes-to.json", j.stdout);
  const e = JSON.parse(j.stdout)["deployment/vote-bot"][0];
  assert.deepEqual(Object.keys(e), ["route", "authority", "effective_success", "effective_rps", "actual_success", "actual_rps", "latency_ms_p50", "latency_ms_p95", "latency_ms_p99"]);
  assert.equal(e.actual_success, 50 / 60);
});

test("routes deploy: one table per object, each headed ==> type/name <==; an object without Services gets an empty table", async () => {
  const r = await routes(["deploy"]);
  assert.equal(r.code, 0, r.stderr);
  expectGolden("viz/routes-all-deploy.txt", r.stdout);
  assert.match(r.stdout, /^==> deployment\/vote-bot <==\nROUTE   SERVICE   SUCCESS   RPS   LATENCY_P50   LATENCY_P95   LATENCY_P99\n\n==> deployment\/web <==\n/);
});

test("routes: Linkerd's errors (no CRD, no profiles, bad arguments)", async () => {
  const noCrd = await routes(["deploy/web"], fake({ crd: false }));
  assert.deepEqual([noCrd.code, noCrd.stdout], [1, ""]);
  assert.match(noCrd.stderr, /^error: Routes are not available\n/);
  const none = await routes(["deploy/web", "--to", "deploy/nope"]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /^error: No Service Profiles found for selected resources\n/);
  const cases: [string[], RegExp][] = [
    [["au/web-svc"], /Authority cannot be the target of a routes query; try using an authority in the --to flag instead/],
    [["svc/web-svc", "--to", "deploy/web"], /The service resource type is not supported with 'to' queries/],
    [["deploy/web", "-o", "wide"], /wide output is only available when --to is specified/],
    [["deploy/web", "-o", "yaml"], /--output currently only supports table, wide, and json/],
    [["deploy/web", "-t", "soon"], /invalid --time-window "soon"/],
    [["deploy/web", "deploy/vote-bot"], /exactly one resource/],
    [[], /exactly one resource/],
    [["deploy/web", "--prometheus-url", "not a url"], /--prometheus-url "not a url" is not a URL/],
  ];
  for (const [args, re] of cases) {
    const r = await routes(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.split("\n").filter((l) => l.startsWith("error:")).length, 1);
  }
});

test("-t accepts any duration, short windows cap the scrape interval", async () => {
  const r = await routes(["deploy/web", "-t", "2ms", "-o", "json"]);
  assert.equal(r.code, 0, r.stderr);
});

test("computeRouteRows: rounding per dst and classification, ports cut, [DEFAULT] sorted between cases", () => {
  const labels = (dst: string, route?: string, c = "success") => Object.freeze({ direction: "inbound", dst, ...(route ? { rt_route: route } : {}), classification: c });
  const counters = new Map([["route_response_total", new Map([[labels("a.ns.svc.cluster.local:80", "b"), 0.4], [labels("a.ns.svc.cluster.local:8080", "b"), 0.4], [labels("a.ns.svc.cluster.local:80"), 2.6]])]]);
  const rows = computeRouteRows([{ attached: { namespace: "ns" }, delta: { dt: 2, restarted: false, counters, buckets: new Map(), gauges: new Map() } }], {
    direction: "inbound",
    labels: { namespace: "ns" },
    profiles: [{ column: "a", name: "a.ns.svc.cluster.local", routes: ["b", "Z", "/x"] }],
  });
  assert.deepEqual(rows.map((r) => r.route), ["/x", "Z", DEFAULT_ROUTE, "b"]);
  const b = rows.find((r) => r.route === "b")!;
  assert.equal(b.success, 0); // 0.4 and 0.4 round to 0 each (two dst groups)
  assert.equal(b.rps, 0.4);
  assert.equal(rows.find((r) => r.route === DEFAULT_ROUTE)!.success, 3);
  assert.equal(formatRoutesTable([{ resource: "x/y", rows: [] }], { to: false, wide: false, dstIsService: false }), "ROUTE   AUTHORITY   SUCCESS   RPS   LATENCY_P50   LATENCY_P95   LATENCY_P99\n\n");
});

test("profileFor: the client namespace's profile first, then the service's, else an empty default", () => {
  const have = new Map([["client/web.app.svc.cluster.local", ["c"]], ["app/web.app.svc.cluster.local", ["s"]]]);
  const lookup = (ns: string, name: string) => (have.has(`${ns}/${name}`) ? { routes: have.get(`${ns}/${name}`)! } : undefined);
  assert.deepEqual(profileFor({ name: "web", namespace: "app" }, "client", "cluster.local", lookup).routes, ["c"]);
  assert.deepEqual(profileFor({ name: "web", namespace: "app" }, "other", "cluster.local", lookup).routes, ["s"]);
  assert.deepEqual(profileFor({ name: "api", namespace: "app" }, "app", "cluster.local", lookup), { column: "api", name: "api.app.svc.cluster.local", routes: [] });
});
