/**
 * The traffic model behind the proxy stand-ins: what a pod's proxy has seen,
 * as a list of flows, each a steady stream of requests. Counts are a pure
 * function of elapsed time, so a test can predict exactly what two scrapes
 * (or an access log) will show.
 *
 * Pure: no clock, no I/O. The stand-in server passes `now` in.
 *
 * A pod sets its model with the annotation `mesh.test/traffic` (JSON):
 *
 *   {"flows": [
 *     {"direction": "inbound", "rps": 10, "successRate": 0.9, "latencyMs": [{"ms": 3, "weight": 0.5}, {"ms": 30, "weight": 0.5}],
 *      "authority": "web-svc.ns.svc.cluster.local:80", "route": "GET /api/list", "port": 8080,
 *      "from": {"selector": {"app": "vote-bot"}}},
 *     {"direction": "outbound", "rps": 5, "grpc": true,
 *      "to": {"service": "emoji-svc", "port": 8080, "selector": {"app": "emoji"}}}
 *   ]}
 *
 * (a bare array of flows is accepted too).
 */

/** One point of a discrete latency distribution. */
export interface LatencyPoint {
  ms: number;
  weight: number;
}

/** Pods a flow talks to, chosen among the pods the stand-in knows. */
export interface PeerSelector {
  /** Pod labels that must all match. Without one, no pod is chosen. */
  selector?: Record<string, string>;
  /** Namespace of the peer pods; default: the pod's own namespace. */
  namespace?: string;
  /** Service name: gives `dst_service` and the default authority (outbound). */
  service?: string;
  /** Service port (authority) and, unless `targetPort` is set, the endpoint port. */
  port?: number;
  targetPort?: number;
}

export interface Flow {
  /** `inbound`: requests this pod receives; `outbound`: requests it sends. */
  direction: "inbound" | "outbound";
  /** Requests per second. */
  rps: number;
  /** Fraction of responses classified as success (0..1); default 1. */
  successRate?: number;
  /** Latency: one value in ms, or a discrete distribution; default 5 ms. */
  latencyMs?: number | LatencyPoint[];
  /** Logical destination `name:port`. Inbound default: none (no route series). Outbound default: from `to.service`. */
  authority?: string;
  /** ServiceProfile route name (`rt_route`); only with an authority. */
  route?: string;
  /** Request method and path (access log); default from a route like `GET /api/list`, else `GET /`. */
  method?: string;
  path?: string;
  /** `Host`/URI authority the client used (access log); default: `authority`. */
  host?: string;
  /** gRPC: status_code 200 and `grpc_status` decides success (failures use `failureGrpcStatus`, default 14). */
  grpc?: boolean;
  /** HTTP status of failed responses; default 500. Successful ones get `status` (default 200). */
  failureStatus?: number;
  status?: number;
  failureGrpcStatus?: number;
  /** Inbound: the pod port the requests arrive on (default 8080). Outbound: endpoint port if no `to` pod. */
  port?: number;
  /** Inbound: the client's identity; `null` means plaintext (`tls="no_identity"`). Default: a meshed client in the pod's namespace with service account `default`, or the `from` pod's identity. */
  clientId?: string | null;
  /** Inbound: client `ip:port` for the access log; default from `from`, else the node's host address. */
  clientAddr?: string;
  /** Inbound: where requests come from (sets clientAddr/clientId from the first matching pod). */
  from?: PeerSelector;
  /** Outbound: destination pods; rps is split evenly across them. */
  to?: PeerSelector;
  /** Outbound without a known pod: explicit `dst_*` labels (without the prefix) and endpoint address. */
  dst?: Record<string, string>;
  targetAddr?: string;
  /** Outbound: the server identity; `null` means plaintext. Default from the endpoint pod. */
  serverId?: string | null;
  /** Inbound: `deny` counts requests in `inbound_http_authz_deny_total` and answers 403. */
  authz?: "allow" | "deny";
  /**
   * Inbound: the policy resources the requests matched, for the `srv_*`, `route_*` and `authz_*`
   * labels (default: the pod's default policy). `server` names a Server, `route` an HTTPRoute,
   * `authorization` is `<kind>/<name>` with kind `authorizationpolicy` or `serverauthorization`
   * (denied requests carry none). The stand-in does not read policy objects: these are labels only.
   */
  policy?: { server?: string; route?: string; authorization?: string };
  /** Open TCP connections carrying the flow; default 1. */
  connections?: number;
  /** Bytes per request and per response, for `tcp_*_bytes_total`; defaults 120 and 1200. */
  requestBytes?: number;
  responseBytes?: number;
  /** Outbound routes: extra attempts per request (retries) for `route_actual_*`; default 0. */
  retryRatio?: number;
}

