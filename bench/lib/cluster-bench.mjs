// What the benchmarks that run on the test cluster share: timing a command under GNU time,
// room on the node for many pods, waiting for them, and deleting namespaces at the end.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const log = (s) => process.stderr.write(`${s}\n`);

/** The value after `--name` on the command line, else `dflt`. */
export function option(name, dflt) {
  const argv = process.argv.slice(2);
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
}

/** Writes a bench's one JSON line on stdout. */
export const resultOf = (bench) => (r) => process.stdout.write(`${JSON.stringify({ bench, ...r })}\n`);

/**
 * The test harness for a cluster bench, or exit: a skip line when there is no test cluster here
 * (outside CI), a failure when the CLI is not built.
 */
export async function clusterHarness(bench) {
  const result = resultOf(bench);
  const { tsImport } = await import("tsx/esm/api");
  const harness = await tsImport("../../test/helpers/cluster.ts", import.meta.url);
  const why = harness.testClusterSkipReason();
  if (why) {
    result({ skipped: why });
    process.exit(0);
  }
  if (!existsSync(new URL("../../dist/runtime.js", import.meta.url))) {
    result({ ok: false, error: "the CLI is not built: run `npm run build` first (npm run bench does)" });
    process.exit(1);
  }
  return harness;
}
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** GNU time for exact peak RSS (ru_maxrss of the child); Debian's `time` package, installed if missing. */
export function gnuTime() {
  if (!existsSync("/usr/bin/time") && process.getuid?.() === 0) {
    log("installing Debian's time package for peak RSS...");
    spawnSync("apt-get", ["install", "-y", "-q", "time"], { stdio: ["ignore", "ignore", "inherit"], timeout: 120_000 });
  }
  if (!existsSync("/usr/bin/time")) throw new Error("/usr/bin/time is missing (apt-get install time)");
  return "/usr/bin/time";
}

let time;
/**
 * Runs a command under GNU time; resolves with wall ms (measured here), peak RSS (MiB), CPU
 * seconds and the output; `stdin` is written to its standard input. Killed after `timeoutMs`.
 */
