// Benchmarks `mesh inject` (the built bin, whole command) on three generated streams of ~3.3 MB:
//   uniform  5,000 Deployments of one shape, one document each;
//   list     the same 5,000 as one `kind: List`, as `kubectl get -o yaml` prints them;
//   mixed    Deployments, StatefulSets, DaemonSets, CronJobs, Pods, Services and ConfigMaps of
//            varied shapes, comments, quoting and sizes (seeded, the same every run).
// For each: `inject --manual` (target: >= 10 MB/s of input, best wall clock of the runs, 2 cores)
// and, side by side in the same run, `kubectl create --dry-run=client -o yaml -f -` round-tripping
// the same stream. kubectl needs no server for that: it is given a kubeconfig pointing nowhere,
// `--validate=false`, and a discovery cache written here (`--cache-dir`) for the kinds used.
// Also annotation mode and uninject on each stream, baselines measured in the same run (`node -e 0`,
// `cat` of the stream, the load average) so a busy machine shows, and a 100 MB stream's peak RSS
// (target: <= 400 MB).
// Human-readable lines go to stderr, one JSON line per figure to stdout (`ok`: target met).
//   npm run build && node bench/inject.mjs [--quick] [--runs N] [--big-mb N (0: skip)]
//     [--streams uniform,list,mixed] [--bin PATH (another build's bin/mesh.js, to compare)] [--kubectl PATH]
//     [--write-streams DIR (writes the streams as DIR/<name>.yaml and exits: for node --cpu-prof)]
import { spawnSync } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, homedir, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const quick = argv.includes("--quick");
const runs = Number(opt("--runs", quick ? 1 : 5));
const bigMB = Number(opt("--big-mb", 100));
const streamNames = opt("--streams", "uniform,list,mixed").split(",");

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = opt("--bin", join(root, "bin", "mesh.js"));
const dir = mkdtempSync(join(tmpdir(), "mesh-bench-inject-"));
const ca = join(dir, "ca.pem");
writeFileSync(ca, readFileSync(join(root, "test", "fixtures", "inject", "ca.pem"), "utf8"));
const MANUAL = ["inject", "--manual", "--ignore-cluster", "--identity-trust-anchors-file", ca];
const TARGET_MBPS = 10;
const TARGET_RSS_MB = 400;

const log = (s) => process.stderr.write(`${s}\n`);
const result = (r) => process.stdout.write(`${JSON.stringify({ bench: "inject", ...r })}\n`);

