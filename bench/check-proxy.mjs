// `mesh check --proxy` at scale in the real test cluster (issue 15, linkerd2#6272): a control plane
// installed with the user's pipelines, then 500 meshed pods (20 namespaces × 5 Deployments × 5
// replicas, injected with `mesh inject --manual`). Runs the built bin (`npm run build` first):
//   MESH_CHECK_STATS=1 mesh check --proxy -L <cp> --expected-version stable-2.14.10 -o json
// Targets: every check passes; wall time < 5 s; API requests bounded: besides one /metrics scrape
// per running proxy (the expired-certificate check reads each proxy, 16 at a time) the count does
// not grow with the pods (it is compared with the same command against the first namespace alone).
// Baselines from the same run: `node -e 0` and `kubectl get pods -A -o json`.
// Human-readable lines go to stderr, one JSON line on stdout (`ok`: every target met).
//   npm run build && node bench/check-proxy.mjs [--namespaces 20] [--deployments 5] [--replicas 5] [--runs 3]
// Needs the test cluster (root; see test/cluster/README.md): uses the one `npm run cluster:up`
// started, else starts a private one. What it created is deleted at the end, also on failure.
import { loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tsImport } from "tsx/esm/api";
import { clusterHarness, deleteNamespaces, log, makeRoomForPods, measure, median, option as opt, resultOf, waitForReadyPods } from "./lib/cluster-bench.mjs";

const NAMESPACES = Number(opt("--namespaces", 20));
const DEPLOYMENTS = Number(opt("--deployments", 5));
const REPLICAS = Number(opt("--replicas", 5));
const RUNS = Number(opt("--runs", 3));
const PODS = NAMESPACES * DEPLOYMENTS * REPLICAS;
const TARGET_MS = 5000;
const LABEL = "mesh.bench/check-proxy";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = join(root, "bin", "mesh.js");
const result = resultOf("check-proxy");

const { connectTestCluster } = await clusterHarness("check-proxy");
const { installLinkerd, uninstallLinkerd } = await tsImport("../test/checks/install-on-cluster.ts", import.meta.url);

const deployment = (name) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name },
  spec: {
    replicas: REPLICAS,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name, [LABEL]: "true" } },
      spec: { containers: [{ name: "app", image: "example/app:1", ports: [{ name: "http", containerPort: 8080 }] }] },
    },
  },
});

/** `API requests` from MESH_CHECK_STATS=1's stderr line. */
const requestsOf = (stderr) => Number(/mesh check: (\d+) API requests/.exec(stderr)?.[1] ?? NaN);

