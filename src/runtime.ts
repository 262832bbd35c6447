// Everything `mesh` needs to start, as one module: the build emits it as one file (dist/runtime.js)
// and the command bundles import these names from it, so start-up reads two files instead of
// eight and every bundle shares one copy of commander and of the error classes.
export * from "commander";
export * from "./errors.js";
export * from "./io.js";
export * from "./version.js";
export * from "./output/sanitize.js";
export * from "./commands/shared.js";
export { versionCommand } from "./commands/version.js";
export { main, run, report, buildProgram, findCommand, processDeps, COMMANDS, closest } from "./cli.js";
