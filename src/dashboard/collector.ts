// The dashboard's collection loop: every interval, one scrape of every meshed proxy in the cluster
// through the API server (viz's Scraper), deltas against the previous round (as `viz stat --watch`
// computes them), then every namespace's and workload's numbers, kept as the latest round and as
// bounded history for the charts. With a Prometheus URL, the numbers come from Linkerd's queries
// instead and nothing is scraped. One round at a time; the loop ends when its signal aborts.
import { sleep } from "../concurrency.js";
import type { ClusterApi } from "../kube/cluster.js";
import type { Pod, ServiceProfile } from "../kube/types.js";
import { sanitize } from "../output/sanitize.js";
import { podSamples, scrapable } from "../commands/viz/common.js";
import { EDGE_FAMILIES, type EdgePod } from "../viz/edges.js";
import { attachedLabels } from "../viz/labels.js";
import { resolveTargets, type Target } from "../viz/objects.js";
import { statGroupsFromPrometheus, type PrometheusClient } from "../viz/prometheus.js";
import type { ResourceRef, ResourceType } from "../viz/resources.js";
import { routeNames, ROUTE_FAMILIES } from "../viz/routes.js";
import { podKey, Scraper, type ScrapedPod } from "../viz/scrape.js";
import { buildQuery, STAT_FAMILIES, type PodSample } from "../viz/stat.js";
import { History, type Point } from "./history.js";
import type { WorkloadDetail as WireWorkloadDetail } from "./wire.js";
import {
  edgeViews,
  groupsFromSamples,
  namespaceKey,
  namespaceSummaries,
  podViews,
  pointOf,
  routeViews,
  workloadKey,
  workloadSummaries,
  WORKLOAD_TYPES,
  type EdgeView,
  type GroupSource,
  type NamespaceSummary,
  type PodView,
  type RouteView,
  type WorkloadSummary,
} from "./views.js";

export const DASHBOARD_FAMILIES = [...new Set<string>([...STAT_FAMILIES, ...ROUTE_FAMILIES, ...EDGE_FAMILIES])];

export interface CollectorOptions {
  cluster: ClusterApi;
  /** Control-plane namespace (-L): which pods are meshed. */
  cp: string;
  intervalMs: number;
  /** Time between the very first two scrapes (the first numbers come sooner); at most intervalMs. */
  firstIntervalMs: number;
  /** Points kept per chart. */
  historyPoints: number;
  now: () => number;
  /** A line for people (stderr); called at most once per distinct problem. */
  warn: (message: string) => void;
  clusterDomain: string;
  /** Numbers from this Prometheus (Linkerd's queries over `windowMs`) instead of scrapes. */
  prometheus?: { client: PrometheusClient; windowMs: number };
}

/** The latest round, as the pages read it. */
export interface Round {
  round: number;
  /** ms since the epoch: when the round's numbers were computed. */
  time: number;
  namespaces: NamespaceSummary[];
  workloads: WorkloadSummary[];
}

interface RoundState extends Round {
  targets: Map<ResourceType, Target[]>;
  samples: Map<string, PodSample>;
  scraped: Map<string, ScrapedPod>;
  pods: Map<string, Pod>;
}

export type WorkloadDetail = WireWorkloadDetail<ResourceType>;

export class Collector {
  readonly history: History;
  private state?: RoundState;
  private readonly listeners = new Set<(r: Round) => void>();
  private readonly warned = new Set<string>();
  private cpVersion?: Promise<string | undefined>;
  private readonly scraper: Scraper;
  /** The error of the last round, if it failed (shown on the pages until a round succeeds). */
  lastError?: string;

  constructor(private readonly o: CollectorOptions) {
    this.history = new History(o.historyPoints);
    this.scraper = new Scraper(o.cluster.withTimeout(Math.max(5_000, Math.min(30_000, o.intervalMs))), { families: DASHBOARD_FAMILIES, now: o.now, warn: (m) => this.warnOnce(m), maxWarnings: 20 });
  }

  get source(): "proxies" | "prometheus" {
    return this.o.prometheus ? "prometheus" : "proxies";
  }

  get intervalMs(): number {
    return this.o.intervalMs;
  }

  latest(): Round | undefined {
    const s = this.state;
    return s && { round: s.round, time: s.time, namespaces: s.namespaces, workloads: s.workloads };
  }

  /** Calls `f` after every round; returns the function that stops that. */
  subscribe(f: (r: Round) => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }

  controlPlaneVersion(): Promise<string | undefined> {
    return (this.cpVersion ??= this.o.cluster.controlPlaneVersion(this.o.cp).catch(() => undefined));
  }

  private warnOnce(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.o.warn(message);
  }

