import { Command } from "commander";
import type { Deps } from "../../deps.js";
import { UsageError } from "../../errors.js";
import { clusterApi } from "../../kube/cluster.js";
import type { Pod } from "../../kube/types.js";
import { sanitize } from "../../output/sanitize.js";
import { isMeshed } from "../../viz/objects.js";
import { globals, parseNamespace } from "../shared.js";
import { contextNamespace } from "./common.js";
import { accessLogFormat } from "../../viz/tap/pods.js";

export interface ListOptions {
  namespace?: string;
  allNamespaces: boolean;
}

/** The tap annotation Linkerd honours for opting a pod out of tap. */
const DISABLE_TAP = "viz.linkerd.io/disable-tap";

export interface TapReadiness {
  /** Proxies that write an access log (json or apache): tap and top see their requests. */
  enabled: Pod[];
  /** Opted out with viz.linkerd.io/disable-tap: "true". */
  disabled: Pod[];
  /** Meshed, but their proxies write no access log (restart after turning it on). */
  notEnabled: Pod[];
}

/** Linkerd's three lists (`viz list`), with "tap enabled" meaning "writes an access log" in mesh. */
export function tapReadiness(pods: Pod[], cp: string): TapReadiness {
  const out: TapReadiness = { enabled: [], disabled: [], notEnabled: [] };
  for (const p of pods) {
    if (!isMeshed(p, cp)) continue;
    if (p.metadata.annotations?.[DISABLE_TAP] === "true") out.disabled.push(p);
    else if (!accessLogFormat(p)) out.notEnabled.push(p);
    else out.enabled.push(p);
  }
  return out;
}

export function formatTapReadiness(r: TapReadiness): string {
  const item = (p: Pod) => `\t* ${sanitize(`${p.metadata.namespace ?? ""}/${p.metadata.name}`, 300)}${accessLogFormat(p) === "apache" ? " (apache format: tap shows no latency)" : ""}\n`;
  let out = "";
  if (r.enabled.length) out += `Pods with tap enabled:\n${r.enabled.map(item).join("")}`;
  if (r.disabled.length) out += `Pods with tap disabled:\n${r.disabled.map(item).join("")}`;
  if (r.notEnabled.length) out += `Pods missing tap configuration (restart these pods to enable tap):\n${r.notEnabled.map(item).join("")}`;
  if (!out) out = "No meshed pods found\n";
  return out;
}

export const listCommand = (deps: Deps) =>
  new Command("list")
    .addHelpText(
      "after",
      `
Lists the meshed pods and whether tap and top can see their requests: mesh reads them from
the proxies' access logs (annotation config.linkerd.io/access-log: json, then a restart).

Examples:
  mesh viz list -n emojivoto
  mesh viz list -A`,
    )
    .option("-n, --namespace <ns>", "the namespace to list pods in (default: the kubeconfig context's, else default)")
    .option("-A, --all-namespaces", "list pods across all namespaces", false)
    .action(async (opts: ListOptions, cmd: Command) => {
      if (cmd.args.length) throw new UsageError(`list takes no arguments, got "${cmd.args.join(" ")}"`);
      const g = globals(cmd);
      if (opts.namespace !== undefined) parseNamespace(opts.namespace);
      const ns = opts.allNamespaces ? "" : opts.namespace || ((await contextNamespace(g.kubeconfig, g.context, deps.env)) ?? "default");
      const cluster = clusterApi(await deps.cluster(g));
      try {
        const pods = (await cluster.listPods(ns)).sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
        deps.io.stdout.write(formatTapReadiness(tapReadiness(pods, g.linkerdNamespace)));
      } finally {
        cluster.close();
      }
    });
