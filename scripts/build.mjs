// Bundles src/ into dist/ with esbuild, in two builds:
//   dist/runtime.js  everything start-up needs (src/runtime.ts: the CLI shell, commander, errors,
//                    io, the version command), one file: each extra module costs ~1 ms to load
//   dist/<command>.js + chunks  the commands and the cluster client, split, loaded on demand;
//                    they import the start-up modules from ./runtime.js (one shared copy)
// Dependencies are bundled too: resolving packages in node_modules at start-up costs more than parsing.
import { build } from "esbuild";
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { resolve } from "node:path";

const src = (p) => resolve(fileURLToPath(new URL("../src/", import.meta.url)), p);
const lazyChildProcess = fileURLToPath(new URL("./shims/lazy-child-process.cjs", import.meta.url));

/** commander requires node:child_process eagerly; it gets a lazy stand-in (see the shim for why). */
const lazyChildProcessPlugin = {
  name: "lazy-child-process",
  setup(b) {
    b.onResolve({ filter: /^node:child_process$/ }, (args) =>
      /[\\/]commander[\\/]/.test(args.importer) ? { path: lazyChildProcess } : undefined,
    );
  },
};

/** Entry points loaded on demand; the runtime build imports them as ./<name>.js. */
const LAZY = {
  install: "commands/install.ts",
  upgrade: "commands/upgrade.ts",
  uninstall: "commands/uninstall.ts",
  prune: "commands/prune.ts",
  inject: "commands/inject.ts",
  uninject: "commands/uninject.ts",
  check: "commands/check.ts",
  viz: "commands/viz/index.ts",
  completion: "commands/completion.ts",
  cluster: "kube/cluster.ts",
  diagnostics: "commands/diagnostics.ts",
  authz: "commands/authz.ts",
  identity: "commands/identity.ts",
  profile: "commands/profile.ts",
  analyze: "commands/analyze.ts",
  "version-proxy": "commands/version-proxy.ts",
};
/** Modules that live in runtime.js; the lazy builds import them from there. */
const RUNTIME = ["cli.ts", "errors.ts", "io.ts", "version.ts", "output/sanitize.ts", "commands/shared.ts", "commands/version.ts"].map(src);

/** Resolves a relative import of a .js specifier to its .ts source path. */
const sourceOf = (args) => resolve(args.resolveDir, args.path.replace(/\.js$/, ".ts"));

const runtimeExternals = {
  name: "lazy-entries",
  setup(b) {
    const byPath = new Map(Object.entries(LAZY).map(([name, p]) => [src(p), `./${name}.js`]));
    b.onResolve({ filter: /^\./ }, (args) => {
      const target = byPath.get(sourceOf(args));
      return target && args.kind === "dynamic-import" ? { path: target, external: true } : undefined;
    });
  },
};

const fromRuntime = {
  name: "from-runtime",
  setup(b) {
    b.onResolve({ filter: /^commander$/ }, () => ({ path: "./runtime.js", external: true }));
    b.onResolve({ filter: /^\./ }, (args) => (RUNTIME.includes(sourceOf(args)) ? { path: "./runtime.js", external: true } : undefined));
  },
};

const BANNER = [
  'import { createRequire as __meshCreateRequire } from "node:module";',
  // Bundled CommonJS dependencies call require() for node built-ins. createRequire() would start
  // Node's CommonJS loader in every process (~5-25 ms); built-ins need only getBuiltinModule.
  "const require = Object.assign((id) => process.getBuiltinModule(id) ?? __meshCreateRequire(import.meta.url)(id),",
  "  { resolve: (id, o) => __meshCreateRequire(import.meta.url).resolve(id, o) });",
].join("\n");

const common = {
  outdir: "dist",
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: "linked",
  banner: { js: BANNER },
  // MESH_NO_MINIFY=1: readable names in `node --cpu-prof` profiles of the built bin
  minify: !process.env.MESH_NO_MINIFY,
  keepNames: true,
  logLevel: "warning",
};

rmSync(new URL("../dist", import.meta.url), { recursive: true, force: true });
await build({ ...common, entryPoints: { runtime: "src/runtime.ts" }, plugins: [lazyChildProcessPlugin, runtimeExternals] });
await build({
  ...common,
  entryPoints: Object.fromEntries(Object.entries(LAZY).map(([name, p]) => [name, `src/${p}`])),
  splitting: true,
  plugins: [fromRuntime],
});
// The web dashboard (`mesh viz dashboard`): web/dashboard/ built with Vite into dist/dashboard/.
const { build: viteBuild } = await import("vite");
await viteBuild({ configFile: fileURLToPath(new URL("../web/dashboard/vite.config.mjs", import.meta.url)) });
