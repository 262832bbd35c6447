// `mesh viz stat --prometheus-url` against a REAL Prometheus (Debian's package, started by
// test/cluster/prometheus.ts) that scrapes the test cluster's meshed proxy stand-ins with
// Linkerd-viz's labels. The same stat requests are answered twice, from Prometheus (Linkerd's
// PromQL) and from mesh's own two scrapes, and both must agree with each other and with the
// traffic model: SUCCESS within 1 point, RPS within 5 %, latencies within one histogram bucket.
//
// Windows (D2): Prometheus' counts cover -t (increase over 15 s of 2 s scrapes) and its latencies
// the last two scrapes (irate, ~2 s); mesh's scrape path covers --interval (5 s). The model's
// traffic is steady, so every window sees the same rates. Prometheus' own scrapes are admin-port
// requests (1 per pod per scrape interval, ~1 ms) that both sources count, so the model's
// expectation includes them. All Prometheus queries run before any mesh scrape, so that mesh's
// own scrapes (which its scrape path discounts) never fall into a Prometheus window.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { promisify } from "node:util";
import { stringify } from "yaml";
import { connectTestCluster, testClusterSkipReason, type TestCluster } from "../helpers/cluster.js";
import { run } from "../../src/cli.js";
import type { Deps } from "../../src/deps.js";
import { memoryIo } from "../../src/io.js";
import { connect } from "../../src/kube/cluster.js";
import { histogramQuantile, latencyMs } from "../../src/viz/quantile.js";
import { prometheusSkipReason, startPrometheus, type RunningPrometheus } from "../cluster/prometheus.js";

const skip = testClusterSkipReason() ?? prometheusSkipReason();
const SCRAPE_S = 2;
const WINDOW = "15s";
const INTERVAL = "5s";
const BOUNDS = [1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500, 1000, 2000, 3000, 4000, 5000, 10000, 20000, 30000, 40000, 50000, Infinity];

interface Inbound {
  rps: number;
  successRate?: number;
  latencyMs?: number | { ms: number; weight: number }[];
}
interface Workload {
  name: string;
  kind: "Deployment" | "Job";
  replicas: number;
  inbound: Inbound[];
  outbound?: { rps: number; to: string; service: string; latencyMs?: number }[];
}

let c: TestCluster;
let ns: string;
let prom: RunningPrometheus | undefined;

const WORKLOADS: Workload[] = [
  { name: "web", kind: "Deployment", replicas: 2, inbound: [{ rps: 20, successRate: 0.9, latencyMs: [{ ms: 3, weight: 8 }, { ms: 40, weight: 2 }] }] },
  { name: "emoji", kind: "Deployment", replicas: 1, inbound: [{ rps: 24, latencyMs: [{ ms: 8, weight: 1 }, { ms: 25, weight: 1 }] }] },
  { name: "vote-bot", kind: "Deployment", replicas: 1, inbound: [{ rps: 40, successRate: 0.75, latencyMs: 150 }], outbound: [{ rps: 10, to: "web", service: "web-svc", latencyMs: 12 }] },
  { name: "migrate", kind: "Job", replicas: 1, inbound: [{ rps: 30, successRate: 0.5, latencyMs: 60 }] },
];

function manifest(w: Workload): string {
  const flows = [
    ...w.inbound.map((f) => ({ direction: "inbound", ...f })),
    ...(w.outbound ?? []).map((f) => ({ direction: "outbound", rps: f.rps, latencyMs: f.latencyMs, to: { service: f.service, port: 80, targetPort: 8080, selector: { app: f.to } } })),
  ];
  const template = {
    metadata: {
      labels: { app: w.name, "linkerd.io/control-plane-ns": "linkerd", "linkerd.io/workload-ns": ns, [`linkerd.io/proxy-${w.kind.toLowerCase()}`]: w.name },
      annotations: { "linkerd.io/inject": "enabled", "mesh.test/traffic": JSON.stringify({ flows }) },
    },
    spec: {
      ...(w.kind === "Job" ? { restartPolicy: "Never" } : {}),
      containers: [
        { name: "app", image: "example/app:1", ports: [{ name: "http", containerPort: 8080 }] },
        { name: "linkerd-proxy", image: "cr.l5d.io/linkerd/proxy:stable-2.14.10", ports: [{ name: "linkerd-proxy", containerPort: 4143 }, { name: "linkerd-admin", containerPort: 4191 }] },
      ],
    },
  };
  if (w.kind === "Job") return stringify({ apiVersion: "batch/v1", kind: "Job", metadata: { name: w.name }, spec: { backoffLimit: 0, parallelism: w.replicas, template } });
  return stringify({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: w.name }, spec: { replicas: w.replicas, selector: { matchLabels: { app: w.name } }, template } });
}

