import { Command, InvalidArgumentError, Option } from "commander";
import type { Deps } from "../../deps.js";
import { UsageError } from "../../errors.js";
import { liveWriter, onInterrupt } from "../../io.js";
import { clusterApi } from "../../kube/cluster.js";
import { globals } from "../shared.js";
import { parseResourceArgs, type ResourceRef } from "../../viz/resources.js";
import { toTapEvents, type TapFilter } from "../../viz/tap/events.js";
import { formatTapEvent, type TapOutput } from "../../viz/tap/format.js";
import { contextNamespace } from "./common.js";
import { runTapSession } from "./tap-session.js";

/** Options shared by `viz tap` and `viz top` (Linkerd's tap request parameters). */
export interface TapCommonOptions {
  namespace: string;
  to?: string;
  toNamespace?: string;
  maxRps: number;
  scheme?: string;
  method?: string;
  authority?: string;
  path?: string;
  selector?: string;
}

export interface TapOptions extends TapCommonOptions {
  output: string;
}

/** Resource types tap can target (spec B6); `--to` also takes services. */
const TARGET_TYPES = new Set(["cronjob", "daemonset", "deployment", "job", "namespace", "pod", "replicaset", "replicationcontroller", "statefulset"]);

function parseRps(value: string): number {
  const n = Number(value);
  if (!/^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(value) || !Number.isFinite(n)) throw new InvalidArgumentError(`"${value}" is not a number`);
  return n;
}

export function addTapOptions(cmd: Command): Command {
  return cmd
    .option("-n, --namespace <ns>", "namespace of the specified resource (default: the kubeconfig context's, else default)")
    .option("--to <resource>", "display requests to this resource")
    .option("--to-namespace <ns>", 'namespace of the "--to" resource; by default the current "--namespace"')
    .addOption(new Option("--max-rps <rps>", "maximum requests per second to tap").argParser(parseRps).default(100))
    .option("--scheme <scheme>", "display requests with this scheme")
    .option("--method <method>", "display requests with this HTTP method")
    .option("--authority <authority>", "display requests with this :authority")
    .option("--path <prefix>", "display requests with paths that start with this prefix")
    .option("-l, --selector <selector>", "selector (label query) to filter on, supports '=', '==', and '!='");
}

/** `opts` with `-n` resolved as kubectl does: the flag, else the kubeconfig context's namespace, else `default`. */
export async function withNamespace<T extends { namespace?: string }>(opts: T, cmd: Command, env: Record<string, string | undefined>): Promise<T & { namespace: string }> {
  const g = globals(cmd);
  return { ...opts, namespace: opts.namespace || ((await contextNamespace(g.kubeconfig, g.context, env)) ?? "default") };
}

/** The target and `--to` resources of tap/top: one or two arguments joined with `/`. */
export function tapTargets(args: string[], o: TapCommonOptions): { target: ResourceRef[]; to?: ResourceRef[] } {
  const target = parseResourceArgs([args.join("/")], o.namespace);
  for (const r of target) if (!TARGET_TYPES.has(r.type)) throw new UsageError(`unsupported resource type for tap: ${r.type}`, "tap a cronjob, daemonset, deployment, job, namespace, pod, replicaset, replicationcontroller or statefulset");
  if (o.to === undefined) {
    if (o.toNamespace) throw new UsageError("--to-namespace only applies with --to");
    return { target };
  }
  const to = parseResourceArgs([o.to], o.toNamespace ?? o.namespace);
  for (const r of to) if (!TARGET_TYPES.has(r.type) && r.type !== "service") throw new UsageError(`unsupported resource type for --to: ${r.type}`);
  return { target, to };
}

/**
 * What a tap session follows for tap and top: the target's pods, or with `--to` the destination's
 * pods, keeping requests from the target's; the label selector, the filters and the rate budget.
 */
export function sessionSelection(target: ResourceRef[], to: ResourceRef[] | undefined, o: TapCommonOptions) {
  return { tapRefs: to ?? target, sourceRefs: to ? target : undefined, selector: o.selector, filter: tapFilter(o), maxRps: o.maxRps };
}

export function tapFilter(o: TapCommonOptions): TapFilter {
  return { method: o.method, scheme: o.scheme, authority: o.authority, path: o.path };
}

const HELP = `
Events come from the proxies' HTTP access logs (pod annotation config.linkerd.io/access-log: json),
read through the Kubernetes log API, so what tap shows differs from Linkerd's tap server:
  * only requests the pods' proxies received (proxy=in); with --to, the --to resource's pods are
    followed and only requests from the target's pods are shown (still proxy=in)
  * dst ports come from the request's authority (Service targetPort) or the pod's only port
  * rsp latency is the proxy's total time to response headers (0 with the apache format);
    end lines show duration=0µs and the response's Content-Length as response-length (0 when absent);
    there is no grpc-status
  * Ctrl-C ends tap cleanly with exit code 0`;

export const tapCommand = (deps: Deps) =>
  addTapOptions(new Command("tap").argument("<resource...>", "TYPE/NAME or TYPE NAME: the resource whose requests to show"))
    .option("-o, --output <format>", 'output format: "wide" or "json"', "")
    .addHelpText("after", HELP)
    .action(async (args: string[], opts: TapOptions, cmd: Command) => {
      if (args.length > 2) throw new UsageError(`accepts between 1 and 2 arg(s), received ${args.length}`);
      if (!["", "wide", "json"].includes(opts.output)) throw new UsageError(`output format "${opts.output}" not recognized`);
      const output = opts.output as TapOutput;
      const { target, to } = tapTargets(args, await withNamespace(opts, cmd, deps.env));
      const cluster = clusterApi(await deps.cluster(globals(cmd)));
      const stop = new AbortController();
      const writer = liveWriter(deps.io, { onDropped: (n) => deps.io.stderr.write(`warning: stdout is not keeping up: dropped ${n} event${n === 1 ? "" : "s"}\n`) });
      writer.signal.addEventListener("abort", () => stop.abort(), { once: true });
      const dispose = onInterrupt(() => stop.abort());
      try {
        await runTapSession({
          cluster,
          ...sessionSelection(target, to, opts),
          signal: stop.signal,
          now: deps.now,
          warn: (m) => deps.io.stderr.write(`${m}\n`),
          onRequest: (r, id) => {
            for (const e of toTapEvents(r, id)) writer.write(formatTapEvent(e, output));
          },
        });
      } finally {
        dispose();
        await writer.flush();
        cluster.close();
      }
    });
