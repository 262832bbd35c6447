/**
 * Linkerd's annotations and injection: unknown keys (with the closest known one), values the
 * injector or proxy would ignore, `linkerd.io/inject` where injection refuses or cannot apply, opaque
 * ports a Service declares but its pods do not, and meshed Jobs whose pods never complete. Whether a
 * pod template can be injected, and why not, comes from inject's own transform and report.
 */
import { isIP } from "node:net";
import { closest } from "../cli.js";
import { parseCidr } from "../checks/cidr.js";
import { A, INBOUND_POLICIES, INJECT, PREFIX, WORKLOAD_LABEL } from "../inject/annotations.js";
import { parseBool, parseGoDuration } from "../inject/go.js";
import { parseOpaquePorts } from "../inject/overrides.js";
import { injectErrors, injectable } from "../inject/report.js";
import { POD_TEMPLATE_PATH } from "../inject/resource.js";
import { Transformer, type InjectConfig } from "../inject/transform.js";
import { DEFAULT_STYLE, emitDocument } from "../inject/yaml/emit.js";
import { scanDocument } from "../inject/yaml/scan.js";
import { isQuantity } from "../proxy/quantity.js";
import { q, type Analyzer, type Emit } from "./analyzer.js";
import { containerPorts, servicePorts, WORKLOAD_KINDS, type PodLike, type World } from "./context.js";
import { list, obj, path, str, strMap, type Obj, type PathStep } from "./model.js";
import { opaquePorts } from "./server.js";

const OTHER_KNOWN = [
  INJECT, `${PREFIX}/created-by`, `${PREFIX}/proxy-version`, `${PREFIX}/trust-root-sha256`, `${PREFIX}/identity-issuer-expiry`,
  `${PREFIX}/control-plane-ns`, `${PREFIX}/control-plane-component`, `${PREFIX}/workload-ns`, `${PREFIX}/is-control-plane`,
  `${PREFIX}/extension`, `${PREFIX}/cni-resource`, ...Object.values(WORKLOAD_LABEL),
  "config.linkerd.io/admission-webhooks", "config.linkerd.io/trace-collector", "config.alpha.linkerd.io/trace-collector-service-account",
  "config.linkerd.io/proxy-ephemeral-storage-request", "config.linkerd.io/proxy-ephemeral-storage-limit",
];
export const KNOWN_KEYS: string[] = [...new Set([...Object.values(A), ...OTHER_KNOWN])].sort();
const KNOWN = new Set(KNOWN_KEYS);
const LINKERD_KEY = /^(?:config\.(?:alpha\.)?)?linkerd\.io\//;

const LOG_LEVELS = new Set(["trace", "debug", "info", "warn", "warning", "error", "off"]);
const PULL_POLICIES = ["Always", "IfNotPresent", "Never"];

const port = (s: string) => /^\d+$/.test(s) && Number(s) >= 1 && Number(s) <= 65535;
function portList(s: string, ranges: boolean): string | undefined {
  for (const p of s.split(",").map((x) => x.trim()).filter(Boolean)) {
    const [lo, hi, extra] = p.split("-");
    if (extra !== undefined || !port(lo) || (hi !== undefined && (!ranges || !port(hi) || Number(hi) < Number(lo)))) return p;
  }
  return undefined;
}

