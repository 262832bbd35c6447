import { Command, Option } from "commander";
import type { Deps, GlobalOptions } from "../../deps.js";
import { MeshError, UsageError } from "../../errors.js";
import { withVia } from "../../viz/via.js";
import { viaOption, type Via } from "../../viz/via-option.js";
import { clusterApi, type ClusterApi } from "../../kube/cluster.js";
import type { Pod } from "../../kube/types.js";
import { sanitize } from "../../output/sanitize.js";
import { discountOwnScrape, podDelta } from "../../viz/delta.js";
import { formatStatJson, formatStatTable, showsTcp } from "../../viz/format.js";
import { attachedLabels } from "../../viz/labels.js";
import { POD_PAGE_SIZE, resolveTargets, type Target } from "../../viz/objects.js";
import { parsePrometheusUrl, PrometheusClient, proxyVersionQuery, proxyVersionsFrom, statGroupsFromPrometheus } from "../../viz/prometheus.js";
import { parseResourceArgs, STAT_ALL_TYPES, type ResourceRef, type ResourceType } from "../../viz/resources.js";
import { podKey, Scraper, type ScrapedPod } from "../../viz/scrape.js";
import { Aggregator, buildQuery, buildRows, sortRows, STAT_FAMILIES, type GroupStats, type PodSample, type StatRequest, type StatRow } from "../../viz/stat.js";
import { globals, parseDuration, parseNamespace } from "../shared.js";
import { sleep } from "../../concurrency.js";
import { clusterDomainOf, contextNamespace, countdown, scrapable } from "./common.js";

export interface StatOptions {
  /** How to reach the proxies' admin port (--via; default auto). */
  via?: Via;
  namespace?: string;
  allNamespaces: boolean;
  selector?: string;
  timeWindow: string;
  to?: string;
  toNamespace?: string;
  from?: string;
  fromNamespace?: string;
  unmeshed: boolean;
  output: string;
  interval: number;
  watch: boolean;
  watchRounds?: number;
  proxyVersionMismatch: boolean;
  /** Read the numbers from this Prometheus instead of scraping the proxies (also MESH_PROMETHEUS_URL). */
  prometheusUrl?: string;
}

/** The minimum `-t` Linkerd's metrics API accepts for stat. */
export const MIN_STAT_WINDOW_MS = 15_000;
const POLICY_TYPES = new Set<ResourceType>(["server", "serverauthorization", "authorizationpolicy", "httproute"]);
/** Types mesh's stat reads from proxies; policy resources and service profiles are not done yet. */
const SUPPORTED = new Set<ResourceType>(["authority", "cronjob", "daemonset", "deployment", "job", "namespace", "pod", "replicaset", "replicationcontroller", "service", "statefulset", "all"]);

export interface ValidatedStat {
  refs: ResourceRef[];
  to?: ResourceRef;
  from?: ResourceRef;
  windowMs: number;
  intervalMs: number;
  output: "table" | "wide" | "json";
}

function single(flag: string, value: string, namespace: string): ResourceRef {
  const refs = parseResourceArgs(value.split(/\s+/).filter(Boolean), namespace);
  if (refs.length !== 1) throw new UsageError(`${flag} takes one resource (TYPE or TYPE/NAME), got "${value}"`);
  const r = refs[0];
  if (r.type === "all") throw new UsageError(`'all' is not a valid ${flag} resource`, `name one type, e.g. ${flag} deploy/web`);
  if (POLICY_TYPES.has(r.type)) throw new UsageError(`${flag} is not supported with policy resources (${r.type})`);
  if (!SUPPORTED.has(r.type)) throw new UsageError(`${flag} ${r.type} is not supported by mesh viz stat`);
  return r;
}

/** `-t` validated as Linkerd's metrics API does for stat (≥ 15 s), and the sampling interval it caps. */
export function sampling(o: { timeWindow: string; interval: number }): { windowMs: number; intervalMs: number } {
  let windowMs: number;
  try {
    windowMs = parseDuration(o.timeWindow);
  } catch {
    throw new UsageError(`invalid --time-window "${o.timeWindow}": not a duration (e.g. 30s, 1m, 1h)`);
  }
  if (windowMs < MIN_STAT_WINDOW_MS) throw new UsageError("metrics time window needs to be at least 15s");
  if (!(o.interval > 0)) throw new UsageError("--interval must be greater than 0");
  return { windowMs, intervalMs: Math.min(o.interval, windowMs) };
}

