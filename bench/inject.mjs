// Benchmarks `mesh inject` (the built bin, whole command) on generated streams:
//   1. 5,000 Deployments (~3.3 MB): `inject --manual` (target: >= 5 MB/s of input, wall clock,
//      2 cores), annotation mode and uninject, with baselines measured in the same run
//      (`node -e 0`, `cat` of the stream, the load average) so a busy machine shows.
//   2. `kubectl create --dry-run=client -o yaml -f -` round-tripping the same stream, when an API
//      server is reachable (kubectl needs its discovery data even for a client-side dry run):
//      `eval "$(npm run -s cluster:up)"` first (or pass --kubeconfig PATH); else it says so.
//   3. A 100 MB stream through `inject --manual`: peak RSS (target: <= 400 MB).
// Human-readable lines go to stderr, one JSON line per figure to stdout (`ok`: target met).
//   npm run build && node bench/inject.mjs [--quick] [--runs N] [--big-mb N (0: skip)] [--kubeconfig PATH]
import { spawnSync } from "node:child_process";
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
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
const kubeconfig = opt("--kubeconfig", process.env.KUBECONFIG);

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = join(root, "bin", "mesh.js");
const dir = mkdtempSync(join(tmpdir(), "mesh-bench-inject-"));
const ca = join(dir, "ca.pem");
writeFileSync(ca, readFileSync(join(root, "test", "fixtures", "inject", "ca.pem"), "utf8"));
const MANUAL = ["inject", "--manual", "--ignore-cluster", "--identity-trust-anchors-file", ca];
const TARGET_MBPS = 5;
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

// ---- 1. the 5,000-Deployment stream -----------------------------------------------------------
const s = stream(5000);
const bytes = Buffer.byteLength(s);
log(`machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}), load ${loadavg().map((l) => l.toFixed(2)).join(" ")}; best and median of ${runs} runs`);
const nodeStart = measure(() => timed(process.execPath, ["-e", "0"]));
const cat = measure(() => timed("cat", [], s));
log(`baseline node -e 0: wall best ${nodeStart.bestMs.toFixed(0)} ms (median ${nodeStart.medianMs.toFixed(0)}), CPU ${nodeStart.bestCpuMs.toFixed(0)} ms; cat of the stream: wall best ${cat.bestMs.toFixed(0)} ms (median ${cat.medianMs.toFixed(0)})`);
result({ figure: "baseline", nodeStartBestMs: Math.round(nodeStart.bestMs), nodeStartMedianMs: Math.round(nodeStart.medianMs), catBestMs: Math.round(cat.bestMs), load: loadavg()[0] });

const manual = measure(() => timed(process.execPath, [bin, ...MANUAL, "-"], s));
log(`inject --manual, 5000 Deployments (${(bytes / 1e6).toFixed(2)} MB in, ${(manual.out / 1e6).toFixed(1)} MB out): ${fmt(bytes, manual)}`);
result({ figure: "inject --manual", docs: 5000, inBytes: bytes, outBytes: manual.out, ...figures(bytes, manual), targetMBps: TARGET_MBPS, ok: mbps(bytes, manual.bestMs) >= TARGET_MBPS });

const annot = measure(() => timed(process.execPath, [bin, "inject", "--ignore-cluster", "-"], s));
log(`inject (annotation mode), same stream: ${fmt(bytes, annot)}`);
result({ figure: "inject", docs: 5000, inBytes: bytes, ...figures(bytes, annot) });

const uninj = measure(() => timed(process.execPath, [bin, "uninject", "-"], s));
log(`uninject, same stream: ${fmt(bytes, uninj)}`);
result({ figure: "uninject", docs: 5000, inBytes: bytes, ...figures(bytes, uninj) });

const injected = manual.stdout.toString();
const unBytes = Buffer.byteLength(injected);
const uninjM = measure(() => timed(process.execPath, [bin, "uninject", "-"], injected));
log(`uninject of the --manual output (${(unBytes / 1e6).toFixed(1)} MB): ${fmt(unBytes, uninjM)}`);
result({ figure: "uninject --manual output", docs: 5000, inBytes: unBytes, ...figures(unBytes, uninjM) });

// ---- 2. kubectl, same stream --------------------------------------------------------------------
function findKubectl() {
  for (const p of [join(homedir(), ".cache/mesh/kubernetes-1.20.2/bin/kubectl"), "/usr/local/bin/kubectl", "/usr/bin/kubectl"]) if (existsSync(p)) return p;
  const w = spawnSync("sh", ["-c", "command -v kubectl"], { encoding: "utf8" });
  return w.status === 0 ? w.stdout.trim() : undefined;
}
const kubectl = findKubectl();
let kubectlWhy;
if (!kubectl) kubectlWhy = "no kubectl binary (the cluster harness builds one: npm run cluster:up)";
else if (!kubeconfig || !existsSync(kubeconfig)) kubectlWhy = "no API server: kubectl's client-side dry run still needs discovery; run `eval \"$(npm run -s cluster:up)\"` (or pass --kubeconfig PATH) first";
else {
  const ping = spawnSync(kubectl, ["--kubeconfig", kubeconfig, "--request-timeout=5s", "get", "--raw", "/version"], { encoding: "utf8", timeout: 15000 });
  if (ping.status !== 0) kubectlWhy = `the API server in ${kubeconfig} does not answer (${(ping.stderr || "").trim().split("\n")[0]})`;
}
if (kubectlWhy) {
  log(`kubectl create --dry-run=client -o yaml: not measured: ${kubectlWhy}`);
  result({ figure: "kubectl create --dry-run=client -o yaml", skipped: kubectlWhy });
} else {
  const k = measure(() => timed(kubectl, ["--kubeconfig", kubeconfig, "create", "--dry-run=client", "-o", "yaml", "-f", "-"], s));
  const objects = (k.stdout.toString().match(/^kind: Deployment$/gm) ?? []).length;
  log(`kubectl create --dry-run=client -o yaml -f -, same stream (${objects} objects back, ${(k.out / 1e6).toFixed(1)} MB): ${fmt(bytes, k)}`);
  log(`  ratio: mesh inject --manual is ${(k.bestMs / manual.bestMs).toFixed(1)}x faster than kubectl's round trip by wall time (median ${(k.medianMs / manual.medianMs).toFixed(1)}x), ${(k.bestCpuMs / manual.bestCpuMs).toFixed(1)}x by CPU time`);
  result({ figure: "kubectl create --dry-run=client -o yaml", objects, ...figures(bytes, k), meshManualSpeedupWall: +(k.bestMs / manual.bestMs).toFixed(2), meshManualSpeedupWallMedian: +(k.medianMs / manual.medianMs).toFixed(2), meshManualSpeedupCpu: +(k.bestCpuMs / manual.bestCpuMs).toFixed(2) });
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
