/** ServiceProfiles: where they must live to have an effect, what they name, and their routes. */
import { RE2JS } from "re2js";
import { parseGoDuration } from "../inject/go.js";
import { q, type Analyzer } from "./analyzer.js";
import { list, obj, path, str, type Obj } from "./model.js";
import type { World } from "./context.js";

const DNS_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const FQDN = new RegExp(`^(${DNS_LABEL})\\.(${DNS_LABEL})\\.svc\\.(.+)$`);
const SHORT = new RegExp(`^(${DNS_LABEL})(\\.(${DNS_LABEL}))?(\\.svc)?$`);
/** Methods a retry may repeat with a different outcome (RFC 9110 §9.2.2). */
const NON_IDEMPOTENT = new Set(["POST", "PATCH", "CONNECT"]);

/** The service a profile's name designates: `<svc>.<ns>.svc.<domain>`. */
export function profileTarget(name: string): { service: string; namespace: string; domain: string } | undefined {
  const m = FQDN.exec(name);
  return m ? { service: m[1], namespace: m[3], domain: m[5] } : undefined;
}

/** Methods a route's condition requires (through `all`; `any` and `not` say nothing certain). */
function methods(cond: unknown): string[] {
  const c = obj(cond as never);
  if (!c) return [];
  const own = str(c.method) ? [str(c.method).toUpperCase()] : [];
  return [...own, ...list(c.all).flatMap(methods)];
}

type Timeout = { ns: number; text: string; route: Obj };

/** The smallest request timeout each Service's HTTPRoutes set (`ns/name` of the Service), computed once per run. */
const timeoutsByWorld = new WeakMap<World, Map<string, Timeout>>();
function routeTimeout(w: World, ns: string, svc: string): Timeout | undefined {
  let index = timeoutsByWorld.get(w);
  if (!index) {
    timeoutsByWorld.set(w, (index = new Map()));
    for (const r of w.all("HTTPRoute")) {
      let best: Timeout | undefined;
      for (const rule of list(path(r.value, "spec", "rules"))) {
        const t = str(path(rule, "timeouts", "request"));
        const d = t ? parseGoDuration(t) : undefined;
        if (d !== undefined && d > 0 && (!best || d < best.ns)) best = { ns: d, text: t, route: r };
      }
      if (!best) continue;
      for (const p of list(path(r.value, "spec", "parentRefs")).map(obj)) {
        if (!p || str(p.kind) !== "Service") continue;
        const key = `${str(p.namespace) || r.namespace}/${str(p.name)}`;
        const prior = index.get(key);
        if (!prior || best.ns < prior.ns) index.set(key, best);
      }
    }
  }
  return index.get(`${ns}/${svc}`);
}

/** RE2 compile errors by expression (profiles repeat the same routes). */
const compiled = new Map<string, string | undefined>();
function re2Error(re: string): string | undefined {
  if (!compiled.has(re)) {
    let err: string | undefined;
    try {
      RE2JS.compile(re);
    } catch (e) {
      err = (e as Error).message.replace(/^error parsing regexp: /, "");
    }
    if (compiled.size > 10_000) compiled.clear();
    compiled.set(re, err);
  }
  return compiled.get(re);
}

