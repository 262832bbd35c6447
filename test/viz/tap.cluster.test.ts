// `mesh viz tap` against the real test cluster, through the built CLI (bin/mesh.js, run
// `npm run build` first) as a child process ended with SIGINT: events come from the proxy
// stand-ins' JSON access logs (test/cluster/README.md), followed through the real API server's
// pods/log. Checks the model's method/path/authority/status in the line and JSON formats, each
// filter, --max-rps, pods without access logs, and a pod replaced mid-tap.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { connectTestCluster, testClusterSkipReason, type TestCluster } from "../helpers/cluster.js";

const skip = testClusterSkipReason();
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

let c: TestCluster;
let ns: string;
let authority: string;

interface Flow {
  direction: "inbound";
  rps: number;
  successRate?: number;
  method: string;
  path: string;
  authority: string;
  from?: { selector: Record<string, string> };
}

function deployment(name: string, o: { flows?: Flow[]; accessLog?: boolean } = {}): string {
  const env = o.accessLog ? [{ name: "LINKERD2_PROXY_ACCESS_LOG", value: "json" }] : [];
  return stringify({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: {
          labels: { app: name, "linkerd.io/control-plane-ns": "linkerd", "linkerd.io/proxy-deployment": name },
          annotations: o.flows ? { "mesh.test/traffic": JSON.stringify({ flows: o.flows }) } : {},
        },
        spec: {
          containers: [
            { name: "app", image: "example/app:1", ports: [{ name: "http", containerPort: 8080 }] },
            { name: "linkerd-proxy", image: "cr.l5d.io/linkerd/proxy:stable-2.14.10", env, ports: [{ name: "linkerd-admin", containerPort: 4191 }] },
          ],
        },
      },
    },
  });
}

/** A running `mesh viz tap`: its output so far, waits on it, and SIGINT. */
interface Tap {
  stdout(): string;
  stderr(): string;
  waitFor(pred: (out: string, err: string) => boolean, what: string, ms?: number): Promise<void>;
  interrupt(): Promise<number | null>;
  exited: Promise<number | null>;
}

function tap(args: string[]): Tap {
  const child = spawn(process.execPath, ["bin/mesh.js", "viz", "tap", ...args, "--kubeconfig", c.kubeconfig], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    stdout: () => out,
    stderr: () => err,
    async waitFor(pred, what, ms = 30_000) {
      const deadline = Date.now() + ms;
      while (!pred(out, err)) {
        if (child.exitCode !== null) throw new Error(`tap exited (${child.exitCode}) before ${what}: ${err}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; stderr: ${err}`);
        await sleep(50);
      }
    },
    async interrupt() {
      if (child.exitCode === null) child.kill("SIGINT");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    exited,
  };
}

/** Runs tap until `pred`, then interrupts it; asserts a clean exit (0, no stack trace). */
async function tapUntil(args: string[], pred: (out: string, err: string) => boolean, what: string): Promise<{ stdout: string; stderr: string }> {
  const t = tap(args);
  try {
    await t.waitFor(pred, what);
  } finally {
    const code = await t.interrupt();
    assert.equal(code, 0, `exit code after SIGINT; stderr: ${t.stderr()}`);
  }
  assert.doesNotMatch(t.stderr(), /\n\s+at |TypeError|ReferenceError/, "no stack trace");
  return { stdout: t.stdout(), stderr: t.stderr() };
}

const reqLines = (out: string) => out.split("\n").filter((l) => l.startsWith("req "));
const count = (re: RegExp) => (out: string) => out.split("\n").filter((l) => re.test(l)).length;

/** The pretty-printed JSON events of `-o json` (one object per event, each ending in a line "}"). */
function jsonEvents(out: string): Record<string, any>[] {
  const chunks = out.split(/(?<=^})\n/m).filter((s) => s.trim());
  // The last chunk may be cut by the interrupt: keep only complete objects.
  return chunks.flatMap((s) => {
    try {
      return [JSON.parse(s) as Record<string, any>];
    } catch {
      return [];
    }
  });
}

let botIp = "";
let webIp = "";

before(async () => {
  if (skip) return;
  c = await connectTestCluster();
  ns = await c.newNamespace("tap");
  authority = `web-svc.${ns}.svc.cluster.local:80`;
  const from = { selector: { app: "bot" } };
  await c.apply(
    [
      deployment("bot"),
      deployment("web", {
        accessLog: true,
        flows: [
          { direction: "inbound", rps: 20, successRate: 0.8, method: "GET", path: "/api/list", authority, from },
          { direction: "inbound", rps: 10, method: "POST", path: "/api/vote", authority: `other.${ns}.svc.cluster.local:80` },
        ],
      }),
      deployment("nolog", { flows: [{ direction: "inbound", rps: 5, method: "GET", path: "/", authority }] }),
      stringify({ apiVersion: "v1", kind: "Service", metadata: { name: "web-svc" }, spec: { selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080 }] } }),
    ].join("---\n"),
    ns,
  );
  const [[bot], [web]] = await Promise.all([c.waitForPods(ns, "app=bot", { count: 1 }), c.waitForPods(ns, "app=web", { count: 1 }), c.waitForPods(ns, "app=nolog", { count: 1 })]);
  botIp = (bot.status as { podIP: string }).podIP;
  webIp = (web.status as { podIP: string }).podIP;
});

