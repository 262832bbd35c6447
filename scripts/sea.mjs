// Builds mesh as one executable file with Node's single-executable applications (SEA):
//   node scripts/sea.mjs [out]        (default dist-sea/mesh)
// 1. esbuild bundles src/ into one CommonJS script (Node 20's SEA runs CommonJS only; every
//    lazily loaded command is inlined, as a SEA has no files to import from).
// 2. templates/ (and package.json) go in as SEA assets; on its first run the executable writes
//    them to a cache folder keyed by their hash ($XDG_CACHE_HOME or ~/.cache, mesh/sea-<hash>),
//    which is then mesh's package root, so the code reads templates as it does from the npm package.
// 3. node --experimental-sea-config makes the blob (with V8's code cache), copied into a copy of
//    this node binary by postject (from the npm registry, run through npm exec).
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = resolve(process.argv[2] ?? join(root, "dist-sea", "mesh"));
const work = join(dirname(out), "sea-build");
const POSTJECT = "postject@1.0.0-alpha.6";
const FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

const walk = (dir) => readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]));
const assetFiles = ["package.json", ...walk(join(root, "templates")).map((f) => relative(root, f))].sort();
const hash = createHash("sha256");
for (const f of assetFiles) hash.update(f).update("\0").update(readFileSyncSafe(join(root, f)));
const assetsHash = hash.digest("hex").slice(0, 16);

function readFileSyncSafe(p) {
  return execFileSync("cat", [p]);
}

rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

// Runs first in the SEA: lays the assets out once, and names the file mesh's package root is found from.
const banner = `
const __meshSeaRoot = (() => {
  const { join } = require("node:path");
  const fs = require("node:fs");
  const sea = require("node:sea");
  const base = process.env.XDG_CACHE_HOME || join(process.env.HOME || require("node:os").tmpdir(), ".cache");
  const dir = join(base, "mesh", "sea-${assetsHash}");
  if (!fs.existsSync(join(dir, "package.json"))) {
    const tmp = dir + ".tmp-" + process.pid;
    for (const key of ${JSON.stringify(assetFiles)}) {
      fs.mkdirSync(join(tmp, key, ".."), { recursive: true });
      fs.writeFileSync(join(tmp, key), new Uint8Array(sea.getAsset(key)));
    }
    try { fs.renameSync(tmp, dir); } catch { fs.rmSync(tmp, { recursive: true, force: true }); }
  }
  return require("node:url").pathToFileURL(join(dir, "dist", "mesh.cjs")).href;
})();`;

const lazyChildProcess = join(root, "scripts", "shims", "lazy-child-process.cjs");
await build({
  stdin: { contents: 'import { main } from "./src/cli.ts";\nmain().catch((e) => { console.error(e); process.exitCode = 1; });\n', resolveDir: root, loader: "ts" },
  outfile: join(work, "mesh.cjs"),
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  minify: true,
  keepNames: true,
  banner: { js: banner },
  define: { "import.meta.url": "__meshSeaRoot" },
  logLevel: "error",
  plugins: [
    {
      name: "lazy-child-process",
      setup(b) {
        b.onResolve({ filter: /^node:child_process$/ }, (args) => (/[\\/]commander[\\/]/.test(args.importer) ? { path: lazyChildProcess } : undefined));
      },
    },
  ],
});

const config = {
  main: join(work, "mesh.cjs"),
  output: join(work, "sea-prep.blob"),
  disableExperimentalSEAWarning: true,
  useCodeCache: process.env.MESH_SEA_CODE_CACHE !== "0",
  assets: Object.fromEntries(assetFiles.map((f) => [f, join(root, f)])),
};
writeFileSync(join(work, "sea-config.json"), JSON.stringify(config, null, 2));
execFileSync(process.execPath, ["--experimental-sea-config", join(work, "sea-config.json")], { stdio: "inherit" });

mkdirSync(dirname(out), { recursive: true });
rmSync(out, { force: true });
copyFileSync(process.execPath, out);
chmodSync(out, 0o755);
execFileSync("npm", ["exec", "--yes", `--package=${POSTJECT}`, "--", "postject", out, "NODE_SEA_BLOB", config.output, "--sentinel-fuse", FUSE], {
  stdio: ["ignore", "inherit", "inherit"],
});
rmSync(work, { recursive: true, force: true });
console.log(`${relative(process.cwd(), out)}: ${(statSync(out).size / 1e6).toFixed(1)} MB (templates ${assetsHash})`);
