// Start-up of the single executable (node scripts/sea.mjs) against the npm package's bundle:
// `mesh version --client` through each, and `node -e 0`, round-robin in the same run.
//   node bench/sea.mjs [runs] [path to the executable]   (builds dist-sea/mesh when it is missing)
// Target (the start-up bench's): the executable's median within 1.3 × `node -e 0`.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadavg } from "node:os";

const runs = Number(process.argv[2] ?? 20);
const sea = process.argv[3] ?? fileURLToPath(new URL("../dist-sea/mesh", import.meta.url));
const bin = fileURLToPath(new URL("../bin/mesh.js", import.meta.url));
if (!existsSync(sea)) {
  if (process.argv[3]) throw new Error(`${sea} does not exist`);
  spawnSync(process.execPath, [fileURLToPath(new URL("../scripts/sea.mjs", import.meta.url)), sea], { stdio: ["ignore", 2, 2] });
}

function time(cmd, args) {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const subjects = {
  node: () => time(process.execPath, ["-e", "0"]),
  bundle: () => time(process.execPath, [bin, "version", "--client"]),
  sea: () => time(sea, ["version", "--client"]),
};
for (const f of Object.values(subjects)) f(); // warm the file cache (and lay out the SEA's templates)
const times = { node: [], bundle: [], sea: [] };
const names = Object.keys(subjects);
for (let i = 0; i < runs; i++) {
  for (let j = 0; j < names.length; j++) {
    const name = names[(i + j) % names.length]; // rotate the order, so none always runs first
    times[name].push(subjects[name]());
  }
}
const m = Object.fromEntries(names.map((n) => [n, +median(times[n]).toFixed(1)]));
console.log(
  JSON.stringify({
    bench: "sea-startup",
    runs,
    load: +loadavg()[0].toFixed(2),
    nodeMedianMs: m.node,
    bundleMedianMs: m.bundle,
    seaMedianMs: m.sea,
    bundleRatio: +(m.bundle / m.node).toFixed(3),
    seaRatio: +(m.sea / m.node).toFixed(3),
    target: 1.3,
    ok: m.sea / m.node <= 1.3,
  }),
);