after(async () => {
  if (!skip && c && ns) await c.deleteNamespace(ns);
});

test("tap deploy/web: req, rsp and end lines with the model's method, path, authority and status", { skip }, async () => {
  const { stdout } = await tapUntil(["deploy/web", "-n", ns], (out) => count(/^end /)(out) >= 30, "30 complete requests");
  const lines = stdout.split("\n").filter(Boolean);
  const seen = new Set<string>();
  for (const l of lines) {
    const m = /^(req|rsp|end) id=(\d+):(\d+) proxy=in {2}src=([\d.]+):(\d+) dst=([\d.]+):(\d+) tls=(\S*) (.*)$/.exec(l);
    assert.ok(m, `line format: ${l}`);
    assert.equal(m[6], webIp);
    assert.equal(m[7], "8080", "the Service's targetPort (or the pod's only port)");
    if (m[1] === "req") {
      const r = /^:method=(\S+) :authority=(\S+) :path=(\S+)$/.exec(m[9]);
      assert.ok(r, l);
      seen.add(`${r[1]} ${r[2]} ${r[3]}`);
      if (r[1] === "GET") {
        assert.equal(m[4], botIp, "the GET flow comes from the bot pod");
        assert.equal(m[8], "true", "meshed client: mTLS");
      }
    } else if (m[1] === "rsp") assert.match(m[9], /^:status=(200|500) latency=\d+µs$/);
    else assert.match(m[9], /^duration=\d+µs response-length=\d+B$/);
  }
  assert.deepEqual([...seen].sort(), [`GET ${authority} /api/list`, `POST other.${ns}.svc.cluster.local:80 /api/vote`]);
  assert.ok(lines.some((l) => /^rsp .*:status=500 /.test(l)), "the model's failures show as 500s");
  // every request's three events, in order, share an id
  const ids = new Map<string, string[]>();
  for (const l of lines) {
    const [kind, id] = l.split(" ");
    ids.set(id, [...(ids.get(id) ?? []), kind]);
  }
  for (const [id, kinds] of ids) if (kinds.length === 3) assert.deepEqual(kinds, ["req", "rsp", "end"], id);
});

test("tap -o json: one indented object per event", { skip }, async () => {
  const { stdout } = await tapUntil(["deploy/web", "-n", ns, "-o", "json"], (out) => jsonEvents(out).length >= 9, "9 events");
  const events = jsonEvents(stdout);
  assert.ok(stdout.startsWith('{\n  "source": {'));
  for (const e of events) {
    assert.deepEqual(Object.keys(e).slice(0, 4), ["source", "destination", "routeMeta", "proxyDirection"]);
    assert.equal(e.proxyDirection, "INBOUND");
    assert.equal(e.destination.ip, webIp);
    assert.equal(e.destination.metadata.deployment, "web");
    assert.equal(e.destination.metadata.namespace, ns);
  }
  const req = events.find((e) => e.requestInitEvent && e.requestInitEvent.method === "GET");
  assert.ok(req, "a GET request");
  assert.deepEqual(
    { method: req.requestInitEvent.method, scheme: req.requestInitEvent.scheme, authority: req.requestInitEvent.authority, path: req.requestInitEvent.path },
    { method: "GET", scheme: "HTTP", authority, path: "/api/list" },
  );
  assert.equal(req.source.ip, botIp);
  assert.equal(req.source.metadata.pod.startsWith("bot-"), true, "the client pod's labels");
  assert.equal(req.source.metadata.tls, "true");
  const rsp = events.find((e) => e.responseInitEvent);
  assert.ok([200, 500].includes(rsp!.responseInitEvent.httpStatus));
  const end = events.find((e) => e.responseEndEvent);
  assert.equal(typeof end!.responseEndEvent.responseBytes, "number");
});