const webService = () => stringify({ apiVersion: "v1", kind: "Service", metadata: { name: "web-svc" }, spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: 8080 }] } });

/** What the model says a row shows (per pod flows × replicas, plus Prometheus' scrapes of each pod). */
interface Expected {
  rps: number;
  success: number;
  latency: [number, number, number];
}

function histogramExpectation(parts: { rps: number; success: number; points: { ms: number; share: number }[] }[]): Expected {
  const counts = BOUNDS.map(() => 0);
  let rps = 0;
  let ok = 0;
  for (const p of parts) {
    rps += p.rps;
    ok += p.rps * p.success;
    for (const pt of p.points) {
      const i = BOUNDS.findIndex((b) => Math.trunc(pt.ms) <= b);
      for (let j = i; j < BOUNDS.length; j++) counts[j] += p.rps * pt.share;
    }
  }
  const q = (x: number) => latencyMs(histogramQuantile(x, BOUNDS, counts));
  return { rps, success: ok / rps, latency: [q(0.5), q(0.95), q(0.99)] };
}

const pointsOf = (l: Inbound["latencyMs"]) => {
  if (l === undefined) return [{ ms: 5, share: 1 }];
  if (typeof l === "number") return [{ ms: l, share: 1 }];
  const total = l.reduce((a, p) => a + p.weight, 0);
  return l.map((p) => ({ ms: p.ms, share: p.weight / total }));
};

/** Inbound stats of a workload: its flows on every replica, plus 1 admin request per scrape interval per pod (~1 ms, success). */
function modelInbound(w: Workload): Expected {
  const parts = w.inbound.map((f) => ({ rps: f.rps * w.replicas, success: f.successRate ?? 1, points: pointsOf(f.latencyMs) }));
  parts.push({ rps: w.replicas / SCRAPE_S, success: 1, points: [{ ms: 1, share: 1 }] });
  return histogramExpectation(parts);
}

function modelOutbound(w: Workload, to: string): Expected {
  const parts = (w.outbound ?? []).filter((f) => f.to === to).map((f) => ({ rps: f.rps * w.replicas, success: 1, points: pointsOf(f.latencyMs) }));
  return histogramExpectation(parts);
}

type Row = { namespace: string; kind: string; name: string; success: number | null; rps: number | null; latency_ms_p50: number | null; latency_ms_p95: number | null; latency_ms_p99: number | null; tcp_open_connections?: number; tcp_read_bytes_rate?: number; tcp_write_bytes_rate?: number };

/** Runs mesh in-process against the cluster with the real, moving clock (the scrape path times its scrapes with it). */
async function mesh(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const m = memoryIo();
  const deps: Deps = { io: m.io, now: () => new Date(), env: {}, cluster: (g) => connect(g) };
  const code = await run([...args, "--kubeconfig", c.kubeconfig], deps);
  return { code, stdout: m.stdout(), stderr: m.stderr() };
}

