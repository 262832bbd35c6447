// Bundles src/ into dist/ with esbuild. Commands are split into their own chunks and
// loaded on demand, so start-up parses only what the invoked command needs. Dependencies
// are bundled too: resolving packages in node_modules at start-up costs more than parsing.
import { build } from "esbuild";
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

const lazyChildProcess = fileURLToPath(new URL("./shims/lazy-child-process.cjs", import.meta.url));
/** Gives commander a lazy node:child_process (see the shim for why). */
const lazyChildProcessPlugin = {
  name: "lazy-child-process",
  setup(b) {
    b.onResolve({ filter: /^node:child_process$/ }, (args) =>
      /[\\/]commander[\\/]/.test(args.importer) ? { path: lazyChildProcess } : undefined,
    );
  },
};

const BANNER = [
  'import { createRequire as __meshCreateRequire } from "node:module";',
  "const require = Object.assign((id) => process.getBuiltinModule(id) ?? __meshCreateRequire(import.meta.url)(id),",
  "  { resolve: (id, o) => __meshCreateRequire(import.meta.url).resolve(id, o) });",
].join("\n");

rmSync(new URL("../dist", import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: { cli: "src/cli.ts" },
  outdir: "dist",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: "linked",
  // Bundled CommonJS dependencies call require() for node built-ins. createRequire() would start
  // Node's CommonJS loader in every process (~5-25 ms); built-ins need only getBuiltinModule.
  banner: { js: BANNER },
  plugins: [lazyChildProcessPlugin],
  logLevel: "warning",
});
