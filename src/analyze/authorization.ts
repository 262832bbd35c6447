/**
 * ServerAuthorization, AuthorizationPolicy, MeshTLSAuthentication, NetworkAuthentication: what
 * they target and require exists, the identities they name belong to this mesh, their networks parse.
 */
import { parseCidr, type Cidr } from "../checks/cidr.js";
import { q, type Analyzer, type Emit } from "./analyzer.js";
import type { World } from "./context.js";
import { list, obj, path, str, type JsObj, type Obj, type PathStep } from "./model.js";
import { ROUTE_GROUPS } from "./http-route.js";
import { selectorRequirements, type FullSelector } from "../policy/authorizations.js";
import { matchesSelector } from "../kube/selector.js";

const POLICY = "policy.linkerd.io";
const IDENTITY = /^([^.]+|\*)\.([^.]+)\.serviceaccount\.identity\.([^.]+)\.(.+)$/;

/** A mesh identity's service account and namespace, if the identity is in this trust domain; or why not. */
function checkIdentity(w: World, o: Obj, id: string, at: PathStep[], emit: Emit): void {
  if (id === "*") return;
  const m = IDENTITY.exec(id);
  const td = w.settings.trustDomain;
  const cp = w.settings.controlPlaneNamespace;
  if (!m || m[4] !== td || m[3] !== cp) {
    const fix = m ? `write it as ${q(`${m[1]}.${m[2]}.serviceaccount.identity.${cp}.${td}`)}` : `mesh identities look like ${q(`<account>.<namespace>.serviceaccount.identity.${cp}.${td}`)}`;
    if (id.startsWith("*.") && id.endsWith(`.${td}`)) return; // a suffix match inside the trust domain
    emit("authzForeignIdentity", o, at, `identity ${q(id)} is not in this mesh's trust domain ${q(`identity.${cp}.${td}`)}, so no meshed client ever presents it`, fix);
    return;
  }
  if (m[1] !== "*") checkAccount(w, o, m[2], m[1], at, emit);
}

function checkAccount(w: World, o: Obj, ns: string, name: string, at: PathStep[], emit: Emit): void {
  if (w.serviceAccountExists(ns, name) === false)
    emit("authzUnknownAccount", o, at, `service account ${ns}/${name} does not exist, so no client has this identity`, "fix the name (or namespace), or create the service account");
}

function checkNetworks(o: Obj, networks: unknown, at: PathStep[], emit: Emit): void {
  const parsed: { net: Cidr; text: string; i: number }[] = [];
  list(networks as never).forEach((n, i) => {
    const net = obj(n);
    const text = str(net?.cidr);
    const one = (t: string, where: PathStep[]) => {
      try {
        return parseCidr(t.includes("/") ? t : `${t}/${t.includes(":") ? 128 : 32}`);
      } catch {
        emit("authzBadCidr", o, where, `${q(t)} is not a valid CIDR, so the policy cannot be used`, "write it as an address and prefix length, like 10.0.0.0/8 or fd00::/8");
        return undefined;
      }
    };
    const c = one(text, [...at, i, "cidr"]);
    list(net?.except).forEach((e, j) => {
      const ex = one(str(e), [...at, i, "except", j]);
      if (c && ex && !contains(c, ex)) emit("authzOverlappingCidr", o, [...at, i, "except", j], `except ${q(str(e))} is not inside ${q(text)}, so it excludes nothing`, `remove it, or move it under the network that contains it`);
    });
    if (!c) return;
    const other = parsed.find((p) => contains(p.net, c) || contains(c, p.net));
    if (other) emit("authzOverlappingCidr", o, [...at, i, "cidr"], `network ${q(text)} overlaps network ${q(other.text)}`, "merge them into one network, or use except to carve out the difference");
    parsed.push({ net: c, text, i });
  });
}

function contains(outer: Cidr, inner: Cidr): boolean {
  if (outer.v6 !== inner.v6 || inner.prefix < outer.prefix) return false;
  const width = BigInt(outer.v6 ? 128 : 32);
  const shift = width - BigInt(outer.prefix);
  return inner.bits >> shift === outer.bits >> shift;
}

