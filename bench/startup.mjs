// Start-up cost of mesh: `mesh version --client` against a bare `node -e 0`, measured pair by
// pair in the same run (so machine load hits both alike). Target: median ratio <= 1.3.
//   node bench/startup.mjs [runs]
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const runs = Number(process.argv[2] ?? 40);
const bin = fileURLToPath(new URL("../bin/mesh.js", import.meta.url));

function time(args) {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  if (r.status !== 0) throw new Error(`${args.join(" ")} failed: ${r.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// warm the file cache
time(["-e", "0"]);
time([bin, "version", "--client"]);
const base = [];
const mesh = [];
const ratios = [];
for (let i = 0; i < runs; i++) {
  // alternate which of the pair goes first, so neither always runs on a warmer machine
  let b, m;
  if (i % 2) {
    b = time(["-e", "0"]);
    m = time([bin, "version", "--client"]);
  } else {
    m = time([bin, "version", "--client"]);
    b = time(["-e", "0"]);
  }
  base.push(b);
  mesh.push(m);
  ratios.push(m / b);
}
const ratio = median(ratios);
const result = {
  bench: "startup",
  runs,
  nodeMedianMs: +median(base).toFixed(1),
  meshMedianMs: +median(mesh).toFixed(1),
  medianRatio: +ratio.toFixed(3),
  target: 1.3,
  ok: ratio <= 1.3,
};
console.log(JSON.stringify(result));
