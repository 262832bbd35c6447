import { Command, Option } from "commander";
import type { Deps, GlobalOptions } from "../../deps.js";
import { MeshError, UsageError } from "../../errors.js";
import { withVia } from "../../viz/via.js";
import { viaOption, type Via } from "../../viz/via-option.js";
import { clusterApi } from "../../kube/cluster.js";
import type { Pod, ServiceProfile } from "../../kube/types.js";
import { kindLabel } from "../../viz/labels.js";
import { OBJECT_TYPES, resolveTargets, type Target } from "../../viz/objects.js";
import { parsePrometheusUrl, PrometheusClient, routeRowsFromPrometheusQueries, type PrometheusTarget } from "../../viz/prometheus.js";
import { parseResourceArgs, type ResourceRef } from "../../viz/resources.js";
import { computeRouteRows, formatRoutesJson, formatRoutesTable, profileFor, routeNames, ROUTE_FAMILIES, type RouteProfile, type RouteQuery, type RouteTable } from "../../viz/routes.js";
import { podKey, Scraper } from "../../viz/scrape.js";
import { globals, parseDuration, parseNamespace } from "../shared.js";
import { clusterDomainOf, contextNamespace, sampleTwice, scrapable } from "./common.js";

export interface RoutesOptions {
  /** How to reach the proxies' admin port (--via; default auto). */
  via?: Via;
  namespace?: string;
  timeWindow: string;
  to?: string;
  toNamespace?: string;
  output: string;
  selector?: string;
  interval: number;
  /** Read the numbers from this Prometheus instead of scraping the proxies (also MESH_PROMETHEUS_URL). */
  prometheusUrl?: string;
}

export interface ValidatedRoutes {
  target: ResourceRef;
  to?: ResourceRef;
  windowMs: number;
  intervalMs: number;
  output: "table" | "wide" | "json";
  /** --prometheus-url, parsed. */
  prometheus?: PrometheusTarget;
}

const TARGET_TYPES = new Set(OBJECT_TYPES);

/** B4's argument and flag rules, before any I/O (mesh reports them as usage errors, exit 2). */
export function validateRoutesOptions(args: string[], o: RoutesOptions, namespace: string): ValidatedRoutes {
  if (args.length !== 1) throw new UsageError(`routes takes exactly one resource, got ${args.length}`, "e.g. `mesh viz routes deploy/web -n emojivoto` or `mesh viz routes svc/web-svc`");
  if (!["table", "wide", "json"].includes(o.output)) throw new UsageError("--output currently only supports table, wide, and json");
  if (o.output === "wide" && !o.to) throw new UsageError("wide output is only available when --to is specified");
  let windowMs: number;
  try {
    windowMs = parseDuration(o.timeWindow);
  } catch {
    throw new UsageError(`invalid --time-window "${o.timeWindow}": not a duration (e.g. 10s, 1m, 1h)`);
  }
  if (!(o.interval > 0)) throw new UsageError("--interval must be greater than 0");
  const [target] = parseResourceArgs(args, namespace);
  if (target.type === "authority") throw new UsageError("Authority cannot be the target of a routes query; try using an authority in the --to flag instead");
  if (!TARGET_TYPES.has(target.type)) throw new UsageError(`mesh viz routes does not support ${target.type} resources`, "use deploy, sts, ds, rs, rc, job, cj, po, ns or svc");
  let to: ResourceRef | undefined;
  if (o.to) {
    if (target.type === "service") throw new UsageError("The service resource type is not supported with 'to' queries");
    const refs = parseResourceArgs(o.to.split(/\s+/).filter(Boolean), o.toNamespace || namespace);
    if (refs.length !== 1) throw new UsageError(`--to takes one resource (TYPE or TYPE/NAME), got "${o.to}"`);
    to = refs[0];
    if (to.type !== "authority" && !TARGET_TYPES.has(to.type)) throw new UsageError(`--to ${to.type} is not supported by mesh viz routes`, "use svc, au, deploy, sts, ds, rs, rc, job, cj, po or ns");
  }
  const prometheus = o.prometheusUrl ? parsePrometheusUrl(o.prometheusUrl) : undefined;
  return { target, to, windowMs, intervalMs: Math.min(o.interval, Math.max(windowMs, 1)), output: o.output as ValidatedRoutes["output"], prometheus };
}