export function measure(cmd, args, { timeoutMs = 120_000, env = process.env, stdin } = {}) {
  time ??= gnuTime();
  const dir = mkdtempSync(join(tmpdir(), "mesh-bench-time-"));
  const out = join(dir, "time");
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const p = spawn(time, ["-f", "%M %U %S", "-o", out, cmd, ...args], { stdio: [stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"], env });
    if (stdin !== undefined) p.stdin.end(stdin);
    const stdout = [];
    let stderr = "";
    p.stdout.on("data", (d) => stdout.push(d));
    p.stderr.setEncoding("utf8").on("data", (d) => (stderr += d));
    const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
    p.on("error", reject);
    p.on("close", (code) => {
      clearTimeout(timer);
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const line = existsSync(out) ? readFileSync(out, "utf8").trim().split("\n").pop() : "";
      rmSync(dir, { recursive: true, force: true });
      const [kb, user, sys] = line.split(/\s+/).map(Number);
      const buf = Buffer.concat(stdout);
      resolve({ code, ms, rssMiB: kb / 1024, cpuS: user + sys, stdout: buf.toString("utf8"), stdoutBytes: buf.length, stderr });
    });
  });
}

/** A Kubernetes quantity without a unit or with a decimal SI suffix ("2k" pods) as a number. */
const quantity = (q) => {
  const m = /^(\d+(?:\.\d+)?)([kMG]?)$/.exec(String(q ?? ""));
  return m ? Number(m[1]) * { "": 1, k: 1e3, M: 1e6, G: 1e9 }[m[2]] : 0;
};

/**
 * The node stand-in registers a fixed capacity that the scheduler counts every pod against (the
 * bench's, and those of tests running beside it): make room for `pods` more, including the CPU and
 * memory that injected proxies request (100m and 20Mi each by default).
 */
export async function makeRoomForPods(c, pods) {
  const node = await c.api.get(`/api/v1/nodes/${c.state.nodeName}`);
  const existing = (await c.api.get(`/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${c.state.nodeName}`)}`)).items.length;
  const alloc = node.status?.allocatable ?? {};
  const want = { pods: existing + pods + 200, cpu: Math.ceil((existing + pods + 200) * 0.2) };
  if (quantity(alloc.pods) >= want.pods && quantity(alloc.cpu) >= want.cpu) return;
  const capacity = { pods: String(Math.max(2000, want.pods)), cpu: String(Math.max(16, want.cpu)), memory: "1Ti" };
  log(`node ${c.state.nodeName} allows ${alloc.pods} pods and ${alloc.cpu} CPUs (${existing} pods present): raising them to ${capacity.pods} and ${capacity.cpu}`);
  await c.api.mergePatch(`/api/v1/nodes/${c.state.nodeName}/status`, { status: { capacity, allocatable: capacity } });
}

const isReady = (p) => !p.metadata.deletionTimestamp && p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");

/** Waits until exactly `count` pods matching `selector` in `namespaces` are Ready; seconds taken. */
export async function waitForReadyPods(c, { selector, namespaces, count, timeoutMs = 300_000 }) {
  const start = Date.now();
  for (let lastLog = 0; ; ) {
    const pods = (await c.api.get(`/api/v1/pods?labelSelector=${encodeURIComponent(selector)}`)).items.filter((p) => namespaces.includes(p.metadata.namespace));
    const ready = pods.filter(isReady).length;
    if (ready === count && pods.length === count) return (Date.now() - start) / 1000;
    if (Date.now() - start > timeoutMs) throw new Error(`only ${ready} of ${count} pods Ready after ${timeoutMs / 1000} s (${pods.length} exist)`);
    if (Date.now() - lastLog > 10_000) {
      log(`  ${pods.length} pods, ${ready} Ready (${((Date.now() - start) / 1000).toFixed(0)} s)`);
      lastLog = Date.now();
    }
    await sleep(1000);
  }
}

/** Deletes the namespaces and waits (bounded) until they are gone. */
export async function deleteNamespaces(c, namespaces, timeoutMs = 180_000) {
  log(`deleting ${namespaces.length} namespaces...`);
  for (const ns of namespaces) await c.deleteNamespace(ns).catch((e) => log(`delete ${ns}: ${e.message}`));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = (await c.api.get("/api/v1/namespaces").catch(() => ({ items: [] }))).items.filter((n) => namespaces.includes(n.metadata.name)).length;
    if (left === 0) return;
    if (Date.now() > deadline) return log(`warning: ${left} namespaces still terminating after ${timeoutMs / 1000} s`);
    await sleep(1000);
  }
}

/**
 * A Deployment of `replicas` proxy stand-ins serving the traffic model's `flows`
 * (test/cluster/traffic-model.ts), as the cluster benchmarks create them: `labels` join the pod
 * template's, `appPorts` are the app container's, `proxyEnv` and `proxyPorts` the linkerd-proxy
 * container's (its admin port by default).
 */
export function meshedDeployment({ name, namespace, replicas, flows, labels = {}, appPorts, proxyEnv, proxyPorts = [{ name: "linkerd-admin", containerPort: 4191 }] }) {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: namespace === undefined ? { name } : { name, namespace },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: {
          labels: { app: name, ...labels, "linkerd.io/control-plane-ns": "linkerd", "linkerd.io/proxy-deployment": name },
          annotations: { "mesh.test/traffic": JSON.stringify({ flows }) },
        },
        spec: {
          containers: [
            { name: "app", image: "example/app:1", ...(appPorts ? { ports: appPorts } : {}) },
            { name: "linkerd-proxy", image: "cr.l5d.io/linkerd/proxy:stable-2.14.10", ...(proxyEnv ? { env: proxyEnv } : {}), ports: proxyPorts },
          ],
        },
      },
    },
  };
}
