// `mesh viz dashboard` end to end: the built CLI (bin/mesh.js, run `npm run build` first) serves
// the dashboard against the real test cluster, and headless Chromium (Debian's, driven by
// playwright-core) reads every page. The numbers shown are compared with `mesh viz stat -o json`
// within viz's tolerances (SUCCESS ±1 point, RPS ±5 %, latency within one histogram bucket);
// charts gain points; tap shows live rows, honours a filter, pauses, and says when access logs
// are off; the check page shows a broken control plane. axe-core checks labels and contrast, and
// the focus order is walked with the keyboard. Screenshots go to the folder the test prints.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { stringify } from "yaml";
import { run } from "../../src/cli.js";
import type { Deps } from "../../src/deps.js";
import { memoryIo } from "../../src/io.js";
import { connect } from "../../src/kube/cluster.js";
import { prometheusSkipReason, startPrometheus } from "../cluster/prometheus.js";
import { connectTestCluster, testClusterSkipReason, type TestCluster } from "../helpers/cluster.js";

const skip = testClusterSkipReason();
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const VERSION = "stable-2.14.10";
const CHROMIUM = process.env.MESH_CHROMIUM ?? "/usr/bin/chromium";
const ARTIFACTS = process.env.MESH_TEST_ARTIFACTS ? join(process.env.MESH_TEST_ARTIFACTS, "dashboard") : join(tmpdir(), "mesh-test-artifacts", "dashboard");

let c: TestCluster;
let cp: string;
let ns: string;
let dashboard: ChildProcess;
let stderr = "";
let url = "";
let browser: Browser;
let page: Page;
/** Every URL the page requested. */
const requested: string[] = [];
/** ms from starting the CLI to the first numbers on the namespaces page. */
let firstDataMs = 0;

// ---- workloads: the stand-in proxies serve this traffic model (test/cluster/README.md) ----

const authority = () => `web-svc.${ns}.svc.cluster.local:80`;
const webFlows = () => [
  { direction: "inbound", rps: 100, successRate: 0.9, latencyMs: [{ ms: 3, weight: 8 }, { ms: 40, weight: 2 }], authority: authority(), method: "GET", path: "/api/list", from: { selector: { app: "bot" } } },
  { direction: "inbound", rps: 20, successRate: 1, latencyMs: [{ ms: 7, weight: 1 }], authority: authority(), method: "POST", path: "/api/vote" },
];
const botFlows = () => [{ direction: "outbound", rps: 50, successRate: 1, to: { service: "web-svc", port: 80, targetPort: 8080, selector: { app: "web" } } }];

function deployment(name: string, o: { replicas?: number; flows?: unknown[]; accessLog?: boolean; proxyImage?: string; meshed?: boolean } = {}): string {
  const meshed = o.meshed ?? true;
  const labels: Record<string, string> = { app: name };
  if (meshed) Object.assign(labels, { "linkerd.io/control-plane-ns": cp, "linkerd.io/workload-ns": ns, "linkerd.io/proxy-deployment": name });
  const containers: unknown[] = [{ name: "app", image: "example/app:1", ports: [{ name: "http", containerPort: 8080 }] }];
  if (meshed)
    containers.push({
      name: "linkerd-proxy",
      image: o.proxyImage ?? `cr.l5d.io/linkerd/proxy:${VERSION}`,
      env: o.accessLog ? [{ name: "LINKERD2_PROXY_ACCESS_LOG", value: "json" }] : [],
      ports: [
        { name: "linkerd-proxy", containerPort: 4143 },
        { name: "linkerd-admin", containerPort: 4191 },
      ],
    });
  return stringify({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name },
    spec: {
      replicas: o.replicas ?? 1,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels, annotations: o.flows ? { "mesh.test/traffic": JSON.stringify({ flows: o.flows }) } : {} }, spec: { containers } },
    },
  });
}

// ---- mesh in-process, for the numbers the dashboard must agree with ----

