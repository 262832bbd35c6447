// `mesh viz routes` and `mesh viz edges` with --prometheus-url against a REAL Prometheus (Debian's
// package, started by test/cluster/prometheus.ts) scraping the test cluster's proxy stand-ins with
// Linkerd-viz's labels. Each command runs twice, from Prometheus (Linkerd's PromQL) and from
// mesh's own scrapes, and the answers must agree with each other and with the traffic model:
// SUCCESS within 1 point, RPS within 5 %, latencies within one histogram bucket, the same edges.
//
// Windows (D2): Prometheus' counts cover -t (increase over 15 s of 2 s scrapes), its latencies the
// last two scrapes (irate); mesh's scrape path covers --interval (5 s). The model's traffic is
// steady, so every window sees the same rates. Route series count application requests only
// (never a scrape), so neither source's own scrapes move them. Prometheus is asked first anyway.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { connectTestCluster, testClusterSkipReason, type TestCluster } from "../helpers/cluster.js";
import { run } from "../../src/cli.js";
import type { Deps } from "../../src/deps.js";
import { memoryIo } from "../../src/io.js";
import { connect } from "../../src/kube/cluster.js";
import { histogramQuantile, latencyMs } from "../../src/viz/quantile.js";
import { prometheusSkipReason, startPrometheus, type RunningPrometheus } from "../cluster/prometheus.js";
import { ensureServiceProfileCrd } from "./service-profile-crd.js";

const skip = testClusterSkipReason() ?? prometheusSkipReason();
const SCRAPE_S = 2;
const WINDOW = "15s";
const INTERVAL = "5s";
const BOUNDS = [1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500, 1000, 2000, 3000, 4000, 5000, 10000, 20000, 30000, 40000, 50000, Infinity];

let c: TestCluster;
let ns: string;
let prom: RunningPrometheus | undefined;
let removeCrd: () => Promise<void> = async () => undefined;

/** A meshed Deployment of one replica whose proxy stand-in follows `flows`. */
function deployment(name: string, flows: unknown[]): string {
  return JSON.stringify({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: {
          labels: { app: name, "linkerd.io/control-plane-ns": "linkerd", "linkerd.io/proxy-deployment": name },
          annotations: { "mesh.test/traffic": JSON.stringify({ flows }) },
        },
        spec: {
          serviceAccountName: "default",
          containers: [
            { name: "app", image: `example/${name}:1`, ports: [{ name: "http", containerPort: 8080 }] },
            {
              name: "linkerd-proxy",
              image: "cr.l5d.io/linkerd/proxy:stable-2.14.10",
              ports: [{ name: "linkerd-admin", containerPort: 4191 }],
              env: [{ name: "LINKERD2_PROXY_IDENTITY_LOCAL_NAME", value: "$(_pod_sa).$(_pod_ns).serviceaccount.identity.linkerd.cluster.local" }],
            },
          ],
        },
      },
    },
  });
}

// web serves two routes of web-svc's profile and requests no route matched; vote-bot calls one
// route through web-svc with retries (actual > effective); web calls emoji (edges). The routes
// whose success is compared within ±1 point carry enough requests that one request more or less
// in a 5 s scrape interval moves it by well under a point (at 6 rps, one of ~31 requests moved
// it by 1.6 points: success 0.516 against 0.5 in one run).
const LIST = { rps: 100, successRate: 0.9, latency: [{ ms: 3, weight: 8 }, { ms: 40, weight: 2 }] };
const VOTE = { rps: 60, successRate: 0.5, latency: [{ ms: 150, weight: 1 }] };
const DFLT = { rps: 4, successRate: 1, latency: [{ ms: 1, weight: 1 }] };
const OUT = { rps: 60, retryRatio: 0.5, latency: [{ ms: 12, weight: 1 }] };

