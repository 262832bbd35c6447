// `mesh viz stat` at scale in the real test cluster (issue 12): 500 meshed pods (20 namespaces ×
// 5 Deployments × 5 replicas by default), each proxy stand-in serving /metrics from a small traffic
// model (one inbound flow from the previous Deployment's pods, one outbound flow to the next
// Deployment's Service: ~75 KB of /metrics per pod, 4 KB gzipped). Runs the built bin (`npm run build` first):
//   mesh viz stat deploy -A --interval 10s -o json --verbose
// Targets: wall time <= the sampling interval + 1 s (start-up, listing, two scrape rounds of every
// pod and the output all fit in one second beside the interval); peak RSS <= 150 MB (GNU time's
// %M). Also checks the numbers (one row per Deployment, RPS within 5 % of the model), and
// reports the API requests and bytes that `--verbose` prints.
// Baselines from the same run: `node -e 0` and the cluster's `kubectl get pods -A -o json` (the
// one list call every client of a 500-pod cluster makes), wall time and peak RSS.
// Human-readable lines go to stderr, one JSON line on stdout (`ok`: every target met).
//   npm run build && node bench/viz-stat.mjs [--namespaces 20] [--deployments 5] [--replicas 5] [--interval 10s] [--runs 3]
//     [--bin PATH (another build's bin/mesh.js, to compare; run as given, not copied)]
// `--hold` sets the pods up, prints the kubeconfig and waits for SIGINT/SIGTERM (then cleans up):
// for profiling mesh by hand against the same cluster (`node --cpu-prof bin/mesh.js viz stat …`).
// Needs the test cluster (root; see test/cluster/README.md): uses the one `npm run cluster:up`
// started, else starts a private one. Its namespaces are deleted at the end, also on failure.
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { clusterHarness, deleteNamespaces, log, makeRoomForPods, measure, median, meshedDeployment, option as opt, resultOf, waitForReadyPods } from "./lib/cluster-bench.mjs";

const argv = process.argv.slice(2);
const NAMESPACES = Number(opt("--namespaces", 20));
const DEPLOYMENTS = Number(opt("--deployments", 5));
const REPLICAS = Number(opt("--replicas", 5));
const INTERVAL = opt("--interval", "10s");
const RUNS = Number(opt("--runs", 3));
const HOLD = argv.includes("--hold");
const PODS = NAMESPACES * DEPLOYMENTS * REPLICAS;
const INBOUND_RPS = 10;
const TARGET_RSS_MB = 150;
const SETUP_TIMEOUT_MS = 300_000;