async function mesh(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const m = memoryIo();
  const deps: Deps = { io: m.io, now: () => new Date(), env: {}, cluster: (g) => connect(g) };
  const code = await run([...args, "--kubeconfig", c.kubeconfig], deps);
  return { code, stdout: m.stdout(), stderr: m.stderr() };
}

type StatJson = { namespace: string; kind: string; name: string; success: number | null; rps: number | null; latency_ms_p50: number | null; latency_ms_p95: number | null; latency_ms_p99: number | null };

async function statJson(args: string[]): Promise<StatJson[]> {
  const r = await mesh(["viz", "stat", ...args, "-L", cp, "--interval", "2s", "-o", "json"]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as StatJson[];
}

// ---- tolerances (spec: viz tolerances) ----

const BOUNDS = [1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500, 1000, 2000, 3000, 4000, 5000, 10000, 20000, 30000, 40000, 50000];
const bucketOf = (ms: number) => {
  const i = BOUNDS.findIndex((b) => Math.trunc(ms) <= b);
  return i < 0 ? BOUNDS.length : i;
};

interface Shown {
  success: number; // percent
  rps: number;
  p50: number;
  p95: number;
  p99: number;
}

function agree(what: string, shown: Shown, stat: StatJson): void {
  assert.equal(typeof stat.success, "number", `${what}: stat has numbers`);
  assert.ok(Math.abs(shown.success - stat.success! * 100) <= 1, `${what}: success ${shown.success}% vs stat ${stat.success! * 100}%`);
  assert.ok(Math.abs(shown.rps - stat.rps!) <= stat.rps! * 0.05 + 0.05, `${what}: rps ${shown.rps} vs stat ${stat.rps}`);
  for (const [q, v, s] of [
    ["p50", shown.p50, stat.latency_ms_p50!],
    ["p95", shown.p95, stat.latency_ms_p95!],
    ["p99", shown.p99, stat.latency_ms_p99!],
  ] as const)
    assert.ok(Math.abs(bucketOf(v) - bucketOf(s)) <= 1, `${what}: ${q} ${v}ms vs stat ${s}ms (more than one bucket apart)`);
}

/** The numbers a table row shows, parsed from its text (`90.00%`, `200.0 rps`, `3 ms`). */
async function shownRow(selector: string): Promise<Shown> {
  const cells = await page.$$eval(`${selector} td[data-col]`, (tds) => Object.fromEntries(tds.map((td) => [td.getAttribute("data-col"), td.textContent ?? ""])));
  const num = (s: string | undefined, re: RegExp, what: string) => {
    const m = re.exec(s ?? "");
    assert.ok(m, `${selector} ${what}: "${s}"`);
    return Number(m[1]);
  };
  return { success: num(cells.success, /^(\d+\.\d\d)%$/, "success"), rps: num(cells.rps, /^(\d+\.\d) rps$/, "rps"), p50: num(cells.p50, /^(\d+) ms$/, "p50"), p95: num(cells.p95, /^(\d+) ms$/, "p95"), p99: num(cells.p99, /^(\d+) ms$/, "p99") };
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** axe-core's WCAG 2 A/AA rules on the current page: no violations (labels, contrast, names, structure). */
async function axe(what: string): Promise<void> {
  const axePath = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
  if (!(await page.evaluate<boolean>('"axe" in window'))) await page.addScriptTag({ path: axePath });
  // Browser-side code as text: this project's TypeScript has no DOM types.
  const violations = await page.evaluate<string[]>(`axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } })
    .then((r) => r.violations.map((v) => v.id + ": " + v.help + " (" + v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join("; ") + ")"))`);
  assert.deepEqual(violations, [], `${what}: accessibility violations`);
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  if (skip) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  console.log(`# dashboard screenshots: ${ARTIFACTS}`);
  c = await connectTestCluster();
  cp = await c.newNamespace("dashcp");
  ns = await c.newNamespace("dash");
  // A control plane of only linkerd-config: enough for viz; `mesh check` finds no control-plane pods.
  await c.apply(stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "linkerd-config" }, data: { values: `linkerdVersion: ${VERSION}\nclusterDomain: cluster.local\n` } }), cp);
  await c.apply(
    [
      deployment("web", { replicas: 2, flows: webFlows(), accessLog: true }),
      deployment("bot", { flows: botFlows() }),
      deployment("old", { flows: [{ direction: "inbound", rps: 30, successRate: 1, authority: authority() }], proxyImage: "cr.l5d.io/linkerd/proxy:stable-2.13.0" }),
      deployment("plain", { meshed: false }),
      stringify({ apiVersion: "v1", kind: "Service", metadata: { name: "web-svc" }, spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: 8080 }] } }),
    ].join("---\n"),
    ns,
  );
  await Promise.all([c.waitForPods(ns, "app=web", { count: 2 }), c.waitForPods(ns, "app=bot", { count: 1 }), c.waitForPods(ns, "app=old", { count: 1 }), c.waitForPods(ns, "app=plain", { count: 1 })]);

  const started = Date.now();
  dashboard = spawn(process.execPath, ["bin/mesh.js", "viz", "dashboard", "-L", cp, "-n", ns, "--show", "url", "-p", "0", "--interval", "2s", "--kubeconfig", c.kubeconfig], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  dashboard.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
  dashboard.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  for (const deadline = Date.now() + 30_000; !/\n/.test(out); await wait(50)) {
    if (dashboard.exitCode !== null) throw new Error(`mesh viz dashboard exited (${dashboard.exitCode}): ${stderr}`);
    if (Date.now() > deadline) throw new Error(`no URL within 30s: ${stderr}`);
  }
  url = out.trim();
  const urlMs = Date.now() - started;
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{32}\/$/);

  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  // axe is injected as a script tag: let it past the page's Content-Security-Policy.
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
  page = await context.newPage();
  page.on("request", (r) => requested.push(r.url()));
  page.setDefaultTimeout(30_000);
  const loadStart = Date.now();
  await page.goto(`${url}#/`);
  const loadedMs = Date.now() - loadStart;
  await page.locator(`#namespaces tr[data-name="${ns}"] td[data-col="rps"]`).filter({ hasText: /rps/ }).waitFor({ timeout: 60_000 });
  firstDataMs = Date.now() - started;
  console.log(`# dashboard: URL printed after ${urlMs} ms; page loaded in ${loadedMs} ms; first numbers on the page ${firstDataMs} ms after starting mesh viz dashboard (${Date.now() - loadStart} ms after opening the page)`);
});