/** B3's flag rules, before any I/O. `namespaceSet`: -n was given on the command line. */
export function validateStatOptions(args: string[], o: StatOptions, namespace: string, namespaceSet: boolean): ValidatedStat {
  if (args.length === 0) throw new UsageError("no resource given", "name a resource type, e.g. `mesh viz stat deploy` or `mesh viz stat deploy/web -n emojivoto`");
  if (!["table", "wide", "json"].includes(o.output)) throw new UsageError(`output format "${o.output}" is not supported`, "use -o table, -o wide or -o json");
  if (o.to && o.from) throw new UsageError("--to and --from flags are mutually exclusive");
  if (o.toNamespace && o.fromNamespace) throw new UsageError("--to-namespace and --from-namespace flags are mutually exclusive");
  if (o.allNamespaces && namespaceSet) throw new UsageError("-A/--all-namespaces and -n/--namespace flags are mutually exclusive");
  const { windowMs, intervalMs } = sampling(o);
  const refs = parseResourceArgs(args, namespace);
  for (const r of refs) {
    if (!SUPPORTED.has(r.type)) throw new UsageError(`mesh viz stat does not support ${r.type} resources yet`, "use deploy, sts, ds, rs, rc, job, cj, po, ns, svc, au or all");
    if (r.type === "namespace") {
      if (o.toNamespace) throw new UsageError("--to-namespace cannot be used with namespace resources");
      if (o.fromNamespace) throw new UsageError("--from-namespace cannot be used with namespace resources");
      if (namespaceSet) throw new UsageError("-n/--namespace cannot be used with namespace resources", "name the namespaces as arguments: `mesh viz stat ns/emojivoto`");
    }
  }
  const to = o.to ? single("--to", o.to, o.toNamespace || namespace) : undefined;
  const from = o.from ? single("--from", o.from, o.fromNamespace || namespace) : undefined;
  if (from?.type === "service") throw new UsageError("service is not supported as a target on 'from' queries, or as a target with 'to' queries");
  if (from?.type === "authority") throw new UsageError("cannot query traffic --from an authority");
  if (refs.some((r) => POLICY_TYPES.has(r.type)) && (to || from)) throw new UsageError("--to and --from are not supported with policy resources");
  return { refs, to, from, windowMs, intervalMs, output: o.output as ValidatedStat["output"] };
}


/** The largest share of --interval by which a round of scrapes may start early to end on time. */
const MAX_LEAD = 0.2;

/** The proxy version each Linkerd release pins (proxy_build_info drops the leading `v`). */
const PROXY_VERSION_OF: Record<string, string> = { "stable-2.14.10": "2.210.4" };