const root = fileURLToPath(new URL("..", import.meta.url));
const result = resultOf("viz-stat");
const intervalMs = (() => {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(INTERVAL);
  if (!m) throw new Error(`--interval ${INTERVAL}: give e.g. 10s`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[m[2]];
})();
const TARGET_MS = intervalMs + 1000;

const { connectTestCluster } = await clusterHarness("viz-stat");

const tmp = mkdtempSync(join(tmpdir(), "mesh-bench-viz-stat-"));
// Without --bin the runs use a copy of the built CLI taken now: a build of dist/ during the runs
// (the tree may be shared) cannot break or change them.
const bin = opt("--bin", undefined) ?? copyOfTheBuild();
function copyOfTheBuild() {
  cpSync(join(root, "dist"), join(tmp, "cli", "dist"), { recursive: true });
  symlinkSync(join(root, "node_modules"), join(tmp, "cli", "node_modules"));
  writeFileSync(join(tmp, "cli", "mesh.mjs"), 'import { main } from "./dist/runtime.js";\n\nawait main();\n');
  return join(tmp, "cli", "mesh.mjs");
}

// ---- the workloads ----

const deployName = (d) => `d${d}`;

function deploymentObject(ns, d) {
  const name = deployName(d);
  const prev = deployName((d + DEPLOYMENTS - 1) % DEPLOYMENTS);
  const next = deployName((d + 1) % DEPLOYMENTS);
  const flows = [
    {
      direction: "inbound",
      rps: INBOUND_RPS,
      successRate: 0.95,
      latencyMs: [{ ms: 3, weight: 8 }, { ms: 40, weight: 2 }],
      authority: `${name}.${ns}.svc.cluster.local:80`,
      from: { selector: { app: prev } },
    },
    // One endpoint (no selector): with the next Deployment's 5 pods as endpoints the payload is 200 KB.
    { direction: "outbound", rps: INBOUND_RPS, successRate: 0.95, latencyMs: 7, to: { service: next, port: 80, targetPort: 8080 } },
  ];
  return meshedDeployment({
    name,
    namespace: ns,
    replicas: REPLICAS,
    flows,
    labels: { "mesh.bench/viz-stat": "true", "linkerd.io/workload-ns": ns },
    appPorts: [{ name: "http", containerPort: 8080 }],
    proxyPorts: [
      { name: "linkerd-proxy", containerPort: 4143 },
      { name: "linkerd-admin", containerPort: 4191 },
    ],
  });
}

const c = await connectTestCluster();
const namespaces = [];
let exitCode = 0;
bench: try {
  await makeRoomForPods(c, PODS);

  log(`creating ${NAMESPACES} namespaces × ${DEPLOYMENTS} Deployments × ${REPLICAS} replicas = ${PODS} meshed pods...`);
  const setupStart = Date.now();
  for (let i = 0; i < NAMESPACES; i++) namespaces.push(await c.newNamespace("bench-stat"));
  await Promise.all(
    namespaces.map((ns) =>
      c.kubectl(["apply", "-n", ns, "-f", "-"], {
        stdin: JSON.stringify({ apiVersion: "v1", kind: "List", items: Array.from({ length: DEPLOYMENTS }, (_, d) => deploymentObject(ns, d)) }),
        timeoutMs: 120_000,
      }),
    ),
  );
  await waitForReadyPods(c, { selector: "mesh.bench/viz-stat=true", namespaces, count: PODS, timeoutMs: SETUP_TIMEOUT_MS });
  const setupS = (Date.now() - setupStart) / 1000;
  log(`${PODS} pods Ready after ${setupS.toFixed(1)} s`);

  if (HOLD) {
    log(`holding: export KUBECONFIG=${c.kubeconfig}  (SIGINT or SIGTERM ends it and deletes the namespaces)`);
    await new Promise((resolve) => {
      const keepAlive = setInterval(() => undefined, 60_000); // signal listeners alone do not keep node running
      const end = () => {
        clearInterval(keepAlive);
        resolve();
      };
      process.once("SIGINT", end);
      process.once("SIGTERM", end);
    });
    result({ held: true, pods: PODS, setupSeconds: +setupS.toFixed(1) });
    break bench;
  }

  const meshArgs = ["viz", "stat", "deploy", "-A", "--interval", INTERVAL, "-o", "json", "--verbose", "--kubeconfig", c.kubeconfig];
  // One untimed run with a short interval: file cache, the API server's caches, every stand-in's JIT.
  const warm = await measure(process.execPath, [bin, "viz", "stat", "deploy", "-A", "--interval", "1s", "-o", "json", "--kubeconfig", c.kubeconfig], { timeoutMs: 120_000 });
  log(`warm-up run: ${(warm.ms / 1000).toFixed(2)} s with --interval 1s (exit ${warm.code})`);

  // Baselines, interleaved with mesh's runs so machine load hits all alike.
  const node0 = [];
  const kubectl = [];
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    node0.push(await measure(process.execPath, ["-e", "0"]));
    const k = await measure(c.state.kubectl, ["--kubeconfig", c.kubeconfig, "get", "pods", "-A", "-o", "json"]);
    if (k.code !== 0) throw new Error(`kubectl get pods -A failed: ${k.stderr}`);
    kubectl.push(k);
    const load = loadavg()[0];
    const r = await measure(process.execPath, [bin, ...meshArgs], { timeoutMs: intervalMs + 60_000 });
    r.load = load;
    runs.push(r);
    log(`run ${i + 1}: mesh ${(r.ms / 1000).toFixed(2)} s, ${r.rssMiB.toFixed(1)} MiB, CPU ${r.cpuS.toFixed(2)} s (exit ${r.code}); kubectl get pods -A -o json ${k.ms.toFixed(0)} ms ${k.rssMiB.toFixed(1)} MiB; node -e 0 ${node0[i].ms.toFixed(0)} ms; load ${load.toFixed(2)}`);
  }

  // The numbers: one row per Deployment of ours, each at the model's rate.
  const problems = [];
  const last = runs[runs.length - 1];
  for (const [i, r] of runs.entries()) {
    if (r.code !== 0) problems.push(`run ${i + 1}: exit ${r.code}: ${r.stderr.slice(0, 500)}`);
    if (/warning|cannot scrape/i.test(r.stderr)) problems.push(`run ${i + 1}: ${r.stderr.split("\n").filter((l) => /warning|cannot scrape/i.test(l)).slice(0, 3).join("; ")}`);
  }
  let rows = [];
  try {
    rows = JSON.parse(last.stdout).filter((row) => namespaces.includes(row.namespace));
  } catch (e) {
    problems.push(`output is not JSON: ${e.message}`);
  }
  const want = REPLICAS * INBOUND_RPS;
  const off = rows.filter((row) => !(Math.abs(row.rps - want) <= want * 0.05) || !(Math.abs(row.success - 0.95) <= 0.02));
  if (rows.length !== NAMESPACES * DEPLOYMENTS) problems.push(`${rows.length} rows for our Deployments, want ${NAMESPACES * DEPLOYMENTS}`);
  if (off.length) problems.push(`${off.length} rows off the model (rps ${want}, success 0.95), e.g. ${JSON.stringify(off[0])}`);

  // `--verbose`: "mesh viz stat: N API requests, X kB received (Y kB decompressed); S scrapes (F failed): W kB received, B kB of metrics"
  const v = /(\d+) API requests(?:, ([\d.]+) kB received(?: \(([\d.]+) kB decompressed\))?)?; (\d+) scrapes \((\d+) failed\): ([\d.]+) kB received, ([\d.]+) kB of metrics/.exec(last.stderr);
  const verbose = v
    ? { apiRequests: +v[1], apiReceivedKB: v[2] ? +v[2] : undefined, apiDecompressedKB: v[3] ? +v[3] : undefined, scrapes: +v[4], scrapeFailures: +v[5], scrapeWireKB: +v[6], metricsKB: +v[7], metricsKBPerScrape: +(+v[7] / +v[4]).toFixed(1) }
    : { verbose: `no --verbose line in stderr: ${last.stderr.slice(-300)}` };
  // "mesh viz stat: listing 0.50 s, first round 1.21 s, last round 1.19 s" (where the time beside the interval goes)
  const phases = runs.map((r) => /listing ([\d.]+) s, first round ([\d.]+) s, last round ([\d.]+) s/.exec(r.stderr)).map((m) => (m ? { listingS: +m[1], firstRoundS: +m[2], lastRoundS: +m[3] } : undefined));

  const wall = runs.map((r) => Math.round(r.ms));
  const rss = runs.map((r) => +r.rssMiB.toFixed(1));
  const medWall = median(wall);
  const maxRss = Math.max(...rss);
  result({
    pods: PODS,
    namespaces: NAMESPACES,
    deployments: NAMESPACES * DEPLOYMENTS,
    interval: INTERVAL,
    runs: RUNS,
    setupSeconds: +setupS.toFixed(1),
    wallMs: wall,
    wallMedianMs: medWall,
    overIntervalMedianMs: medWall - intervalMs,
    peakRssMiB: rss,
    cpuSeconds: runs.map((r) => +r.cpuS.toFixed(2)),
    ...verbose,
    phases,
    stdoutBytes: last.stdout.length,
    baseline: {
      nodeE0Ms: Math.round(median(node0.map((r) => r.ms))),
      nodeE0RssMiB: +median(node0.map((r) => r.rssMiB)).toFixed(1),
      kubectlGetPodsMs: Math.round(median(kubectl.map((r) => r.ms))),
      kubectlGetPodsRssMiB: +median(kubectl.map((r) => r.rssMiB)).toFixed(1),
      kubectlGetPodsCpuS: +median(kubectl.map((r) => r.cpuS)).toFixed(2),
      kubectlGetPodsOutMB: +(kubectl[0].stdoutBytes / 1e6).toFixed(2),
    },
    load: runs.map((r) => +r.load.toFixed(2)),
    targets: { wallMs: TARGET_MS, peakRssMiB: TARGET_RSS_MB },
    ok: problems.length === 0 && medWall <= TARGET_MS && maxRss <= TARGET_RSS_MB,
    ...(problems.length ? { problems } : {}),
  });
} catch (e) {
  result({ ok: false, error: e.message });
  exitCode = 1;
} finally {
  await deleteNamespaces(c, namespaces);
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(exitCode);
