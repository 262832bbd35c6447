import { Command, Option } from "commander";
import type { Deps } from "../deps.js";
import { UsageError } from "../errors.js";
import { clusterApi } from "../kube/cluster.js";
import { sanitize } from "../output/sanitize.js";
import { computeAuthorizations, formatAuthorizations, formatAuthorizationsJson } from "../policy/authorizations.js";
import { listPolicyObjects } from "../policy/list.js";
import { resolveTargets } from "../viz/objects.js";
import { parseResourceArgs, type ResourceRef, type ResourceType } from "../viz/resources.js";
import { globals, parseNamespace } from "./shared.js";
import { contextNamespace } from "./viz/common.js";

export interface AuthzOptions {
  namespace?: string;
  output: "table" | "json";
}

/** Resources whose pods authz looks at. */
const TYPES: ReadonlySet<ResourceType> = new Set(["cronjob", "daemonset", "deployment", "job", "pod", "replicaset", "replicationcontroller", "statefulset", "namespace", "service"]);

/** `TYPE`, `TYPE/NAME` or `TYPE NAME` (Linkerd's one or two arguments), checked before any I/O. */
export function validateAuthzArgs(args: string[], namespace: string): ResourceRef {
  if (args.length === 0 || args.length > 2) throw new UsageError(`authz takes one resource (TYPE, TYPE/NAME or TYPE NAME), got ${args.length} arguments`, "e.g. `mesh authz -n emojivoto deploy/web`");
  const [ref] = parseResourceArgs(args.length === 2 ? [`${args[0]}/${args[1]}`] : args, namespace);
  if (!TYPES.has(ref.type)) throw new UsageError(`authz does not take ${ref.type} resources`, "name a workload or pod: deploy, sts, ds, rs, rc, job, cj, po (or ns, svc)");
  return ref;
}

export const authzCommand = (deps: Deps) =>
  new Command("authz")
    .usage("[flags] resource")
    .argument("[resource...]")
    .option("-n, --namespace <ns>", "namespace of the resource (default: the kubeconfig context's, else default)")
    .addOption(new Option("-o, --output <format>", "output format").choices(["table", "json"]).default("table"))
    .addHelpText(
      "after",
      `
One row per Server selecting the resource's pods and the policy that authorizes traffic to it:
a ServerAuthorization of the Server, or an AuthorizationPolicy targeting the Server, one of its
HTTPRoutes (ROUTE; * is every route) or the whole namespace. Read from the API; for the traffic
each policy admitted or denied, see \`mesh viz authz\`.

Examples:
  mesh authz -n emojivoto deploy/web
  mesh authz -n emojivoto deploy web -o json`,
    )
    .action(async (args: string[], opts: AuthzOptions, cmd: Command) => {
      if (opts.namespace !== undefined) {
        try {
          parseNamespace(opts.namespace);
        } catch {
          throw new UsageError(`--namespace "${opts.namespace}" is not a valid namespace name`);
        }
      }
      const g = globals(cmd);
      const namespace = opts.namespace || ((await contextNamespace(g.kubeconfig, g.context, deps.env)) ?? "default");
      const ref = validateAuthzArgs(args, namespace);
      const cluster = clusterApi(await deps.cluster(g));
      try {
        const [targets, objects] = await Promise.all([resolveTargets(cluster, [ref], {}), listPolicyObjects(cluster, ref.type === "namespace" ? (ref.name ?? namespace) : namespace)]);
        const pods = targets.flatMap((t) => t.pods);
        const rows = computeAuthorizations(pods, objects, (m) => deps.io.stderr.write(`warning: ${sanitize(m, 500)}\n`));
        deps.io.stdout.write(opts.output === "json" ? formatAuthorizationsJson(rows) : formatAuthorizations(rows));
      } finally {
        cluster.close();
      }
    });
