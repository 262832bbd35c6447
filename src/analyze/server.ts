/** Servers: which pods and ports they select, conflicts between them, protocol against opaque ports, authorizations. */
import { A } from "../inject/annotations.js";
import { parseOpaquePorts } from "../inject/overrides.js";
import { q, type Analyzer } from "./analyzer.js";
import { containerPorts, type PodLike, type World } from "./context.js";
import { list, obj, path, str, strMap, type JsObj, type Obj } from "./model.js";
import { ROUTE_GROUPS } from "./http-route.js";
import { selectorRequirements, type FullSelector } from "../policy/authorizations.js";
import { matchesSelector } from "../kube/selector.js";

const POLICY = "policy.linkerd.io";

/** The ports a pod marks opaque (its annotation, else its namespace's), as a predicate. */
export function opaquePorts(w: World, p: PodLike): ((port: number) => boolean) | undefined {
  const raw = p.annotations[A.opaquePorts] ?? w.namespaceAnnotations(p.namespace)[A.opaquePorts];
  if (raw === undefined) return undefined;
  const ranges = parseOpaquePorts(raw, list(p.spec.containers).map((c) => ({ ports: list(obj(c)?.ports).map((x) => obj(x) ?? {}) })) as never, () => undefined)
    .split(",")
    .filter(Boolean)
    .map((r) => r.split("-").map(Number));
  return (port) => ranges.some(([lo, hi = lo]) => port >= lo && port <= hi);
}

/** The pod's port a Server's `port` designates (a number, or a container port's name). */
function resolvePort(p: PodLike, port: unknown): number | undefined {
  if (typeof port === "number") return port;
  if (typeof port !== "string") return undefined;
  return containerPorts(p).find((c) => c.name === port)?.port;
}

const podKey = (p: PodLike) => `${p.owner.kind}/${p.owner.namespace}/${p.owner.name}${p.owner.kind === "Pod" ? "" : "#template"}`;

/** Servers something authorizes (`ns/name`), and namespaces an AuthorizationPolicy covers whole; computed once per run. */
const authorizedByWorld = new WeakMap<World, { servers: Set<string>; namespaces: Set<string> }>();

/** Does anything authorize traffic to this Server (a ServerAuthorization, an AuthorizationPolicy on it, on a route of it, or on its namespace)? */
export function isAuthorized(w: World, server: Obj): boolean {
  let idx = authorizedByWorld.get(w);
  if (!idx) {
    idx = { servers: new Set(), namespaces: new Set() };
    authorizedByWorld.set(w, idx);
    const servers = w.all("Server", POLICY);
    for (const saz of w.all("ServerAuthorization", POLICY)) {
      const target = obj(path(saz.value, "spec", "server"));
      if (!target) continue;
      if (str(target.name)) idx.servers.add(`${saz.namespace}/${str(target.name)}`);
      const sel = obj(target.selector);
      const reqs = sel && selectorRequirements(sel as unknown as FullSelector);
      if (reqs) for (const s of servers) if (s.namespace === saz.namespace && matchesSelector(strMap(path(s.value, "metadata", "labels")), reqs)) idx.servers.add(`${s.namespace}/${s.name}`);
    }
    const routeParents = new Map<string, string[]>();
    for (const r of w.all("HTTPRoute")) {
      if (!ROUTE_GROUPS.has(r.group)) continue;
      const parents = list(path(r.value, "spec", "parentRefs")).map(obj).filter((p) => p && str(p.kind) === "Server").map((p) => `${r.namespace}/${str(p!.name)}`);
      routeParents.set(`${r.namespace}/${r.name}`, [...(routeParents.get(`${r.namespace}/${r.name}`) ?? []), ...parents]);
    }
    for (const ap of w.all("AuthorizationPolicy", POLICY)) {
      const t = obj(path(ap.value, "spec", "targetRef")) ?? {};
      const kind = str(t.kind);
      if (kind === "Namespace") idx.namespaces.add(ap.namespace);
      else if (kind === "Server") idx.servers.add(`${ap.namespace}/${str(t.name)}`);
      else if (kind === "HTTPRoute") for (const s of routeParents.get(`${ap.namespace}/${str(t.name)}`) ?? []) idx.servers.add(s);
    }
  }
  return idx.namespaces.has(server.namespace) || idx.servers.has(`${server.namespace}/${server.name}`);
}

/** The default inbound policy of a pod: its annotation, its namespace's, else the cluster's. */
export function defaultPolicy(w: World, p: PodLike): string {
  return p.annotations[A.defaultInboundPolicy] ?? w.namespaceAnnotations(p.namespace)[A.defaultInboundPolicy] ?? w.settings.defaultInboundPolicy;
}

