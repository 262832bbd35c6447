// From access-log entries to Linkerd's tap events (spec B6, D5), and the filters and rate budget
// tap applies to them. Pure: pods and services are passed in.
import type { Pod, Service } from "../../kube/types.js";
import { splitHostPort, splitUri, type AccessLogEntry } from "./access-log.js";

/** What tap needs of a pod: its address, ports and the labels Linkerd's tap server adds. */
export interface PodInfo {
  name: string;
  namespace: string;
  ip: string;
  /** Container ports of the application containers (not linkerd-proxy's). */
  ports: { name?: string; port: number }[];
  /** Linkerd's workload labels: pod, <owner kind>, serviceaccount, control_plane_ns, pod_template_hash, namespace. */
  labels: Record<string, string>;
}

const PROXY_CONTAINERS = new Set(["linkerd-proxy"]);

/** The tap view of a pod. */
export function podInfo(pod: Pod): PodInfo {
  const meta = pod.metadata;
  const labels: Record<string, string> = { pod: meta.name, namespace: meta.namespace ?? "" };
  if (pod.spec?.serviceAccountName) labels.serviceaccount = pod.spec.serviceAccountName;
  const cp = meta.labels?.["linkerd.io/control-plane-ns"];
  if (cp) labels.control_plane_ns = cp;
  const hash = meta.labels?.["pod-template-hash"];
  if (hash) labels.pod_template_hash = hash;
  const owner = meta.ownerReferences?.find((o) => o.controller) ?? meta.ownerReferences?.[0];
  if (owner) {
    // A ReplicaSet named <deployment>-<pod-template-hash> belongs to that Deployment.
    if (owner.kind === "ReplicaSet" && hash && owner.name.endsWith(`-${hash}`)) labels.deployment = owner.name.slice(0, -hash.length - 1);
    else if (owner.kind === "ReplicaSet") labels.replicaset = owner.name;
    else labels[owner.kind.toLowerCase()] = owner.name;
  }
  const ports = (pod.spec?.containers ?? [])
    .filter((c) => !PROXY_CONTAINERS.has(c.name))
    .flatMap((c) => (c.ports ?? []).filter((p) => (p.protocol ?? "TCP") === "TCP").map((p) => ({ name: p.name, port: p.containerPort })));
  return { name: meta.name, namespace: meta.namespace ?? "", ip: pod.status?.podIP ?? "", ports, labels };
}

/** Pods by IP and services by `namespace/name`, for labelling peers and finding destination ports. */
export interface TapIndex {
  podsByIp: Map<string, PodInfo>;
  services: Map<string, Service>;
}

export function buildIndex(pods: Pod[], services: Service[] = []): TapIndex {
  const podsByIp = new Map<string, PodInfo>();
  for (const p of pods) {
    if (!p.status?.podIP || p.spec?.hostNetwork) continue;
    const phase = p.status.phase;
    if (phase === "Succeeded" || phase === "Failed") continue;
    podsByIp.set(p.status.podIP, podInfo(p));
  }
  return { podsByIp, services: new Map(services.map((s) => [`${s.metadata.namespace ?? ""}/${s.metadata.name}`, s])) };
}

export interface Peer {
  ip: string;
  port: number;
  /** Linkerd's metadata labels of the peer (`src_*` / `dst_*` in wide output). */
  labels: Record<string, string>;
}

export type Direction = "INBOUND" | "OUTBOUND" | "UNKNOWN";

interface EventBase {
  id: { base: number; stream: number };
  source: Peer;
  destination: Peer;
  /** Route labels (`rt_*`), or null when the event has none. */
  routeLabels: Record<string, string> | null;
  direction: Direction;
}

export interface RequestInit extends EventBase {
  kind: "req";
  method: string;
  /** Upper case, as Linkerd's registered scheme names: `HTTP`, `HTTPS`. */
  scheme: string;
  authority: string;
  path: string;
  headers: { name: string; value: string }[];
}

export interface ResponseInit extends EventBase {
  kind: "rsp";
  status: number;
  sinceRequestInitNs: number;
}

export interface ResponseEnd extends EventBase {
  kind: "end";
  sinceRequestInitNs: number;
  /** Not logged by the proxy: always 0 from access logs (spec D7). */
  sinceResponseInitNs: number;
  /** The response's Content-Length when the proxy logged one, else 0. */
  responseBytes: number;
}

export type TapEvent = RequestInit | ResponseInit | ResponseEnd;

/** The request of one access-log line, as tap and top see it. */
export interface TapRequest {
  entry: AccessLogEntry;
  /** The pod whose proxy logged it. */
  pod: PodInfo;
  method: string;
  scheme: string;
  authority: string;
  path: string;
  source: Peer;
  destination: Peer;
}

/** The authority of the request: from an absolute URI, else the Host header. */
export function requestAuthority(e: AccessLogEntry): string {
  return splitUri(e.uri).authority ?? e.host ?? "";
}

/**
 * The destination port of a request the pod received, which the access log does not record
 * (spec D5): a Service named by the authority maps its port to the targetPort; an `IP:port`
 * authority gives the port; else the pod's only declared port; else 0.
 */