export const authorizationAnalyzer: Analyzer = {
  id: "authorization",
  kinds: ["ServerAuthorization", "AuthorizationPolicy", "MeshTLSAuthentication", "NetworkAuthentication", "Server", "HTTPRoute", "Namespace", "ServiceAccount"],
  codes: ["authzTargetMissing", "authnMissing", "authzUnknownAccount", "authzForeignIdentity", "authzBadCidr", "authzOverlappingCidr"],
  run(w, emit) {
    for (const o of w.subjects) {
      if (o.group !== POLICY) continue;
      const spec = obj(path(o.value, "spec")) ?? {};
      switch (o.kind) {
        case "ServerAuthorization": {
          const target = obj(spec.server) ?? {};
          if (str(target.name)) {
            if (w.knows(o.namespace) && !w.get(POLICY, "Server", o.namespace, str(target.name)))
              emit("authzTargetMissing", o, ["spec", "server", "name"], `Server ${o.namespace}/${str(target.name)} does not exist, so this authorization admits nothing`, "fix spec.server.name (was the Server renamed?), or create the Server");
          } else if (obj(target.selector)) {
            const reqs = selectorRequirements(obj(target.selector) as unknown as FullSelector);
            if (reqs && w.knows(o.namespace) && !w.all("Server", POLICY).some((s) => s.namespace === o.namespace && matchesSelector(obj(path(s.value, "metadata", "labels")) as Record<string, string> | undefined, reqs)))
              emit("authzTargetMissing", o, ["spec", "server", "selector"], `spec.server.selector selects no Server in namespace ${q(o.namespace)}, so this authorization admits nothing`, "fix the selector to match the Servers' labels");
          }
          const client = obj(spec.client) ?? {};
          const mtls = obj(client.meshTLS) ?? {};
          list(mtls.serviceAccounts).forEach((sa, i) => {
            const a = obj(sa);
            if (a) checkAccount(w, o, str(a.namespace) || o.namespace, str(a.name), ["spec", "client", "meshTLS", "serviceAccounts", i, "name"], emit);
          });
          list(mtls.identities).forEach((id, i) => checkIdentity(w, o, str(id), ["spec", "client", "meshTLS", "identities", i], emit));
          checkNetworks(o, client.networks, ["spec", "client", "networks"], emit);
          break;
        }
        case "AuthorizationPolicy": {
          const t = obj(spec.targetRef) ?? {};
          const kind = str(t.kind);
          const name = str(t.name);
          if (kind === "Namespace") {
            if (name !== o.namespace) emit("authzTargetMissing", o, ["spec", "targetRef", "name"], `targets namespace ${q(name)}, but a policy can target only its own namespace (${q(o.namespace)}), so it applies to nothing`, `set targetRef.name to ${q(o.namespace)}, or create the policy in namespace ${q(name)}`);
            else if (w.namespaceExists(name) === false) emit("authzTargetMissing", o, ["spec", "targetRef", "name"], `namespace ${q(name)} does not exist`, "create the namespace, or fix the target");
          } else if (kind === "Server") {
            if (w.knows(o.namespace) && !w.get(POLICY, "Server", o.namespace, name))
              emit("authzTargetMissing", o, ["spec", "targetRef", "name"], `Server ${o.namespace}/${name} does not exist, so this policy admits nothing`, "fix targetRef.name (was the Server renamed?), or create the Server");
          } else if (kind === "HTTPRoute") {
            const group = str(t.group) || POLICY;
            if (w.knows(o.namespace) && ROUTE_GROUPS.has(group) && !w.get(group, "HTTPRoute", o.namespace, name))
              emit("authzTargetMissing", o, ["spec", "targetRef", "name"], `HTTPRoute ${o.namespace}/${name} (${group}) does not exist, so this policy admits nothing`, "fix targetRef (name and group), or create the route");
          }
          list(spec.requiredAuthenticationRefs).forEach((r, i) => {
            const ref = obj(r) ?? {};
            const k = str(ref.kind);
            const ns = str(ref.namespace) || o.namespace;
            const at = ["spec", "requiredAuthenticationRefs", i];
            if (k === "ServiceAccount") return checkAccount(w, o, ns, str(ref.name), [...at, "name"], emit);
            if ((k === "MeshTLSAuthentication" || k === "NetworkAuthentication") && w.knows(ns) && !w.get(POLICY, k, ns, str(ref.name)))
              emit("authnMissing", o, [...at, "name"], `${k} ${ns}/${str(ref.name)} does not exist, so no request can satisfy this policy`, `fix the reference, or create the ${k}`);
          });
          break;
        }
        case "MeshTLSAuthentication":
          list(spec.identities).forEach((id, i) => checkIdentity(w, o, str(id), ["spec", "identities", i], emit));
          list(spec.identityRefs).forEach((r, i) => {
            const ref = obj(r) as JsObj | undefined;
            if (ref && str(ref.kind) === "ServiceAccount") checkAccount(w, o, str(ref.namespace) || o.namespace, str(ref.name), ["spec", "identityRefs", i, "name"], emit);
          });
          break;
        case "NetworkAuthentication":
          checkNetworks(o, spec.networks, ["spec", "networks"], emit);
          break;
      }
    }
  },
};
