import { Command, Option } from "commander";
import type { Deps } from "../deps.js";
import { UsageError } from "../errors.js";
import { LINKERD_VERSION, MESH_VERSION } from "../version.js";
import { globals, parseNamespace } from "./shared.js";

export interface VersionOptions {
  client: boolean;
  short: boolean;
  proxy: boolean;
  namespace?: string;
  allNamespaces: boolean;
  output: "table" | "json";
}

/** Flag combinations that make no sense, rejected before any I/O. */
export function validateVersionOptions(o: VersionOptions): void {
  if ((o.namespace !== undefined || o.allNamespaces) && !o.proxy) throw new UsageError("-n/--namespace and -A/--all-namespaces apply to --proxy only", "add --proxy to list the proxy versions");
  if (o.namespace !== undefined && o.allNamespaces) throw new UsageError("-n/--namespace and -A/--all-namespaces cannot be used together", "drop one of them");
  if (o.proxy && o.client) throw new UsageError("--proxy reads the cluster and --client does not", "drop --client to list the proxy versions");
}

export const versionCommand = (deps: Deps) =>
  new Command("version")
    .option("--client", "print the client version only", false)
    .option("--short", "print the version number(s) only", false)
    .option("--proxy", "also print the data plane's proxy versions, with the pods running each", false)
    .option("-n, --namespace <ns>", "namespace to list --proxy versions in (default: all namespaces)", parseNamespace)
    .option("-A, --all-namespaces", "list --proxy versions in every namespace (the default)", false)
    .addOption(new Option("-o, --output <format>", "output format").choices(["table", "json"]).default("table"))
    .action(async (opts: VersionOptions, cmd: Command) => {
      validateVersionOptions(opts);
      const json = opts.output === "json";
      const clientLine = opts.short ? LINKERD_VERSION : `Client version: ${LINKERD_VERSION} (mesh ${MESH_VERSION})`;
      if (!json) deps.io.stdout.write(`${clientLine}\n`);
      if (opts.client) {
        if (json) deps.io.stdout.write(`${JSON.stringify({ clientVersion: LINKERD_VERSION, meshVersion: MESH_VERSION }, null, 2)}\n`);
        return;
      }
      const g = globals(cmd);
      const cluster = await deps.cluster(g);
      const server = await cluster.controlPlaneVersion(g.linkerdNamespace);
      if (!json) deps.io.stdout.write(opts.short ? `${server ?? "unavailable"}\n` : `Server version: ${server ?? "unavailable"}\n`);
      // The proxy code (and the API's typed lists) load only here: `version --client` stays as light as before.
      const proxies = opts.proxy ? await (await import("./version-proxy.js")).listProxyVersions(cluster, g.linkerdNamespace, opts.namespace ?? "", server) : undefined;
      if (json) {
        const doc = { clientVersion: LINKERD_VERSION, meshVersion: MESH_VERSION, serverVersion: server ?? null, ...(proxies ? { proxyVersions: proxies.groups } : {}) };
        deps.io.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
      } else if (proxies) deps.io.stdout.write(proxies.text);
    });
