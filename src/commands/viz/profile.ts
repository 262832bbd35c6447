import { Command, InvalidArgumentError, Option } from "commander";
import type { Deps } from "../../deps.js";
import { UsageError } from "../../errors.js";
import { onInterrupt } from "../../io.js";
import { clusterApi } from "../../kube/cluster.js";
import { sanitize, sanitizeToken } from "../../output/sanitize.js";
import { ProfileRoutes, renderProfile, renderProfileTemplate } from "../../viz/profile.js";
import { globals, parseDuration, parseNamespace } from "../shared.js";
import { clusterDomainOf, contextNamespace } from "./common.js";
import { tapTargets } from "./tap.js";
import { runTapSession } from "./tap-session.js";

export interface ProfileOptions {
  namespace?: string;
  tap?: string;
  tapDuration: number;
  tapRouteLimit: number;
  template: boolean;
  clusterDomain?: string;
}

const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

function parseLimit(v: string): number {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`"${v}" is not a non-negative integer`);
  return Number(v);
}

/** Linkerd's checks (one SERVICE argument, --tap, a DNS-1035 service name, a DNS-1123 namespace). */
export function validateProfile(args: string[], o: ProfileOptions, namespace: string): { service: string } {
  if (args.length !== 1) throw new UsageError(`accepts 1 arg(s), received ${args.length}`, "name the Service the profile is for: mesh viz profile --tap deploy/web -n emojivoto web-svc");
  if (o.template && o.tap) throw new UsageError("--template and --tap are mutually exclusive");
  if (!o.template && !o.tap) throw new UsageError("The --tap flag must be specified", "or --template for a ServiceProfile to fill in by hand");
  const service = args[0];
  if (service.length > 63 || !DNS1035.test(service))
    throw new UsageError(`invalid service "${sanitize(service, 80)}": it must be a DNS-1035 label (at most 63 lower-case letters, digits or '-', starting with a letter and ending with a letter or digit)`);
  try {
    parseNamespace(namespace);
  } catch {
    throw new UsageError(`invalid namespace "${sanitize(namespace, 80)}": it must be a DNS-1123 label`);
  }
  if (o.tap && !(o.tapDuration > 0)) throw new UsageError("--tap-duration must be greater than 0");
  return { service };
}

export const profileCommand = (deps: Deps) =>
  new Command("profile")
    .usage("[flags] (--tap resource | --template) SERVICE")
    .argument("[service...]")
    .addHelpText(
      "after",
      `
With --tap, the routes are the requests the resource's pods receive during --tap-duration, read
from their proxies' access logs as \`mesh viz tap\` reads them (pods need
config.linkerd.io/access-log: json or apache): one route per method and path, the path matched
exactly (regular-expression characters escaped; the query string is not part of the path), the
root path / left out, at most --tap-route-limit routes (tapping stops when the limit is reached).

Examples:
  mesh viz profile -n emojivoto web-svc --tap deploy/web --tap-duration 10s --tap-route-limit 5 | kubectl apply -f -
  mesh viz profile -n emojivoto web-svc --template > web-svc-profile.yaml`,
    )
    .option("-n, --namespace <ns>", "namespace of the service (default: the kubeconfig context's, else default)")
    .option("--tap <resource>", "output a service profile based on the requests this resource receives (TYPE/NAME)")
    .addOption(new Option("--tap-duration <duration>", 'how long to collect requests (for example: "10s", "1m")').default(5_000, "5s").argParser(parseDuration))
    .addOption(new Option("--tap-route-limit <n>", "max number of routes to add to the profile").default(20).argParser(parseLimit))
    .option("--template", "output a ServiceProfile template to edit by hand (no cluster needed)", false)
    .option("--cluster-domain <domain>", "cluster domain of the profile's name (default: linkerd-config's clusterDomain, else cluster.local)")
    .action(async (args: string[], opts: ProfileOptions, cmd: Command) => {
      const g = globals(cmd);
      const namespace = opts.namespace || ((await contextNamespace(g.kubeconfig, g.context, deps.env)) ?? "default");
      const { service } = validateProfile(args, opts, namespace);
      if (opts.template) {
        deps.io.stdout.write(renderProfileTemplate(service, namespace, opts.clusterDomain ?? "cluster.local"));
        return;
      }
      const { target } = tapTargets([opts.tap!], { namespace, maxRps: 100 });
      const cluster = clusterApi(await deps.cluster(g));
      const stop = new AbortController();
      const timer = setTimeout(() => stop.abort(), opts.tapDuration);
      const dispose = onInterrupt(() => stop.abort());
      const routes = new ProfileRoutes(opts.tapRouteLimit);
      if (routes.full) stop.abort();
      try {
        const clusterDomain = opts.clusterDomain ?? (await clusterDomainOf(cluster, g.linkerdNamespace));
        if (!stop.signal.aborted)
          await runTapSession({
            cluster,
            tapRefs: target,
            filter: {},
            maxRps: 100,
            signal: stop.signal,
            now: deps.now,
            warn: (m) => deps.io.stderr.write(`${m}\n`),
            onRequest: (r) => {
              // Server-supplied text: made inert before it reaches the YAML (a path with control
              // characters or spaces could not be a route anyway).
              if (routes.add(sanitizeToken(r.method, 32), sanitizeToken(r.path))) stop.abort();
            },
          });
        deps.io.stdout.write(renderProfile(service, namespace, clusterDomain, routes.routes()));
      } finally {
        clearTimeout(timer);
        dispose();
        cluster.close();
      }
    });
