// `mesh viz tap` under load in the real test cluster (issue 12): one Deployment of 50 meshed pods
// whose proxy stand-ins each write 200 JSON access-log lines per second (the traffic model's
// inbound rps; test/cluster/access-log.ts), 10,000 requests/s in all. Runs the built bin
// (`npm run build` first) for 60 s with stdout into a pipe this script counts:
//   mesh viz tap deploy/tap -n NS --max-rps 100000     (the default --max-rps 100 would sample)
// Shows whether it keeps up: requests shown per 10 s window against the model's 100,000, and the
// backlog at each window's end (requests the model made since each pod's first event minus those
// shown, in seconds of traffic) — a backlog that grows is falling behind. States mesh's CPU (from
// /proc/<pid>/stat, per window and in all) and peak RSS (GNU time's %M).
// Target: every window after the first within 5 % of the model's rate, the final backlog <= 2 s,
// no events dropped after the first window (mesh drops rather than lag when its 4 MB stdout queue
// fills, i.e. when the reader stalls; drops while the 50 streams attach are reported, not failed).
// Baseline in the same run: the same 50 streams read with the cluster's kubectl,
//   kubectl logs -f -l app=tap -c linkerd-proxy --max-log-requests 50 --timestamps --prefix --tail=0
// counted the same way (log lines are requests), with the lag of its lines' kubelet timestamps.
// Human-readable lines go to stderr, one JSON line on stdout (`ok`: target met).
//   npm run build && node bench/viz-tap.mjs [--pods 50] [--rps 200] [--seconds 60]
// Needs the test cluster (root; see test/cluster/README.md). Its namespace is deleted at the end.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { clusterHarness, gnuTime, log, meshedDeployment, option as opt, resultOf, sleep } from "./lib/cluster-bench.mjs";

const PODS = Number(opt("--pods", 50));
const RPS = Number(opt("--rps", 200));
const SECONDS = Number(opt("--seconds", 60));
const WINDOW_S = 10;
const TARGET_RATE_SHARE = 0.95;
const TARGET_BACKLOG_S = 2;
const FIRST_EVENT_TIMEOUT_MS = 60_000;

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = join(root, "bin", "mesh.js");
const result = resultOf("viz-tap");
const CLK_TCK = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

const { connectTestCluster } = await clusterHarness("viz-tap");
let TIME;
try {
  TIME = gnuTime();
} catch (e) {
  result({ ok: false, error: e.message });
  process.exit(1);
}
const tmp = mkdtempSync(join(tmpdir(), "mesh-bench-viz-tap-"));

