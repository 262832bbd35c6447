// Runs every benchmark in bench/ (files named *.mjs, in name order) and prints one JSON line each.
// A benchmark reports its figures and whether it met its target; this exits 1 if any missed.
//   npm run bench            all
//   npm run bench -- inject  only bench files whose name contains "inject"
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";

const filter = process.argv[2];
const files = readdirSync("bench").filter((f) => f.endsWith(".mjs") && (!filter || f.includes(filter))).sort();
let failed = 0;
for (const f of files) {
  process.stderr.write(`bench/${f}...\n`);
  const r = spawnSync(process.execPath, [`bench/${f}`], { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
  process.stdout.write(r.stdout);
  if (r.status !== 0) failed++;
  for (const line of r.stdout.split("\n").filter(Boolean)) {
    try {
      if (JSON.parse(line).ok === false) failed++;
    } catch {
      // not a result line
    }
  }
}
process.exit(failed ? 1 : 0);