export const statCommand = (deps: Deps) =>
  new Command("stat")
    .usage("[flags] (RESOURCE [NAME] | RESOURCE/NAME...)")
    .argument("[resources...]")
    .addHelpText(
      "after",
      `
Golden metrics (success rate, requests per second, latency percentiles, TCP connections)
of workloads, pods, namespaces, services and authorities, computed from two scrapes of the
proxies' /metrics through the API server (RBAC: get pods/proxy), --interval apart.

Examples:
  mesh viz stat deploy -n emojivoto
  mesh viz stat deploy/web --to svc/emoji-svc -n emojivoto
  mesh viz stat po -A -o wide
  mesh viz stat deploy --proxy-version-mismatch -A
  mesh viz stat deploy -n emojivoto --prometheus-url http://localhost:9090

With --prometheus-url (or MESH_PROMETHEUS_URL), the numbers come from an existing Prometheus that
scrapes the proxies with Linkerd-viz's labels (namespace, pod, deployment, ...), through Linkerd's
own queries over the -t window; objects and MESHED still come from the API server.`,
    )
    .option("-n, --namespace <ns>", "namespace of the resources (default: the kubeconfig context's, else default)")
    .option("-A, --all-namespaces", "resources of every namespace", false)
    .option("-l, --selector <selector>", "label selector for the resources (e.g. app=web)")
    .option("-t, --time-window <duration>", "window the stats describe (at least 15s); sampling uses --interval within it", "1m")
    .option("--to <resource>", "only requests sent to this resource (TYPE or TYPE/NAME)")
    .addOption(new Option("--to-namespace <ns>", "namespace of the --to resource (default: -n)").argParser(parseNamespace))
    .option("--from <resource>", "only requests sent from this resource (TYPE or TYPE/NAME)")
    .addOption(new Option("--from-namespace <ns>", "namespace of the --from resource (default: -n)").argParser(parseNamespace))
    .option("--unmeshed", "also show resources with no meshed pods", false)
    .option("-o, --output <format>", "output format: table, wide or json", "table")
    .addOption(new Option("--interval <duration>", "how long sampling takes: two rounds of scrapes, the second starting early by the first's duration (at most a fifth) to end in time (capped by --time-window)").default(10_000, "10s").argParser(parseDuration))
    .option("-w, --watch", "keep sampling and print a new table every --interval", false)
    .addOption(new Option("--watch-rounds <n>", "stop --watch after n tables (for tests)").argParser((v) => Number(v)).hideHelp())
    .option("--proxy-version-mismatch", "only workloads whose proxies run another version than the control plane's, with the command that fixes each", false)
    .option("--prometheus-url <url>", "read the numbers from this Prometheus (Linkerd-viz's, or one with its labels) instead of scraping every proxy (env: MESH_PROMETHEUS_URL)")
    .addOption(viaOption())
    .action(async (args: string[], opts: StatOptions, cmd: Command) => {
      const g = globals(cmd);
      const namespaceSet = cmd.getOptionValueSource("namespace") === "cli";
      if (opts.namespace !== undefined) parseNamespace(opts.namespace);
      const namespace = opts.namespace || (args.length ? ((await contextNamespace(g.kubeconfig, g.context, deps.env)) ?? "default") : "default");
      const v = validateStatOptions(args, opts, namespace, namespaceSet);
      opts.prometheusUrl = opts.prometheusUrl || deps.env.MESH_PROMETHEUS_URL || undefined;
      await (opts.prometheusUrl ? runStatFromPrometheus : runStat)(deps, g, opts, v);
    });

/** One resource argument's plan: its request, its objects and the pods whose metrics answer it. */
interface Plan {
  req: StatRequest;
  targets: Target[];
  scrape: Pod[];
}


async function plan(cluster: ClusterApi, v: ValidatedStat, o: StatOptions, cp: string, clusterDomain: string): Promise<Plan[]> {
  const refs = v.refs.flatMap((r) => (r.type === "all" ? STAT_ALL_TYPES.map((type) => ({ type, namespace: r.namespace })) : [r]));
  const isOk = scrapable(cp);
  let allPods: Promise<Pod[]> | undefined;
  const fromTargets = v.from ? resolveTargets(cluster, [v.from], {}) : undefined;
  const plans: Plan[] = [];
  for (const ref of refs) {
    const req: StatRequest = { ref, allNamespaces: o.allNamespaces, to: v.to, from: v.from, clusterDomain };
    const targets = await resolveTargets(cluster, [ref], { selector: o.selector, allNamespaces: o.allNamespaces });
    let scrape: Pod[];
    if (v.from) scrape = (await fromTargets!).flatMap((t) => t.pods);
    else if (ref.type === "service") scrape = await (allPods ??= cluster.listPods("", undefined, { pageSize: POD_PAGE_SIZE }));
    else scrape = targets.flatMap((t) => t.pods);
    plans.push({ req, targets, scrape: scrape.filter(isOk) });
  }
  return plans;
}



/** The command that replaces a workload's proxies: rollout restart for controllers that support it, else deleting the pod. */
function fixFor(pod: Pod): string {
  const ns = pod.metadata.namespace ?? "";
  const l = pod.metadata.labels ?? {};
  for (const kind of ["deployment", "statefulset", "daemonset"]) {
    const owner = l[`linkerd.io/proxy-${kind}`];
    if (owner) return `kubectl rollout restart ${kind}/${owner} -n ${ns}`;
  }
  return `kubectl delete pod ${pod.metadata.name} -n ${ns}`;
}

/**
 * The proxy version the control plane's release pins; for a release mesh does not know, the
 * version most of the control plane's own proxies run (restarted at every upgrade), which
 * `versionsOfControlPlane` reads (from their scrapes, or from Prometheus).
 */
