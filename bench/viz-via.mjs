// What `--via port-forward` costs against the pod proxy, in the real test cluster: N meshed pods
// (default 2 namespaces × 5 Deployments × 5 replicas = 50), each proxy stand-in serving ~75 KB of
// /metrics (4 KB gzipped). Runs the built bin (`npm run build` first), alternating:
//   mesh viz stat deploy -A --interval 2s -o json --via proxy          (baseline: the fast path)
//   mesh viz stat deploy -A --interval 2s -o json --via port-forward
//   mesh viz stat deploy -A --interval 2s -o json                      (auto, behind a fault proxy whose pod proxy answers 503)
// Reports the wall time beyond the interval (start-up, listing, two scrape rounds and output) of each. Target: a port-forward round costs at most 3× the pod proxy's (wall beyond
// the interval), and `auto` behind the firewall at most 1 s more than `--via port-forward`.
// Human-readable lines go to stderr, one JSON line on stdout (`ok`: every target met).
//   npm run build && node bench/viz-via.mjs [--namespaces 2] [--deployments 5] [--replicas 5] [--runs 3]
import { loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { clusterHarness, log, measure, median, meshedDeployment, option as opt, resultOf, sleep } from "./lib/cluster-bench.mjs";

const NAMESPACES = Number(opt("--namespaces", 2));
const DEPLOYMENTS = Number(opt("--deployments", 5));
const REPLICAS = Number(opt("--replicas", 5));
const RUNS = Number(opt("--runs", 3));
const PODS = NAMESPACES * DEPLOYMENTS * REPLICAS;
const INTERVAL_MS = 2000;

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = join(root, "bin", "mesh.js");
const result = resultOf("viz-via");

const { connectTestCluster } = await clusterHarness("viz-via");

/** Runs the built mesh; resolves with its exit code, wall ms and output. */
const run = (args, kubeconfig) => measure(process.execPath, [bin, "--kubeconfig", kubeconfig, ...args]);

function deployment(ns, d) {
  const name = `d${d}`;
  const flows = [
    { direction: "inbound", rps: 10, successRate: 0.95, latencyMs: [{ ms: 3, weight: 8 }, { ms: 40, weight: 2 }], authority: `${name}.${ns}.svc.cluster.local:80` },
    { direction: "outbound", rps: 10, successRate: 0.95, latencyMs: 7, to: { service: `d${(d + 1) % DEPLOYMENTS}`, port: 80, targetPort: 8080 } },
  ];
  return meshedDeployment({ name, namespace: ns, replicas: REPLICAS, flows, labels: { "mesh.bench/viz-via": "true" } });
}

const c = await connectTestCluster();
const namespaces = [];
let fp;
let exitCode = 0;
try {
  log(`creating ${PODS} meshed pods...`);
  for (let i = 0; i < NAMESPACES; i++) namespaces.push(await c.newNamespace("bench-via"));
  await Promise.all(namespaces.map((ns) => c.kubectl(["apply", "-n", ns, "-f", "-"], { stdin: JSON.stringify({ apiVersion: "v1", kind: "List", items: Array.from({ length: DEPLOYMENTS }, (_, d) => deployment(ns, d)) }) })));
  for (const ns of namespaces) await c.waitForPods(ns, "mesh.bench/viz-via=true", { count: DEPLOYMENTS * REPLICAS, timeoutMs: 180_000 });
  fp = await c.startFaultProxy();
  fp.setFaults([{ path: "/pods/[^/]+:4191/proxy/", status: 503, message: "error trying to reach service: dial tcp: i/o timeout" }]);

  const kinds = {
    proxy: { args: ["--via", "proxy"], kubeconfig: c.kubeconfig },
    "port-forward": { args: ["--via", "port-forward"], kubeconfig: c.kubeconfig },
    "auto behind a firewall": { args: [], kubeconfig: fp.kubeconfig },
  };
  const figures = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]));
  const load = loadavg()[0];
  for (let r = 0; r < RUNS; r++) {
    for (const [kind, k] of Object.entries(kinds)) {
      const res = await run(["viz", "stat", "deploy", "-A", "--interval", `${INTERVAL_MS / 1000}s`, "-o", "json", ...k.args], k.kubeconfig);
      if (res.code !== 0) throw new Error(`${kind}: exit ${res.code}: ${res.stderr.slice(0, 500)}`);
      const rows = JSON.parse(res.stdout).filter((x) => namespaces.includes(x.namespace));
      if (rows.length !== NAMESPACES * DEPLOYMENTS || rows.some((x) => !(Math.abs(x.rps - 10 * REPLICAS) < 10 * REPLICAS * 0.2)))
        throw new Error(`${kind}: unexpected rows ${JSON.stringify(rows).slice(0, 300)}`);
      figures[kind].push(res.ms - INTERVAL_MS);
      log(`  run ${r + 1} ${kind}: ${(res.ms / 1000).toFixed(2)} s (${((res.ms - INTERVAL_MS) / 1000).toFixed(2)} s beyond the interval)`);
    }
    await sleep(200);
  }
  const m = Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, Math.round(median(v))]));
  const ratio = m["port-forward"] / m.proxy;
  const fallbackExtra = m["auto behind a firewall"] - m["port-forward"];
  const ok = ratio <= 3 && fallbackExtra <= 1000;
  log(`median beyond the interval: pod proxy ${m.proxy} ms, port-forward ${m["port-forward"]} ms (${ratio.toFixed(2)}×), auto behind a firewall ${m["auto behind a firewall"]} ms (load ${load.toFixed(1)})`);
  result({ ok, pods: PODS, runs: RUNS, msBeyondInterval: m, portForwardRatio: Number(ratio.toFixed(2)), fallbackExtraMs: fallbackExtra, load: Number(load.toFixed(1)) });
  if (!ok) exitCode = 1;
} catch (e) {
  result({ ok: false, error: String(e?.message ?? e) });
  exitCode = 1;
} finally {
  await fp?.close();
  for (const ns of namespaces) await c.deleteNamespace(ns);
}
process.exit(exitCode);