/** Why a value is invalid for the key (undefined when valid, or not checked). */
export function invalidValue(key: string, value: string, pod: PodLike | undefined): string | undefined {
  const oneOf = (values: readonly string[], v = value) => (values.includes(v) ? undefined : `must be one of ${values.join(", ")}`);
  switch (key) {
    case INJECT:
      return oneOf(["enabled", "disabled", "ingress"]);
    case A.adminPort:
    case A.controlPort:
    case A.inboundPort:
    case A.outboundPort:
      return port(value) ? undefined : "must be a port number (1-65535)";
    case A.proxyUid:
      return /^\d+$/.test(value) ? undefined : "must be a numeric user id";
    case A.waitBeforeExitSeconds:
      return /^\d+$/.test(value) ? undefined : "must be a whole number of seconds";
    case A.skipInboundPorts:
    case A.skipOutboundPorts:
    case A.requireIdentity:
    case A.podInboundPorts: {
      const bad = portList(value, key !== A.podInboundPorts);
      return bad === undefined ? undefined : `${q(bad)} is not a port${key !== A.podInboundPorts ? " or port range (1000-2000)" : ""}`;
    }
    case A.opaquePorts: {
      let bad: string | undefined;
      parseOpaquePorts(value, pod ? list(pod.spec.containers).map((c) => ({ ports: list(obj(c)?.ports).map((x) => obj(x) ?? {}) })) as never : [], (m) => (bad ??= m));
      return bad && `${bad.replace(/^invalid port range /, "")} is not a port, port range or container port name`;
    }
    case A.cpuRequest:
    case A.cpuLimit:
    case A.memoryRequest:
    case A.memoryLimit:
    case A.ephemeralStorageRequest:
    case A.ephemeralStorageLimit:
      return isQuantity(value) ? undefined : "must be a Kubernetes quantity (e.g. 100m, 1, 64Mi)";
    case A.outboundConnectTimeout:
    case A.inboundConnectTimeout:
    case A.outboundDiscoveryCacheUnusedTimeout:
    case A.inboundDiscoveryCacheUnusedTimeout:
    case A.shutdownGracePeriod:
    case A.closeWaitTimeout:
      return parseGoDuration(value) === undefined ? "must be a duration (e.g. 1s, 500ms, 1m30s)" : undefined;
    case A.logLevel: {
      for (const d of value.split(",").map((x) => x.trim())) {
        const level = d.includes("=") ? d.slice(d.indexOf("=") + 1) : d;
        if (!LOG_LEVELS.has(level.toLowerCase())) return `${q(d)} is not a log level or target=level directive (levels: trace, debug, info, warn, error, off)`;
      }
      return undefined;
    }
    case A.logFormat:
      return oneOf(["plain", "json"]);
    case A.accessLog:
      return oneOf(["apache", "json"], value.toLowerCase());
    case A.defaultInboundPolicy:
      return oneOf(INBOUND_POLICIES);
    case A.proxyAwait:
      return oneOf(["enabled", "disabled"]);
    case A.imagePullPolicy:
    case A.debugImagePullPolicy:
      return oneOf(PULL_POLICIES);
    case A.enableExternalProfiles:
    case A.enableDebugSidecar:
    case A.disableOutboundDetectTimeout:
    case A.disableInboundDetectTimeout:
    case A.enableGateway:
      return parseBool(value) === undefined ? "must be true or false" : undefined;
    case A.skipSubnets:
      for (const c of value.split(",").map((x) => x.trim()).filter(Boolean)) {
        try {
          parseCidr(c.includes("/") || !isIP(c) ? c : `${c}/${c.includes(":") ? 128 : 32}`);
        } catch {
          return `${q(c)} is not a CIDR`;
        }
      }
      return undefined;
  }
  return undefined;
}

function checkAnnotations(o: Obj, ann: Record<string, string>, at: PathStep[], pod: PodLike | undefined, emit: Emit): void {
  for (const key in ann) {
    if (!LINKERD_KEY.test(key)) continue;
    if (!KNOWN.has(key)) {
      const guess = closest(key, KNOWN_KEYS);
      emit("annotationUnknown", o, [...at, key], `${q(key)} is not an annotation Linkerd reads, so it has no effect`, guess ? `did you mean ${q(guess)}?` : "remove it (see linkerd.io/2.14/reference/proxy-configuration/)");
      continue;
    }
    const why = invalidValue(key, ann[key], pod);
    if (why) emit("annotationInvalid", o, [...at, key], `${key}: value ${q(ann[key])} ${why.startsWith("must") ? why : `is invalid (${why})`}; the injector ignores invalid values`, "fix the value");
  }
}

/** Is injection asked for this pod (its annotation, else its namespace's)? */
export function injectionEnabled(w: World, p: PodLike): boolean {
  const own = p.annotations[INJECT];
  if (own !== undefined) return own === "enabled" || own === "ingress";
  const ns = w.namespaceAnnotations(p.namespace)[INJECT];
  return ns === "enabled" || ns === "ingress";
}

let injectCfg: InjectConfig | undefined;
/** The inject configuration for reading inject's report (annotation mode, built-in values). */
export function setInjectConfig(cfg: InjectConfig): void {
  injectCfg = cfg;
}

/** Inject's report for one pod template's owner: would injection refuse it, is it a Job that never completes. */
function injectReport(o: Obj) {
  if (!injectCfg) return undefined;
  // the object as data, written out and scanned: the same for file, List item and cluster objects
  const text = emitDocument(o.value);
  try {
    const root = scanDocument(text);
    if (!root) return undefined;
    const t = new Transformer(text, DEFAULT_STYLE);
    t.each(root, "inject", { ...injectCfg, overrides: {} });
    return t.outcome.reports[0];
  } catch {
    return undefined; // a shape inject refuses: other findings (or kubectl) say why
  }
}

