// Benchmarks `mesh analyze` (the built bin, whole command).
//   offline  5,000 manifests (Deployments, StatefulSets, CronJobs, Services, ServiceProfiles,
//            Servers, HTTPRoutes, AuthorizationPolicies, MeshTLSAuthentications; seeded, the same
//            every run, a few with mistakes) in 50 files of a directory: target <= 2 s wall.
//   cluster  (--cluster, needs a test cluster: eval "$(npm run -s cluster:up)") 500 pods (20
//            namespaces x 5 Deployments x 5 replicas) and 200 Linkerd resources applied to the
//            cluster, then `mesh analyze --cluster -A`: target <= 3 s wall, and the number of list
//            requests (from --verbose) is reported.
// Baselines from the same run (`node -e 0`, the load average) show how busy the machine is.
// Human-readable lines go to stderr, one JSON line per figure to stdout (`ok`: target met).
//   npm run build && node bench/analyze.mjs [--runs N] [--cluster] [--bin PATH] [--kubectl PATH]
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { homedir, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const runs = Number(opt("--runs", 5));
const root = fileURLToPath(new URL("..", import.meta.url));
const bin = opt("--bin", join(root, "bin", "mesh.js"));
const kubectl = opt("--kubectl", join(homedir(), ".cache", "mesh", "kubernetes-1.37.2", "bin", "kubectl"));
const log = (s) => process.stderr.write(`${s}\n`);
const result = (r) => process.stdout.write(`${JSON.stringify({ bench: "analyze", ...r })}\n`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function time(cmd, args, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 256 * 1024 * 1024, ...opts });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { ms, r };
}

/** One application: its workload, Service, profile, Server, route and policies (9 documents). */
function app(ns, i, kind) {
  const name = `app-${i}`;
  const mistake = i % 97 === 0; // about 1% carry a mistake the analyzers find
  const tpl = `    metadata:
      labels:
        app: ${name}
      annotations:
        linkerd.io/inject: enabled
        config.linkerd.io/proxy-cpu-${mistake ? "limt" : "limit"}: "1"
        config.linkerd.io/proxy-memory-request: 64Mi
    spec:
      serviceAccountName: ${name}
      containers:
        - name: main
          image: example/${name}:1.${i % 7}
          ${kind === "CronJob" ? 'command: ["/bin/run", "--once", "&&", "curl", "-XPOST", "localhost:4191/shutdown"]' : "args: [--port=8080]"}
          ports:
            - name: http
              containerPort: 8080
            - name: admin
              containerPort: 9090
          resources:
            requests: {cpu: 100m, memory: 128Mi}
`;
  const workload =
    kind === "CronJob"
      ? `apiVersion: batch/v1
kind: CronJob
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  schedule: "*/5 * * * *"
  jobTemplate:
    spec:
      template:
${tpl.replace(/^/gm, "    ").replace(/^    (\s*)$/gm, "")}`
      : `apiVersion: apps/v1
kind: ${kind}
metadata:
  name: ${name}
  namespace: ${ns}
  labels: {team: t${i % 5}}
spec:
  replicas: ${1 + (i % 3)}
  selector:
    matchLabels:
      app: ${name}
  template:
${tpl}`;
  return [
    workload,
    `apiVersion: v1
kind: ServiceAccount
metadata:
  name: ${name}
  namespace: ${ns}`,
    `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  selector:
    app: ${name}
  ports:
    - name: http
      port: 80
      targetPort: http`,
    `apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata:
  name: ${name}.${ns}.svc.cluster.local
  namespace: ${ns}
spec:
  routes:
    - name: GET /api/items
      condition:
        method: GET
        pathRegex: /api/items${mistake ? "/(" : "/[^/]+"}
      isRetryable: true
      timeout: 2s
    - name: POST /api/items
      condition:
        method: POST
        pathRegex: /api/items
  retryBudget: {retryRatio: 0.2, minRetriesPerSecond: 10, ttl: 10s}`,
    `apiVersion: policy.linkerd.io/v1beta1
kind: Server
metadata:
  name: ${name}-http
  namespace: ${ns}
spec:
  podSelector:
    matchLabels:
      app: ${name}
  port: ${mistake ? "https" : "http"}
  proxyProtocol: HTTP/1`,
    `apiVersion: policy.linkerd.io/v1beta3
kind: HTTPRoute
metadata:
  name: ${name}-api
  namespace: ${ns}
spec:
  parentRefs:
    - name: ${name}-http
      kind: Server
      group: policy.linkerd.io
  rules:
    - matches:
        - path: {type: PathPrefix, value: /api}`,
    `apiVersion: policy.linkerd.io/v1alpha1
kind: MeshTLSAuthentication
metadata:
  name: ${name}-clients
  namespace: ${ns}
spec:
  identityRefs:
    - kind: ServiceAccount
      name: ${name}`,
    `apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata:
  name: ${name}-api
  namespace: ${ns}
spec:
  targetRef:
    group: policy.linkerd.io
    kind: Server
    name: ${name}-http
  requiredAuthenticationRefs:
    - group: policy.linkerd.io
      kind: MeshTLSAuthentication
      name: ${name}-clients`,
  ];
}