async function expectedProxyVersion(cluster: ClusterApi, cp: string, versionsOfControlPlane: (pods: Pod[]) => Promise<string[]>): Promise<string> {
  const cpVersion = await cluster.controlPlaneVersion(cp);
  if (!cpVersion) throw new MeshError(`cannot compare proxy versions: no Linkerd control plane found in namespace "${cp}"`, "is Linkerd installed? pass its namespace with -L");
  const known = PROXY_VERSION_OF[cpVersion];
  if (known) return known;
  const pods = (await cluster.listPods(cp)).filter(scrapable(cp));
  const counts = new Map<string, number>();
  for (const v of await versionsOfControlPlane(pods)) counts.set(v, (counts.get(v) ?? 0) + 1);
  const best = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0];
  if (!best) throw new MeshError(`cannot tell which proxy version control plane ${sanitize(cpVersion, 60)} runs: its pods' metrics could not be read`);
  return best;
}

/** `proxy_build_info`'s version in a scrape. */
const scrapedVersion = (s: ScrapedPod) => [...(s.metrics.samples.get("proxy_build_info")?.keys() ?? [])][0]?.version;

/**
 * --proxy-version-mismatch: only the rows with a pod whose proxy runs another version than
 * `expected`, each with the commands that restart those pods.
 */
function onlyMismatched(rows: StatRow[], versions: Map<string, string>, podByKey: Map<string, Pod>, expected: string): StatRow[] {
  const out = rows.filter((r) => r.proxyVersions?.some((ver) => ver !== expected));
  for (const r of out) {
    const fixes = new Set<string>();
    for (const p of r.pods ?? []) {
      const key = `${p.namespace}/${p.name}`;
      const ver = versions.get(key);
      const pod = podByKey.get(key);
      if (ver !== undefined && ver !== expected && pod) fixes.add(fixFor(pod));
    }
    r.fixes = [...fixes].sort();
  }
  return out;
}

export async function runStat(deps: Deps, g: GlobalOptions, o: StatOptions, v: ValidatedStat): Promise<void> {
  const cluster = withVia(clusterApi(await deps.cluster(g)), o.via ?? "auto", deps.io.stderr);
  const cp = g.linkerdNamespace;
  const stop = new AbortController();
  const onSigint = () => stop.abort();
  if (o.watch) process.once("SIGINT", onSigint);
  const warn = (m: string) => deps.io.stderr.write(`warning: ${m}\n`);
  const scraper = new Scraper(cluster.withTimeout(Math.max(5_000, Math.min(30_000, v.intervalMs))), { families: STAT_FAMILIES, now: () => deps.now().getTime(), warn });
  try {
    const needsDomain = v.refs.some((r) => r.type === "service" || r.type === "all");
    const clusterDomain = needsDomain ? await clusterDomainOf(cluster, cp) : "cluster.local";
    const expected = o.proxyVersionMismatch
      ? await expectedProxyVersion(cluster, cp, async (pods) => [...(await scraper.round(pods.slice(0, 3))).values()].map(scrapedVersion).filter((v) => v !== undefined))
      : undefined;
    let planStart = deps.now().getTime();
    let plans = await plan(cluster, v, o, cp, clusterDomain);
    let planMs = deps.now().getTime() - planStart;
    const podsOf = (ps: Plan[]) => [...new Map(ps.flatMap((p) => p.scrape).map((p) => [podKey(p), p])).values()];
    let roundStart = deps.now().getTime();
    let previous = await scraper.round(podsOf(plans), { throwIfAllFail: true });
    const timing = { planMs, firstRoundMs: deps.now().getTime() - roundStart, roundMs: 0 };
    let lastRoundMs = timing.firstRoundMs;
    for (let round = 1; ; round++) {
      // The whole sampling takes --interval: the next round starts --interval after this one
      // started, less the re-listing before it and less the time a round takes (at most a fifth of
      // the interval), so that it ends about --interval after this one started. Each pod's two
      // scrapes are then up to a round's time less than --interval apart; its rates use the
      // interval its proxy measured (D7).
      const lead = Math.min(lastRoundMs, v.intervalMs * MAX_LEAD);
      const wait = Math.max(0, roundStart + v.intervalMs - lead - planMs - deps.now().getTime());
      const cd = countdown(deps, wait);
      await sleep(wait, stop.signal);
      cd.stop();
      if (stop.signal.aborted) break;
      // Pods come and go: pods that started after the first scrape count from zero (D2 step 5).
      // The last listing goes first, so that two listings of every pod are never held at once.
      plans = [];
      planStart = deps.now().getTime();
      plans = await plan(cluster, v, o, cp, clusterDomain);
      planMs = deps.now().getTime() - planStart;
      const currentStart = deps.now().getTime();
      // Each pod's delta is taken as its scrape arrives and added into the groups of every request
      // that reads the pod; its previous scrape and the delta are let go then, so that at no time
      // are two whole rounds of scrapes held (only --watch keeps this round's for the next).
      const pods = podsOf(plans);
      const byKey = new Map(pods.map((p) => [podKey(p), p]));
      const aggs = plans.map((p) => new Aggregator(buildQuery(p.req)));
      const readers = new Map<string, Aggregator[]>();
      plans.forEach((p, i) => {
        for (const pod of p.scrape) {
          const key = podKey(pod);
          const list = readers.get(key) ?? [];
          if (!list.includes(aggs[i])) list.push(aggs[i]);
          readers.set(key, list);
        }
      });
      const versions = new Map<string, string>();
      const kept = o.watch ? new Map<string, ScrapedPod>() : undefined;
      const before = previous;
      await scraper.round(pods, {
        onScraped: (key, sb) => {
          kept?.set(key, sb);
          const version = scrapedVersion(sb);
          if (version) versions.set(key, version);
          const sa = before.get(key);
          before.delete(key);
          const delta = podDelta(sa, sb, roundStart);
          if (!delta) return;
          if (sa) discountOwnScrape(delta, sa.bodyBytes);
          const sample: PodSample = { delta, attached: attachedLabels(byKey.get(key)!) };
          for (const agg of readers.get(key) ?? []) agg.add(sample);
        },
      });
      previous = new Map();
      timing.roundMs = lastRoundMs = deps.now().getTime() - currentStart;
      const rows = computeRows(plans, aggs.map((a) => a.result()), versions, o, cp, expected);
      print(deps, v, o, rows, expected, round);
      if (g.verbose) deps.io.stderr.write(`${verboseLine(scraper, cluster, timing)}\n`);
      if (!o.watch || (o.watchRounds !== undefined && round >= o.watchRounds)) break;
      previous = kept!;
      roundStart = currentStart;
    }
    scraper.flushWarnings();
  } finally {
    process.removeListener("SIGINT", onSigint);
    cluster.close();
  }
}

