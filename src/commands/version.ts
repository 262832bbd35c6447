import { Command } from "commander";
import type { Deps } from "../deps.js";
import { LINKERD_VERSION, MESH_VERSION } from "../version.js";
import { globals } from "./shared.js";

export interface VersionOptions {
  client: boolean;
  short: boolean;
}

export const versionCommand = (deps: Deps) =>
  new Command("version")
    .option("--client", "print the client version only", false)
    .option("--short", "print the version number(s) only", false)
    .action(async (opts: VersionOptions, cmd: Command) => {
      const client = opts.short ? LINKERD_VERSION : `Client version: ${LINKERD_VERSION} (mesh ${MESH_VERSION})`;
      deps.io.stdout.write(`${client}\n`);
      if (opts.client) return;
      const cluster = await deps.cluster(globals(cmd));
      const g = globals(cmd);
      const server = await cluster.controlPlaneVersion(g.linkerdNamespace);
      deps.io.stdout.write(opts.short ? `${server ?? "unavailable"}\n` : `Server version: ${server ?? "unavailable"}\n`);
    });
