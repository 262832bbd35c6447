// Bundles src/ into dist/ with esbuild. Commands are split into their own chunks and
// loaded on demand, so start-up parses only what the invoked command needs. Dependencies
// are bundled too: resolving packages in node_modules at start-up costs more than parsing.
import { build } from "esbuild";
import { rmSync } from "node:fs";

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
  // Bundled CommonJS dependencies call require() for node built-ins.
  banner: { js: 'import { createRequire as __meshRequire } from "node:module"; const require = __meshRequire(import.meta.url);' },
  logLevel: "warning",
});
