// Benchmarks mesh (the built bin, whole command) on pathological input that once took time
// quadratic in its size (issue 9): a map of many keys whose document needs the full YAML parser
// (one anchor sends it there), a one-line JSON object of as many keys, and `install -f` of a
// values file with a map of many keys. The yaml library compares every key with every earlier one
// (`uniqueKeys`) and the scanner did the same in flow maps; mesh now finds duplicates with one set
// per map. Each case runs at two sizes: the time per key must stay flat (`ratio` ≈ 2 for a doubled
// size, where a quadratic step shows ≈ 4); `ok` says the ratio stayed under 3.
// Human-readable lines go to stderr, one JSON line per figure to stdout.
//   npm run build && node bench/hostile.mjs [--quick] [--runs N] [--bin PATH]
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const quick = argv.includes("--quick");
const runs = Number(opt("--runs", quick ? 1 : 3));
const root = fileURLToPath(new URL("..", import.meta.url));
const bin = opt("--bin", join(root, "bin", "mesh.js"));
const dir = mkdtempSync(join(tmpdir(), "mesh-bench-hostile-"));
const log = (s) => process.stderr.write(`${s}\n`);
const result = (r) => process.stdout.write(`${JSON.stringify({ bench: "hostile", ...r })}\n`);

/** A ConfigMap with `n` data keys and one anchor (so the document goes to the full parser). */
function anchoredManifest(n) {
  const lines = ["apiVersion: v1", "kind: ConfigMap", "metadata:", "  name: big", "  labels: &l {app: big}", "data:"];
  for (let i = 0; i < n; i++) lines.push(`  key${i}: value${i}`);
  return `${lines.join("\n")}\n`;
}

/** The same ConfigMap as one line of JSON. */
function jsonManifest(n) {
  const data = {};
  for (let i = 0; i < n; i++) data[`key${i}`] = `value${i}`;
  return `${JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "big" }, data })}\n`;
}

/** A values file with `n` pod annotations (and an anchor, outside the fast subset). */
function valuesFile(n) {
  const lines = ["podAnnotations:"];
  for (let i = 0; i < n; i++) lines.push(`  k${i}: v${i}`);
  lines.push("x: &a 1");
  return `${lines.join("\n")}\n`;
}

function run(args) {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", maxBuffer: 1 << 30 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`mesh ${args.join(" ")} exited ${r.status}: ${r.stderr.slice(0, 500)}`);
  return ms;
}

function best(args) {
  let b = Infinity;
  for (let i = 0; i < runs; i++) b = Math.min(b, run(args));
  return b;
}

const base = best(["version", "--client"]);
result({ figure: "baseline", versionClientMs: Math.round(base), load: loadavg()[0] });
log(`baseline: mesh version --client ${base.toFixed(0)} ms, load ${loadavg()[0].toFixed(2)}`);

const cases = [
  { figure: "inject, anchored map", sizes: quick ? [15_000, 30_000] : [30_000, 60_000], make: anchoredManifest, args: (f) => ["inject", "--ignore-cluster", f] },
  { figure: "inject, one-line JSON map", sizes: quick ? [30_000, 60_000] : [60_000, 120_000], make: jsonManifest, args: (f) => ["inject", "--ignore-cluster", f] },
  { figure: "install -f, values map", sizes: quick ? [10_000, 20_000] : [20_000, 40_000], make: valuesFile, args: (f) => ["install", "--ignore-cluster", "-f", f] },
];

try {
  for (const c of cases) {
    const ms = c.sizes.map((n) => {
      const f = join(dir, `in-${n}.yaml`);
      writeFileSync(f, c.make(n));
      return best(c.args(f));
    });
    // subtract start-up, which does not grow with the input
    const [a, b] = ms.map((m) => Math.max(1, m - base));
    const ratio = b / a;
    result({ figure: c.figure, keys: c.sizes, wallMs: ms.map(Math.round), ratio: +ratio.toFixed(2), ok: ratio < 3 });
    log(`${c.figure}: ${c.sizes.map((n, i) => `${n} keys ${ms[i].toFixed(0)} ms`).join(", ")}; ×${ratio.toFixed(2)} for ×2 keys${ratio < 3 ? "" : " (quadratic?)"}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