function corpus(dir) {
  mkdirSync(dir, { recursive: true });
  const kinds = ["Deployment", "Deployment", "StatefulSet", "Deployment", "CronJob"];
  let docs = 0;
  let bytes = 0;
  for (let f = 0; f < 50; f++) {
    const parts = [];
    // 50 files x 100 documents = 5,000 manifests (the last application of a file is cut to fit)
    for (let i = 0; parts.length < 100; i++) parts.push(...app(`team-${f % 10}`, f * 12 + i, kinds[(f + i) % kinds.length]));
    const text = `${parts.slice(0, 100).join("\n---\n")}\n`;
    writeFileSync(join(dir, `apps-${String(f).padStart(2, "0")}.yaml`), text);
    docs += 100;
    bytes += Buffer.byteLength(text);
  }
  return { docs, bytes };
}

const dir = mkdtempSync(join(tmpdir(), "mesh-bench-analyze-"));
try {
  const { docs, bytes } = corpus(join(dir, "k8s"));
  const base = [];
  const wall = [];
  let findings = 0;
  for (let i = 0; i < runs; i++) {
    base.push(time(process.execPath, ["-e", "0"]).ms);
    const { ms, r } = time(process.execPath, [bin, "analyze", join(dir, "k8s"), "-o", "json"]);
    if (r.status !== 0 && r.status !== 1) throw new Error(`mesh analyze failed (${r.status}): ${r.stderr}`);
    findings = JSON.parse(r.stdout).findings.length;
    wall.push(ms);
  }
  const best = Math.min(...wall);
  const load = loadavg()[0].toFixed(2);
  log(`offline: ${docs} manifests (${(bytes / 1e6).toFixed(2)} MB), ${findings} findings: best ${best.toFixed(0)} ms, median ${median(wall).toFixed(0)} ms (node -e 0: ${median(base).toFixed(0)} ms; load ${load})`);
  result({ case: "offline", manifests: docs, bytes, findings, bestMs: Math.round(best), medianMs: Math.round(median(wall)), nodeBaselineMs: Math.round(median(base)), load: Number(load), targetMs: 2000, ok: median(wall) <= 2000 });

  if (argv.includes("--cluster")) {
    if (!process.env.KUBECONFIG) throw new Error('--cluster needs a test cluster: eval "$(npm run -s cluster:up)" first');
    const k = (args, input) => {
      const r = spawnSync(kubectl, args, { input, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
      if (r.status !== 0) throw new Error(`kubectl ${args.join(" ")}: ${r.stderr}`);
      return r.stdout;
    };
    k(["apply", "-f", "-"], spawnSync(process.execPath, [bin, "install", "--crds", "--ignore-cluster"], { encoding: "utf8" }).stdout);
    const objs = [];
    for (let n = 0; n < 20; n++) {
      const ns = `bench-analyze-${n}`;
      objs.push(`apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}`);
      for (let d = 0; d < 5; d++) {
        const name = `app-${d}`;
        objs.push(`apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${name}\n  namespace: ${ns}\nspec:\n  replicas: 5\n  selector:\n    matchLabels: {app: ${name}}\n  template:\n    metadata:\n      labels: {app: ${name}}\n    spec:\n      containers:\n        - name: main\n          image: example/${name}:1\n          ports: [{name: http, containerPort: 8080}]`);
        // 2 Linkerd resources per Deployment: 200 in all
        objs.push(`apiVersion: policy.linkerd.io/v1beta1\nkind: Server\nmetadata:\n  name: ${name}-http\n  namespace: ${ns}\nspec:\n  podSelector:\n    matchLabels: {app: ${name}}\n  port: http`);
        objs.push(`apiVersion: policy.linkerd.io/v1alpha1\nkind: AuthorizationPolicy\nmetadata:\n  name: ${name}-http\n  namespace: ${ns}\nspec:\n  targetRef: {group: policy.linkerd.io, kind: Server, name: ${name}-http}\n  requiredAuthenticationRefs: []`);
      }
    }
    k(["apply", "-f", "-"], objs.join("\n---\n"));
    const deadline = Date.now() + 180_000;
    for (;;) {
      const pods = JSON.parse(k(["get", "pods", "-A", "-l", "app", "-o", "json"])).items.filter((p) => p.metadata.namespace.startsWith("bench-analyze-") && p.status?.phase === "Running");
      if (pods.length >= 500) break;
      if (Date.now() > deadline) throw new Error(`only ${pods.length} of 500 pods running after 180 s`);
      spawnSync("sleep", ["2"]);
    }
    const cw = [];
    const cbase = [];
    let requests = "?";
    for (let i = 0; i < runs; i++) {
      cbase.push(time(process.execPath, ["-e", "0"]).ms);
      const { ms, r } = time(process.execPath, [bin, "analyze", "--cluster", "-A", "-o", "json", "--verbose"]);
      if (r.status !== 0 && r.status !== 1) throw new Error(`mesh analyze --cluster failed (${r.status}): ${r.stderr}`);
      requests = /read the cluster with (\d+) requests/.exec(r.stderr)?.[1] ?? "?";
      cw.push(ms);
    }
    const cload = loadavg()[0].toFixed(2);
    log(`cluster: 500 pods, 200 Linkerd resources, ${requests} requests: best ${Math.min(...cw).toFixed(0)} ms, median ${median(cw).toFixed(0)} ms (node -e 0: ${median(cbase).toFixed(0)} ms; load ${cload})`);
    result({ case: "cluster", pods: 500, linkerdResources: 200, listRequests: Number(requests), bestMs: Math.round(Math.min(...cw)), medianMs: Math.round(median(cw)), nodeBaselineMs: Math.round(median(cbase)), load: Number(cload), targetMs: 3000, ok: median(cw) <= 3000 });
    if (!argv.includes("--keep")) k(["delete", "ns", ...Array.from({ length: 20 }, (_, n) => `bench-analyze-${n}`), "--wait=false"]);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