function deployment(i) {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-${i}
  namespace: team-${i % 13}
  labels:
    app: web-${i}
    tier: frontend # the public part
spec:
  replicas: ${1 + (i % 3)}
  selector:
    matchLabels:
      app: web-${i}
  template:
    metadata:
      labels:
        app: web-${i}
    spec:
      containers:
      - name: web
        image: "registry.example.com/web:v1.${i % 50}"
        args: ["--port", "8080", "--log-level=info"]
        ports:
        - containerPort: 8080
          name: http
        readinessProbe:
          httpGet:
            path: /ready
            port: 8080
        resources:
          requests: {cpu: 100m, memory: 64Mi}
`;
}

function stream(n) {
  const parts = [];
  for (let i = 0; i < n; i++) parts.push(i ? "---\n" : "", deployment(i));
  return parts.join("");
}

/** The same objects as one `kind: List`, laid out as `kubectl get -o yaml` prints it. */
function listStream(n) {
  const parts = ["apiVersion: v1\nitems:\n"];
  for (let i = 0; i < n; i++) parts.push(deployment(i).replace(/^(?=.)/gm, "  ").replace(/^  /, "- "));
  parts.push('kind: List\nmetadata:\n  resourceVersion: ""\n');
  return parts.join("");
}

/** mulberry32, seeded: the mixed stream is the same every run. */
function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { int: (k) => Math.floor(next() * k), pick: (xs) => xs[Math.floor(next() * xs.length)], chance: (p) => next() < p };
}

/** One object of the mixed stream: kinds, shapes, comments, quoting and sizes vary. */
function mixedObject(r, i) {
  const kind = r.pick(["Deployment", "Deployment", "Deployment", "StatefulSet", "DaemonSet", "CronJob", "Pod", "Service", "Service", "ConfigMap", "ConfigMap"]);
  const name = `${r.pick(["web", "api", "worker", "cache", "auth", "billing", "search"])}-${i}`;
  const ns = `team-${r.int(17)}`;
  const q = (s) => (r.chance(0.2) ? `"${s}"` : r.chance(0.1) ? `'${s}'` : s);
  const c = (pad) => (r.chance(0.25) ? `${pad}# ${r.pick(["owned by the platform team", "TODO: tune", "see runbook", "do not edit by hand"])}\n` : "");
  const labels = (pad) => `${pad}app: ${name}\n` + (r.chance(0.5) ? `${pad}tier: ${r.pick(["frontend", "backend", "data"])}\n` : "") + (r.chance(0.3) ? `${pad}version: ${q(`v${r.int(9)}.${r.int(20)}`)}\n` : "");
  let out = c("") + `apiVersion: ${{ Deployment: "apps/v1", StatefulSet: "apps/v1", DaemonSet: "apps/v1", CronJob: "batch/v1", Pod: "v1", Service: "v1", ConfigMap: "v1" }[kind]}\nkind: ${kind}\nmetadata:\n  name: ${name}\n  namespace: ${ns}\n`;
  if (r.chance(0.7)) out += `  labels:\n${labels("    ")}`;
  if (r.chance(0.3)) out += `  annotations:\n    owner: ${q(`team-${r.int(9)}@example.com`)}\n` + (r.chance(0.5) ? `    description: ${q("a service of the example shop")}\n` : "");
  if (kind === "ConfigMap") {
    out += "data:\n";
    for (let k = 0, n = 1 + r.int(5); k < n; k++) {
      if (r.chance(0.5)) out += `  key${k}: ${q(`value-${r.int(1000)}`)}\n`;
      else {
        out += `  file${k}.conf: |\n`;
        for (let l = 0, m = 2 + r.int(r.chance(0.1) ? 200 : 30); l < m; l++) out += `    setting_${l} = ${r.int(100000)} # line ${l}\n`;
      }
    }
    return out;
  }
  if (kind === "Service") {
    out += `spec:\n${c("  ")}  selector:\n    app: ${name}\n  ports:\n`;
    for (let k = 0, n = 1 + r.int(3); k < n; k++) out += `  - name: port-${k}\n    port: ${80 + k}\n    targetPort: ${8080 + k}\n` + (r.chance(0.3) ? "    protocol: TCP\n" : "");
    return out;
  }
  const container = (pad, cn) => {
    let t = `${pad}- name: ${cn}\n${pad}  image: ${q(`registry.example.com/${name}:${r.int(40)}.${r.int(10)}`)}\n`;
    if (r.chance(0.4)) t += `${pad}  imagePullPolicy: IfNotPresent\n`;
    if (r.chance(0.4)) t += r.chance(0.5) ? `${pad}  args: ["--port", "${8080 + r.int(10)}", "--verbose"]\n` : `${pad}  command:\n${pad}  - /bin/${cn}\n${pad}  - --config=/etc/${cn}.yaml\n`;
    if (r.chance(0.6)) {
      t += `${pad}  env:\n`;
      for (let k = 0, n = 1 + r.int(r.chance(0.2) ? 25 : 6); k < n; k++)
        t += r.chance(0.2) ? `${pad}  - name: POD_${k}\n${pad}    valueFrom:\n${pad}      fieldRef:\n${pad}        fieldPath: metadata.name\n` : `${pad}  - {name: SETTING_${k}, value: ${q(`v${r.int(1000)}`)}}\n`;
    }
    if (r.chance(0.8)) {
      t += `${pad}  ports:\n`;
      for (let k = 0, n = 1 + r.int(2); k < n; k++) t += `${pad}  - containerPort: ${8080 + r.int(20)}\n` + (r.chance(0.5) ? `${pad}    name: p${k}\n` : "");
    }
    if (r.chance(0.5)) t += `${pad}  readinessProbe:\n${pad}    httpGet:\n${pad}      path: /ready\n${pad}      port: ${8080 + r.int(3)}\n${pad}    periodSeconds: ${5 + r.int(10)}\n`;
    if (r.chance(0.3)) t += `${pad}  livenessProbe:\n${pad}    tcpSocket: {port: ${8080 + r.int(3)}}\n`;
    if (r.chance(0.6)) t += r.chance(0.5) ? `${pad}  resources:\n${pad}    requests: {cpu: ${10 * (1 + r.int(50))}m, memory: ${16 * (1 + r.int(32))}Mi}\n` : `${pad}  resources:\n${pad}    limits:\n${pad}      cpu: "${1 + r.int(4)}"\n${pad}      memory: ${r.int(4) + 1}Gi\n`;
    if (r.chance(0.3)) t += `${pad}  volumeMounts:\n${pad}  - name: data\n${pad}    mountPath: /var/lib/${cn}\n`;
    if (r.chance(0.2)) t += `${pad}  securityContext:\n${pad}    runAsNonRoot: true\n${pad}    readOnlyRootFilesystem: true\n`;
    return t;
  };
  const podSpec = (pad) => {
    let t = c(pad);
    if (r.chance(0.3)) t += `${pad}serviceAccountName: ${name}\n`;
    if (kind === "CronJob") t += `${pad}restartPolicy: ${r.pick(["Never", "OnFailure"])}\n`;
    if (r.chance(0.15)) t += `${pad}initContainers:\n${container(pad, "migrate")}`;
    t += `${pad}containers:\n`;
    for (let k = 0, n = 1 + (r.chance(0.3) ? 1 + r.int(2) : 0); k < n; k++) t += container(pad, k ? `sidecar-${k}` : "app");
    if (r.chance(0.35)) t += `${pad}volumes:\n${pad}- name: data\n${pad}  ${r.pick(["emptyDir: {}", "configMap: {name: settings}", "persistentVolumeClaim: {claimName: data}"])}\n`;
    if (r.chance(0.2)) t += `${pad}nodeSelector:\n${pad}  kubernetes.io/os: linux\n`;
    if (r.chance(0.15)) t += `${pad}tolerations:\n${pad}- key: dedicated\n${pad}  operator: Equal\n${pad}  value: ${name}\n${pad}  effect: NoSchedule\n`;
    return t;
  };
  const template = (pad) => {
    let t = `${pad}template:\n`;
    if (r.chance(0.9)) {
      t += `${pad}  metadata:\n${pad}    labels:\n${labels(`${pad}      `)}`;
      if (r.chance(0.25)) t += `${pad}    annotations:\n${pad}      prometheus.io/scrape: "true"\n` + (r.chance(0.3) ? `${pad}      config.linkerd.io/proxy-cpu-limit: "1"\n` : "");
    }
    return `${t}${pad}  spec:\n${podSpec(`${pad}    `)}`;
  };
  if (kind === "Pod") return `${out}spec:\n${podSpec("  ")}`;
  out += "spec:\n";
  if (kind === "CronJob") return `${out}  schedule: "${r.int(60)} * * * *"\n  jobTemplate:\n    spec:\n${template("      ")}`;
  if (kind !== "DaemonSet") out += `  replicas: ${1 + r.int(5)}\n`;
  if (kind === "StatefulSet") out += `  serviceName: ${name}\n`;
  out += `  selector:\n    matchLabels:\n      app: ${name}\n`;
  return out + template("  ");
}