export interface TrafficModel {
  flows: Flow[];
}

/** A pod as the stand-in knows it. */
export interface PodInfo {
  namespace: string;
  name: string;
  ip: string;
  serviceAccount: string;
  labels: Record<string, string>;
  /** Owner from ownerReferences, e.g. `{ kind: "ReplicaSet", name: "web-5f86686c4d" }`. */
  owner?: { kind: string; name: string };
  meshed: boolean;
}

export const DEFAULT_TRUST_DOMAIN = "cluster.local";

export function identityOf(serviceAccount: string, namespace: string, trustDomain = DEFAULT_TRUST_DOMAIN): string {
  return `${serviceAccount}.${namespace}.serviceaccount.identity.linkerd.${trustDomain}`;
}

/** Parses the `mesh.test/traffic` annotation; throws with a readable message. */
export function parseTrafficModel(text: string): TrafficModel {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`traffic model is not JSON: ${(e as Error).message}`);
  }
  const flows = Array.isArray(raw) ? raw : (raw as { flows?: unknown })?.flows;
  if (!Array.isArray(flows)) throw new Error("traffic model needs a `flows` array");
  flows.forEach((f: unknown, i) => validateFlow(f, i));
  return { flows: flows as Flow[] };
}

function validateFlow(f: unknown, i: number): void {
  const at = `flows[${i}]`;
  if (!f || typeof f !== "object") throw new Error(`${at} is not an object`);
  const flow = f as Flow;
  if (flow.direction !== "inbound" && flow.direction !== "outbound")
    throw new Error(`${at}.direction must be "inbound" or "outbound"`);
  if (typeof flow.rps !== "number" || !(flow.rps >= 0)) throw new Error(`${at}.rps must be a number >= 0`);
  if (flow.successRate !== undefined && !(flow.successRate >= 0 && flow.successRate <= 1))
    throw new Error(`${at}.successRate must be between 0 and 1`);
  if (Array.isArray(flow.latencyMs)) {
    if (!flow.latencyMs.length) throw new Error(`${at}.latencyMs is empty`);
    for (const p of flow.latencyMs)
      if (!(p.ms >= 0) || !(p.weight > 0)) throw new Error(`${at}.latencyMs needs {ms >= 0, weight > 0} points`);
  } else if (flow.latencyMs !== undefined && !(flow.latencyMs >= 0)) throw new Error(`${at}.latencyMs must be >= 0`);
  if (flow.route !== undefined && flow.authority === undefined && !flow.to?.service)
    throw new Error(`${at}.route needs an authority`);
  const az = flow.policy?.authorization;
  if (az !== undefined && !/^(authorizationpolicy|serverauthorization)\/[^/]+$/.test(az))
    throw new Error(`${at}.policy.authorization must be authorizationpolicy/<name> or serverauthorization/<name>`);
}

/** Latency distribution sorted by value, weights normalised, cumulative. */
export interface LatencyCdf {
  points: { ms: number; cumulative: number }[];
}

export function latencyCdf(latency: Flow["latencyMs"]): LatencyCdf {
  const pts = latency === undefined ? [{ ms: 5, weight: 1 }] : typeof latency === "number" ? [{ ms: latency, weight: 1 }] : latency;
  const sorted = [...pts].sort((a, b) => a.ms - b.ms);
  const total = sorted.reduce((s, p) => s + p.weight, 0);
  let acc = 0;
  return {
    points: sorted.map((p, i) => {
      acc += p.weight;
      return { ms: p.ms, cumulative: i === sorted.length - 1 ? 1 : acc / total };
    }),
  };
}