test("filters: --path, --method, --authority and --to", { skip }, async () => {
  const path = await tapUntil(["deploy/web", "-n", ns, "--path", "/api/vo"], (out) => reqLines(out).length >= 5, "5 requests");
  for (const l of reqLines(path.stdout)) assert.match(l, /:method=POST .*:path=\/api\/vote$/);

  const method = await tapUntil(["deploy/web", "-n", ns, "--method", "get"], (out) => reqLines(out).length >= 5, "5 requests");
  for (const l of reqLines(method.stdout)) assert.match(l, /:method=GET .*:path=\/api\/list$/);

  const auth = await tapUntil(["deploy/web", "-n", ns, "--authority", `other.${ns}.svc.cluster.local:80`], (out) => reqLines(out).length >= 5, "5 requests");
  for (const l of reqLines(auth.stdout)) assert.match(l, new RegExp(`:authority=other\\.${ns}\\.svc\\.cluster\\.local:80 `));

  // --to: the destination's pods are followed; only requests from the target's pods are kept.
  const to = await tapUntil(["deploy/bot", "-n", ns, "--to", "deploy/web"], (out) => reqLines(out).length >= 5, "5 requests");
  for (const l of reqLines(to.stdout)) {
    assert.match(l, new RegExp(`src=${botIp.replace(/\./g, "\\.")}:\\d+ dst=${webIp.replace(/\./g, "\\.")}:8080`));
    assert.match(l, /:path=\/api\/list$/);
  }
});

test("--max-rps bounds how many requests are shown", { skip }, async () => {
  const t = tap(["deploy/web", "-n", ns, "--max-rps", "2"]);
  let started = 0;
  try {
    await t.waitFor((out) => reqLines(out).length >= 1, "the first request");
    started = Date.now();
    await sleep(3000);
  } finally {
    assert.equal(await t.interrupt(), 0, t.stderr());
  }
  const seconds = (Date.now() - started) / 1000;
  const n = reqLines(t.stdout()).length;
  // The model sends 30 rps; 2 per one-second window may pass (plus the window the first one opened).
  assert.ok(n <= 2 * (Math.ceil(seconds) + 1), `${n} requests shown in ${seconds.toFixed(1)}s with --max-rps 2`);
  assert.ok(n >= 2, `${n} requests shown`);
});

test("pods without an access log: named with the fix; exit 1 when none remains", { skip }, async () => {
  const none = tap(["deploy/nolog", "-n", ns]);
  const code = await Promise.race([none.exited, sleep(30_000).then(() => "timeout" as const)]);
  if (code === "timeout") await none.interrupt();
  assert.equal(code, 1, none.stderr());
  assert.match(none.stderr(), /^error: no pods to tap for deployment\/nolog: the proxy access log is off in nolog-/m);
  assert.match(none.stderr(), new RegExp(`kubectl get deploy/nolog -n ${ns} -o yaml \\| mesh inject --access-log json - \\| kubectl apply -f -`));
  assert.doesNotMatch(none.stderr(), /\n\s+at /);
  assert.equal(none.stdout(), "");

  // The namespace: web is tapped, nolog is named with the fix, bot (no access log either) too.
  const all = await tapUntil([`ns/${ns}`], (out, err) => reqLines(out).length >= 3 && /not tapping/.test(err), "requests and the warning");
  assert.match(all.stderr, /not tapping pods whose proxy writes no access log: .*nolog-/);
  assert.match(all.stderr, /mesh inject --access-log json/);
  for (const l of reqLines(all.stdout)) assert.match(l, new RegExp(`dst=${webIp.replace(/\./g, "\\.")}:`));
});

test("a pod deleted mid-tap is detached; its replacement is attached and tapped", { skip }, async () => {
  const t = tap(["deploy/web", "-n", ns]);
  try {
    await t.waitFor((out) => reqLines(out).length >= 3, "requests from the first pod");
    const [old] = await c.waitForPods(ns, "app=web", { count: 1 });
    await c.kubectl(["delete", "pod", old.metadata.name, "-n", ns, "--grace-period=0", "--wait=true"]);
    const [fresh] = await until(async () => {
      const pods = await c.waitForPods(ns, "app=web", { count: 1 });
      return pods[0].metadata.name !== old.metadata.name ? pods : undefined;
    }, "the replacement pod");
    const freshIp = (fresh.status as { podIP: string }).podIP;
    await t.waitFor((_, err) => err.includes(`detached pod ${ns}/${old.metadata.name}`), "the detach line");
    await t.waitFor((_, err) => err.includes(`attached pod ${ns}/${fresh.metadata.name}`), "the attach line");
    await t.waitFor((out) => reqLines(out).some((l) => l.includes(` dst=${freshIp}:8080 `)), "requests from the new pod");
  } finally {
    assert.equal(await t.interrupt(), 0, t.stderr());
  }
  assert.doesNotMatch(t.stderr(), /\n\s+at /);
  webIp = (await c.waitForPods(ns, "app=web", { count: 1 }))[0].status!.podIP as string;
});

async function until<T>(f: () => Promise<T | undefined>, what: string, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
