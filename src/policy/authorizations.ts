import type { KubeObject, LabelSelector, Pod } from "../kube/types.js";
import { matchesSelector, type Requirement } from "../kube/selector.js";
import { sanitize } from "../output/sanitize.js";

/**
 * `mesh authz`: the authorization policies that apply to a workload's pods, as Linkerd finds them
 * (`AuthorizationsForResource`): ServerAuthorizations of the Servers selecting a pod, and
 * AuthorizationPolicies targeting such a Server, an HTTPRoute whose parent is one, or the whole
 * namespace. Pure: the command lists the objects.
 */

export const POLICY_GROUP = "policy.linkerd.io";

export interface Server extends KubeObject {
  spec?: { podSelector?: FullSelector; port?: number | string; proxyProtocol?: string };
}

export interface ServerAuthorization extends KubeObject {
  spec?: { server?: { name?: string; selector?: FullSelector } };
}

export interface AuthorizationPolicy extends KubeObject {
  spec?: { targetRef?: { group?: string; kind?: string; name?: string } };
}

export interface HttpRoute extends KubeObject {
  spec?: { parentRefs?: { group?: string; kind?: string; name: string }[] };
}

/** A metav1.LabelSelector with its expressions. */
export interface FullSelector extends LabelSelector {
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** A LabelSelector as selector requirements; undefined when an operator is unknown (it matches nothing). */
export function selectorRequirements(s: FullSelector): Requirement[] | undefined {
  const reqs: Requirement[] = Object.entries(s.matchLabels ?? {}).map(([key, value]) => ({ key, op: "=", value }));
  for (const e of s.matchExpressions ?? []) {
    if (e.operator === "In") reqs.push({ key: e.key, op: "in", values: e.values ?? [] });
    else if (e.operator === "NotIn") reqs.push({ key: e.key, op: "notin", values: e.values ?? [] });
    else if (e.operator === "Exists") reqs.push({ key: e.key, op: "exists" });
    else if (e.operator === "DoesNotExist") reqs.push({ key: e.key, op: "!exists" });
    else return undefined;
  }
  return reqs;
}

/** A Server's podSelector selects one of `pods` (a Server without one selects none; `{}` selects all). */
export function serverIncludesPod(server: Server, pods: readonly Pod[]): boolean {
  const sel = server.spec?.podSelector;
  if (!sel) return false;
  const reqs = selectorRequirements(sel);
  return reqs !== undefined && pods.some((p) => matchesSelector(p.metadata.labels, reqs));
}

export interface AuthorizationRow {
  route: string;
  server: string;
  authorizationPolicy: string;
  serverAuthorization: string;
}

export interface PolicyObjects {
  servers: Server[];
  serverAuthorizations: ServerAuthorization[];
  authorizationPolicies: AuthorizationPolicy[];
  httpRoutes: HttpRoute[];
}

/** Rows in Linkerd's order: ServerAuthorizations first, then AuthorizationPolicies, each in list order. */
export function computeAuthorizations(pods: readonly Pod[], o: PolicyObjects, warn: (m: string) => void = () => undefined): AuthorizationRow[] {
  const rows: AuthorizationRow[] = [];
  const byName = new Map(o.servers.map((s) => [s.metadata.name, s]));
  const name = (x: KubeObject) => x.metadata.name;
  for (const saz of o.serverAuthorizations) {
    const target = saz.spec?.server;
    let servers: Server[] = [];
    if (target?.name) {
      const s = byName.get(target.name);
      if (!s) {
        warn(`ServerAuthorization/${name(saz)} targets Server/${target.name}, which does not exist`);
        continue;
      }
      servers = [s];
    } else if (target?.selector) {
      const reqs = selectorRequirements(target.selector);
      if (!reqs) {
        warn(`ServerAuthorization/${name(saz)} has an invalid Server selector`);
        continue;
      }
      servers = o.servers.filter((s) => matchesSelector(s.metadata.labels, reqs));
    }
    for (const s of servers) if (serverIncludesPod(s, pods)) rows.push({ route: "", server: name(s), authorizationPolicy: "", serverAuthorization: name(saz) });
  }
  const routes = new Map(o.httpRoutes.map((r) => [r.metadata.name, r]));
  for (const p of o.authorizationPolicies) {
    const t = p.spec?.targetRef ?? {};
    const group = t.group ?? "";
    if (t.kind === "Namespace" && group === "") {
      for (const s of o.servers) if (serverIncludesPod(s, pods)) rows.push({ route: "", server: name(s), authorizationPolicy: name(p), serverAuthorization: "" });
    } else if (t.kind === "Server" && group === POLICY_GROUP) {
      const s = byName.get(t.name ?? "");
      if (!s) warn(`AuthorizationPolicy/${name(p)} targets Server/${t.name ?? ""}, which does not exist`);
      else if (serverIncludesPod(s, pods)) rows.push({ route: "", server: name(s), authorizationPolicy: name(p), serverAuthorization: "" });
    } else if (t.kind === "HTTPRoute" && group === POLICY_GROUP) {
      const route = routes.get(t.name ?? "");
      if (!route) {
        warn(`AuthorizationPolicy/${name(p)} targets HTTPRoute/${t.name ?? ""}, which does not exist`);
        continue;
      }
      for (const parent of route.spec?.parentRefs ?? []) {
        if (parent.kind !== "Server" || parent.group !== POLICY_GROUP) continue;
        const s = byName.get(parent.name);
        if (!s) warn(`HTTPRoute/${name(route)} belongs to Server/${parent.name}, which does not exist`);
        else if (serverIncludesPod(s, pods)) rows.push({ route: name(route), server: name(s), authorizationPolicy: name(p), serverAuthorization: "" });
      }
    }
  }
  return rows;
}

const COLUMNS = [
  { header: "ROUTE", width: 6 },
  { header: "SERVER", width: 6 },
  { header: "AUTHORIZATION_POLICY", width: 21 },
  { header: "SERVER_AUTHORIZATION", width: 21 },
];

/**
 * Linkerd's table: left-aligned columns at least as wide as their minimum (6, 6, 21, 21), each
 * cell followed by two spaces; an empty route shows as `*` (every route of the server).
 */
export function formatAuthorizations(rows: readonly AuthorizationRow[]): string {
  const cells = rows.map((r) => [r.route || "*", r.server, r.authorizationPolicy, r.serverAuthorization].map((c) => sanitize(c, 253)));
  const len = (s: string) => Array.from(s).length;
  const widths = COLUMNS.map((c, i) => Math.max(c.width, ...cells.map((r) => len(r[i]))));
  const line = (row: string[]) => row.map((v, i) => v + " ".repeat(widths[i] - len(v)) + "  ").join("") + "\n";
  return line(COLUMNS.map((c) => c.header)) + cells.map(line).join("");
}

/** `-o json`: one object per row, empty cells as "". */
export function formatAuthorizationsJson(rows: readonly AuthorizationRow[]): string {
  return `${JSON.stringify(rows, null, 2)}\n`;
}