/** The mixed stream: objects until `bytes` of YAML. */
function mixedStream(bytes) {
  const r = rng(20261202);
  const parts = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const d = (i ? (r.chance(0.1) ? "--- # next\n" : "---\n") : "") + mixedObject(r, i);
    parts.push(d);
    size += d.length;
  }
  return parts.join("");
}

const GNU_TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;

/**
 * Runs a command with `input` (a string) on stdin. Returns wall ms, CPU ms (user+sys of the
 * command, from GNU time when installed), peak RSS (KiB) and output.
 */
function timed(cmd, args, input) {
  const full = GNU_TIME ? [GNU_TIME, ["-f", "MESHTIME %U %S %M", cmd, ...args]] : [cmd, args];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(full[0], full[1], { input: input ?? "", maxBuffer: 1 << 30 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const err = r.stderr.toString();
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${err.slice(-400)}`);
  const m = /MESHTIME ([\d.]+) ([\d.]+) (\d+)/.exec(err);
  return { ms, cpu: m ? (Number(m[1]) + Number(m[2])) * 1000 : NaN, rssKiB: m ? Number(m[3]) : NaN, out: r.stdout.length, stdout: r.stdout };
}

/** `runs` measurements: the best (least disturbed by other processes) and the median, of wall and CPU. */
function measure(f) {
  const xs = [];
  for (let i = 0; i < runs; i++) xs.push(f());
  const by = (k) => xs.map((x) => x[k]).sort((a, b) => a - b);
  const med = (a) => a[Math.floor((a.length - 1) / 2)];
  const wall = by("ms");
  const cpu = by("cpu");
  return { bestMs: wall[0], medianMs: med(wall), bestCpuMs: cpu[0], medianCpuMs: med(cpu), out: xs[0].out, stdout: xs[0].stdout };
}

const mbps = (bytes, ms) => bytes / 1e6 / (ms / 1000);
const fmt = (bytes, m) =>
  `wall best ${m.bestMs.toFixed(0)} ms = ${mbps(bytes, m.bestMs).toFixed(1)} MB/s (median ${m.medianMs.toFixed(0)} ms = ${mbps(bytes, m.medianMs).toFixed(1)} MB/s); ` +
  `CPU best ${m.bestCpuMs.toFixed(0)} ms = ${mbps(bytes, m.bestCpuMs).toFixed(1)} MB/s of CPU time (median ${m.medianCpuMs.toFixed(0)} ms)`;
const figures = (bytes, m) => ({
  bestWallMs: Math.round(m.bestMs),
  medianWallMs: Math.round(m.medianMs),
  bestWallMBps: +mbps(bytes, m.bestMs).toFixed(2),
  medianWallMBps: +mbps(bytes, m.medianMs).toFixed(2),
  bestCpuMs: Math.round(m.bestCpuMs),
  medianCpuMs: Math.round(m.medianCpuMs),
});

// ---- kubectl, offline -----------------------------------------------------------------------------
function findKubectl() {
  const given = opt("--kubectl");
  if (given) return given;
  for (const p of [join(homedir(), ".cache/mesh/kubernetes-1.37.2/bin/kubectl"), "/usr/local/bin/kubectl", "/usr/bin/kubectl"]) if (existsSync(p)) return p;
  const w = spawnSync("sh", ["-c", "command -v kubectl"], { encoding: "utf8" });
  return w.status === 0 ? w.stdout.trim() : undefined;
}

/**
 * kubectl's client-side dry run, with no server: a kubeconfig pointing at a closed port and a
 * discovery cache for that address holding the kinds of the streams (kubectl maps kinds to
 * resources before anything else, even with --dry-run=client --validate=false).
 */
function offlineKubectl() {
  const kubectl = findKubectl();
  if (!kubectl) return { why: "no kubectl binary (npm run setup builds one under ~/.cache/mesh)" };
  const kubeconfig = join(dir, "kubeconfig");
  writeFileSync(kubeconfig, "apiVersion: v1\nkind: Config\nclusters:\n- name: nowhere\n  cluster: {server: \"https://127.0.0.1:1\"}\nusers:\n- name: u\n  user: {token: unused}\ncontexts:\n- name: c\n  context: {cluster: nowhere, user: u, namespace: default}\ncurrent-context: c\n");
  const cache = join(dir, "kube-cache");
  const disc = join(cache, "discovery", "127.0.0.1_1");
  const groups = {
    "": [["pods", "Pod"], ["services", "Service"], ["configmaps", "ConfigMap"], ["namespaces", "Namespace", false], ["replicationcontrollers", "ReplicationController"]],
    apps: [["deployments", "Deployment"], ["statefulsets", "StatefulSet"], ["daemonsets", "DaemonSet"], ["replicasets", "ReplicaSet"]],
    batch: [["jobs", "Job"], ["cronjobs", "CronJob"]],
  };
  const list = { kind: "APIGroupList", apiVersion: "v1", groups: [] };
  for (const [g, res] of Object.entries(groups)) {
    const gv = g ? `${g}/v1` : "v1";
    list.groups.push({ name: g, versions: [{ groupVersion: gv, version: "v1" }], preferredVersion: { groupVersion: gv, version: "v1" } });
    const d = join(disc, g, "v1");
    mkdirSync(d, { recursive: true });
    const resources = res.map(([n, k, namespaced]) => ({ name: n, singularName: k.toLowerCase(), namespaced: namespaced !== false, kind: k, verbs: ["create", "get", "list"] }));
    writeFileSync(join(d, "serverresources.json"), JSON.stringify({ kind: "APIResourceList", apiVersion: "v1", groupVersion: gv, resources }));
  }
  writeFileSync(join(disc, "servergroups.json"), JSON.stringify(list));
  const args = ["--kubeconfig", kubeconfig, "--cache-dir", cache, "create", "--dry-run=client", "--validate=false", "-o", "yaml", "-f", "-"];
  const probe = spawnSync(kubectl, args, { input: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: probe}\n", encoding: "utf8", timeout: 15000 });
  if (probe.status !== 0) return { why: `kubectl does not run offline: ${(probe.stderr || "").trim().split("\n").pop()}` };
  return { kubectl, args };
}

// ---- the three streams ---------------------------------------------------------------------------
const uniform = stream(5000);
const streams = { uniform, list: listStream(5000), mixed: mixedStream(Buffer.byteLength(uniform)) };
if (opt("--write-streams")) {
  // for profiling: node --cpu-prof bin/mesh.js inject --manual … DIR/mixed.yaml
  for (const [name, text] of Object.entries(streams)) writeFileSync(join(opt("--write-streams"), `${name}.yaml`), text);
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}
log(`machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}), load ${loadavg().map((l) => l.toFixed(2)).join(" ")}; best and median of ${runs} runs; mesh: ${bin}`);
const nodeStart = measure(() => timed(process.execPath, ["-e", "0"]));
const cat = measure(() => timed("cat", [], uniform));
log(`baseline node -e 0: wall best ${nodeStart.bestMs.toFixed(0)} ms (median ${nodeStart.medianMs.toFixed(0)}), CPU ${nodeStart.bestCpuMs.toFixed(0)} ms; cat of the uniform stream: wall best ${cat.bestMs.toFixed(0)} ms (median ${cat.medianMs.toFixed(0)})`);
result({ figure: "baseline", nodeStartBestMs: Math.round(nodeStart.bestMs), nodeStartMedianMs: Math.round(nodeStart.medianMs), catBestMs: Math.round(cat.bestMs), load: loadavg()[0] });
const kc = offlineKubectl();
if (kc.why) log(`kubectl create --dry-run=client -o yaml: not measured: ${kc.why}`);

for (const name of streamNames) {
  const s = streams[name];
  if (!s) throw new Error(`unknown stream ${name} (uniform, list, mixed)`);
  const bytes = Buffer.byteLength(s);
  const docs = name === "list" ? 1 : s.split(/^---/m).length;
  const manual = measure(() => timed(process.execPath, [bin, ...MANUAL, "-"], s));
  log(`[${name}] inject --manual (${(bytes / 1e6).toFixed(2)} MB in, ${docs} documents, ${(manual.out / 1e6).toFixed(1)} MB out): ${fmt(bytes, manual)}`);
  result({ figure: "inject --manual", stream: name, docs, inBytes: bytes, outBytes: manual.out, ...figures(bytes, manual), targetMBps: TARGET_MBPS, ok: mbps(bytes, manual.bestMs) >= TARGET_MBPS, load: loadavg()[0] });

  if (kc.kubectl) {
    const k = measure(() => timed(kc.kubectl, kc.args, s));
    log(`[${name}] kubectl create --dry-run=client -o yaml -f -, same stream (${(k.out / 1e6).toFixed(1)} MB out): ${fmt(bytes, k)}`);
    log(`[${name}]   mesh inject --manual is ${(k.bestMs / manual.bestMs).toFixed(1)}x faster by wall time (median ${(k.medianMs / manual.medianMs).toFixed(1)}x), ${(k.bestCpuMs / manual.bestCpuMs).toFixed(1)}x by CPU time`);
    result({ figure: "kubectl create --dry-run=client -o yaml", stream: name, ...figures(bytes, k), meshManualSpeedupWall: +(k.bestMs / manual.bestMs).toFixed(2), meshManualSpeedupWallMedian: +(k.medianMs / manual.medianMs).toFixed(2), meshManualSpeedupCpu: +(k.bestCpuMs / manual.bestCpuMs).toFixed(2) });
  } else result({ figure: "kubectl create --dry-run=client -o yaml", stream: name, skipped: kc.why });

  const annot = measure(() => timed(process.execPath, [bin, "inject", "--ignore-cluster", "-"], s));
  log(`[${name}] inject (annotation mode): ${fmt(bytes, annot)}`);
  result({ figure: "inject", stream: name, inBytes: bytes, ...figures(bytes, annot) });

  const injected = manual.stdout.toString();
  const unBytes = Buffer.byteLength(injected);
  if (name === "list" && unBytes > 64 * 1024 * 1024) {
    // one List larger than mesh accepts (MAX_LIST_BYTES): uninject refuses it, by design
    log(`[${name}] uninject of the --manual output: not measured, one ${(unBytes / 1e6).toFixed(1)} MB document is over the 64 MiB limit`);
    continue;
  }
  let uninjM;
  try {
    uninjM = measure(() => timed(process.execPath, [bin, "uninject", "-"], injected));
  } catch (err) {
    // a build from before Lists up to 64 MiB (--bin) refuses the List's output
    log(`[${name}] uninject of the --manual output: refused by ${bin}: ${String(err.message).slice(-200)}`);
    continue;
  }
  log(`[${name}] uninject of the --manual output (${(unBytes / 1e6).toFixed(1)} MB): ${fmt(unBytes, uninjM)}`);
  result({ figure: "uninject --manual output", stream: name, inBytes: unBytes, ...figures(unBytes, uninjM) });
}

// ---- 3. a 100 MB stream: peak RSS ---------------------------------------------------------------
if (!quick && bigMB > 0) {
  const big = join(dir, "big.yaml");
  const w = createWriteStream(big);
  let size = 0;
  let n = 0;
  for (; size < bigMB * 1e6; n++) {
    const d = (n ? "---\n" : "") + deployment(n);
    size += d.length;
    if (!w.write(d)) await new Promise((r) => w.once("drain", r));
  }
  await new Promise((r) => w.end(r));
  const out = join(dir, "big.out.yaml");
  // from a file, to a file: the command streams its input and holds its output (temporary file past 64 MB)
  const full = GNU_TIME ? [GNU_TIME, ["-f", "MESHTIME %U %S %M", process.execPath, bin, ...MANUAL, big]] : [process.execPath, [bin, ...MANUAL, big]];
  const t0 = process.hrtime.bigint();
  const r = spawnSync("sh", ["-c", `"$0" "$@" > '${out}'`, full[0], ...full[1]], { stdio: ["ignore", "ignore", "pipe"], maxBuffer: 1 << 30 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const err = r.stderr.toString();
  if (r.status !== 0) throw new Error(`inject of the ${bigMB} MB stream exited ${r.status}: ${err.slice(-400)}`);
  const m = /MESHTIME ([\d.]+) ([\d.]+) (\d+)/.exec(err);
  const rssMB = m ? Number(m[3]) / 1024 : NaN;
  const outBytes = statSync(out).size;
  log(`inject --manual, ${(size / 1e6).toFixed(0)} MB stream (${n} Deployments, ${(outBytes / 1e6).toFixed(0)} MB out): peak RSS ${rssMB.toFixed(0)} MiB, wall ${(ms / 1000).toFixed(1)} s = ${mbps(size, ms).toFixed(1)} MB/s, CPU ${m ? ((Number(m[1]) + Number(m[2]))).toFixed(1) : "?"} s`);
  result({ figure: `inject --manual ${bigMB} MB`, docs: n, inBytes: size, outBytes, peakRssMiB: Math.round(rssMB), wallMs: Math.round(ms), cpuMs: m ? Math.round((Number(m[1]) + Number(m[2])) * 1000) : null, targetRssMiB: TARGET_RSS_MB, ok: rssMB <= TARGET_RSS_MB });
}
rmSync(dir, { recursive: true, force: true });
