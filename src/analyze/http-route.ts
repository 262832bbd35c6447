/** HTTPRoutes of both API groups: what their parents and backends name, weights, hostnames, duplicate matches. */
import type { Analyzer } from "./analyzer.js";
import { servicePorts, type World } from "./context.js";
import { list, obj, path, str, type JsObj, type Obj } from "./model.js";

export const ROUTE_GROUPS = new Set(["policy.linkerd.io", "gateway.networking.k8s.io"]);
/** A backendRef names a Service unless it says otherwise (kind defaults to Service there). */
const isService = (ref: JsObj) => (str(ref.kind) || "Service") === "Service" && (str(ref.group) === "" || str(ref.group) === "core");
/** A parentRef's kind defaults to Gateway: a Service parent says so. */
const isServiceParent = (ref: JsObj) => str(ref.kind) === "Service" && (str(ref.group) === "" || str(ref.group) === "core");
const isServer = (ref: JsObj) => str(ref.kind) === "Server" && str(ref.group) === "policy.linkerd.io";

export const httpRoutes = (w: World) => w.all("HTTPRoute").filter((r) => ROUTE_GROUPS.has(r.group));

/** A route's matches, each normalised (the default match when a rule has none). */
function matchKeys(route: Obj): string[] {
  const out: string[] = [];
  for (const rule of list(path(route.value, "spec", "rules"))) {
    const matches = list(obj(rule)?.matches);
    for (const m of matches.length ? matches : [{ path: { type: "PathPrefix", value: "/" } }]) out.push(canonical(m));
  }
  return out;
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).sort().join(",")}]`;
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    const withDefaults: Record<string, unknown> = { ...o };
    const p = o.path as Record<string, unknown> | undefined;
    if (p && typeof p === "object" && !p.type) withDefaults.path = { ...p, type: "PathPrefix" };
    return `{${Object.keys(withDefaults).sort().map((k) => `${JSON.stringify(k)}:${canonical(withDefaults[k])}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

export const httpRouteAnalyzer: Analyzer = {
  id: "http-route",
  kinds: ["HTTPRoute", "Service", "Server"],
  codes: ["routeParentMissing", "routeParentPort", "routeBackendMissing", "routeBackendPort", "routeZeroWeights", "routeHostnames", "routeDuplicateMatch", "authzTargetMissing"],
  run(w, emit) {
    for (const r of w.subjects) {
      if (r.kind !== "HTTPRoute" || !ROUTE_GROUPS.has(r.group)) continue;
      let serviceParent = false;
      list(path(r.value, "spec", "parentRefs")).forEach((p, i) => {
        const ref = obj(p);
        if (!ref) return;
        const ns = str(ref.namespace) || r.namespace;
        const name = str(ref.name);
        const at = ["spec", "parentRefs", i];
        if (isServiceParent(ref)) {
          serviceParent = true;
          if (!w.knows(ns)) return;
          const svc = w.service(ns, name);
          if (!svc) return emit("routeParentMissing", r, [...at, "name"], `parent Service ${ns}/${name} does not exist, so the route applies to no traffic`, "fix parentRefs, or create the Service");
          if (typeof ref.port === "number" && !servicePorts(svc).some((sp) => sp.port === ref.port))
            emit("routeParentPort", r, [...at, "port"], `parent Service ${ns}/${name} has no port ${ref.port} (it has ${portList(svc)}), so the route applies to no traffic`, `set the port to one of ${portList(svc)}, or drop it to attach to every port`);
        } else if (isServer(ref)) {
          if (w.knows(ns) && !w.get("policy.linkerd.io", "Server", ns, name))
            emit("authzTargetMissing", r, [...at, "name"], `parent Server ${ns}/${name} does not exist, so the route and the policies targeting it apply to nothing`, "fix parentRefs (was the Server renamed?), or create the Server");
        }
      });
      if (serviceParent && list(path(r.value, "spec", "hostnames")).length)
        emit("routeHostnames", r, ["spec", "hostnames"], "hostnames are ignored when the parent is a Service: Linkerd matches the route on every request to the Service", "remove spec.hostnames (they filter nothing here)");

      list(path(r.value, "spec", "rules")).forEach((rule, i) => {
        const backends = list(obj(rule)?.backendRefs);
        let weighted = 0;
        backends.forEach((b, j) => {
          const ref = obj(b);
          if (!ref) return;
          const at = ["spec", "rules", i, "backendRefs", j];
          if (ref.weight === undefined || (typeof ref.weight === "number" && ref.weight > 0)) weighted++;
          if (!isService(ref)) return;
          const ns = str(ref.namespace) || r.namespace;
          const name = str(ref.name);
          if (!w.knows(ns)) return;
          const svc = w.service(ns, name);
          if (!svc) return emit("routeBackendMissing", r, [...at, "name"], `backend Service ${ns}/${name} does not exist, so requests sent to it fail`, "fix backendRefs, or create the Service");
          if (typeof ref.port === "number" && !servicePorts(svc).some((sp) => sp.port === ref.port))
            emit("routeBackendPort", r, [...at, "port"], `backend Service ${ns}/${name} has no port ${ref.port} (it has ${portList(svc)}), so requests sent to it fail`, `set the port to one of ${portList(svc)}`);
        });
        if (backends.length && weighted === 0)
          emit("routeZeroWeights", r, ["spec", "rules", i, "backendRefs"], `rule ${i + 1} has ${backends.length} backend${backends.length > 1 ? "s" : ""}, all with weight 0, so every request it matches fails`, "give at least one backend a weight above 0");
      });
    }

    // identical matches on the same parent: the first route (by creation, here by name) wins, the other is dead
    const byParent = new Map<string, Map<string, Obj>>();
    for (const r of httpRoutes(w).sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name))) {
      const keys = matchKeys(r);
      list(path(r.value, "spec", "parentRefs")).forEach((p) => {
        const ref = obj(p);
        if (!ref) return;
        const parent = `${str(ref.group)}/${str(ref.kind) || "Service"}/${str(ref.namespace) || r.namespace}/${str(ref.name)}:${typeof ref.port === "number" ? ref.port : "*"}`;
        let seen = byParent.get(parent);
        if (!seen) byParent.set(parent, (seen = new Map()));
        const reported = new Set<string>();
        for (const k of keys) {
          const first = seen.get(k);
          if (first && first !== r && !reported.has(first.name) && w.isSubject(r)) {
            reported.add(first.name);
            emit("routeDuplicateMatch", r, ["spec", "rules"], `HTTPRoute ${first.namespace}/${first.name} has an identical match on parent ${str(ref.kind) || "Service"} ${str(ref.name)}, so only one of the two routes ever handles those requests`, `make the matches differ, or merge the two routes`);
          } else if (!first) seen.set(k, r);
        }
      });
    }
  },
};

function portList(svc: Obj): string {
  const ports = servicePorts(svc).map((p) => String(p.port));
  return ports.length ? ports.join(", ") : "no ports";
}