export function destinationPort(authority: string, pod: PodInfo, index: TapIndex, clusterDomain = "cluster.local"): number {
  const { host, port } = splitHostPort(authority);
  const byName = (target: number | string | undefined, fallback: number): number => {
    if (target === undefined) return fallback;
    if (typeof target === "number") return target;
    if (/^\d+$/.test(target)) return Number(target);
    return pod.ports.find((p) => p.name === target)?.port ?? 0;
  };
  const isIp = /^[\d.]+$/.test(host) || host.includes(":");
  if (host && !isIp) {
    const parts = host.replace(/\.$/, "").split(".");
    const suffix = `svc.${clusterDomain}`.split(".");
    // <svc>, <svc>.<ns>, <svc>.<ns>.svc, <svc>.<ns>.svc.<cluster domain>
    if (parts.length <= 2 + suffix.length && parts.slice(2).every((p, i) => suffix[i] === p)) {
      const svc = index.services.get(`${parts[1] ?? pod.namespace}/${parts[0]}`);
      const wanted = port || 80;
      const sp = svc?.spec?.ports?.find((p) => p.port === wanted && (p.protocol ?? "TCP") === "TCP");
      if (sp) return byName(sp.targetPort, sp.port);
    }
  } else if (isIp && port) return port;
  return pod.ports.length === 1 ? pod.ports[0].port : 0;
}

/** The request of an access-log entry logged by `pod`'s proxy. */
export function toTapRequest(entry: AccessLogEntry, pod: PodInfo, index: TapIndex, clusterDomain?: string): TapRequest {
  const uri = splitUri(entry.uri);
  const authority = uri.authority ?? entry.host ?? "";
  const client = splitHostPort(entry.clientAddr);
  const srcLabels: Record<string, string> = { ...(index.podsByIp.get(client.host)?.labels ?? {}) };
  srcLabels.tls = entry.clientId !== "-" && entry.clientId !== "" ? "true" : "no_tls_from_remote";
  if (entry.clientId !== "-" && entry.clientId !== "") srcLabels.client_id = entry.clientId;
  return {
    entry,
    pod,
    method: entry.method,
    scheme: (uri.scheme ?? "http").toUpperCase(),
    authority,
    path: uri.path,
    source: { ip: client.host, port: client.port, labels: srcLabels },
    destination: { ip: pod.ip, port: destinationPort(authority, pod, index, clusterDomain), labels: { ...pod.labels } },
  };
}

/**
 * The tap events of one request: `req`, then `rsp` and `end` when the proxy logged a status.
 * `rsp`'s latency is the logged total time; `end` carries the same total, a zero time since
 * the response began and the logged Content-Length as its size (spec D5/D7).
 */
export function toTapEvents(r: TapRequest, id: { base: number; stream: number }, routeLabels: Record<string, string> | null = null): TapEvent[] {
  const base = { id, source: r.source, destination: r.destination, routeLabels, direction: "INBOUND" as const };
  const headers: { name: string; value: string }[] = [];
  if (r.entry.userAgent) headers.push({ name: "user-agent", value: r.entry.userAgent });
  const events: TapEvent[] = [{ ...base, kind: "req", method: r.method, scheme: r.scheme, authority: r.authority, path: r.path, headers }];
  if (r.entry.status === undefined) return events;
  const total = r.entry.totalNs ?? 0;
  events.push({ ...base, kind: "rsp", status: r.entry.status, sinceRequestInitNs: total });
  events.push({ ...base, kind: "end", sinceRequestInitNs: total, sinceResponseInitNs: 0, responseBytes: r.entry.responseBytes ?? 0 });
  return events;
}

/** tap's request filters (spec B6), all ANDed; unset fields match everything. */
export interface TapFilter {
  method?: string;
  scheme?: string;
  authority?: string;
  /** Path prefix. */
  path?: string;
  /** `--to`: only requests whose client IP is one of these (pods of the tap target). */
  sourceIps?: Set<string>;
}

export function matchesFilter(r: TapRequest, f: TapFilter): boolean {
  if (f.method && r.method.toUpperCase() !== f.method.toUpperCase()) return false;
  if (f.scheme && r.scheme !== f.scheme.toUpperCase()) return false;
  if (f.authority && r.authority !== f.authority) return false;
  if (f.path && !r.path.startsWith(f.path)) return false;
  if (f.sourceIps && !f.sourceIps.has(r.source.ip)) return false;
  return true;
}

/**
 * `--max-rps` split evenly over the tapped pods, each at least 1 request per second, counted in
 * one-second windows per pod (as the tap server limits each proxy); the excess is dropped.
 */
export class RateBudget {
  private windows = new Map<string, { start: number; used: number }>();
  private pods = 1;

  constructor(private readonly maxRps: number) {}

  /** The number of pods sharing the budget. */
  setPodCount(n: number): void {
    this.pods = Math.max(1, n);
  }

  /** Requests per one-second window of each pod. */
  perPod(): number {
    return Math.max(1, Math.floor(this.maxRps / this.pods));
  }

  /** Whether `pod` may emit one more request at `nowMs`; counts it when it may. */
  take(pod: string, nowMs: number): boolean {
    let w = this.windows.get(pod);
    if (!w || nowMs - w.start >= 1000) {
      w = { start: nowMs, used: 0 };
      this.windows.set(pod, w);
    }
    if (w.used >= this.perPod()) return false;
    w.used++;
    return true;
  }

  forget(pod: string): void {
    this.windows.delete(pod);
  }
}