const kb = (n: number) => `${(n / 1000).toFixed(1)} kB`;

const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** `--verbose`: what the command cost so far (API requests, bytes received), and on a second line where the time went. */
function verboseLine(scraper: Scraper, cluster: ClusterApi, t: { planMs: number; firstRoundMs: number; roundMs: number }): string {
  const bytes = cluster.bytesReceived?.();
  const received = bytes ? `, ${kb(bytes.wire)} received${bytes.decoded !== bytes.wire ? ` (${kb(bytes.decoded)} decompressed)` : ""}` : "";
  const s = scraper.counters;
  return `mesh viz stat: ${cluster.requestCount()} API requests${received}; ${s.requests} scrapes (${s.failures} failed): ${kb(s.wireBytes)} received, ${kb(s.bytes)} of metrics\nmesh viz stat: listing ${sec(t.planMs)}, first round ${sec(t.firstRoundMs)}, last round ${sec(t.roundMs)}`;
}

/** The rows of every request from its groups (`groups[i]` is `plans[i]`'s). */
function computeRows(plans: Plan[], groups: Map<string, GroupStats>[], versions: Map<string, string>, o: StatOptions, cp: string, expected: string | undefined): StatRow[] {
  const podByKey = new Map<string, Pod>();
  const rows: StatRow[] = [];
  plans.forEach((p, i) => {
    for (const pod of p.scrape) podByKey.set(podKey(pod), pod);
    for (const t of p.targets) for (const pod of t.pods) podByKey.set(podKey(pod), pod);
    rows.push(...buildRows(p.req, p.targets, groups[i], { controlPlaneNamespace: cp, unmeshed: o.unmeshed, proxyVersions: versions }));
  });
  // The same object can come from two arguments (`deploy deploy/web`): keep one row.
  const unique = new Map(rows.map((r) => [`${r.kind}/${r.namespace}/${r.name}`, r]));
  const out = sortRows([...unique.values()]);
  return expected === undefined ? out : onlyMismatched(out, versions, podByKey, expected);
}