export const routesCommand = (deps: Deps) =>
  new Command("routes")
    .usage("[flags] (RESOURCE)")
    .argument("[resource...]")
    .addHelpText(
      "after",
      `
Per-route success rate, request rate and latency for the routes of the ServiceProfiles of a
destination (plus [DEFAULT] for requests no route matched), from two scrapes of the proxies'
route_* metrics through the API server (RBAC: get pods/proxy), --interval apart.

Examples:
  mesh viz routes svc/webapp -n test
  mesh viz routes deploy/traffic -n test --to svc/webapp -o wide
  mesh viz routes deploy/traffic -n test --to svc/webapp --prometheus-url http://localhost:9090

With --prometheus-url (or MESH_PROMETHEUS_URL), the numbers come from an existing Prometheus that
scrapes the proxies with Linkerd-viz's labels, through Linkerd's own queries over the -t window;
objects and ServiceProfiles still come from the API server.`,
    )
    .option("-n, --namespace <ns>", "namespace of the resource (default: the kubeconfig context's, else default)")
    .option("-t, --time-window <duration>", "window the stats describe; sampling uses --interval within it", "1m")
    .option("--to <resource>", "outbound stats to this resource (TYPE or TYPE/NAME)")
    .addOption(new Option("--to-namespace <ns>", 'namespace of the --to resource (default: -n)').argParser(parseNamespace))
    .option("-o, --output <format>", "output format: table, wide (with --to) or json", "table")
    .option("-l, --selector <selector>", "label selector for the resources (e.g. app=web)")
    .addOption(new Option("--interval <duration>", "time between the two scrapes (capped by --time-window)").default(10_000, "10s").argParser(parseDuration))
    .option("--prometheus-url <url>", "read the numbers from this Prometheus (Linkerd-viz's, or one with its labels) instead of scraping the proxies (env: MESH_PROMETHEUS_URL)")
    .addOption(viaOption())
    .action(async (args: string[], opts: RoutesOptions, cmd: Command) => {
      const g = globals(cmd);
      if (opts.namespace !== undefined) parseNamespace(opts.namespace);
      const namespace = opts.namespace || ((await contextNamespace(g.kubeconfig, g.context, deps.env)) ?? "default");
      opts.prometheusUrl = opts.prometheusUrl || deps.env.MESH_PROMETHEUS_URL || undefined;
      const v = validateRoutesOptions(args, opts, namespace);
      await runRoutes(deps, g, opts, v, namespace);
    });

/** The label set one target object's series carry (Linkerd's promQueryLabels). */
function queryLabels(t: Target): Record<string, string> {
  const { type, name = "", namespace } = t.ref;
  if (type === "namespace") return { namespace: name };
  if (type === "service") return { namespace };
  return { [kindLabel(type)]: name, namespace };
}