before(async () => {
  if (skip) return;
  c = await connectTestCluster();
  ns = await c.newNamespace("vizpromrt");
  removeCrd = await ensureServiceProfileCrd(c);
  const authority = `web-svc.${ns}.svc.cluster.local:80`;
  const lat = (l: { ms: number; weight: number }[]) => (l.length === 1 ? l[0].ms : l);
  await c.apply(
    [
      JSON.stringify({ apiVersion: "v1", kind: "Service", metadata: { name: "web-svc" }, spec: { selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080 }] } }),
      JSON.stringify({ apiVersion: "v1", kind: "Service", metadata: { name: "emoji-svc" }, spec: { selector: { app: "emoji" }, ports: [{ port: 8080, targetPort: 8080 }] } }),
      JSON.stringify({
        apiVersion: "linkerd.io/v1alpha2",
        kind: "ServiceProfile",
        metadata: { name: `web-svc.${ns}.svc.cluster.local` },
        spec: {
          routes: [
            { name: "GET /api/list", condition: { method: "GET", pathRegex: "/api/list" } },
            { name: "GET /api/vote", condition: { method: "GET", pathRegex: "/api/vote" } },
            { name: "GET /api/idle", condition: { method: "GET", pathRegex: "/api/idle" } },
          ],
        },
      }),
      deployment("emoji", [{ direction: "inbound", rps: 5 }]),
      deployment("web", [
        { direction: "inbound", rps: LIST.rps, successRate: LIST.successRate, latencyMs: lat(LIST.latency), authority, route: "GET /api/list", from: { selector: { app: "vote-bot" } } },
        { direction: "inbound", rps: VOTE.rps, successRate: VOTE.successRate, latencyMs: lat(VOTE.latency), authority, route: "GET /api/vote" },
        { direction: "inbound", rps: DFLT.rps, latencyMs: lat(DFLT.latency), authority },
        { direction: "outbound", rps: 5, to: { service: "emoji-svc", port: 8080, selector: { app: "emoji" } } },
      ]),
      deployment("vote-bot", [{ direction: "outbound", rps: OUT.rps, route: "GET /api/list", retryRatio: OUT.retryRatio, latencyMs: lat(OUT.latency), to: { service: "web-svc", port: 80, targetPort: 8080, selector: { app: "web" } } }]),
    ].join("\n---\n"),
    ns,
  );
  for (const app of ["emoji", "web", "vote-bot"]) await c.waitForPods(ns, `app=${app}`, { count: 1, timeoutMs: 60_000 });
  prom = await startPrometheus(c.state, { namespaces: [ns], scrapeIntervalS: SCRAPE_S });
  await prom.waitFor(`count(up{job="linkerd-proxy", namespace="${ns}"} == 1)`, (v) => v === 3, 60_000);
  await prom.waitFor(`count(count_over_time(up{job="linkerd-proxy", namespace="${ns}"}[20s]) >= 9)`, (v) => v === 3, 60_000);
});

after(async () => {
  if (skip) return;
  await prom?.stop();
  if (ns) await c.deleteNamespace(ns);
  await removeCrd();
});

/** Runs mesh in-process with the real, moving clock (the scrape path times its scrapes with it). */
async function mesh(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const m = memoryIo();
  const deps: Deps = { io: m.io, now: () => new Date(), env, cluster: (g) => connect(g) };
  const code = await run([...args, "--kubeconfig", c.kubeconfig], deps);
  return { code, stdout: m.stdout(), stderr: m.stderr() };
}

/** The same command from Prometheus (flag or env) and from mesh's scrapes, Prometheus first; both must succeed. */
async function both(args: string[], o: { env?: boolean; scrape?: string[] } = {}): Promise<{ prom: string; scrape: string; promErr: string }> {
  const p = o.env ? await mesh(args, { MESH_PROMETHEUS_URL: prom!.url }) : await mesh([...args, "--prometheus-url", prom!.url]);
  assert.equal(p.code, 0, `mesh ${args.join(" ")} (prometheus): ${p.stderr}`);
  const s = await mesh([...args, ...(o.scrape ?? [])]);
  assert.equal(s.code, 0, `mesh ${args.join(" ")} (scrape): ${s.stderr}`);
  return { prom: p.stdout, scrape: s.stdout, promErr: p.stderr };
}

interface Expected {
  success: number;
  rps: number;
  latency: [number, number, number];
}