  /** Lists the namespaces and workloads (with their pods), cluster-wide. */
  private async listTargets(): Promise<Map<ResourceType, Target[]>> {
    const refs: ResourceRef[] = [{ type: "namespace", namespace: "" }, ...WORKLOAD_TYPES.map((type) => ({ type, namespace: "" }))];
    const all = await resolveTargets(this.o.cluster, refs, { allNamespaces: true });
    const byType = new Map<ResourceType, Target[]>();
    for (const t of all) {
      const list = byType.get(t.ref.type) ?? [];
      list.push(t);
      byType.set(t.ref.type, list);
    }
    return byType;
  }

  /** Runs rounds until `signal` aborts; a failed round is reported and the next one tried. */
  async run(signal: AbortSignal): Promise<void> {
    let previous: Map<string, ScrapedPod> | undefined;
    let previousStart = 0;
    let round = 0;
    while (!signal.aborted) {
      const start = this.o.now();
      try {
        const targets = await this.listTargets();
        const pods = new Map<string, Pod>();
        for (const t of targets.get("namespace") ?? []) for (const p of t.pods) pods.set(podKey(p), p);
        let groups: GroupSource;
        let samples = new Map<string, PodSample>();
        let scraped = new Map<string, ScrapedPod>();
        if (this.o.prometheus) {
          const { client, windowMs } = this.o.prometheus;
          groups = (req) => statGroupsFromPrometheus(client, buildQuery(req), windowMs, { tcp: false });
        } else {
          const meshed = [...pods.values()].filter(scrapable(this.o.cp));
          scraped = await this.scraper.round(meshed, { throwIfAllFail: previous === undefined });
          if (previous === undefined) {
            previous = scraped;
            previousStart = start;
            await sleep(Math.min(this.o.firstIntervalMs, this.o.intervalMs), signal);
            continue;
          }
          samples = podSamples(meshed, previous, scraped, previousStart);
          groups = groupsFromSamples(samples.values());
          previous = scraped;
          previousStart = start;
        }
        const namespaces = await namespaceSummaries(targets.get("namespace") ?? [], groups, this.o.cp, this.o.clusterDomain);
        const workloads = await workloadSummaries(targets, groups, this.o.cp, this.o.clusterDomain);
        const time = this.o.now();
        const points = new Map<string, Point>();
        for (const n of namespaces) points.set(namespaceKey(n.name), pointOf(time, n));
        for (const w of workloads) points.set(workloadKey(w.namespace, w.kind, w.name), pointOf(time, w));
        this.history.record(points);
        this.state = { round: ++round, time, namespaces, workloads, targets, samples, scraped, pods };
        this.lastError = undefined;
        for (const f of this.listeners) f({ round, time, namespaces, workloads });
      } catch (err) {
        if (signal.aborted) break;
        this.lastError = sanitize(err instanceof Error ? err.message : String(err), 300);
        this.warnOnce(`dashboard: cannot collect the numbers: ${this.lastError}; trying again`);
        for (const f of this.listeners) f(this.latest() ?? { round, time: this.o.now(), namespaces: [], workloads: [] });
      }
      // The next round starts an interval after this one started.
      await sleep(Math.max(0, start + this.o.intervalMs - this.o.now()), signal);
    }
    this.scraper.flushWarnings();
  }

  /** A workload's page: its numbers and history, pods, routes and edges, from the latest round. */
  async workload(ns: string, kind: ResourceType, name: string): Promise<WorkloadDetail | undefined> {
    const s = this.state;
    if (!s) return undefined;
    const workload = s.workloads.find((w) => w.namespace === ns && w.kind === kind && w.name === name);
    const target = s.targets.get(kind)?.find((t) => t.ref.namespace === ns && t.ref.name === name);
    if (!workload || !target) return undefined;
    const cpVersion = await this.controlPlaneVersion();
    const detail: WorkloadDetail = {
      round: s.round,
      time: s.time,
      source: this.source,
      workload,
      history: this.history.get(workloadKey(ns, kind, name)),
      pods: podViews(target.pods, this.o.cp, cpVersion),
      routes: [],
      inbound: [],
      outbound: [],
      controlPlaneVersion: cpVersion,
    };
    if (this.o.prometheus) {
      detail.note = "routes and edges are read from the proxies; with --prometheus-url they are not shown";
      return detail;
    }
    const [services, profiles] = await Promise.all([
      resolveTargets(this.o.cluster, [{ type: "service", namespace: ns }], {}),
      this.o.cluster.listServiceProfiles(ns).catch(() => undefined as ServiceProfile[] | undefined),
    ]);
    const own = target.pods.map((p) => s.samples.get(podKey(p))).filter((x): x is PodSample => x !== undefined);
    detail.routes = routeViews(target, services, new Map((profiles ?? []).map((sp) => [sp.metadata.name, routeNames(sp.spec)])), own, this.o.clusterDomain);
    const edgePods: EdgePod[] = [];
    for (const [key, sc] of s.scraped) {
      const pod = s.pods.get(key);
      if (pod) edgePods.push({ attached: attachedLabels(pod), connections: sc.metrics.samples.get("tcp_open_connections") ?? new Map() });
    }
    Object.assign(detail, edgeViews(kind, ns, name, edgePods, s.pods));
    return detail;
  }
}