export async function runRoutes(deps: Deps, g: GlobalOptions, o: RoutesOptions, v: ValidatedRoutes, clientNs: string): Promise<void> {
  const cluster = withVia(clusterApi(await deps.cluster(g)), o.via ?? "auto", deps.io.stderr);
  const cp = g.linkerdNamespace;
  try {
    const spByNs = new Map<string, Promise<ServiceProfile[] | undefined>>();
    const profilesIn = (ns: string) => {
      let p = spByNs.get(ns);
      if (!p) spByNs.set(ns, (p = cluster.listServiceProfiles(ns)));
      return p;
    };
    if ((await profilesIn(clientNs)) === undefined) throw new MeshError("Routes are not available", "the ServiceProfile CRD is not installed: run `mesh install --crds | kubectl apply -f -`");
    const [targets, clusterDomain] = await Promise.all([resolveTargets(cluster, [v.target], { selector: o.selector }), clusterDomainOf(cluster, cp)]);
    /** Profile name → route names, per namespace (filled before profileFor looks there). */
    const profileIndex = new Map<string, Map<string, string[]>>();
    const lookup = (ns: string, name: string) => {
      const r = profileIndex.get(ns)?.get(name);
      return r ? { routes: r } : undefined;
    };
    const servicesIn = new Map<string, Promise<Target[]>>();
    const services = (ns: string) => {
      let p = servicesIn.get(ns);
      if (!p) servicesIn.set(ns, (p = resolveTargets(cluster, [{ type: "service", namespace: ns }], {})));
      return p;
    };

    /** The profiles of the destination (B4): the to-resource, else the target object itself; undefined when it has none to offer. */
    const profilesOf = async (t: Target): Promise<RouteProfile[] | undefined> => {
      if (v.to?.type === "authority") {
        const list = (await profilesIn(clientNs)) ?? [];
        const chosen = v.to.name === undefined ? list : list.filter((sp) => sp.metadata.name === v.to!.name);
        return chosen.length ? chosen.map((sp) => ({ column: sp.metadata.name, name: sp.metadata.name, routes: routeNames(sp.spec) })) : undefined;
      }
      let dsts: Target[];
      try {
        dsts = v.to ? await resolveTargets(cluster, [v.to], { selector: o.selector }) : [t];
      } catch {
        return undefined; // Linkerd skips the object's table when the destination cannot be found
      }
      const byService = new Map<string, RouteProfile>();
      for (const d of dsts) {
        const ns = d.ref.type === "namespace" ? (d.ref.name ?? "") : d.ref.namespace;
        for (const ins of [ns, clientNs]) if (!profileIndex.has(ins)) profileIndex.set(ins, new Map(((await profilesIn(ins)) ?? []).map((sp) => [sp.metadata.name, routeNames(sp.spec)])));
        const mine = new Set(d.pods.map((p) => p.metadata.name));
        const svcs = d.ref.type === "service" ? [d] : (await services(ns)).filter((s) => s.pods.some((p) => mine.has(p.metadata.name)));
        for (const s of svcs) byService.set(s.ref.name ?? "", profileFor({ name: s.ref.name ?? "", namespace: s.ref.namespace }, clientNs, clusterDomain, lookup));
      }
      return [...byService.values()];
    };

    const plans: { t: Target; profiles: RouteProfile[]; pods: Pod[] }[] = [];
    for (const t of targets) {
      const profiles = await profilesOf(t);
      if (profiles) plans.push({ t, profiles, pods: t.pods.filter(scrapable(cp)) });
    }
    if (plans.length === 0) throw new MeshError("No Service Profiles found for selected resources", "create a ServiceProfile for the destination's Service, e.g. `linkerd profile --template`");

    const queryOf = (p: (typeof plans)[number]): RouteQuery => ({ direction: v.to ? "outbound" : "inbound", labels: queryLabels(p.t), profiles: p.profiles });
    const resourceOf = (p: (typeof plans)[number]) => `${p.t.ref.type}/${p.t.ref.name ?? ""}`;
    let tables: RouteTable[];
    if (v.prometheus) {
      // Linkerd's queries over the -t window, one set per table.
      const client = new PrometheusClient(v.prometheus);
      tables = await Promise.all(plans.map(async (p) => ({ resource: resourceOf(p), rows: await routeRowsFromPrometheusQueries(client, queryOf(p), v.windowMs) })));
      if (g.verbose) deps.io.stderr.write(`mesh viz routes: ${client.counters.queries} Prometheus queries to ${client.target.display} (${(client.counters.bytes / 1e6).toFixed(2)} MB), ${cluster.requestCount()} API requests\n`);
    } else {
      const warn = (m: string) => deps.io.stderr.write(`warning: ${m}\n`);
      const scraper = new Scraper(cluster.withTimeout(Math.max(5_000, Math.min(30_000, v.intervalMs))), { families: ROUTE_FAMILIES, now: () => deps.now().getTime(), warn });
      const pods = [...new Map(plans.flatMap((p) => p.pods).map((p) => [podKey(p), p])).values()];
      const samples = await sampleTwice(deps, scraper, pods, v.intervalMs);
      scraper.flushWarnings();
      tables = plans.map((p) => {
        const inputs = p.pods.map((pod) => samples.get(podKey(pod))).filter((s) => s !== undefined);
        return { resource: resourceOf(p), rows: computeRouteRows(inputs, queryOf(p)) };
      });
    }
    const dstIsService = (v.to ?? v.target).type !== "authority";
    if (v.output === "json") deps.io.stdout.write(formatRoutesJson(tables, { to: Boolean(v.to) }));
    else deps.io.stdout.write(formatRoutesTable(tables, { to: Boolean(v.to), wide: v.output === "wide", dstIsService }));
  } finally {
    cluster.close();
  }
}