after(async () => {
  await browser?.close().catch(() => undefined);
  if (dashboard && dashboard.exitCode === null) {
    dashboard.kill("SIGKILL");
  }
  if (skip || !c) return;
  await Promise.all([ns, cp].filter(Boolean).map((n) => c.deleteNamespace(n)));
});

test("namespaces page: the namespace's meshed pods and numbers agree with `mesh viz stat ns`", { skip }, async () => {
  await page.goto(`${url}#/`);
  const row = `#namespaces tr[data-name="${ns}"]`;
  await page.locator(`${row} td[data-col="rps"]`).filter({ hasText: /rps/ }).waitFor();
  assert.equal(await page.textContent(`${row} td[data-col="meshed"]`), "4/5");
  const [stat] = (await statJson([`ns/${ns}`])).filter((r) => r.name === ns);
  agree(`namespace ${ns}`, await shownRow(row), stat);
  assert.ok(await page.locator(`${row} a[href="#/ns/${ns}"]`).count(), "links to the namespace page");
  await shot("namespaces");
  await axe("namespaces page");
});

test("namespace page: each workload's MESHED and numbers agree with `mesh viz stat deploy`; charts gain points", { skip }, async () => {
  await page.goto(`${url}#/ns/${ns}`);
  await page.locator(`#workloads tr[data-name="web"] td[data-col="rps"]`).filter({ hasText: /rps/ }).waitFor();
  await page.locator(`#workloads tr[data-name="old"] td[data-col="rps"]`).filter({ hasText: /rps/ }).waitFor();
  const stat = await statJson(["deploy", "-n", ns]);
  for (const name of ["web", "old"]) agree(`deploy/${name}`, await shownRow(`#workloads tr[data-name="${name}"]`), stat.find((r) => r.name === name)!);
  assert.equal(await page.textContent('#workloads tr[data-name="web"] td[data-col="meshed"]'), "2/2");
  assert.equal(await page.textContent('#workloads tr[data-name="plain"] td[data-col="meshed"]'), "0/1");
  assert.equal(await page.textContent('#workloads tr[data-name="plain"] td[data-col="success"]'), "-", "no proxy, no numbers");

  const chart = page.locator('#workloads tr[data-name="web"] .chart').first();
  const before = Number(await chart.getAttribute("data-points"));
  assert.ok(before >= 1);
  await page.waitForFunction(`Number(document.querySelector('#workloads tr[data-name="web"] .chart')?.getAttribute("data-points")) > ${before}`, undefined, { timeout: 30_000 });
  const afterPoints = Number(await chart.getAttribute("data-points"));
  assert.ok(afterPoints > before, `chart points ${before} → ${afterPoints}`);
  assert.equal(await page.locator('#workloads tr[data-name="web"] .chart canvas').count(), 2, "uPlot drew the row's two charts");
  await shot("namespace");
  await axe("namespace page");
});

