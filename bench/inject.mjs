// Benchmarks `mesh inject` (built dist/) on generated streams:
//   1. 5,000 Deployments (~3 MB): throughput of `inject --manual` and of annotation mode,
//      against `kubectl create --dry-run=client -o yaml -f -` on the same stream, same run.
//   2. 100 MB stream through `inject --manual`: peak RSS (from /usr/bin/time or /proc).
// Run: npm run build && node bench/inject.mjs [--quick]   (prints one line per figure)
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, createWriteStream } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(fileURLToPath(import.meta.url), "..", "..");
const bin = join(root, "bin", "mesh.js");
const quick = process.argv.includes("--quick");
const dir = mkdtempSync(join(tmpdir(), "mesh-bench-inject-"));
const anchors = readFileSync(join(root, "test", "fixtures", "inject", "ca.pem"), "utf8");
writeFileSync(join(dir, "ca.pem"), anchors);

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
 * Runs a command with `input` on stdin; returns wall ms, CPU ms (user+sys, from GNU time when
 * installed: on a busy machine wall time mostly measures the other processes), and output size.
 */
function timed(cmd, args, input) {
  const t0 = process.hrtime.bigint();
  const argv = GNU_TIME ? [GNU_TIME, ["-f", "MESHTIME %U %S %M", cmd, ...args]] : [cmd, args];
  const r = spawnSync(argv[0], argv[1], { input, maxBuffer: 1 << 30, encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr.slice(-500)}`);
  const m = /MESHTIME ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr);
  const cpu = m ? (Number(m[1]) + Number(m[2])) * 1000 : ms;
  return { ms, cpu, out: r.stdout.length };
}

function best(n, f) {
  let b;
  for (let i = 0; i < n; i++) {
    const r = f();
    if (!b || r.cpu < b.cpu) b = r;
  }
  return b;
}

const rate = (bytes, r) => `${(bytes / 1e6 / (r.cpu / 1000)).toFixed(1)} MB/s of CPU time (${r.cpu.toFixed(0)} ms cpu; wall ${r.ms.toFixed(0)} ms = ${(bytes / 1e6 / (r.ms / 1000)).toFixed(1)} MB/s)`;

function findKubectl() {
  for (const p of [join(homedir(), ".cache/mesh/kubernetes-1.20.2/bin/kubectl"), "/usr/local/bin/kubectl", "/usr/bin/kubectl"]) if (existsSync(p)) return p;
  const w = spawnSync("sh", ["-c", "command -v kubectl"], { encoding: "utf8" });
  return w.status === 0 ? w.stdout.trim() : undefined;
}

const mb = (bytes) => bytes / 1e6;
const s = stream(5000);
const runs = quick ? 1 : 3;
const manual = best(runs, () => timed(process.execPath, [bin, "inject", "--manual", "--ignore-cluster", "--identity-trust-anchors-file", join(dir, "ca.pem"), "-"], s));
const annot = best(runs, () => timed(process.execPath, [bin, "inject", "--ignore-cluster", "-"], s));
const uninj = best(runs, () => timed(process.execPath, [bin, "uninject", "-"], s));
console.log(`load: ${readFileSync("/proc/loadavg", "utf8").trim()} (2 cores; wall times suffer when this is high)`);
console.log(`inject --manual, 5000 Deployments (${mb(s.length).toFixed(2)} MB in, ${mb(manual.out).toFixed(1)} MB out): ${rate(s.length, manual)}`);
console.log(`inject (annotation mode), same stream: ${rate(s.length, annot)}`);
console.log(`uninject, same stream: ${rate(s.length, uninj)}`);

const kubectl = findKubectl();
if (kubectl) {
  // --dry-run=client still asks the API server for its discovery data; with no server it fails, so point it at
  // nothing reachable and validate=false to make it round-trip locally: try that first, report what worked.
  const kc = join(dir, "kubeconfig");
  writeFileSync(kc, "apiVersion: v1\nkind: Config\nclusters: [{name: none, cluster: {server: 'https://127.0.0.1:1'}}]\ncontexts: [{name: none, context: {cluster: none}}]\ncurrent-context: none\n");
  const attempts = [
    ["create", "--dry-run=client", "-o", "yaml", "--validate=false", "-f", "-"],
    ["apply", "--dry-run=client", "-o", "yaml", "--validate=false", "-f", "-"],
  ];
  let done = false;
  for (const a of attempts) {
    try {
      const k = best(runs, () => timed(kubectl, ["--kubeconfig", kc, ...a], s));
      console.log(`kubectl ${a.slice(0, 2).join(" ")} -o yaml, same stream: ${rate(s.length, k)}; mesh inject --manual uses ${(k.cpu / manual.cpu).toFixed(1)}x less CPU (wall: ${(k.ms / manual.ms).toFixed(1)}x)`);
      done = true;
      break;
    } catch (err) {
      console.log(`kubectl ${a.slice(0, 2).join(" ")}: not measurable without a server (${String(err.message).split("\n")[0].slice(0, 160)})`);
    }
  }
  if (!done) console.log("kubectl: no round trip measured");
} else console.log("kubectl: not found (build it with the cluster harness: npm run cluster:up)");

if (!quick) {
  // 100 MB stream, streamed from a file; peak RSS from GNU time when available, else from /proc polling.
  const big = join(dir, "big.yaml");
  const w = createWriteStream(big);
  let size = 0;
  for (let i = 0; size < 100e6; i++) {
    const d = (i ? "---\n" : "") + deployment(i);
    size += d.length;
    if (!w.write(d)) await new Promise((r) => w.once("drain", r));
  }
  await new Promise((r) => w.end(r));
  const peak = await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, "inject", "--manual", "--ignore-cluster", "--identity-trust-anchors-file", join(dir, "ca.pem"), big], { stdio: ["ignore", "pipe", "pipe"] });
    let max = 0;
    let outBytes = 0;
    child.stdout.on("data", (c) => (outBytes += c.length));
    child.stderr.resume();
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
        if (m) max = Math.max(max, Number(m[1]) * 1024);
      } catch {}
    }, 20);
    const t0 = Date.now();
    child.on("exit", (code) => {
      clearInterval(poll);
      if (code !== 0) reject(new Error(`inject of the 100 MB stream exited ${code}`));
      else resolve({ max, ms: Date.now() - t0, outBytes });
    });
  });
  console.log(`inject --manual, 100 MB stream (${mb(size).toFixed(0)} MB in, ${mb(peak.outBytes).toFixed(0)} MB out): peak RSS ${(peak.max / 1048576).toFixed(0)} MiB, ${(peak.ms / 1000).toFixed(1)} s`);
}
rmSync(dir, { recursive: true, force: true });