/** CPU seconds (user + system) of a live process, from /proc/<pid>/stat; undefined once it is gone. */
function cpuOf(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return undefined;
  }
}
function rssOf(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Follows one reader for SECONDS from its first line: `cmd` runs under GNU time (peak RSS); the
 * measured process is time's child. `parseLine(buf, start, end, now)` sees every line and returns
 * the pod key of a request line (or undefined); it may also record lag itself.
 */
async function follow(label, cmd, args, parseLine) {
  const timeOut = join(tmp, `time-${label}`);
  const t = spawn(TIME, ["-f", "%M %U %S", "-o", timeOut, cmd, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  let droppedSoFar = 0; // mesh's "dropped N events" warnings, as they arrive
  t.stderr.setEncoding("utf8").on("data", (d) => {
    if (stderr.length < 100_000) stderr += d;
    for (const m of d.matchAll(/dropped (\d+) event/g)) droppedSoFar += Number(m[1]);
  });
  const exited = new Promise((r) => t.once("close", (code, signal) => r(code ?? signal)));
  // time's child is the process measured.
  let pid;
  for (let i = 0; i < 100 && !pid; i++) {
    try {
      pid = Number(readFileSync(`/proc/${t.pid}/task/${t.pid}/children`, "utf8").trim().split(/\s+/)[0]) || undefined;
    } catch {
      /* not yet */
    }
    if (!pid) await sleep(20);
  }
  if (!pid) throw new Error(`${label}: could not find the process under /usr/bin/time`);

  const perPod = new Map(); // key -> { first: ms, n }
  let lines = 0;
  let requests = 0;
  let firstAt;
  let carry;
  // Kept cheap (the reader shares the 2 cores with mesh and the cluster): only a partial last line
  // is copied over to the next chunk.
  t.stdout.on("data", (chunk) => {
    const now = Date.now();
    let buf = chunk;
    if (carry) {
      buf = Buffer.concat([carry, chunk]);
      carry = undefined;
    }
    const last = buf.lastIndexOf(10);
    if (last === -1) {
      carry = buf;
      return;
    }
    if (last < buf.length - 1) carry = Buffer.from(buf.subarray(last + 1));
    for (let start = 0, nl = buf.indexOf(10); nl !== -1 && nl <= last; start = nl + 1, nl = buf.indexOf(10, start)) {
      lines++;
      const key = parseLine(buf, start, nl, now);
      if (key === undefined) continue;
      requests++;
      firstAt ??= now;
      const p = perPod.get(key);
      if (p) p.n++;
      else perPod.set(key, { first: now, n: 1 });
    }
  });

  const deadline = Date.now() + FIRST_EVENT_TIMEOUT_MS;
  while (firstAt === undefined) {
    if (t.exitCode !== null || Date.now() > deadline) {
      t.kill("SIGKILL");
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* gone */
      }
      throw new Error(`${label}: no request line within ${FIRST_EVENT_TIMEOUT_MS / 1000} s (exit ${t.exitCode}): ${stderr.slice(-500)}`);
    }
    await sleep(50);
  }
  log(`${label}: first request after ${((firstAt - (deadline - FIRST_EVENT_TIMEOUT_MS)) / 1000).toFixed(2)} s; measuring ${SECONDS} s`);
  const windows = [];
  let prevReq = requests;
  let prevLines = lines;
  let prevCpu = cpuOf(pid) ?? 0;
  let prevDropped = 0;
  const cpuAtFirst = prevCpu;
  let maxRss = 0;
  for (let w = 0; w * WINDOW_S < SECONDS; w++) {
    const end = firstAt + (w + 1) * WINDOW_S * 1000;
    while (Date.now() < end) {
      maxRss = Math.max(maxRss, rssOf(pid) ?? 0);
      await sleep(Math.min(500, Math.max(1, end - Date.now())));
    }
    const now = Date.now();
    const cpu = cpuOf(pid) ?? prevCpu;
    // Backlog: what the model made since each pod's first event, minus what was shown, in seconds.
    let made = 0;
    let shown = 0;
    for (const p of perPod.values()) {
      made += (RPS * (now - p.first)) / 1000 + 1;
      shown += p.n;
    }
    windows.push({
      requests: requests - prevReq,
      lines: lines - prevLines,
      rateShare: +((requests - prevReq) / (PODS * RPS * WINDOW_S)).toFixed(3),
      backlogS: +((made - shown) / (RPS * Math.max(1, perPod.size))).toFixed(2),
      pods: perPod.size,
      cpuPct: +((100 * (cpu - prevCpu)) / WINDOW_S).toFixed(1),
      ...(droppedSoFar ? { dropped: droppedSoFar - prevDropped } : {}),
    });
    prevDropped = droppedSoFar;
    log(`${label} ${(w + 1) * WINDOW_S}s: ${JSON.stringify(windows[windows.length - 1])}`);
    prevReq = requests;
    prevLines = lines;
    prevCpu = cpu;
  }
  const cpuMeasured = (cpuOf(pid) ?? prevCpu) - cpuAtFirst;
  process.kill(pid, "SIGINT");
  const killer = setTimeout(() => {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }, 15_000);
  const code = await exited;
  clearTimeout(killer);
  const [kb, user, sys] = (existsSync(timeOut) ? readFileSync(timeOut, "utf8").trim().split("\n").pop() : "").split(/\s+/).map(Number);
  return {
    windows,
    requests: windows.reduce((s, w) => s + w.requests, 0),
    podsSeen: perPod.size,
    cpuPct: +((100 * cpuMeasured) / SECONDS).toFixed(1),
    cpuSecondsTotal: +(user + sys).toFixed(2),
    peakRssMiB: +(kb / 1024).toFixed(1),
    sampledRssMiB: +maxRss.toFixed(1),
    exit: code,
    stderr,
  };
}

const c = await connectTestCluster();
let ns;
let exitCode = 0;
try {
  ns = await c.newNamespace("bench-tap");
  log(`namespace ${ns}: Deployment tap, ${PODS} pods × ${RPS} access-log lines/s...`);
  const flows = [{ direction: "inbound", rps: RPS, successRate: 0.99, latencyMs: [{ ms: 3, weight: 9 }, { ms: 30, weight: 1 }], method: "GET", path: "/api/list", authority: `tap.${ns}.svc.cluster.local:80` }];
  await c.kubectl(["apply", "-n", ns, "-f", "-"], {
    stdin: JSON.stringify(
      meshedDeployment({
        name: "tap",
        replicas: PODS,
        flows,
        appPorts: [{ name: "http", containerPort: 8080 }],
        proxyEnv: [{ name: "LINKERD2_PROXY_ACCESS_LOG", value: "json" }],
      }),
    ),
  });
  await c.waitForPods(ns, "app=tap", { count: PODS, timeoutMs: 180_000 });
  const load = loadavg()[0];

  // mesh: `req id=BASE:STREAM ...` lines are requests (rsp and end lines follow each), BASE is the pod.
  const REQ = Buffer.from("req id=");
  const mesh = await follow("mesh", process.execPath, [bin, "viz", "tap", "deploy/tap", "-n", ns, "--max-rps", "100000", "--kubeconfig", c.kubeconfig], (buf, s, e) => {
    if (buf[s] !== 114 || buf[s + 1] !== 101 || buf[s + 2] !== 113 || buf.compare(REQ, 0, REQ.length, s, s + REQ.length) !== 0) return undefined; // "req id="
    return buf.toString("latin1", s + REQ.length, buf.indexOf(58, s + REQ.length)); // up to ':'
  });
  const dropped = [...mesh.stderr.matchAll(/dropped (\d+) event/g)].reduce((s, m) => s + Number(m[1]), 0);
  // Events mesh dropped (its stdout queue full: the reader stalled) once the streams were attached.
  const droppedLater = mesh.windows.slice(1).reduce((s, w) => s + (w.dropped ?? 0), 0);

  // kubectl: `[pod/NAME/linkerd-proxy] TIMESTAMP {json}`; every access-log line is a request.
  const lags = [];
  let n = 0;
  const kubectl = await follow(
    "kubectl",
    c.state.kubectl,
    ["--kubeconfig", c.kubeconfig, "logs", "-f", "-l", "app=tap", "-n", ns, "-c", "linkerd-proxy", "--max-log-requests", String(PODS), "--timestamps", "--prefix", "--tail=0"],
    (buf, s, e, now) => {
      const close = buf.indexOf(93, s); // ']'
      if (buf[s] !== 91 || close < 0 || close > e) return undefined; // '['
      if (++n % 100 === 0) {
        const ts = buf.toString("latin1", close + 2, buf.indexOf(32, close + 2));
        const at = Date.parse(ts);
        if (!Number.isNaN(at)) lags.push(now - at);
      }
      return buf.toString("latin1", s, close);
    },
  );
  lags.sort((a, b) => a - b);
  const pct = (q) => (lags.length ? Math.round(lags[Math.min(lags.length - 1, Math.floor(q * lags.length))]) : null);

  const model = PODS * RPS;
  const later = mesh.windows.slice(1);
  const keepsUp = later.every((w) => w.rateShare >= TARGET_RATE_SHARE) && mesh.windows[mesh.windows.length - 1].backlogS <= TARGET_BACKLOG_S && droppedLater === 0 && mesh.podsSeen === PODS;
  const summary = (r) => ({
    requestsPerS: Math.round(r.requests / SECONDS),
    windows: r.windows,
    podsSeen: r.podsSeen,
    cpuPct: r.cpuPct,
    cpuSecondsTotal: r.cpuSecondsTotal,
    peakRssMiB: r.peakRssMiB,
  });
  result({
    pods: PODS,
    linesPerPodPerS: RPS,
    modelRequestsPerS: model,
    seconds: SECONDS,
    load: +load.toFixed(2),
    mesh: { ...summary(mesh), droppedEvents: dropped, droppedAfterFirstWindow: droppedLater, exit: mesh.exit },
    baseline: { command: "kubectl logs -f -l app=tap --max-log-requests 50 --timestamps --prefix --tail=0", ...summary(kubectl), lagMs: { p50: pct(0.5), p99: pct(0.99), max: lags.length ? Math.round(lags[lags.length - 1]) : null } },
    targets: { windowRateShare: TARGET_RATE_SHARE, finalBacklogS: TARGET_BACKLOG_S, droppedAfterFirstWindow: 0 },
    ok: keepsUp && mesh.exit === 0,
    ...(mesh.exit !== 0 || dropped ? { meshStderr: mesh.stderr.slice(-1000) } : {}),
  });
} catch (e) {
  result({ ok: false, error: e.message });
  exitCode = 1;
} finally {
  if (ns) {
    await c.deleteNamespace(ns).catch((e) => log(`delete ${ns}: ${e.message}`));
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && (await c.api.find(`/api/v1/namespaces/${ns}`).catch(() => undefined))) await sleep(1000);
  }
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(exitCode);