test("workload page: routes, inbound edge from bot, pods with proxy versions; an outdated proxy gets a badge", { skip }, async () => {
  await page.goto(`${url}#/ns/${ns}/deployment/web`);
  await page.locator("#routes tbody tr th").first().waitFor();
  const routes = await page.$$eval("#routes tbody tr", (trs) => trs.map((tr) => tr.textContent ?? ""));
  assert.ok(routes.some((r) => r.startsWith("[DEFAULT]web-svc") && /rps/.test(r)), `routes: ${routes.join(" | ")}`);
  await page.locator("#inbound tbody th").filter({ hasText: `${ns}/bot` }).waitFor();
  const pods = await page.$$eval("#pods tbody tr", (trs) => trs.map((tr) => tr.textContent ?? ""));
  assert.equal(pods.length, 2);
  for (const p of pods) assert.match(p, new RegExp(`^web-\\S+Running${VERSION}$`));
  assert.equal(await page.locator("#outdated-badge").count(), 0);
  const summary = await shownRow("#summary tbody tr");
  agree("deploy/web (workload page)", summary, (await statJson(["deploy/web", "-n", ns]))[0]);
  await page.waitForFunction('[...document.querySelectorAll(".charts .chart")].every((e) => Number(e.getAttribute("data-points")) >= 2)');
  await shot("workload");
  await axe("workload page");

  await page.goto(`${url}#/ns/${ns}/deployment/old`);
  await page.locator("#outdated-badge").waitFor();
  assert.match((await page.textContent("#outdated-badge")) ?? "", /1 proxy older than the control plane/);
  assert.match((await page.textContent("#pods tbody")) ?? "", /stable-2\.13\.0older than the control plane/);
});

