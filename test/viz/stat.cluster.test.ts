// `mesh viz stat` against the real test cluster: meshed workloads whose proxy stand-ins serve
// /metrics computed from a traffic model (test/cluster/README.md), scraped twice through the real
// API server. Every number is checked against the model: SUCCESS within ±1 point, RPS within ±5 %,
// latency percentiles within one histogram bucket of the model's distribution, per resource type,
// in table and JSON output; then MESHED counts, --proxy-version-mismatch, proxy restarts between
// the scrapes, and the error paths (RBAC, usage errors, nothing meshed).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { stringify } from "yaml";
import { run } from "../../src/cli.js";
import type { Deps } from "../../src/deps.js";
import { memoryIo } from "../../src/io.js";
import { connect } from "../../src/kube/cluster.js";
import { connectTestCluster, testClusterSkipReason, type TestCluster } from "../helpers/cluster.js";

const skip = testClusterSkipReason();
const VERSION = "stable-2.14.10";

let c: TestCluster;
let cp: string; // a control-plane namespace holding only linkerd-config (what stat reads of it)
let ns: string; // meshed workloads with traffic models
let empty: string; // only an unmeshed workload

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs mesh in-process against the real cluster with the real clock (stat measures Δt with it). */
async function mesh(args: string[], opts: { kubeconfig?: string } = {}): Promise<Run> {
  const m = memoryIo();
  const deps: Deps = { io: m.io, now: () => new Date(), env: {}, cluster: (g) => connect(g) };
  const code = await run([...args, "--kubeconfig", opts.kubeconfig ?? c.kubeconfig], deps);
  return { code, stdout: m.stdout(), stderr: m.stderr() };
}