function model(rps: number, success: number, latency: { ms: number; weight: number }[]): Expected {
  const total = latency.reduce((a, p) => a + p.weight, 0);
  const counts = BOUNDS.map((b) => latency.filter((p) => Math.trunc(p.ms) <= b).reduce((a, p) => a + (rps * p.weight) / total, 0));
  const q = (x: number) => latencyMs(histogramQuantile(x, BOUNDS, counts));
  return { success, rps, latency: [q(0.5), q(0.95), q(0.99)] };
}

type RouteJson = { route: string; authority: string; success?: number; rps?: number; effective_success?: number; effective_rps?: number; actual_success?: number; actual_rps?: number; latency_ms_p50: number; latency_ms_p95: number; latency_ms_p99: number };
const bucket = (ms: number) => BOUNDS.findIndex((b) => ms <= b);

function assertClose(label: string, a: { success: number; rps: number; latency: number[] }, b: { success: number; rps: number; latency: number[] }): void {
  assert.ok(Math.abs(a.success - b.success) <= 0.01, `${label}: success ${a.success} vs ${b.success}`);
  assert.ok(Math.abs(a.rps - b.rps) <= 0.05 * Math.max(a.rps, b.rps), `${label}: rps ${a.rps} vs ${b.rps}`);
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(bucket(a.latency[i]) - bucket(b.latency[i])) <= 1, `${label}: p${[50, 95, 99][i]} ${a.latency[i]} vs ${b.latency[i]} (more than one bucket apart)`);
}

const eff = (r: RouteJson) => ({ success: r.success ?? r.effective_success!, rps: r.rps ?? r.effective_rps!, latency: [r.latency_ms_p50, r.latency_ms_p95, r.latency_ms_p99] });
const act = (r: RouteJson) => ({ success: r.actual_success!, rps: r.actual_rps!, latency: [r.latency_ms_p50, r.latency_ms_p95, r.latency_ms_p99] });

test("routes deploy/web from Prometheus agrees with mesh's scrapes and the model, route by route", { skip, timeout: 120_000 }, async (t) => {
  const r = await both(["viz", "routes", "deploy/web", "-n", ns, "-t", WINDOW, "-o", "json"], { scrape: ["--interval", INTERVAL] });
  const p = JSON.parse(r.prom)["deployment/web"] as RouteJson[];
  const s = JSON.parse(r.scrape)["deployment/web"] as RouteJson[];
  t.diagnostic(`prometheus: ${JSON.stringify(p)}`);
  t.diagnostic(`scrape:     ${JSON.stringify(s)}`);
  assert.deepEqual(p.map((x) => [x.route, x.authority]), [["GET /api/idle", "web-svc"], ["GET /api/list", "web-svc"], ["GET /api/vote", "web-svc"], ["[DEFAULT]", "web-svc"]]);
  assert.deepEqual(s.map((x) => [x.route, x.authority]), p.map((x) => [x.route, x.authority]));
  const want: Record<string, Expected> = {
    "GET /api/list": model(LIST.rps, LIST.successRate, LIST.latency),
    "GET /api/vote": model(VOTE.rps, VOTE.successRate, VOTE.latency),
    "[DEFAULT]": model(DFLT.rps, DFLT.successRate, DFLT.latency),
  };
  for (const [route, m] of Object.entries(want)) {
    const pr = p.find((x) => x.route === route)!;
    const sr = s.find((x) => x.route === route)!;
    assertClose(`${route}: prometheus vs scrape`, eff(pr), eff(sr));
    assertClose(`${route}: prometheus vs model`, eff(pr), m);
  }
  // A route without requests: zeros in JSON from both sources.
  const idle = p.find((x) => x.route === "GET /api/idle")!;
  assert.deepEqual([idle.success, idle.rps, idle.latency_ms_p50], [0, 0, 0]);

  // The table, from MESH_PROMETHEUS_URL: the idle route shows dashes.
  const table = await mesh(["viz", "routes", "svc/web-svc", "-n", ns, "-t", WINDOW], { MESH_PROMETHEUS_URL: prom!.url });
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^ROUTE +SERVICE +SUCCESS +RPS +LATENCY_P50 +LATENCY_P95 +LATENCY_P99\nGET \/api\/idle +web-svc( +-){5}\nGET \/api\/list +web-svc +(8[9]|9[01])\.\d\d% +(99|100|101)\.\drps +\d+ms/);
});

