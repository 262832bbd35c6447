// Runs the test suite with node's test runner (TypeScript through tsx).
//   node scripts/test.mjs            every test; starts the shared real cluster for the tests that need it
//   node scripts/test.mjs --unit     only tests that need no cluster
//   node scripts/test.mjs FILE...    only those files
// Tests that need the cluster live in test/e2e/ or end in .cluster.test.ts.
import { spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const args = process.argv.slice(2);
const unitOnly = args.includes("--unit");
const explicit = args.filter((a) => !a.startsWith("--"));

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith(".test.ts") ? [p] : [];
  });
}

const needsCluster = (f) => /^test\/e2e\//.test(f) || f.endsWith(".cluster.test.ts");
const files = (explicit.length ? explicit : walk("test")).sort();
const unit = files.filter((f) => !needsCluster(f));
const clustered = unitOnly ? [] : files.filter(needsCluster);

function runNodeTest(list, { env = {}, concurrency = 2 } = {}) {
  if (list.length === 0) return Promise.resolve(0);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "--test", `--test-concurrency=${concurrency}`, ...list], {
      stdio: "inherit",
      env: { ...process.env, ...env, FORCE_COLOR: "0" },
    });
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

let code = await runNodeTest(unit);
if (clustered.length) {
  const { startSharedCluster } = await import("../test/cluster/global.ts").catch(async () => {
    // scripts/test.mjs runs under plain node: load the TypeScript harness through tsx.
    const { tsImport } = await import("tsx/esm/api");
    return tsImport("../test/cluster/global.ts", import.meta.url);
  });
  const cluster = await startSharedCluster();
  const stop = async () => {
    await cluster.stop();
  };
  process.once("SIGINT", () => stop().finally(() => process.exit(130)));
  process.once("SIGTERM", () => stop().finally(() => process.exit(143)));
  try {
    // One file at a time: files that install Linkerd share cluster-wide objects (CRDs, webhook configurations).
    code = (await runNodeTest(clustered, { env: cluster.env, concurrency: 1 })) || code;
  } finally {
    await stop();
  }
}
process.exit(code);