test("tap: live rows that honour the path filter; pause stops them; a workload without access logs says so", { skip }, async () => {
  await page.goto(`${url}#/tap`);
  assert.equal(await page.inputValue('input[name="namespace"]'), ns, "the namespace from -n");
  await page.fill('input[name="resource"]', "deploy/web");
  await page.fill('input[name="path"]', "/api/vote");
  await page.click('button[type="submit"]');
  await page.locator("#tap-rows tbody tr").nth(9).waitFor({ timeout: 30_000 });
  const rows = await page.$$eval("#tap-rows tbody tr", (trs) => trs.map((tr) => ({ method: tr.getAttribute("data-method"), path: tr.getAttribute("data-path"), text: tr.textContent ?? "" })));
  for (const r of rows) {
    assert.equal(r.path, "/api/vote", "only the filtered path");
    assert.equal(r.method, "POST");
    assert.match(r.text, new RegExp(`${ns}/web-`), "the receiving pod");
  }
  await shot("tap");
  await axe("tap page");

  await page.click("text=Pause");
  await page.locator("#tap-state").filter({ hasText: "Paused" }).waitFor();
  const newest = () => page.getAttribute("#tap-rows tbody tr:first-child", "data-id");
  const paused = { count: await page.locator("#tap-rows tbody tr").count(), newest: await newest() };
  await wait(2_000); // 20 matching requests/s keep arriving at the proxies meanwhile
  assert.deepEqual({ count: await page.locator("#tap-rows tbody tr").count(), newest: await newest() }, paused, "no rows while paused");
  await page.click("text=Resume");
  await page.waitForFunction(`document.querySelector("#tap-rows tbody tr:first-child")?.getAttribute("data-id") !== ${JSON.stringify(paused.newest)}`, undefined, { timeout: 30_000 });
  await page.click("text=Stop");

  await page.fill('input[name="resource"]', "deploy/old");
  await page.fill('input[name="path"]', "");
  await page.click('button[type="submit"]');
  await page.locator("#tap-failure").waitFor();
  const failure = (await page.textContent("#tap-failure")) ?? "";
  assert.match(failure, /^Access logs are off: /);
  assert.match(failure, /the proxy access log is off in old-/);
  assert.match(failure, /mesh inject --access-log json/);
  await shot("tap-access-log-off");
});

test("check page: `mesh check` fails where the control plane is broken, and passes that check once it is fixed", { skip }, async () => {
  await page.goto(`${url}#/check`);
  await page.locator("#check-default .badge").waitFor({ timeout: 60_000 });
  await page.locator("#check-proxy .badge").waitFor({ timeout: 60_000 });
  assert.equal(await page.textContent("#check-default .badge"), "checks failed");
  // The control plane here is a bare linkerd-config: its heartbeat ServiceAccount is missing.
  const heartbeat = '#check-default li[data-id="l5d-heartbeat-sa"]';
  assert.equal(await page.getAttribute(heartbeat, "data-status"), "error");
  assert.equal(await page.textContent(`${heartbeat} .desc`), "heartbeat ServiceAccount exist");
  assert.match((await page.textContent(`${heartbeat} .err`)) ?? "", /missing ServiceAccounts: linkerd-heartbeat/);
  assert.match((await page.textContent("#check-proxy")) ?? "", /heartbeat ServiceAccount exist/);
  // The CLI names the same first failure.
  const cli = await mesh(["check", "-L", cp, "-o", "json", "--wait", "0s", "--expected-version", VERSION]);
  const doc = JSON.parse(cli.stdout) as { categories: { checks: { description: string; result: string }[] }[] };
  const cliFailed = doc.categories.flatMap((cat) => cat.checks.filter((ch) => ch.result === "error").map((ch) => ch.description));
  assert.equal(cliFailed[0], "heartbeat ServiceAccount exist");
  await shot("check");
  await axe("check page");

  await c.apply(stringify({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "linkerd-heartbeat", labels: { "linkerd.io/control-plane-ns": cp } } }), cp);
  await page.click("text=Run again");
  await page.locator(`${heartbeat}[data-status="ok"]`).waitFor({ timeout: 60_000 });
});