/** `mesh viz stat ARGS` with a short sampling interval; asserts exit 0. */
async function stat(args: string[], opts: { interval?: string; kubeconfig?: string } = {}): Promise<Run> {
  const r = await mesh(["viz", "stat", ...args, "-L", cp, "--interval", opts.interval ?? "2s"], opts);
  assert.equal(r.code, 0, `mesh viz stat ${args.join(" ")}: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  return r;
}

// ---- the model ----

type Latency = { ms: number; weight: number }[];
interface Flow {
  direction: "inbound" | "outbound";
  rps: number;
  successRate?: number;
  latencyMs?: Latency;
  authority?: string;
  from?: { selector: Record<string, string> };
  to?: { service: string; port: number; targetPort: number; selector: Record<string, string> };
}

const WEB_LATENCY: Latency = [
  { ms: 3, weight: 8 },
  { ms: 40, weight: 2 },
];
const BOT_LATENCY: Latency = [{ ms: 7, weight: 1 }];
// Rates are high enough that the model's whole-request steps stay inside the tolerances over a
// 2 s interval (±1 request in 200 is 0.5 %).
const webFlows = (): Flow[] => [{ direction: "inbound", rps: 100, successRate: 0.9, latencyMs: WEB_LATENCY, authority: `web-svc.${ns}.svc.cluster.local:80`, from: { selector: { app: "bot" } } }];
const botFlows = (): Flow[] => [{ direction: "outbound", rps: 120, successRate: 0.8, latencyMs: BOT_LATENCY, to: { service: "web-svc", port: 80, targetPort: 8080, selector: { app: "web" } } }];
const oldFlows = (): Flow[] => [{ direction: "inbound", rps: 50, successRate: 1 }];

/** A pod template as the injector leaves it (labels, proxy container with linkerd-admin), plus the stand-ins' annotations. */
function template(app: string, o: { meshed?: boolean; flows?: Flow[]; annotations?: Record<string, string>; owner?: "deployment" | "none" } = {}) {
  const meshed = o.meshed ?? true;
  const labels: Record<string, string> = { app };
  if (meshed) {
    labels["linkerd.io/control-plane-ns"] = cp;
    labels["linkerd.io/workload-ns"] = ns;
    if ((o.owner ?? "deployment") === "deployment") labels["linkerd.io/proxy-deployment"] = app;
  }
  const annotations: Record<string, string> = { ...(o.annotations ?? {}) };
  if (o.flows) annotations["mesh.test/traffic"] = JSON.stringify({ flows: o.flows });
  const containers: unknown[] = [{ name: "app", image: "example/app:1", ports: [{ name: "http", containerPort: 8080 }] }];
  if (meshed)
    containers.push({
      name: "linkerd-proxy",
      image: `cr.l5d.io/linkerd/proxy:${VERSION}`,
      ports: [
        { name: "linkerd-proxy", containerPort: 4143 },
        { name: "linkerd-admin", containerPort: 4191 },
      ],
    });
  return { metadata: { labels, annotations }, spec: { containers } };
}

function deployment(name: string, replicas: number, t: ReturnType<typeof template>): string {
  return stringify({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name }, spec: { replicas, selector: { matchLabels: { app: name } }, template: t } });
}

function barePod(name: string, t: ReturnType<typeof template>): string {
  return stringify({ apiVersion: "v1", kind: "Pod", metadata: { name, ...t.metadata }, spec: t.spec });
}

/** The model's q-quantile of a discrete latency distribution (the smallest value with cumulative weight ≥ q). */
function modelQuantile(points: Latency, q: number): number {
  const sorted = [...points].sort((a, b) => a.ms - b.ms);
  const total = sorted.reduce((s, p) => s + p.weight, 0);
  let acc = 0;
  for (const p of sorted) {
    acc += p.weight;
    if (acc / total >= q - 1e-12) return p.ms;
  }
  return sorted[sorted.length - 1].ms;
}

/** The proxy's latency bucket bounds (C2). */
const BOUNDS = [1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500, 1000, 2000, 3000, 4000, 5000, 10000, 20000, 30000, 40000, 50000];
/** Index of the bucket a value falls in (observations are truncated to whole ms first). */
const bucketOf = (ms: number) => {
  const i = BOUNDS.findIndex((b) => Math.trunc(ms) <= b);
  return i < 0 ? BOUNDS.length : i;
};

interface Expect {
  success: number; // ratio
  rps: number;
  latency: Latency;
}

/** One row's numbers (from table or JSON), checked against the model. */
interface Numbers {
  success: number; // ratio
  rps: number;
  p50: number;
  p95: number;
  p99: number;
}

/** What was measured against what the model says (printed with MESH_STAT_ACCURACY=1). */
const measured: string[] = [];

function checkNumbers(what: string, got: Numbers, want: Expect): void {
  const q = (p: number) => modelQuantile(want.latency, p);
  measured.push(
    `${what}: success ${(got.success * 100).toFixed(2)}% (model ${(want.success * 100).toFixed(2)}%), rps ${got.rps.toFixed(2)} (model ${want.rps}, ${(((got.rps - want.rps) / want.rps) * 100).toFixed(2)}%), p50/p95/p99 ${got.p50}/${got.p95}/${got.p99}ms (model ${q(0.5)}/${q(0.95)}/${q(0.99)}ms)`,
  );
  assert.ok(Math.abs(got.success * 100 - want.success * 100) <= 1, `${what}: SUCCESS ${got.success * 100}% vs model ${want.success * 100}%`);
  assert.ok(Math.abs(got.rps - want.rps) <= want.rps * 0.05 + 0.05, `${what}: RPS ${got.rps} vs model ${want.rps}`);
  for (const [q, v] of [
    [0.5, got.p50],
    [0.95, got.p95],
    [0.99, got.p99],
  ] as const) {
    const m = modelQuantile(want.latency, q);
    assert.ok(Math.abs(bucketOf(v) - bucketOf(m)) <= 1, `${what}: P${q * 100} ${v}ms vs model ${m}ms (more than one bucket apart)`);
  }
}

/** Mixes flows into the numbers of their sum (rps-weighted success and latency). */
function mix(...parts: { rps: number; successRate?: number; latencyMs?: Latency }[]): Expect {
  const rps = parts.reduce((s, p) => s + p.rps, 0);
  const success = parts.reduce((s, p) => s + p.rps * (p.successRate ?? 1), 0) / rps;
  const latency: Latency = [];
  for (const p of parts) {
    const pts = p.latencyMs ?? [{ ms: 5, weight: 1 }];
    const total = pts.reduce((s, x) => s + x.weight, 0);
    for (const x of pts) latency.push({ ms: x.ms, weight: (p.rps * x.weight) / total });
  }
  return { success, rps, latency };
}

/** Table rows by NAME (the columns of the header line; cells never contain spaces). */
function table(stdout: string): Map<string, Record<string, string>> {
  const lines = stdout.trimEnd().split("\n").filter((l) => l.trim());
  const header = lines[0].trim().split(/\s+/);
  const rows = new Map<string, Record<string, string>>();
  for (const l of lines.slice(1)) {
    const cells = l.trim().split(/\s+/);
    assert.equal(cells.length, header.length, `row has ${cells.length} cells, header ${header.length}: ${l}`);
    rows.set(cells[header.indexOf("NAME")], Object.fromEntries(header.map((h, i) => [h, cells[i]])));
  }
  return rows;
}

const ms = (s: string) => Number(/^(\d+)ms$/.exec(s)?.[1] ?? NaN);
function fromTable(row: Record<string, string> | undefined, what: string): Numbers {
  assert.ok(row, `${what}: no row`);
  assert.match(row.SUCCESS, /^\d+\.\d\d%$/, `${what}: SUCCESS ${row.SUCCESS}`);
  assert.match(row.RPS, /^\d+\.\drps$/);
  return { success: Number(row.SUCCESS.slice(0, -1)) / 100, rps: Number(row.RPS.slice(0, -3)), p50: ms(row.LATENCY_P50), p95: ms(row.LATENCY_P95), p99: ms(row.LATENCY_P99) };
}

type JsonRow = Record<string, string | number | null>;
function fromJson(row: JsonRow | undefined, what: string): Numbers {
  assert.ok(row, `${what}: no row`);
  for (const k of ["success", "rps", "latency_ms_p50", "latency_ms_p95", "latency_ms_p99"]) assert.equal(typeof row[k], "number", `${what}: ${k} = ${row[k]}`);
  return { success: row.success as number, rps: row.rps as number, p50: row.latency_ms_p50 as number, p95: row.latency_ms_p95 as number, p99: row.latency_ms_p99 as number };
}

function nonNegative(rows: JsonRow[]): void {
  for (const r of rows) for (const [k, v] of Object.entries(r)) if (typeof v === "number") assert.ok(v >= 0 && Number.isFinite(v), `${r.name}.${k} = ${v}`);
}

/** Table and JSON of one query, each checked against the model for the named rows. */
async function checkBoth(args: string[], want: Record<string, Expect>, opts: { dashes?: string[] } = {}) {
  const t = await stat(args);
  const rows = table(t.stdout);
  for (const [name, e] of Object.entries(want)) checkNumbers(`${args.join(" ")} (table) ${name}`, fromTable(rows.get(name), name), e);
  for (const name of opts.dashes ?? []) assert.equal(rows.get(name)?.SUCCESS, "-", `${name} has no requests`);
  const j = await stat([...args, "-o", "json"]);
  const list = JSON.parse(j.stdout) as JsonRow[];
  nonNegative(list);
  for (const [name, e] of Object.entries(want))
    checkNumbers(
      `${args.join(" ")} (json) ${name}`,
      fromJson(
        list.find((r) => r.name === name),
        name,
      ),
      e,
    );
  for (const name of opts.dashes ?? []) assert.equal(list.find((r) => r.name === name)?.success, null);
  return { rows, list };
}

before(async () => {
  if (skip) return;
  c = await connectTestCluster();
  cp = await c.newNamespace("statcp");
  ns = await c.newNamespace("stat");
  empty = await c.newNamespace("statempty");
  await c.apply(stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "linkerd-config" }, data: { values: `linkerdVersion: ${VERSION}\nclusterDomain: cluster.local\n` } }), cp);
  await c.apply(
    [
      deployment("web", 2, template("web", { flows: webFlows() })),
      deployment("bot", 1, template("bot", { flows: botFlows() })),
      deployment("old", 1, template("old", { flows: oldFlows(), annotations: { "mesh.test/proxy-version": "2.203.1" } })),
      deployment("plain", 1, template("plain", { meshed: false })),
      stringify({ apiVersion: "v1", kind: "Service", metadata: { name: "web-svc" }, spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: 8080 }] } }),
    ].join("---\n"),
    ns,
  );
  await c.apply(deployment("plain", 1, template("plain", { meshed: false })), empty);
  await Promise.all([
    c.waitForPods(ns, "app=web", { count: 2 }),
    c.waitForPods(ns, "app=bot", { count: 1 }),
    c.waitForPods(ns, "app=old", { count: 1 }),
    c.waitForPods(ns, "app=plain", { count: 1 }),
    c.waitForPods(empty, "app=plain", { count: 1 }),
  ]);
});

after(async () => {
  if (process.env.MESH_STAT_ACCURACY) console.log(measured.join("\n"));
  if (skip || !c) return;
  await Promise.all([ns, cp, empty].filter(Boolean).map((n) => c.deleteNamespace(n)));
});

const WEB = () => mix(...webFlows(), ...webFlows()); // two replicas
const WEB_POD = () => mix(...webFlows());
const BOT_OUT = () => mix(...botFlows());
const OLD = () => mix(...oldFlows());

test("deploy: every meshed Deployment gets a row; numbers match the model; MESHED counts pods", { skip }, async () => {
  const { rows, list } = await checkBoth(["deploy", "-n", ns], { web: WEB(), old: OLD() }, { dashes: ["bot"] });
  assert.equal(rows.get("web")!.MESHED, "2/2");
  assert.equal(rows.get("bot")!.MESHED, "1/1");
  assert.equal(rows.get("old")!.MESHED, "1/1");
  assert.equal(rows.has("plain"), false, "unmeshed workloads are hidden");
  // TCP_CONN: per web pod, the model's inbound connection (peer=src) and the proxy's connection to
  // the app (peer=dst), plus the admin port's own connections (Linkerd's definition: no peer filter).
  const tcp = Number(rows.get("web")!.TCP_CONN);
  assert.ok(tcp >= 4 && tcp <= 8, `web TCP_CONN ${tcp}`);
  const web = list.find((r) => r.name === "web")!;
  assert.deepEqual(Object.keys(web), ["namespace", "kind", "name", "success", "rps", "latency_ms_p50", "latency_ms_p95", "latency_ms_p99", "tcp_open_connections", "tcp_read_bytes_rate", "tcp_write_bytes_rate"]);
  assert.equal(web.namespace, ns);
  assert.equal(web.kind, "deployment");
  // Bytes (peer="src"): the model's 120 B per request read and 1200 B per response written, plus
  // the admin port's scrape traffic (mesh's own scrape is discounted).
  const read = web.tcp_read_bytes_rate as number;
  const written = web.tcp_write_bytes_rate as number;
  assert.ok(read >= 200 * 120 * 0.95 && read <= 200 * 120 * 1.1, `read ${read} B/s`);
  assert.ok(written >= 200 * 1200 * 0.95 && written <= 200 * 1200 * 1.1, `written ${written} B/s`);

  const unmeshed = table((await stat(["deploy", "-n", ns, "--unmeshed"])).stdout);
  assert.equal(unmeshed.get("plain")?.MESHED, "0/1");
  assert.equal(unmeshed.get("plain")?.SUCCESS, "-");
});

test("po: one row per pod with STATUS; each web pod carries its own model", { skip }, async () => {
  const pods = await c.waitForPods(ns, "app=web", { count: 2 });
  const want = Object.fromEntries(pods.map((p) => [p.metadata.name, WEB_POD()]));
  const { rows } = await checkBoth(["po", "-n", ns], want);
  for (const p of pods) {
    assert.equal(rows.get(p.metadata.name)!.STATUS, "Running");
    assert.equal(rows.get(p.metadata.name)!.MESHED, "1/1");
  }
  const named = table((await stat([`po/${pods[0].metadata.name}`, "-n", ns])).stdout);
  assert.deepEqual([...named.keys()], [pods[0].metadata.name]);
});

test("ns: the namespace's inbound traffic, all workloads mixed", { skip }, async () => {
  const { rows } = await checkBoth([`ns/${ns}`], { [ns]: mix(...webFlows(), ...webFlows(), ...oldFlows()) });
  assert.equal(rows.get(ns)!.MESHED, "4/5", "web ×2, bot, old meshed; plain not");
});

test("svc: the clients' outbound requests to the service", { skip }, async () => {
  const { rows, list } = await checkBoth(["svc", "-n", ns], { "web-svc": BOT_OUT() });
  assert.equal(rows.get("web-svc")!.MESHED, "-");
  assert.equal(list.find((r) => r.name === "web-svc")!.kind, "service");
});

test("au: inbound requests grouped by authority; no TCP column", { skip }, async () => {
  const authority = `web-svc.${ns}.svc.cluster.local:80`;
  const { rows, list } = await checkBoth(["au", "-n", ns], { [authority]: WEB() });
  assert.equal(rows.get(authority)!.MESHED, "-");
  assert.equal("TCP_CONN" in rows.get(authority)!, false);
  assert.equal("tcp_open_connections" in list.find((r) => r.name === authority)!, false);
});

test("--to and --from: outbound requests of the client, by destination", { skip }, async () => {
  const to = await checkBoth(["deploy", "-n", ns, "--to", "svc/web-svc"], { bot: BOT_OUT() });
  assert.deepEqual([...to.rows.keys()], ["bot"], "only objects with metrics get a row");
  const toDeploy = await checkBoth(["deploy", "-n", ns, "--to", "deploy/web"], { bot: BOT_OUT() });
  assert.deepEqual([...toDeploy.rows.keys()], ["bot"]);
  const from = await checkBoth(["deploy", "-n", ns, "--from", "deploy/bot"], { web: BOT_OUT() });
  assert.deepEqual([...from.rows.keys()], ["web"]);
  assert.equal(from.rows.get("web")!.MESHED, "2/2");
  const fromNamed = await checkBoth(["deploy/web", "-n", ns, "--from", "deploy/bot"], { web: BOT_OUT() });
  assert.deepEqual([...fromNamed.rows.keys()], ["web"]);
  const fromPods = await checkBoth(["po", "-n", ns, "--from", "deploy/bot"], Object.fromEntries((await c.waitForPods(ns, "app=web", { count: 2 })).map((p) => [p.metadata.name, mix({ ...botFlows()[0], rps: 60 })])));
  assert.equal(fromPods.rows.size, 2, "the client's requests are split evenly over the two web pods");
});

test("--proxy-version-mismatch: only the workload whose proxy differs, with the command that fixes it", { skip }, async () => {
  const r = await stat(["deploy", "-n", ns, "--proxy-version-mismatch"]);
  const rows = table(r.stdout.split("\n\n")[0]);
  assert.deepEqual([...rows.keys()], ["old"]);
  assert.equal(rows.get("old")!.PROXY_VERSION, "2.203.1");
  assert.match(r.stdout, /proxy version is 2\.210\.4/);
  assert.match(r.stdout, new RegExp(`kubectl rollout restart deployment/old -n ${ns}`));
  const j = JSON.parse((await stat(["deploy", "-n", ns, "--proxy-version-mismatch", "-o", "json"])).stdout) as JsonRow[];
  assert.deepEqual(
    j.map((x) => x.name),
    ["old"],
  );
});

test("--verbose: API requests and bytes moved on stderr; scrapes are gzip-compressed", { skip }, async () => {
  const r = await mesh(["viz", "stat", "deploy/web", "-n", ns, "-L", cp, "--interval", "1s", "--verbose"]);
  assert.equal(r.code, 0, r.stderr);
  const m = /^mesh viz stat: (\d+) API requests, ([\d.]+) kB received \(([\d.]+) kB decompressed\); (\d+) scrapes \(0 failed\): ([\d.]+) kB received, ([\d.]+) kB of metrics$/m.exec(r.stderr);
  assert.ok(m, r.stderr);
  assert.equal(Number(m[4]), 4, "two pods, two scrapes each");
  assert.ok(Number(m[1]) > 4, "scrapes and the lists of objects and pods");
  assert.ok(Number(m[2]) < Number(m[3]), "less on the wire than decoded");
  assert.ok(Number(m[5]) < Number(m[6]) / 3, `the metrics arrive gzip-compressed: ${m[0]}`);

  const fp = await c.startFaultProxy();
  try {
    const r2 = await mesh(["viz", "stat", "deploy/web", "-n", ns, "-L", cp, "--interval", "1s", "-o", "json"], { kubeconfig: fp.kubeconfig });
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal(fp.count(/:4191\/proxy\/metrics$/), 4);
  } finally {
    await fp.close();
  }
});

test("a proxy that restarts between the scrapes (pod deleted and re-created under its name): counted from its start, never negative", { skip }, async () => {
  const solo = template("solo", { owner: "none", flows: [{ direction: "inbound", rps: 20, successRate: 1 }] });
  await c.apply(barePod("solo", solo), ns);
  await c.waitForPods(ns, "app=solo", { count: 1 });
  const fp = await c.startFaultProxy();
  try {
    const running = mesh(["viz", "stat", "po/solo", "-n", ns, "-L", cp, "--interval", "6s", "-o", "json"], { kubeconfig: fp.kubeconfig });
    await until(() => fp.count(/pods\/solo:4191\/proxy\/metrics$/) >= 1, "the first scrape");
    await sleep(1500); // the new proxy's start (whole seconds) must come after the first scrape
    await c.kubectl(["delete", "pod", "solo", "-n", ns, "--grace-period=0", "--wait=true"]);
    await c.apply(barePod("solo", solo), ns);
    await c.waitForPods(ns, "app=solo", { count: 1 });
    const r = await running;
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as JsonRow[];
    nonNegative(rows);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].success, 1);
    const rps = rows[0].rps as number;
    assert.ok(Math.abs(rps - 20) <= 20 * 0.1, `rps ${rps} vs model 20`);
  } finally {
    await fp.close();
    await c.kubectl(["delete", "pod", "solo", "-n", ns, "--grace-period=0", "--ignore-not-found"]);
  }
});

test("a replaced Deployment pod between the scrapes: the new pod is counted", { skip }, async () => {
  await c.apply(deployment("churn", 1, template("churn", { flows: [{ direction: "inbound", rps: 20, successRate: 1 }] })), ns);
  const [first] = await c.waitForPods(ns, "app=churn", { count: 1 });
  const fp = await c.startFaultProxy();
  try {
    const running = mesh(["viz", "stat", "deploy/churn", "-n", ns, "-L", cp, "--interval", "6s", "-o", "json"], { kubeconfig: fp.kubeconfig });
    await until(() => fp.count(new RegExp(`pods/${first.metadata.name}:4191/proxy/metrics$`)) >= 1, "the first scrape");
    await sleep(1500);
    await c.kubectl(["delete", "pod", first.metadata.name, "-n", ns, "--grace-period=0", "--wait=true"]);
    await until(async () => (await c.waitForPods(ns, "app=churn", { count: 1 }))[0].metadata.name !== first.metadata.name, "the replacement pod");
    const r = await running;
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as JsonRow[];
    nonNegative(rows);
    assert.equal(rows[0].success, 1, r.stderr);
    assert.ok(Math.abs((rows[0].rps as number) - 20) <= 2, `rps ${rows[0].rps} vs model 20`);
  } finally {
    await fp.close();
    await c.kubectl(["delete", "deploy", "churn", "-n", ns, "--ignore-not-found"]);
  }
});

test("a proxy restarted in place between the scrapes (stand-in hook mesh.test/proxy-restarts)", { skip }, async () => {
  const solo = template("inplace", { owner: "none", flows: [{ direction: "inbound", rps: 20, successRate: 0.75 }] });
  await c.apply(barePod("inplace", solo), ns);
  await c.waitForPods(ns, "app=inplace", { count: 1 });
  const fp = await c.startFaultProxy();
  try {
    const running = mesh(["viz", "stat", "po/inplace", "-n", ns, "-L", cp, "--interval", "6s", "-o", "json"], { kubeconfig: fp.kubeconfig });
    await until(() => fp.count(/pods\/inplace:4191\/proxy\/metrics$/) >= 1, "the first scrape");
    await sleep(1500);
    await c.api.mergePatch(`/api/v1/namespaces/${ns}/pods/inplace`, { metadata: { annotations: { "mesh.test/proxy-restarts": "1" } } });
    const restarted = await until(
      async () => {
        const p = await c.api.get<{ status?: { containerStatuses?: { name: string; restartCount: number }[] } }>(`/api/v1/namespaces/${ns}/pods/inplace`);
        return p.status?.containerStatuses?.find((s) => s.name === "linkerd-proxy")?.restartCount === 1;
      },
      "the proxy restart",
      3000,
    ).then(
      () => true,
      () => false,
    );
    const r = await running;
    assert.ok(restarted, "the kubelet stand-in restarted the proxy (a cluster started before mesh.test/proxy-restarts existed must be restarted)");
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as JsonRow[];
    nonNegative(rows);
    assert.ok(Math.abs((rows[0].rps as number) - 20) <= 2, `rps ${rows[0].rps} vs model 20`);
    assert.ok(Math.abs((rows[0].success as number) - 0.75) <= 0.05, `success ${rows[0].success} vs model 0.75`);
  } finally {
    await fp.close();
    await c.kubectl(["delete", "pod", "inplace", "-n", ns, "--grace-period=0", "--ignore-not-found"]);
  }
});

test("errors against the real API: no RBAC for pods/proxy, usage errors, nothing meshed", { skip }, async () => {
  const viewer = await mesh(["viz", "stat", "deploy", "-n", ns, "-L", cp, "--interval", "1s"], { kubeconfig: c.kubeconfigs.viewer });
  assert.equal(viewer.code, 1, viewer.stderr);
  assert.match(viewer.stderr, /^error: cannot read the proxies' metrics: missing RBAC permission "get" on pods\/proxy in namespace stat-/m);
  assert.match(viewer.stderr, /hint: /);
  assert.equal(viewer.stdout, "", "no table of dashes");
  assert.doesNotMatch(viewer.stderr, /\n\s+at /);

  const usage = async (args: string[], message: RegExp) => {
    const r = await mesh(["viz", "stat", ...args, "-L", cp]);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stdout, "");
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  };
  await usage(["foo", "-n", ns], /unknown resource type "foo"/);
  await usage(["deploy", "-n", ns, "-t", "10s"], /metrics time window needs to be at least 15s/);
  await usage(["deploy", "-n", ns, "-t", "soon"], /invalid --time-window "soon"/);
  await usage(["deploy", "-n", ns, "--to", "deploy/web", "--from", "deploy/bot"], /--to and --from flags are mutually exclusive/);
  await usage(["deploy", "-n", ns, "--from", "svc/web-svc"], /service is not supported as a target on 'from' queries/);

  const missing = await mesh(["viz", "stat", "deploy/nope", "-n", ns, "-L", cp, "--interval", "1s"]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /deployment "nope" not found/);

  const none = await stat(["deploy", "-n", empty], { interval: "1s" });
  assert.equal(none.stdout, "");
  assert.equal(none.stderr, "No traffic found.\n");
  const noneJson = await stat(["deploy", "-n", empty, "-o", "json"], { interval: "1s" });
  assert.equal(noneJson.stdout, "[]\n");
});

async function until(f: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
