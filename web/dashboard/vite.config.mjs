// The dashboard's front end: Vite with preact (components) and uPlot (charts), built by
// scripts/build.mjs into dist/dashboard/, which `mesh viz dashboard` serves. Everything the page
// needs is in that folder: no CDN, no remote font.
import { fileURLToPath } from "node:url";

export default {
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "./",
  logLevel: "warn",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: fileURLToPath(new URL("../../dist/dashboard", import.meta.url)),
    emptyOutDir: true,
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: false,
    modulePreload: { polyfill: false },
    target: "es2022",
    // The build's own timing report is noise in `npm run build` on a busy machine.
    rolldownOptions: { checks: { bundlerTimings: false } },
  },
};
