// The dashboard's API as JSON: the types the server (src/dashboard) sends and the page
// (web/dashboard) reads, in one place. No imports: the page's build type-checks this file too.

/** One sample of a row's numbers; null where the row had no requests in the interval. */
export interface Point {
  /** ms since the epoch (the end of the interval the numbers describe). */
  t: number;
  success: number | null;
  rps: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/** A row's numbers as the page shows them: null without requests (the CLI's `-`). */
export interface Numbers {
  /** Ratio 0..1. */
  success: number | null;
  rps: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface NamespaceSummary extends Numbers {
  name: string;
  meshed: number;
  total: number;
}

/** `K`: the workload kinds (the server's ResourceType). */
export interface WorkloadSummary<K extends string = string> extends Numbers {
  namespace: string;
  kind: K;
  name: string;
  meshed: number;
  total: number;
}

/** Rows of the overview and namespace pages: with their charts' history. */
export type NamespaceRow = NamespaceSummary & { history: Point[] };
export type WorkloadRow<K extends string = string> = WorkloadSummary<K> & { history: Point[] };

export interface PodView {
  name: string;
  status: string;
  meshed: boolean;
  /** The `linkerd-proxy` image tag, "" when unmeshed. */
  proxyVersion: string;
  /** Older than the control plane's version (false when either cannot be compared). */
  outdated: boolean;
}

export interface RouteView extends Numbers {
  route: string;
  service: string;
}

export interface EdgeView {
  /** The other end: `namespace/name`. */
  peer: string;
  peerNamespace: string;
  peerName: string;
  clientId: string;
  serverId: string;
  /** "" when secured, else Linkerd's words for the no-TLS reason. */
  noTlsReason: string;
}

export type Source = "proxies" | "prometheus";

/** `api/meta`. */
export interface Meta {
  defaultNamespace: string | null;
  source: Source;
  intervalMs: number;
  historyPoints: number;
  controlPlaneVersion: string | null;
  workloadTypes: readonly string[];
}

/** `api/overview`. */
export interface Overview {
  round: number;
  time: number | null;
  source: Source;
  error: string | null;
  namespaces: NamespaceRow[];
}

/** `api/namespace?ns=`. */
export interface NamespaceData<K extends string = string> {
  round: number;
  time: number | null;
  source: Source;
  error: string | null;
  namespace: string;
  workloads: WorkloadRow<K>[];
}

/** A workload's page (`api/workload`, with the collector's last error beside it). */
export interface WorkloadDetail<K extends string = string> {
  round: number;
  time: number;
  source: Source;
  workload: WorkloadSummary<K>;
  history: Point[];
  pods: PodView[];
  routes: RouteView[];
  inbound: EdgeView[];
  outbound: EdgeView[];
  controlPlaneVersion?: string;
  /** Why routes or edges are not shown (Prometheus mode). */
  note?: string;
}

export interface CheckRow {
  id: string;
  description: string;
  status: "ok" | "warning" | "error";
  error?: string;
  hint?: string;
}

/** `api/check?mode=`. */
export interface CheckRun {
  mode: "default" | "proxy";
  success: boolean;
  /** ms since the epoch. */
  time: number;
  categories: { id: string; checks: CheckRow[] }[];
}

/** One request as a row of the tap page. */
export interface TapRow {
  id: string;
  /** The proxy's own timestamp of the request. */
  time: string;
  method: string;
  authority: string;
  path: string;
  status: number | null;
  latencyMs: number | null;
  src: string;
  /** `namespace/pod` of the client when it is a known pod. */
  srcPod?: string;
  dst: string;
  dstPod: string;
  tls: string;
}