test("keyboard: skip link first, then the main navigation, then the page's own links", { skip }, async () => {
  await page.goto(`${url}#/ns/${ns}`);
  await page.reload(); // a fresh load: focus starts at the document
  await page.locator('#workloads tr[data-name="web"] a').waitFor();
  const order: string[] = [];
  for (let i = 0; i < 6; i++) {
    await page.keyboard.press("Tab");
    order.push(await page.evaluate<string>('(document.activeElement?.textContent ?? "").trim()'));
  }
  assert.deepEqual(order.slice(0, 5), ["Skip to content", "Namespaces", "Tap", "Check", "Namespaces"], "skip link, nav, then the breadcrumb");
  // Enter on a workload link opens its page and focus moves to the content.
  await page.focus('#workloads tr[data-name="web"] a');
  await page.keyboard.press("Enter");
  await page.locator("#routes").waitFor();
  assert.equal(await page.evaluate<string>("document.activeElement?.id"), "main");
});

test("--prometheus-url: the numbers come from Linkerd's queries to a real Prometheus and agree with `mesh viz stat --prometheus-url`", { skip: skip ?? prometheusSkipReason() }, async () => {
  const prom = await startPrometheus(c.state, { namespaces: [ns], scrapeIntervalS: 2, controlPlaneNamespace: cp });
  let child: ChildProcess | undefined;
  try {
    await prom.waitFor(`count(up{job="linkerd-proxy", namespace="${ns}"} == 1)`, (v) => v === 4, 60_000);
    await prom.waitFor(`count(count_over_time(up{job="linkerd-proxy", namespace="${ns}"}[20s]) >= 9)`, (v) => v === 4, 60_000);
    child = spawn(process.execPath, ["bin/mesh.js", "viz", "dashboard", "-L", cp, "--show", "url", "-p", "0", "--interval", "2s", "-t", "15s", "--prometheus-url", prom.url, "--kubeconfig", c.kubeconfig], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
    for (const deadline = Date.now() + 30_000; !/\n/.test(out); await wait(50)) if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no URL: ${err}`);
    assert.match(err, new RegExp(`numbers from ${prom.url.replace(/[.]/g, "\\.")}`));
    type Api = { round: number; source: string; workloads: { name: string; success: number | null; rps: number | null; p50: number | null; p95: number | null; p99: number | null }[] };
    let body: Api | undefined;
    // A later round than the first: each round's queries run over the -t window up to that moment.
    for (const deadline = Date.now() + 30_000; !(body && body.round >= 2 && body.workloads.find((w) => w.name === "web")?.rps); await wait(500)) {
      if (Date.now() > deadline) throw new Error(`no numbers from Prometheus: ${JSON.stringify(body)} ${err}`);
      const res = await fetch(`${out.trim()}api/namespace?ns=${ns}`);
      body = (await res.json()) as Api;
    }
    assert.equal(body!.source, "prometheus");
    const r = await mesh(["viz", "stat", "deploy", "-n", ns, "-L", cp, "-t", "15s", "--prometheus-url", prom.url, "-o", "json"]);
    assert.equal(r.code, 0, r.stderr);
    const stat = JSON.parse(r.stdout) as StatJson[];
    for (const name of ["web", "old"]) {
      const w = body!.workloads.find((x) => x.name === name)!;
      agree(`deploy/${name} (prometheus)`, { success: w.success! * 100, rps: w.rps!, p50: w.p50!, p95: w.p95!, p99: w.p99! }, stat.find((x) => x.name === name)!);
    }
  } finally {
    child?.kill("SIGINT");
    await prom.stop();
  }
});

test("offline: every request the pages made went to the dashboard itself (no CDN, no remote font)", { skip }, () => {
  const origin = new URL(url).origin;
  assert.ok(requested.length > 10, `${requested.length} requests`);
  assert.deepEqual(requested.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith("data:")), []);
});

test("Ctrl-C stops the dashboard cleanly (exit 0)", { skip }, async () => {
  const exited = new Promise<number | null>((resolve) => dashboard.once("exit", (code) => resolve(code)));
  dashboard.kill("SIGINT");
  const timer = setTimeout(() => dashboard.kill("SIGKILL"), 15_000);
  const code = await exited;
  clearTimeout(timer);
  assert.equal(code, 0, stderr);
  assert.doesNotMatch(stderr, /\n\s+at |TypeError|ReferenceError/, "no stack trace");
});