export const annotationAnalyzer: Analyzer = {
  id: "annotations",
  kinds: ["*"],
  codes: ["annotationUnknown", "annotationInvalid", "injectRefused", "injectUdpOnly", "injectUnsupportedKind", "opaqueServiceOnly", "jobNoShutdown"],
  run(w, emit) {
    for (const o of w.subjects) {
      const meta = strMap(path(o.value, "metadata", "annotations"));
      const tplPath = POD_TEMPLATE_PATH[o.kind.toLowerCase()];
      // a cluster pod made by a workload: the workload's own template gets the findings
      if (o.kind === "Pod" && !o.src && list(path(o.value, "metadata", "ownerReferences")).length) continue;
      const pod = tplPath !== undefined ? podOf(o, tplPath) : undefined;
      checkAnnotations(o, meta, ["metadata", "annotations"], o.kind === "Pod" ? pod : undefined, emit);
      if (pod && o.kind !== "Pod") checkAnnotations(o, pod.annotations, [...tplPath, "metadata", "annotations"], pod, emit);

      if (INJECT in meta && o.kind !== "Namespace" && o.kind !== "Pod") {
        const where = WORKLOAD_KINDS.has(o.kind) ? `move it to ${tplPath.join(".")}.metadata.annotations` : "remove it: only pods (through their workload's template) and namespaces are injected";
        emit("injectUnsupportedKind", o, ["metadata", "annotations", INJECT], `${INJECT} on a ${o.kind}'s own metadata is ignored: the injector reads it from pods and namespaces only`, where);
      }
      if (o.kind === "Service") checkServiceOpaque(w, o, meta, emit);
      if (!pod || !injectionEnabled(w, pod)) continue;
      const tplAt = [...tplPath, "spec"];
      const report = mayNeedReport(o, pod) ? injectReport(o) : undefined;
      if (report && !injectable(report) && !report.injectDisabled && !report.unsupportedResource) {
        const reasons = injectErrors(report);
        if (reasons.length) emit("injectRefused", o, report.hostNetwork ? [...tplAt, "hostNetwork"] : tplAt, `injection is enabled but the injector refuses this pod: ${reasons.join(", ")}`, report.hostNetwork ? "pods on the host network cannot be meshed: remove hostNetwork, or set linkerd.io/inject: disabled" : "remove the other proxy, or set linkerd.io/inject: disabled");
      }
      const ports = containerPorts(pod);
      if (ports.length && ports.every((x) => x.protocol === "UDP"))
        emit("injectUdpOnly", o, [...tplAt, "containers"], `injection is enabled but every port of the pod is UDP (${ports.map((x) => x.port).join(", ")}), which the proxy does not carry`, "set linkerd.io/inject: disabled on the pod template");
      if (report?.jobWithoutShutdown)
        emit("jobNoShutdown", o, [...tplAt, "containers", 0], `the pod is meshed, but the first container's command does not stop the proxy, so the pod keeps running and the ${o.kind} never completes`, "end the command with `curl -sf -XPOST http://localhost:4191/shutdown`, or wrap it with `linkerd-await --shutdown -- <command>`");
    }
  },
};

/**
 * Whether inject's report can say anything here: what it refuses (host network, another proxy,
 * no service account token) and Jobs. Asking it for every workload would be correct, only slower.
 */
function mayNeedReport(o: Obj, p: PodLike): boolean {
  if (o.kind === "Job" || o.kind === "CronJob" || p.spec.hostNetwork === true || p.spec.automountServiceAccountToken === false) return true;
  const named = (c: unknown) => /^(linkerd-proxy|linkerd-init|istio-proxy|istio-init)$/.test(str(obj(c as never)?.name)) || /(linkerd\/proxy|istio-release\/proxy)/.test(str(obj(c as never)?.image));
  return list(p.spec.containers).some(named) || list(p.spec.initContainers).some(named);
}

function podOf(o: Obj, at: string[]): PodLike | undefined {
  const tpl = obj(path(o.value, ...at));
  if (!tpl || !obj(tpl.spec)) return undefined;
  return { owner: o, namespace: o.namespace, labels: strMap(path(tpl, "metadata", "labels")), annotations: strMap(path(tpl, "metadata", "annotations")), spec: obj(tpl.spec)!, at };
}

/** Opaque ports a Service declares: each must be opaque on the pods it sends to (the target port), or meshed clients and servers disagree. */
function checkServiceOpaque(w: World, svc: Obj, ann: Record<string, string>, emit: Emit): void {
  const raw = ann[A.opaquePorts];
  if (raw === undefined || invalidValue(A.opaquePorts, raw, undefined)) return;
  const marked = parseOpaquePorts(raw, [], () => undefined).split(",").filter(Boolean).map((r) => r.split("-").map(Number));
  const pods = w.servicePods(svc);
  if (!pods.length) return;
  for (const sp of servicePorts(svc)) {
    if (!marked.some(([lo, hi = lo]) => sp.port >= lo && sp.port <= hi)) continue;
    for (const p of pods) {
      const target = typeof sp.targetPort === "number" ? sp.targetPort : containerPorts(p).find((c) => c.name === sp.targetPort)?.port;
      if (target === undefined) continue;
      if (opaquePorts(w, p)?.(target)) continue;
      emit("opaqueServiceOnly", svc, ["metadata", "annotations", A.opaquePorts], `port ${sp.port} is opaque on the Service, but ${p.owner.kind.toLowerCase()}/${p.owner.name} does not mark its target port ${target} opaque, so its proxy still detects the protocol inbound`, `add ${target} to ${A.opaquePorts} on ${p.owner.kind.toLowerCase()}/${p.owner.name}'s pod template (or its namespace)`);
      return;
    }
  }
}
