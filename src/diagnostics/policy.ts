import type { KubeObject, Pod } from "../kube/types.js";
import { matchesSelector } from "../kube/selector.js";
import { POLICY_GROUP, selectorRequirements, serverIncludesPod, type AuthorizationPolicy, type HttpRoute, type PolicyObjects, type Server } from "../policy/authorizations.js";

/**
 * `diagnostics policy`: the policy resources that govern inbound traffic to one port of a pod,
 * computed from the API the way the policy controller indexes them: the Servers that select the
 * pod and name the port (by number, or by the name of one of the pod's container ports), the
 * ServerAuthorizations of those Servers, the HTTPRoutes attached to them, and the
 * AuthorizationPolicies that target one of those Servers or routes, or the pod's namespace.
 * Pure: the command lists the objects and serialises the result.
 */

export interface PodPortPolicy {
  pod: string;
  namespace: string;
  port: number;
  /** The default inbound policy that applies when no Server selects the port (from the pod's proxy, else the cluster's). */
  defaultPolicy: string;
  servers: Server[];
  serverAuthorizations: KubeObject[];
  httpRoutes: HttpRoute[];
  authorizationPolicies: AuthorizationPolicy[];
}

/** A Server's `port` (number, or a container port's name) names `port` of `pod`. */
export function serverPortMatches(server: Server, pod: Pod, port: number): boolean {
  const p = server.spec?.port;
  if (typeof p === "number") return p === port;
  if (typeof p !== "string") return false;
  if (/^\d+$/.test(p)) return Number(p) === port;
  return pod.spec.containers.some((c) => (c.ports ?? []).some((cp) => cp.name === p && cp.containerPort === port));
}

/** The pod's default inbound policy: its proxy's environment, its annotation, else `clusterDefault`. */
export function defaultInboundPolicy(pod: Pod, clusterDefault: string): string {
  const proxy = pod.spec.containers.find((c) => c.name === "linkerd-proxy");
  const env = proxy?.env?.find((e) => e.name === "LINKERD2_PROXY_INBOUND_DEFAULT_POLICY")?.value;
  return env || pod.metadata.annotations?.["config.linkerd.io/default-inbound-policy"] || clusterDefault;
}

/** Metadata a reader of policy does not need (server-side bookkeeping). */
function trimmed<T extends KubeObject>(o: T): T {
  const { managedFields: _m, ...metadata } = o.metadata as KubeObject["metadata"] & { managedFields?: unknown };
  return { ...o, metadata };
}

export function computePodPortPolicy(pod: Pod, port: number, o: PolicyObjects, clusterDefault: string): PodPortPolicy {
  const servers = o.servers.filter((s) => serverIncludesPod(s, [pod]) && serverPortMatches(s, pod, port));
  const names = new Set(servers.map((s) => s.metadata.name));
  const sazs = o.serverAuthorizations.filter((saz) => {
    const t = saz.spec?.server;
    if (t?.name) return names.has(t.name);
    if (!t?.selector) return false;
    const reqs = selectorRequirements(t.selector);
    return reqs !== undefined && servers.some((s) => matchesSelector(s.metadata.labels, reqs));
  });
  const routes = o.httpRoutes.filter((r) => (r.spec?.parentRefs ?? []).some((p) => p.kind === "Server" && p.group === POLICY_GROUP && names.has(p.name)));
  const routeNames = new Set(routes.map((r) => r.metadata.name));
  const policies = o.authorizationPolicies.filter((p) => {
    const t = p.spec?.targetRef ?? {};
    if (t.kind === "Namespace" && (t.group ?? "") === "") return servers.length > 0;
    if (t.group !== POLICY_GROUP) return false;
    return (t.kind === "Server" && names.has(t.name ?? "")) || (t.kind === "HTTPRoute" && routeNames.has(t.name ?? ""));
  });
  return {
    pod: pod.metadata.name,
    namespace: pod.metadata.namespace ?? "",
    port,
    defaultPolicy: defaultInboundPolicy(pod, clusterDefault),
    servers: servers.map(trimmed),
    serverAuthorizations: sazs.map(trimmed),
    httpRoutes: routes.map(trimmed),
    authorizationPolicies: policies.map(trimmed),
  };
}

/** Characters a terminal acts on or hides that JSON and YAML writers leave as they are (C1 controls, bidi and zero-width marks). */
const HIDDEN = /[\x7f-\x9f\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;

/** `v` with every string's hidden characters replaced by U+FFFD; the writers escape the C0 controls themselves. */
export function inertStrings<T>(v: T): T {
  if (typeof v === "string") return v.replace(HIDDEN, "\ufffd") as T;
  if (Array.isArray(v)) return v.map(inertStrings) as T;
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k.replace(HIDDEN, "\ufffd"), inertStrings(x)])) as T;
  return v;
}