/** Requests a flow has made after `elapsed` seconds (whole requests). */
export function requestCount(rps: number, elapsedSec: number): number {
  return elapsedSec <= 0 ? 0 : Math.floor(rps * elapsedSec + 1e-9);
}

/** Of the first `n` requests, how many failed: request i fails iff the failure count steps at i. */
export function failureCount(n: number, successRate = 1): number {
  return Math.floor(n * (1 - successRate) + 1e-9);
}

/** Is the request with 0-based index `i` a failure? Consistent with `failureCount`. */
export function isFailure(i: number, successRate = 1): boolean {
  return failureCount(i + 1, successRate) > failureCount(i, successRate);
}

/** How many of `n` observations are at or below each CDF point (cumulative, monotone in n). */
export function latencyAtOrBelow(cdf: LatencyCdf, n: number): { ms: number; count: number }[] {
  return cdf.points.map((p) => ({ ms: p.ms, count: Math.floor(n * p.cumulative + 1e-9) }));
}

/** Latency of request `i` (0-based): a deterministic pick whose long-run shares follow the weights. */
export function latencyOf(cdf: LatencyCdf, i: number): number {
  // Golden-ratio sequence: evenly spread over [0,1), so shares converge quickly.
  const u = (i * 0.6180339887498949) % 1;
  return (cdf.points.find((p) => u < p.cumulative) ?? cdf.points[cdf.points.length - 1]).ms;
}

/** The request's method and path, from the flow or its route name (`GET /api/list`). */
export function methodAndPath(flow: Flow): { method: string; path: string } {
  const m = flow.route?.match(/^([A-Z]+) (\/\S*)$/);
  return { method: flow.method ?? m?.[1] ?? "GET", path: flow.path ?? m?.[2] ?? "/" };
}

/** A flow with every label and identity settled, ready to render. */
export interface ResolvedFlow {
  flow: Flow;
  direction: "inbound" | "outbound";
  rps: number;
  successRate: number;
  cdf: LatencyCdf;
  authority?: string;
  route?: string;
  targetIp: string;
  targetPort: number;
  /** Inbound: client identity (`null`: plaintext). Outbound: server identity. */
  peerId: string | null;
  /** Inbound: the client's address (access log). */
  clientAddr: string;
  /** Outbound: `dst_*` labels, without prefix, sorted by key. */
  dst: [string, string][];
  connections: number;
  requestBytes: number;
  responseBytes: number;
}

export interface ResolveContext {
  self: PodInfo;
  /** Every pod the stand-in knows (for `from`/`to` selectors). */
  pods: PodInfo[];
  /** Address clients without a pod come from (the node's host side). */
  defaultClientIp: string;
  clusterDomain?: string;
  trustDomain?: string;
}