function print(deps: Deps, v: ValidatedStat, o: StatOptions, rows: StatRow[], expected: string | undefined, round: number): void {
  if (v.output === "json") {
    deps.io.stdout.write(formatStatJson(rows, { proxyVersion: expected !== undefined }));
    return;
  }
  if (o.watch && deps.io.isTTY) deps.io.stdout.write("\x1b[H\x1b[2J");
  else if (o.watch && round > 1) deps.io.stdout.write("\n");
  const table = formatStatTable(rows, { allNamespaces: o.allNamespaces, wide: v.output === "wide", proxyVersion: v.output === "wide" || expected !== undefined });
  if (!table) {
    deps.io.stderr.write(expected !== undefined ? `No proxies differ from the control plane's version (${expected}).\n` : "No traffic found.\n");
    return;
  }
  deps.io.stdout.write(table);
  if (expected !== undefined) {
    const fixes = [...new Set(rows.flatMap((r) => r.fixes ?? []))].sort();
    deps.io.stdout.write(`\nThe control plane's proxy version is ${sanitize(expected, 60)}. To restart these proxies:\n${fixes.map((f) => `  ${sanitize(f, 300)}\n`).join("")}`);
  }
}

/**
 * `--prometheus-url`: the same rows, from Linkerd's PromQL over an existing Prometheus (B2.1,
 * B2.2, window `-t`) instead of two scrapes of every proxy. Objects, their pods and MESHED still
 * come from the API server (as in Linkerd's metrics API); rows and output are shared.
 */
async function runStatFromPrometheus(deps: Deps, g: GlobalOptions, o: StatOptions, v: ValidatedStat): Promise<void> {
  const client = new PrometheusClient(parsePrometheusUrl(o.prometheusUrl ?? ""));
  const cluster = clusterApi(await deps.cluster(g));
  const cp = g.linkerdNamespace;
  const stop = new AbortController();
  const onSigint = () => stop.abort();
  if (o.watch) process.once("SIGINT", onSigint);
  try {
    const needsDomain = v.refs.some((r) => r.type === "service" || r.type === "all");
    const clusterDomain = needsDomain ? await clusterDomainOf(cluster, cp) : "cluster.local";
    // Proxy versions are what the running proxies report: proxy_build_info, from Prometheus too.
    const expected = o.proxyVersionMismatch
      ? await expectedProxyVersion(cluster, cp, async (pods) => {
          const byPod = proxyVersionsFrom(await client.query(proxyVersionQuery([cp])));
          return pods.map((p) => byPod.get(podKey(p))).filter((ver) => ver !== undefined);
        })
      : undefined;
    for (let round = 1; ; round++) {
      const plans = await plan(cluster, v, o, cp, clusterDomain);
      let versions: Map<string, string> | undefined;
      if (v.output === "wide" || expected !== undefined) {
        const namespaces = [...new Set(plans.flatMap((p) => p.targets.flatMap((t) => t.pods.map((pod) => pod.metadata.namespace ?? ""))))].sort();
        versions = namespaces.length ? proxyVersionsFrom(await client.query(proxyVersionQuery(o.allNamespaces || namespaces.length > 30 ? undefined : namespaces))) : new Map();
      }
      const groups = await Promise.all(plans.map((p) => statGroupsFromPrometheus(client, buildQuery(p.req), v.windowMs, { tcp: showsTcp(p.req.ref.type) })));
      const rows = plans.flatMap((p, i) => buildRows(p.req, p.targets, groups[i], { controlPlaneNamespace: cp, unmeshed: o.unmeshed, proxyVersions: versions }));
      const unique = new Map(rows.map((r) => [`${r.kind}/${r.namespace}/${r.name}`, r]));
      let out = sortRows([...unique.values()]);
      if (expected !== undefined) out = onlyMismatched(out, versions!, new Map(plans.flatMap((p) => p.targets.flatMap((t) => t.pods.map((pod) => [podKey(pod), pod] as const)))), expected);
      print(deps, v, o, out, expected, round);
      if (g.verbose) deps.io.stderr.write(`mesh viz stat: ${client.counters.queries} Prometheus queries to ${client.target.display} (${(client.counters.bytes / 1e6).toFixed(2)} MB), ${cluster.requestCount()} API requests\n`);
      if (!o.watch || (o.watchRounds !== undefined && round >= o.watchRounds)) break;
      await sleep(v.intervalMs, stop.signal);
      if (stop.signal.aborted) break;
    }
  } finally {
    process.removeListener("SIGINT", onSigint);
    cluster.close();
  }
}