export const serverAnalyzer: Analyzer = {
  id: "server",
  kinds: ["Server", "Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Namespace", "ServerAuthorization", "AuthorizationPolicy", "HTTPRoute"],
  codes: ["serverNoPods", "serverPortUnknown", "serverConflict", "serverOpaqueNotMarked", "serverMarkedNotOpaque", "serverDenyNoAuthz"],
  run(w, emit) {
    // pod and port -> the Servers selecting it, to find conflicts (every Server, subject or not)
    const claims = new Map<string, Obj[]>();
    const servers = w.all("Server", POLICY).sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
    for (const s of servers) {
      const spec = obj(path(s.value, "spec")) ?? {};
      const selector = obj(spec.podSelector) as JsObj | undefined;
      const pods = w.selectPods(s.namespace, selector as unknown as FullSelector);
      const subject = w.isSubject(s);
      if (!pods) continue; // an operator the API server would have refused
      if (!pods.length) {
        if (subject && w.knows(s.namespace))
          emit("serverNoPods", s, ["spec", "podSelector"], w.offline ? `podSelector selects no pod template of the workloads in namespace ${q(s.namespace)}, so the Server applies to nothing` : `podSelector selects no pod in namespace ${q(s.namespace)}, so the Server applies to nothing`, "fix the podSelector to match the workload's pod labels (or delete the Server)");
        continue;
      }
      const port = spec.port;
      const resolved = pods.map((p) => ({ p, port: resolvePort(p, port) }));
      const declared = resolved.filter((r) => r.port !== undefined && containerPorts(r.p).some((c) => c.port === r.port));
      if (subject && !declared.length) {
        if (typeof port === "string") emit("serverPortUnknown", s, ["spec", "port"], `port ${q(port)} is not the name of a port of any selected container (${names(pods)}), so the Server applies to no traffic`, "use the name (or number) of a containerPort of the selected pods");
        else if (typeof port === "number") emit("serverPortUnknown", s, ["spec", "port"], `port ${port} is not declared by any selected container (${names(pods)}); check that the application listens there`, "declare the containerPort in the pod template, or fix the Server's port", "warning");
      }
      for (const r of resolved) {
        if (r.port === undefined) continue;
        const k = `${podKey(r.p)}:${r.port}`;
        const prior = claims.get(k) ?? [];
        if (prior.length && subject && !prior.includes(s))
          emit("serverConflict", s, ["spec", "podSelector"], `selects port ${r.port} of ${r.p.owner.kind.toLowerCase()}/${r.p.owner.name}, which Server ${prior[0].namespace}/${prior[0].name} also selects; the policy controller uses only one of them`, "narrow one podSelector (or port) so that each pod port has one Server");
        if (!prior.includes(s)) claims.set(k, [...prior, s]);
      }
      if (!subject) continue;
      const protocol = str(spec.proxyProtocol) || "unknown";
      const marked = resolved.filter((r) => r.port !== undefined && opaquePorts(w, r.p)?.(r.port!));
      if (protocol === "opaque" && marked.length < resolved.filter((r) => r.port !== undefined).length) {
        const r = resolved.find((x) => x.port !== undefined && !marked.includes(x))!;
        emit("serverOpaqueNotMarked", s, ["spec", "proxyProtocol"], `proxyProtocol is opaque but ${r.p.owner.kind.toLowerCase()}/${r.p.owner.name} does not list port ${r.port} in ${A.opaquePorts}, so meshed clients still try to detect the protocol on their side`, `add ${r.port} to the workload's ${A.opaquePorts} annotation`);
      } else if (protocol !== "opaque" && protocol !== "TLS" && marked.length) {
        const r = marked[0];
        emit("serverMarkedNotOpaque", s, spec.proxyProtocol ? ["spec", "proxyProtocol"] : ["spec"], `${r.p.owner.kind.toLowerCase()}/${r.p.owner.name} marks port ${r.port} opaque, but this Server gives it protocol ${q(protocol)}, which takes precedence on the inbound side`, "set proxyProtocol: opaque");
      }
      if (!isAuthorized(w, s)) {
        const deny = pods.some((p) => defaultPolicy(w, p) === "deny");
        emit("serverDenyNoAuthz", s, ["metadata", "name"], `no ServerAuthorization or AuthorizationPolicy admits traffic to this Server${deny ? " (its pods' default policy is deny)" : ""}, so every request to port ${typeof port === "number" ? port : q(str(port))} of ${names(pods)} is refused`, "add an AuthorizationPolicy targeting the Server (or its namespace), or delete the Server");
      }
    }
  },
};

function names(pods: PodLike[]): string {
  const set = [...new Set(pods.map((p) => `${p.owner.kind.toLowerCase()}/${p.owner.name}`))];
  return set.length > 3 ? `${set.slice(0, 3).join(", ")} and ${set.length - 3} more` : set.join(", ");
}