const c = await connectTestCluster();
const cp = await c.newNamespace("bench-cp");
const namespaces = [];
let exitCode = 0;
try {
  await makeRoomForPods(c, PODS);
  log(`installing the control plane into ${cp} (mesh install | kubectl apply -f -)...`);
  await installLinkerd(c, cp);

  log(`creating ${NAMESPACES} namespaces × ${DEPLOYMENTS} Deployments × ${REPLICAS} replicas = ${PODS} meshed pods (mesh inject --manual)...`);
  for (let i = 0; i < NAMESPACES; i++) namespaces.push(await c.newNamespace("bench-check"));
  const list = JSON.stringify({ apiVersion: "v1", kind: "List", items: Array.from({ length: DEPLOYMENTS }, (_, d) => deployment(`d${d}`)) });
  const injected = await measure(process.execPath, [bin, "inject", "--manual", "-L", cp, "--kubeconfig", c.kubeconfig, "-"], { stdin: list });
  if (injected.code !== 0) throw new Error(`mesh inject --manual: ${injected.stderr}`);
  await Promise.all(namespaces.map((ns) => c.kubectl(["apply", "-n", ns, "-f", "-"], { stdin: injected.stdout, timeoutMs: 120_000 })));
  const setupS = await waitForReadyPods(c, { selector: `${LABEL}=true`, namespaces, count: PODS });
  log(`${PODS} pods Ready after ${setupS.toFixed(1)} s`);

  const args = ["check", "--proxy", "-L", cp, "--expected-version", "stable-2.14.10", "-o", "json", "--kubeconfig", c.kubeconfig];
  const env = { ...process.env, MESH_CHECK_STATS: "1" };
  // The same command for one namespace: the requests that do not depend on the number of pods.
  const small = await measure(process.execPath, [bin, ...args, "-n", namespaces[0]], { env });
  const node0 = [];
  const kubectl = [];
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    node0.push(await measure(process.execPath, ["-e", "0"]));
    kubectl.push(await measure(c.state.kubectl, ["--kubeconfig", c.kubeconfig, "get", "pods", "-A", "-o", "json"]));
    const load = loadavg()[0];
    const r = await measure(process.execPath, [bin, ...args], { env, timeoutMs: 120_000 });
    r.load = load;
    runs.push(r);
    log(`run ${i + 1}: mesh check --proxy ${(r.ms / 1000).toFixed(2)} s, ${requestsOf(r.stderr)} API requests, ${r.rssMiB.toFixed(1)} MiB (exit ${r.code}); kubectl get pods -A -o json ${kubectl[i].ms.toFixed(0)} ms; node -e 0 ${node0[i].ms.toFixed(0)} ms; load ${load.toFixed(2)}`);
  }

  const problems = [];
  for (const [i, r] of [small, ...runs].entries()) {
    if (r.code !== 0) problems.push(`run ${i}: exit ${r.code}`);
    try {
      const doc = JSON.parse(r.stdout);
      for (const cat of doc.categories ?? []) for (const k of cat.checks) if (k.result !== "success") problems.push(`run ${i}: ${cat.categoryName} ${k.description}: ${k.result} ${String(k.error ?? "").slice(0, 200)}`);
    } catch (e) {
      problems.push(`run ${i}: stdout is not one JSON document: ${e.message}`);
    }
  }
  const smallPods = DEPLOYMENTS * REPLICAS;
  const requests = runs.map((r) => requestsOf(r.stderr));
  // Requests beyond the scrapes, all namespaces vs one: equal when nothing is per pod or per
  // namespace. All namespaces include the control plane's own proxies, which are scraped too.
  const controlPlanePods = (await c.api.get(`/api/v1/namespaces/${cp}/pods?labelSelector=${encodeURIComponent(`linkerd.io/control-plane-ns=${cp}`)}`)).items.length;
  const fixedAll = median(requests) - PODS - controlPlanePods;
  const fixedOne = requestsOf(small.stderr) - smallPods;
  if (!(fixedAll <= fixedOne)) problems.push(`requests other than scrapes grow with the pods: ${fixedAll} for ${PODS} pods vs ${fixedOne} for ${smallPods}`);
  const wall = runs.map((r) => Math.round(r.ms));
  const medWall = median(wall);
  result({
    pods: PODS,
    namespaces: NAMESPACES,
    runs: RUNS,
    setupSeconds: +setupS.toFixed(1),
    wallMs: wall,
    wallMedianMs: medWall,
    apiRequests: requests,
    apiRequestsBesideScrapes: fixedAll,
    scrapes: PODS + controlPlanePods,
    oneNamespace: { pods: smallPods, wallMs: Math.round(small.ms), apiRequests: requestsOf(small.stderr), apiRequestsBesideScrapes: fixedOne },
    peakRssMiB: runs.map((r) => +r.rssMiB.toFixed(1)),
    baseline: {
      nodeE0Ms: Math.round(median(node0.map((r) => r.ms))),
      kubectlGetPodsMs: Math.round(median(kubectl.map((r) => r.ms))),
    },
    load: runs.map((r) => +r.load.toFixed(2)),
    targets: { wallMs: TARGET_MS },
    ok: problems.length === 0 && medWall < TARGET_MS,
    ...(problems.length ? { problems: problems.slice(0, 10) } : {}),
  });
} catch (e) {
  result({ ok: false, error: e.message });
  exitCode = 1;
} finally {
  await deleteNamespaces(c, namespaces);
  await uninstallLinkerd(c, cp).catch((e) => log(`uninstall ${cp}: ${e.message}`));
}
process.exit(exitCode);