export const serviceProfileAnalyzer: Analyzer = {
  id: "service-profile",
  kinds: ["ServiceProfile", "Service", "HTTPRoute"],
  codes: ["spWrongNamespace", "spNoService", "spBadName", "spBadRegex", "spRetryNonIdempotent", "spNoRetryBudget", "spDuplicateRoute", "spTimeoutOverridden"],
  run(w, emit) {
    const domain = w.settings.clusterDomain;
    for (const sp of w.subjects) {
      if (sp.kind !== "ServiceProfile" || sp.group !== "linkerd.io") continue;
      const t = profileTarget(sp.name);
      if (!t) {
        const short = SHORT.exec(sp.name);
        if (short) {
          const fqdn = `${short[1]}.${short[3] ?? sp.namespace}.svc.${domain}`;
          emit("spBadName", sp, ["metadata", "name"], `name ${q(sp.name)} is not a fully qualified service name, so no proxy ever looks this profile up`, `rename it to ${q(fqdn)}`);
        }
      } else if (t.domain !== domain) {
        emit("spBadName", sp, ["metadata", "name"], `name ${q(sp.name)} is not in the cluster domain ${q(domain)}, so no proxy ever looks this profile up`, `rename it to ${q(`${t.service}.${t.namespace}.svc.${domain}`)}`);
      } else if (t.namespace !== sp.namespace) {
        emit("spWrongNamespace", sp, ["metadata", "namespace"], `profile for service ${t.namespace}/${t.service} is in namespace ${q(sp.namespace)}, so it applies only to clients in ${q(sp.namespace)}, not to the service's other clients`, `create it in namespace ${q(t.namespace)} (keep it in ${q(sp.namespace)} only to override the service's profile for those clients)`);
      } else if (w.knows(t.namespace) && !w.service(t.namespace, t.service)) {
        emit("spNoService", sp, ["metadata", "name"], `profile names service ${t.namespace}/${t.service}, which does not exist`, `fix the name, or create the service`);
      }

      const routes = list(path(sp.value, "spec", "routes"));
      const seen = new Map<string, number>();
      let retryable = false;
      routes.forEach((r, i) => {
        const route = obj(r);
        if (!route) return;
        const name = str(route.name);
        if (name) {
          if (seen.has(name)) emit("spDuplicateRoute", sp, ["spec", "routes", i, "name"], `route ${q(name)} is defined twice (routes ${seen.get(name)! + 1} and ${i + 1}); metrics and the first match cannot tell them apart`, "give each route a unique name, or merge the two");
          else seen.set(name, i);
        }
        for (const [re, at] of regexes(route.condition, ["spec", "routes", i, "condition"])) {
          const err = re2Error(re);
          if (err) emit("spBadRegex", sp, at, `route ${q(name)}: pathRegex ${q(re)} is not a valid RE2 expression (${err}), so the profile is rejected`, "write it in RE2 syntax (no look-around or back-references; escape literal dots as \\.)");
        }
        if (route.isRetryable === true) {
          retryable = true;
          const bad = methods(route.condition).filter((x) => NON_IDEMPOTENT.has(x));
          if (bad.length) emit("spRetryNonIdempotent", sp, ["spec", "routes", i, "isRetryable"], `route ${q(name)} retries ${bad[0]} requests, which are not idempotent: a retried request may be applied twice`, `set isRetryable: false, or make the handler idempotent and suppress this finding`);
        }
        const timeout = str(route.timeout);
        const d = timeout ? parseGoDuration(timeout) : undefined;
        if (t && d !== undefined) {
          const other = routeTimeout(w, t.namespace, t.service);
          if (other && other.ns < d)
            emit("spTimeoutOverridden", sp, ["spec", "routes", i, "timeout"], `route ${q(name)} has timeout ${timeout}, but HTTPRoute ${other.route.namespace}/${other.route.name} on the same service times requests out after ${other.text}, so the longer timeout never takes effect`, `make the two timeouts agree (at most ${other.text} here)`);
        }
      });
      if (retryable && !obj(path(sp.value, "spec", "retryBudget")))
        emit("spNoRetryBudget", sp, ["spec"], "routes are retryable but the profile sets no retryBudget, so retries are bounded only by Linkerd's default budget (20% extra load)", "add spec.retryBudget (retryRatio, minRetriesPerSecond, ttl) sized for this service");
    }
  },
};

/** The pathRegex values of a condition, with their paths (nested all/any/not included). */
function regexes(cond: unknown, at: (string | number)[]): [string, (string | number)[]][] {
  const c = obj(cond as never);
  if (!c) return [];
  const out: [string, (string | number)[]][] = [];
  if (typeof c.pathRegex === "string") out.push([c.pathRegex, [...at, "pathRegex"]]);
  for (const k of ["all", "any"]) list(c[k]).forEach((x, i) => out.push(...regexes(x, [...at, k, i])));
  if (c.not) out.push(...regexes(c.not, [...at, "not"]));
  return out;
}