async function stat(args: string[], promUrl?: string): Promise<Row[]> {
  const extra = promUrl ? ["--prometheus-url", promUrl] : ["--interval", INTERVAL];
  const nsFlag = args[0].startsWith("ns/") ? [] : ["-n", ns]; // namespace resources reject -n
  const r = await mesh(["viz", "stat", ...args, ...nsFlag, "-t", WINDOW, "-o", "json", ...extra]);
  assert.equal(r.code, 0, `mesh viz stat ${args.join(" ")}${promUrl ? " (prometheus)" : ""}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Row[];
}

const bucket = (ms: number) => BOUNDS.findIndex((b) => ms <= b);

function assertClose(label: string, a: Row, b: Pick<Row, "success" | "rps" | "latency_ms_p50" | "latency_ms_p95" | "latency_ms_p99">): void {
  assert.ok(a.success !== null && b.success !== null, `${label}: no data (${JSON.stringify(a)} vs ${JSON.stringify(b)})`);
  assert.ok(Math.abs(a.success! - b.success!) <= 0.01, `${label}: success ${a.success} vs ${b.success}`);
  assert.ok(Math.abs(a.rps! - b.rps!) <= 0.05 * Math.max(a.rps!, b.rps!), `${label}: rps ${a.rps} vs ${b.rps}`);
  for (const k of ["latency_ms_p50", "latency_ms_p95", "latency_ms_p99"] as const) assert.ok(Math.abs(bucket(a[k]!) - bucket(b[k]!)) <= 1, `${label}: ${k} ${a[k]} vs ${b[k]} (more than one bucket apart)`);
}

const asRow = (e: Expected) => ({ success: e.success, rps: e.rps, latency_ms_p50: e.latency[0], latency_ms_p95: e.latency[1], latency_ms_p99: e.latency[2] });

before(async () => {
  if (skip) return;
  c = await connectTestCluster();
  ns = await c.newNamespace("vizprom");
  await c.apply(webService(), ns);
  for (const w of WORKLOADS) await c.apply(manifest(w), ns);
  const pods = WORKLOADS.reduce((n, w) => n + w.replicas, 0);
  for (const w of WORKLOADS) await c.waitForPods(ns, `app=${w.name}`, { count: w.replicas, timeoutMs: 60_000 });
  prom = await startPrometheus(c.state, { namespaces: [ns], scrapeIntervalS: SCRAPE_S });
  // Every proxy scraped successfully, then enough history for a 15 s window plus margin.
  await prom.waitFor(`count(up{job="linkerd-proxy", namespace="${ns}"} == 1)`, (v) => v === pods, 60_000);
  await prom.waitFor(`count(count_over_time(up{job="linkerd-proxy", namespace="${ns}"}[20s]) >= 9)`, (v) => v === pods, 60_000);
});

after(async () => {
  if (skip) return;
  await prom?.stop();
  if (ns) await c.deleteNamespace(ns);
});

test("Prometheus attaches Linkerd-viz's labels to the proxies' series", { skip }, async () => {
  const series = await prom!.query(`count(response_total{namespace="${ns}", direction="inbound"}) by (namespace, pod, deployment, k8s_job, control_plane_ns, workload_ns, app)`);
  const byPod = new Map(series.map((s) => [s.metric.pod, s.metric]));
  assert.equal(byPod.size, 5, JSON.stringify(series));
  for (const m of byPod.values()) {
    assert.equal(m.namespace, ns);
    assert.equal(m.control_plane_ns, "linkerd");
    assert.equal(m.workload_ns, ns);
    if (m.app === "migrate") assert.deepEqual([m.k8s_job, m.deployment], ["migrate", undefined]);
    else assert.deepEqual([m.deployment, m.k8s_job], [m.app, undefined]);
  }
  // The proxy's own `job`-like label never clashes: Prometheus' job stays the scrape job.
  const jobs = await prom!.query(`count(up{namespace="${ns}"}) by (job)`);
  assert.deepEqual(jobs.map((s) => s.metric.job), ["linkerd-proxy"]);
});

test("stat from Prometheus agrees with mesh's scrapes and with the traffic model", { skip, timeout: 180_000 }, async (t) => {
  // Every Prometheus answer first (see the header comment), then mesh's own scrapes.
  const shapes: { name: string; args: string[] }[] = [
    { name: "deploy", args: ["deploy"] },
    { name: "job", args: ["job"] },
    { name: "ns", args: [`ns/${ns}`] },
    { name: "po", args: ["po"] },
    { name: "to", args: ["deploy/vote-bot", "--to", "deploy/web"] },
    { name: "from", args: ["deploy", "--from", "deploy/vote-bot"] },
    { name: "svc", args: ["svc/web-svc"] },
  ];
  const fromProm = new Map<string, Row[]>();
  for (const s of shapes) fromProm.set(s.name, await stat(s.args, prom!.url));
  const fromScrape = new Map<string, Row[]>();
  for (const s of shapes) fromScrape.set(s.name, await stat(s.args));

  const report: string[] = [];
  const compare = (shape: string, name: string, model?: Expected) => {
    const p = fromProm.get(shape)!.find((r) => r.name === name);
    const m = fromScrape.get(shape)!.find((r) => r.name === name);
    assert.ok(p, `${shape}: no row ${name} from Prometheus: ${JSON.stringify(fromProm.get(shape))}`);
    assert.ok(m, `${shape}: no row ${name} from the scrapes: ${JSON.stringify(fromScrape.get(shape))}`);
    const fmt = (r: ReturnType<typeof asRow> | Row) => `${((r.success ?? NaN) * 100).toFixed(2)}% ${(r.rps ?? NaN).toFixed(2)}rps ${r.latency_ms_p50}/${r.latency_ms_p95}/${r.latency_ms_p99}ms`;
    report.push(`${`${shape} ${name}`.padEnd(24)} prometheus ${fmt(p!)} | scrape ${fmt(m!)}${model ? ` | model ${fmt(asRow(model))}` : ""}`);
    assertClose(`${shape} ${name}: prometheus vs scrape`, p!, m!);
    if (model) {
      assertClose(`${shape} ${name}: prometheus vs model`, p!, asRow(model));
      assertClose(`${shape} ${name}: scrape vs model`, m!, asRow(model));
    }
    return { p: p!, m: m! };
  };

  try {
    const deploys = WORKLOADS.filter((w) => w.kind === "Deployment");
    // Same rows, same order, same keys from both sources.
    assert.deepEqual(fromProm.get("deploy")!.map((r) => [r.name, Object.keys(r)]), fromScrape.get("deploy")!.map((r) => [r.name, Object.keys(r)]));
    for (const w of deploys) {
      const { p, m } = compare("deploy", w.name, modelInbound(w));
      report.push(`${"".padEnd(24)} tcp ${p.tcp_open_connections}/${m.tcp_open_connections} conns, read ${p.tcp_read_bytes_rate?.toFixed(0)}/${m.tcp_read_bytes_rate?.toFixed(0)} B/s, write ${p.tcp_write_bytes_rate?.toFixed(0)}/${m.tcp_write_bytes_rate?.toFixed(0)} B/s (prometheus/scrape)`);
      // TCP: both count the same connections; the scrape path's own API-server connection and Prometheus' may differ by one per pod.
      assert.ok(Math.abs(p.tcp_open_connections! - m.tcp_open_connections!) <= w.replicas + 1, `deploy ${w.name}: tcp ${p.tcp_open_connections} vs ${m.tcp_open_connections}`);
      for (const k of ["tcp_read_bytes_rate", "tcp_write_bytes_rate"] as const) assert.ok(Math.abs(p[k]! - m[k]!) <= 0.1 * Math.max(p[k]!, m[k]!), `deploy ${w.name}: ${k} ${p[k]} vs ${m[k]}`);
    }
    compare("job", "migrate", modelInbound(WORKLOADS.find((w) => w.name === "migrate")!));
    // The namespace: every pod's inbound traffic together.
    {
      const all = WORKLOADS.flatMap((w) => [
        ...w.inbound.map((f) => ({ rps: f.rps * w.replicas, success: f.successRate ?? 1, points: pointsOf(f.latencyMs) })),
        { rps: w.replicas / SCRAPE_S, success: 1, points: [{ ms: 1, share: 1 }] },
      ]);
      compare("ns", ns, histogramExpectation(all));
    }
    // Pods: web's two replicas each carry half of web's traffic.
    const webPods = fromProm.get("po")!.filter((r) => r.name.startsWith("web-"));
    assert.equal(webPods.length, 2);
    const web = WORKLOADS[0];
    for (const r of webPods) compare("po", r.name, modelInbound({ ...web, replicas: 1 }));
    // Outbound: vote-bot → web, selected with dst_deployment/dst_namespace.
    compare("to", "vote-bot", modelOutbound(WORKLOADS[2], "web"));
    // --from: grouped by dst_deployment.
    compare("from", "web", modelOutbound(WORKLOADS[2], "web"));
    // Services: the authority regex over the clients' outbound series.
    compare("svc", "web-svc", modelOutbound(WORKLOADS[2], "web"));
  } finally {
    t.diagnostic(`agreement (window ${WINDOW}, Prometheus scrape ${SCRAPE_S}s, mesh interval ${INTERVAL}):`);
    for (const line of report) t.diagnostic(`  ${line}`);
  }
});

test("an unreachable --prometheus-url fails fast and names it", { skip }, async () => {
  const r = await mesh(["viz", "stat", "deploy", "-n", ns, "--prometheus-url", "http://127.0.0.1:1"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: cannot reach Prometheus at http:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/);
});

test("the built CLI (dist/) reads the same numbers from Prometheus", { skip: skip ?? (existsSync("dist/runtime.js") ? undefined : "not built (npm run build)") }, async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ["bin/mesh.js", "viz", "stat", "deploy/web", "-n", ns, "-t", WINDOW, "-o", "json", "--kubeconfig", c.kubeconfig], {
    env: { ...process.env, MESH_PROMETHEUS_URL: prom!.url },
    timeout: 60_000,
  });
  const [web] = JSON.parse(stdout) as Row[];
  assertClose("dist deploy/web", web, asRow(modelInbound(WORKLOADS[0])));
});
