// `mesh check` on a healthy install in the real test cluster, with 50 ms added to every API
// response by the fault proxy. Reports the median wall time, mesh's start-up time (`mesh version
// --client`), the API requests one run makes and the round-trip depth they imply:
//   depth = (median check time - median start-up) / 50 ms
// Target: depth <= 10, i.e. <= 0.6 s on top of start-up.
//   node bench/check.mjs [runs]        (needs the test cluster: root and built binaries; see test/cluster/README.md)
import { spawnSync, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { tsImport } from "tsx/esm/api";

const runs = Number(process.argv[2] ?? 7);
const LATENCY_MS = 50;
const bin = fileURLToPath(new URL("../bin/mesh.js", import.meta.url));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function timeMesh(args, env = {}) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const p = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    let out = "";
    let err = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    p.on("error", reject);
    p.on("exit", (code) => resolve({ ms: Number(process.hrtime.bigint() - start) / 1e6, code, out, err }));
  });
}

const { connectTestCluster, testClusterSkipReason } = await tsImport("../test/helpers/cluster.ts", import.meta.url);
const { installLinkerd, uninstallLinkerd } = await tsImport("../test/checks/install-on-cluster.ts", import.meta.url);
const why = testClusterSkipReason();
if (why) {
  process.stdout.write(`${JSON.stringify({ bench: "check", skipped: why })}\n`);
  process.exit(0);
}
const c = await connectTestCluster();
const cp = `bench-${Math.random().toString(36).slice(2, 8)}`;
process.stderr.write(`installing Linkerd into ${cp}...\n`);
await installLinkerd(c, cp);
const fp = await c.startFaultProxy();
try {
  fp.setFaults([{ latencyMs: LATENCY_MS }]);
  const args = ["check", "-L", cp, "--kubeconfig", fp.kubeconfig, "--expected-version", "stable-2.14.10", "-o", "short"];
  // warm up (file cache, the API server's caches)
  await timeMesh(args);
  spawnSync(process.execPath, [bin, "version", "--client"]);
  const checkMs = [];
  const startupMs = [];
  let requests = 0;
  let last;
  for (let i = 0; i < runs; i++) {
    fp.resetCounts();
    last = await timeMesh(args);
    requests = fp.count();
    checkMs.push(last.ms);
    startupMs.push((await timeMesh(["version", "--client"])).ms);
  }
  // A healthy install passes every check; any failure or warning is a bench failure.
  const problems = last.out.split("\n").filter((l) => /^[×‼] /.test(l));
  const healthy = problems.length === 0 && last.code === 0;
  const run = median(checkMs) - median(startupMs);
  const depth = run / LATENCY_MS;
  const result = {
    bench: "check",
    runs,
    addedLatencyMs: LATENCY_MS,
    checkMedianMs: +median(checkMs).toFixed(0),
    startupMedianMs: +median(startupMs).toFixed(0),
    checkMinusStartupMs: +run.toFixed(0),
    roundTripDepth: +depth.toFixed(1),
    apiRequests: requests,
    targetDepth: 10,
    ok: healthy && depth <= 10,
    ...(healthy ? {} : { unexpected: problems, stderr: last.err }),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await fp.close();
  await uninstallLinkerd(c, cp);
}
process.exit(0);
