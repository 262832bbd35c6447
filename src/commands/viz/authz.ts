import { Command, Option } from "commander";
import type { Deps, GlobalOptions } from "../../deps.js";
import { UsageError } from "../../errors.js";
import { withVia } from "../../viz/via.js";
import { viaOption, type Via } from "../../viz/via-option.js";
import { clusterApi } from "../../kube/cluster.js";
import type { Pod } from "../../kube/types.js";
import { sanitize } from "../../output/sanitize.js";
import { AUTHZ_FAMILIES, authzCells, authzSelector, computeAuthzRows, formatAuthzJson, formatAuthzTable } from "../../viz/authz.js";
import { attachedLabels } from "../../viz/labels.js";
import { parseResourceArgs, type ResourceRef } from "../../viz/resources.js";
import { Scraper } from "../../viz/scrape.js";
import { globals, parseDuration, parseNamespace } from "../shared.js";
import { contextNamespace, sampleTwice, scrapable } from "./common.js";
import { sampling } from "./stat.js";

export interface AuthzOptions {
  /** How to reach the proxies' admin port (--via; default auto). */
  via?: Via;
  namespace?: string;
  timeWindow: string;
  output: string;
  interval: number;
}

export interface ValidatedAuthz {
  ref: ResourceRef;
  windowMs: number;
  intervalMs: number;
  output: "table" | "wide" | "json";
}

/** Linkerd's argument rules for authz (one resource: `TYPE/NAME`, `TYPE NAME` or `TYPE`), before any I/O. */
export function validateAuthzOptions(args: string[], o: AuthzOptions, namespace: string): ValidatedAuthz {
  if (args.length === 0 || args.length > 2) throw new UsageError(`authz takes one resource (TYPE, TYPE/NAME or TYPE NAME), got ${args.length} arguments`, "e.g. `mesh viz authz deploy/web -n emojivoto`");
  if (!["table", "wide", "json"].includes(o.output)) throw new UsageError(`output format "${o.output}" is not supported`, "use -o table, -o wide or -o json");
  const { windowMs, intervalMs } = sampling(o);
  const refs = parseResourceArgs(args.length === 2 ? [`${args[0]}/${args[1]}`] : args, namespace);
  const ref = refs[0];
  if (ref.type === "all") throw new UsageError("authz does not take 'all'", "name one resource type, e.g. deploy, po, ns, srv, ap, saz or httproute");
  if (ref.type === "serviceprofile") throw new UsageError("authz does not support serviceprofile resources");
  return { ref, windowMs, intervalMs, output: o.output as ValidatedAuthz["output"] };
}

/** The labels Prometheus attaches to a pod's series (D3): a selector on these narrows the pods to scrape. */
const ATTACHED = new Set(["namespace", "pod", "deployment", "statefulset", "daemonset", "replicaset", "replicationcontroller", "cronjob", "k8s_job"]);

/** The meshed pods whose series can match `selector`: those whose attached labels agree with it. */
export function podsFor(pods: Pod[], selector: Record<string, string>, cp: string): Pod[] {
  const wanted = Object.entries(selector).filter(([k]) => ATTACHED.has(k));
  return pods.filter(scrapable(cp)).filter((p) => {
    const attached = attachedLabels(p);
    return wanted.every(([k, v]) => attached[k] === v);
  });
}

export const authzCommand = (deps: Deps) =>
  new Command("authz")
    .usage("[flags] resource")
    .argument("[resource...]")
    .addHelpText(
      "after",
      `
Inbound traffic of a resource's pods by the policy that admitted it: one row per route, server and
authorization (a default server shows as default:<policy>, e.g. default:all-unauthenticated), with
UNAUTHORIZED the rate of requests the server refused (inbound_http_authz_deny_total; those rows
have no authorization). Computed from two scrapes of the proxies' /metrics through the API server
(RBAC: get pods/proxy), --interval apart; rows come from the metrics, so a Server or policy that
received no requests in that time is not listed.

Resources: workloads and pods (deploy/web, po/web-1, ...), ns/NAME, or the policy resources
srv/NAME, saz/NAME, ap/NAME and httproute/NAME (whose traffic is found in every meshed pod of -n).

Examples:
  mesh viz authz deploy/web -n emojivoto
  mesh viz authz srv/web-http -n emojivoto -o json`,
    )
    .option("-n, --namespace <ns>", "namespace of the specified resource (default: the kubeconfig context's, else default)")
    .option("-t, --time-window <duration>", "window the stats describe (at least 15s); sampling uses --interval within it", "1m")
    .option("-o, --output <format>", "output format: table, wide (the same as table) or json", "table")
    .addOption(new Option("--interval <duration>", "time between the two scrapes (capped by --time-window)").default(10_000, "10s").argParser(parseDuration))
    .addOption(viaOption())
    .action(async (args: string[], opts: AuthzOptions, cmd: Command) => {
      const g = globals(cmd);
      if (opts.namespace !== undefined) {
        try {
          parseNamespace(opts.namespace);
        } catch {
          throw new UsageError(`--namespace "${opts.namespace}" is not a valid namespace name`);
        }
      }
      const namespace = opts.namespace || ((await contextNamespace(g.kubeconfig, g.context, deps.env)) ?? "default");
      const v = validateAuthzOptions(args, opts, namespace);
      await runAuthz(deps, g, v, opts.via);
    });

export async function runAuthz(deps: Deps, g: GlobalOptions, v: ValidatedAuthz, via: Via = "auto"): Promise<void> {
  const cluster = withVia(clusterApi(await deps.cluster(g)), via, deps.io.stderr);
  const cp = g.linkerdNamespace;
  try {
    const selector = authzSelector(v.ref);
    // Only pods in the selector's namespace can match (all namespaces for an unnamed namespace type).
    const pods = podsFor(await cluster.listPods(selector.namespace ?? ""), selector, cp);
    const warn = (m: string) => deps.io.stderr.write(`warning: ${m}\n`);
    if (pods.length === 0) warn(`no running meshed pods ${selector.namespace !== undefined ? `in namespace ${sanitize(selector.namespace, 63)} ` : ""}can carry traffic for ${sanitize(`${v.ref.type}${v.ref.name !== undefined ? `/${v.ref.name}` : ""}`, 300)}`);
    const scraper = new Scraper(cluster.withTimeout(Math.max(5_000, Math.min(30_000, v.intervalMs))), { families: AUTHZ_FAMILIES, now: () => deps.now().getTime(), warn });
    const samples = pods.length ? await sampleTwice(deps, scraper, pods, v.intervalMs, { throwIfAllFail: true }) : new Map();
    scraper.flushWarnings();
    const cells = authzCells(computeAuthzRows([...samples.values()], selector));
    deps.io.stdout.write(v.output === "json" ? formatAuthzJson(cells) : formatAuthzTable(cells));
  } finally {
    cluster.close();
  }
}