test("routes --to -o json: effective and actual (retries) from Prometheus agree with the scrapes and the model", { skip, timeout: 120_000 }, async (t) => {
  const r = await both(["viz", "routes", "deploy/vote-bot", "--to", "svc/web-svc", "-n", ns, "-t", WINDOW, "-o", "json"], { scrape: ["--interval", INTERVAL] });
  const p = JSON.parse(r.prom)["deployment/vote-bot"] as RouteJson[];
  const s = JSON.parse(r.scrape)["deployment/vote-bot"] as RouteJson[];
  t.diagnostic(`prometheus: ${JSON.stringify(p)}`);
  t.diagnostic(`scrape:     ${JSON.stringify(s)}`);
  const pl = p.find((x) => x.route === "GET /api/list")!;
  const sl = s.find((x) => x.route === "GET /api/list")!;
  assert.ok(pl && sl, r.prom);
  const effective = model(OUT.rps, 1, OUT.latency);
  assertClose("effective: prometheus vs scrape", eff(pl), eff(sl));
  assertClose("effective: prometheus vs model", eff(pl), effective);
  // Every retry is an extra attempt: the actual rate is 1.5× the effective one.
  assert.ok(Math.abs(pl.actual_rps! - OUT.rps * (1 + OUT.retryRatio)) <= 0.05 * OUT.rps * (1 + OUT.retryRatio), `actual rps ${pl.actual_rps}`);
  assertClose("actual: prometheus vs scrape", act(pl), act(sl));
  // The wide table shows both pairs.
  const wide = await mesh(["viz", "routes", "deploy/vote-bot", "--to", "svc/web-svc", "-n", ns, "-t", WINDOW, "-o", "wide", "--prometheus-url", prom!.url]);
  assert.equal(wide.code, 0, wide.stderr);
  assert.match(wide.stdout, /^ROUTE +SERVICE +EFFECTIVE_SUCCESS +EFFECTIVE_RPS +ACTUAL_SUCCESS +ACTUAL_RPS +LATENCY_P50/);
  assert.match(wide.stdout, /^GET \/api\/list +web-svc +100\.00% +(59|60|61)\.\drps +\d+\.\d\d% +(8[89]|9[01])\.\drps +\d+ms/m);
});

test("edges from Prometheus: the same edges, identities and TLS as mesh's scrape, for deploy and po", { skip, timeout: 120_000 }, async () => {
  const short = `default.${ns}`;
  const d = await both(["viz", "edges", "deploy", "-n", ns, "-o", "json"], { env: true });
  const rows = (out: string) => (JSON.parse(out) as Record<string, string>[]).map((e) => [e.src, e.dst, e.src_namespace, e.dst_namespace, e.client_id, e.server_id, e.no_tls_reason]);
  assert.deepEqual(rows(d.prom), [
    ["vote-bot", "web", ns, ns, short, short, ""],
    ["web", "emoji", ns, ns, short, short, ""],
  ]);
  assert.deepEqual(rows(d.prom), rows(d.scrape));
  // Pods: `pod` is both the source label and a group-by label of Linkerd's query.
  const p = await both(["viz", "edges", "po", "-n", ns, "-o", "json"]);
  assert.equal(rows(p.prom).length, 2, p.prom);
  assert.deepEqual(rows(p.prom), rows(p.scrape));
  assert.match(rows(p.prom)[0][0], /^vote-bot-/);
  // A namespace no edge touches: nothing, as from the scrapes.
  const none = await mesh(["viz", "edges", "deploy", "-n", `${ns}-none`, "--prometheus-url", prom!.url]);
  assert.equal(none.code, 0, none.stderr);
  assert.equal(none.stdout, "");
  assert.equal(none.stderr, "No edges found.\n");
});