/** Turns a model into flows with settled labels; outbound flows are split across their endpoints. */
export function resolveFlows(model: TrafficModel, ctx: ResolveContext): ResolvedFlow[] {
  const out: ResolvedFlow[] = [];
  const domain = ctx.clusterDomain ?? "cluster.local";
  model.flows.forEach((flow, index) => {
    const base = {
      flow,
      direction: flow.direction,
      successRate: flow.successRate ?? 1,
      cdf: latencyCdf(flow.latencyMs),
      route: flow.route,
      connections: flow.connections ?? 1,
      requestBytes: flow.requestBytes ?? 120,
      responseBytes: flow.responseBytes ?? 1200,
    };
    if (flow.direction === "inbound") {
      const client = flow.from ? selectPods(ctx.pods, flow.from, ctx.self.namespace)[0] : undefined;
      const clientId =
        flow.clientId !== undefined
          ? flow.clientId
          : client
            ? client.meshed
              ? identityOf(client.serviceAccount, client.namespace, ctx.trustDomain)
              : null
            : identityOf("default", ctx.self.namespace, ctx.trustDomain);
      out.push({
        ...base,
        rps: flow.rps,
        authority: flow.authority,
        targetIp: ctx.self.ip,
        targetPort: flow.port ?? 8080,
        peerId: clientId,
        clientAddr: flow.clientAddr ?? `${client?.ip ?? ctx.defaultClientIp}:${40000 + index}`,
        dst: [],
      });
      return;
    }
    const to = flow.to ?? {};
    const ns = to.namespace ?? ctx.self.namespace;
    const port = to.targetPort ?? to.port ?? flow.port ?? 8080;
    const authority =
      flow.authority ?? (to.service ? `${to.service}.${ns}.svc.${domain}:${to.port ?? port}` : undefined);
    const endpoints = to.selector ? selectPods(ctx.pods, to, ctx.self.namespace) : [];
    if (!endpoints.length) {
      const [ip, p] = (flow.targetAddr ?? `10.244.255.254:${port}`).split(":");
      const dst: Record<string, string> = { ...(to.service ? { service: to.service, namespace: ns } : {}), ...(flow.dst ?? {}) };
      out.push({
        ...base,
        rps: flow.rps,
        authority,
        targetIp: ip,
        targetPort: Number(p),
        peerId: flow.serverId ?? null,
        clientAddr: "",
        dst: sortedEntries(dst),
      });
      return;
    }
    for (const ep of endpoints) {
      out.push({
        ...base,
        rps: flow.rps / endpoints.length,
        authority,
        targetIp: ep.ip,
        targetPort: port,
        peerId: flow.serverId !== undefined ? flow.serverId : ep.meshed ? identityOf(ep.serviceAccount, ep.namespace, ctx.trustDomain) : null,
        clientAddr: "",
        dst: sortedEntries({ ...destinationLabels(ep, to.service), ...(flow.dst ?? {}) }),
      });
    }
  });
  return out;
}

function selectPods(pods: PodInfo[], sel: PeerSelector, defaultNs: string): PodInfo[] {
  const ns = sel.namespace ?? defaultNs;
  const want = Object.entries(sel.selector ?? {});
  if (!want.length) return [];
  return pods
    .filter((p) => p.namespace === ns && p.ip && want.every(([k, v]) => p.labels[k] === v))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The labels Linkerd's destination controller attaches to a pod endpoint (C4.3), without the `dst_` prefix. */
export function destinationLabels(pod: PodInfo, service?: string): Record<string, string> {
  const labels: Record<string, string> = { namespace: pod.namespace, pod: pod.name, serviceaccount: pod.serviceAccount };
  if (service) labels.service = service;
  const [kind, name] = ownerOf(pod);
  labels[kind] = name;
  if (pod.meshed && pod.labels["linkerd.io/control-plane-ns"]) labels.control_plane_ns = pod.labels["linkerd.io/control-plane-ns"];
  if (pod.labels["pod-template-hash"]) labels.pod_template_hash = pod.labels["pod-template-hash"];
  return labels;
}

/** The top-level owner kind label and name: injector labels first, then ownerReferences. */
export function ownerOf(pod: PodInfo): [string, string] {
  for (const kind of ["deployment", "statefulset", "daemonset", "replicaset", "replicationcontroller", "cronjob", "job"]) {
    const v = pod.labels[`linkerd.io/proxy-${kind}`];
    if (v) return [kind === "job" ? "k8s_job" : kind, v];
  }
  const owner = pod.owner;
  if (!owner) return ["pod", pod.name];
  const hash = pod.labels["pod-template-hash"];
  if (owner.kind === "ReplicaSet" && hash && owner.name.endsWith(`-${hash}`))
    return ["deployment", owner.name.slice(0, -hash.length - 1)];
  if (owner.kind === "Job") return ["k8s_job", owner.name];
  return [owner.kind.toLowerCase(), owner.name];
}

function sortedEntries(r: Record<string, string>): [string, string][] {
  return Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
