/**
 * Injection and uninjection of one scanned document, as a list of minimal text edits.
 * Mirrors Linkerd's pipeline: a silent uninject, the report, the skip/error rules, the
 * override annotations, then (with --manual) the proxy, init container and volumes
 * built by src/proxy. Nothing here does I/O.
 */
import { createHash } from "node:crypto";
import { isIP } from "node:net";
import {
  DEBUG_CONTAINER_NAME,
  END_ENTITY_VOLUME_NAME,
  INIT_CONTAINER_NAME,
  NETWORK_VALIDATOR_NAME,
  PROXY_CONTAINER_NAME,
  TOKEN_VOLUME_NAME,
  XTABLES_VOLUME_NAME,
  debugContainer,
  initContainer,
  proxyContainer,
  proxyVersion,
  proxyVolumes,
} from "../proxy/index.js";
import type { ProxyTemplateValues } from "../proxy/types.js";
import { A, CONTROL_PLANE_COMPONENT_LABEL, CONTROL_PLANE_NS_LABEL, CREATED_BY, INJECT, PREFIX, PROXY_VERSION, TRUST_ROOT_SHA, WORKLOAD_LABEL, WORKLOAD_NS_LABEL } from "./annotations.js";
import { parseBool, parseGoDuration } from "./go.js";
import { applyAnnotationOverrides, type InjectValues } from "./overrides.js";
import { describe, InputError, type Container, type Resource } from "./resource.js";
import { injectable, injectErrors, newReport, type Report } from "./report.js";
import { DocEditor, type MapPlan, type SeqPlan } from "./yaml/edit.js";
import { at, type Json, type MapNode, type Node } from "./yaml/tree.js";

export interface InjectConfig {
  /** Proxy values after flags (from linkerd-config or defaults). */
  values: InjectValues;
  /** Override annotations for flags that changed values. Mutated: see the ingress quirk below. */
  overrides: Record<string, string>;
  manual: boolean;
  enableDebugSidecar: boolean;
  /** `--close-wait-timeout`, as a Go duration string (e.g. `1m0s`). */
  closeWaitTimeout?: string;
  /** Control-plane namespace. */
  namespace: string;
  /** Value of `linkerd.io/created-by`. */
  createdBy: string;
}

export interface DocOutcome {
  reports: Report[];
  /** `failed to inject …` lines (Linkerd's inject errors): the run fails, nothing is printed. */
  failures: string[];
  /** Ignored annotation values and similar notes (printed with --verbose). */
  warnings: string[];
}

/** Names mesh removes when uninjecting: Linkerd's, plus the debug container and network validator it leaves behind. */
const REMOVED_CONTAINERS = new Set([PROXY_CONTAINER_NAME, DEBUG_CONTAINER_NAME]);
const REMOVED_INIT_CONTAINERS = new Set([INIT_CONTAINER_NAME, NETWORK_VALIDATOR_NAME]);
const REMOVED_VOLUMES = new Set([END_ENTITY_VOLUME_NAME, XTABLES_VOLUME_NAME, TOKEN_VOLUME_NAME]);
const SA_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount";

const nameOf = (n: Node | null): string | undefined => {
  const v = at(n, "name");
  return v && v.kind === "scalar" && typeof v.value === "string" ? v.value : undefined;
};
const named = (names: Set<string>) => (n: Node | null) => names.has(nameOf(n) ?? "\0");

/** Uninject drops `linkerd.io*` annotations except `linkerd.io/inject: disabled`. */
const stripAnnotation = (k: string, v: Node | null) =>
  k.startsWith(PREFIX) && !(k === INJECT && v?.kind === "scalar" && v.value === "disabled");
const stripLabel = (k: string) => k.startsWith(PREFIX);
const keepAll = () => false;

function strippedAnnotations(ann: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(ann)) if (!k.startsWith(PREFIX) || (k === INJECT && v === "disabled")) out[k] = v;
  return out;
}

const sorted = (o: Record<string, string>): [string, string][] => Object.keys(o).sort().map((k) => [k, o[k]]);

/** Go's HasExistingSidecars, on the pod after the silent uninject. */
function hasSidecar(containers: Container[], init: Container[]): boolean {
  const img = (c: Container) => (typeof c.image === "string" ? c.image : "");
  for (const c of containers)
    if (img(c).startsWith("cr.l5d.io/linkerd/proxy:") || img(c).startsWith("gcr.io/istio-release/proxyv2:") || c.name === PROXY_CONTAINER_NAME || c.name === "istio-proxy")
      return true;
  for (const c of init)
    if (img(c).startsWith("cr.l5d.io/linkerd/proxy-init:") || img(c).startsWith("gcr.io/istio-release/proxy_init:") || c.name === INIT_CONTAINER_NAME || c.name === "istio-init")
      return true;
  return false;
}

const asList = (v: Json | undefined): Json[] => (Array.isArray(v) ? v : []);
const asObj = (v: Json | undefined): { [k: string]: Json } | undefined => (v && typeof v === "object" && !Array.isArray(v) ? v : undefined);

function hasUdp(containers: Container[]): boolean {
  return containers.some((c) => asList(c.ports).some((p) => asObj(p)?.protocol === "UDP"));
}

/** LINKERD2_PROXY_INBOUND_PORTS: container ports and integer HTTP probe ports, sorted as strings. */
export function podInboundPorts(containers: Container[]): string {
  const ports = new Set<string>();
  for (const c of containers) {
    for (const p of asList(c.ports)) {
      const cp = asObj(p)?.containerPort;
      if (typeof cp === "number") ports.add(String(cp));
    }
    for (const probe of [c.readinessProbe, c.livenessProbe]) {
      const port = asObj(asObj(probe)?.httpGet)?.port;
      if (typeof port === "number") ports.add(String(port));
    }
  }
  return [...ports].sort().join(",");
}

function validCidr(s: string): boolean {
  const i = s.indexOf("/");
  if (i < 0) return false;
  const ip = s.slice(0, i);
  const bits = s.slice(i + 1);
  const fam = isIP(ip);
  if (!fam || !/^\d+$/.test(bits)) return false;
  return Number(bits) <= (fam === 4 ? 32 : 128);
}

/** A Job whose first container visibly shuts its proxy down (linkerd-await --shutdown, or POST /shutdown). */
function handlesShutdown(c: Container | undefined): boolean {
  if (!c) return false;
  const words = [...asList(c.command), ...asList(c.args)].map(String).join(" ");
  return (words.includes("linkerd-await") && words.includes("--shutdown")) || words.includes("/shutdown");
}

/** A deep copy of plain data (much faster than structuredClone for these small objects). */
function clone<T>(v: T): T {
  if (Array.isArray(v)) return v.map(clone) as T;
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const k in v) out[k] = clone((v as Record<string, unknown>)[k]);
    return out as T;
  }
  return v;
}

const cidrCache = new Map<string, string | undefined>();

/** The first entry of clusterNetworks that is not a CIDR (Linkerd refuses to render then). */
function badNetwork(networks: string | undefined): string | undefined {
  if (!networks) return undefined;
  if (!cidrCache.has(networks)) cidrCache.set(networks, networks.replace(/^,+|,+$/g, "").split(",").find((n) => !validCidr(n)));
  return cidrCache.get(networks);
}

/** Does any annotation affect the proxy values? (Most pods have none: skip the work.) */
function hasOverrides(ann: Record<string, string>): boolean {
  for (const k in ann) if (k.startsWith("config.") || k === INJECT) return true;
  return false;
}

export class Transformer {
  readonly editor: DocEditor;
  readonly outcome: DocOutcome = { reports: [], failures: [], warnings: [] };

  constructor(
    text: string,
    editorStyle: ConstructorParameters<typeof DocEditor>[1],
  ) {
    this.editor = new DocEditor(text, editorStyle);
  }

  /** Runs `fn` over the document root, or over each item of a `kind: List`. */
  each(root: Node, fn: (obj: MapNode, where: string) => void): void {
    if (root.kind !== "map") throw new InputError(`the document is not an object (it is ${root.kind === "seq" ? "a list" : "a scalar"})`, root.start);
    const kind = at(root, "kind");
    if (kind && kind.kind === "scalar" && kind.value === "List") {
      const items = at(root, "items");
      if (items && items.kind !== "seq") throw new InputError("items of a List must be a list", items.start);
      items?.items.forEach((it, i) => {
        if (!it.node || (it.node.kind === "scalar" && it.node.value === null)) {
          this.outcome.reports.push({ ...newReport("", ""), unsupportedResource: true }); // Linkerd reports a null item as a document without kind
          return;
        }
        if (it.node.kind !== "map") throw new InputError(`items[${i}] of the List is not an object`, it.node.start);
        fn(it.node, `items[${i}]`);
      });
      return;
    }
    fn(root, "");
  }

  /** Uninject: remove the proxy, init container, debug container, volumes and linkerd.io metadata. */
  uninject(obj: MapNode, where: string): void {
    const res = describeLenient(obj, where);
    const r = newReport(res.lkind, reportName(res));
    const ed = this.editor;
    if (res.pod) {
      r.uninjected = this.stripPodSpec(res) || r.uninjected;
      r.uninjected = this.stripMeta(res.node, res.meta, res.labels) || r.uninjected;
      if (res.lkind !== "pod") r.uninjected = this.stripMeta(res.pod.node, res.pod.meta, res.pod.labels) || r.uninjected;
    } else if (res.lkind === "namespace" || res.lkind === "service") {
      r.uninjected = this.stripMeta(res.node, res.meta, res.labels);
    } else r.unsupportedResource = true;
    void ed;
    this.outcome.reports.push(r);
  }

  /** Removes sidecar containers and volumes; true when a proxy, init, debug or validator container went. */
  private stripPodSpec(res: Resource): boolean {
    const pod = res.pod!;
    const ed = this.editor;
    const removed = pod.containers.some((c) => REMOVED_CONTAINERS.has(c.name as string)) || pod.initContainers.some((c) => REMOVED_INIT_CONTAINERS.has(c.name as string));
    ed.seq(pod.spec, "initContainers", { remove: named(REMOVED_INIT_CONTAINERS) }, `${pod.path}.spec.initContainers`);
    ed.seq(pod.spec, "containers", { remove: named(REMOVED_CONTAINERS) }, `${pod.path}.spec.containers`);
    ed.seq(pod.spec, "volumes", { remove: named(REMOVED_VOLUMES) }, `${pod.path}.spec.volumes`);
    return removed;
  }

  /** Drops linkerd.io metadata from an object (unless it is a control-plane component); true when an annotation went. */
  private stripMeta(holder: MapNode, meta: MapNode | undefined, labels: Record<string, string>): boolean {
    if (!meta || CONTROL_PLANE_COMPONENT_LABEL in labels) return false;
    const annNode = at(meta, "annotations");
    const dropped = !!annNode && annNode.kind === "map" && annNode.entries.some((e) => stripAnnotation(e.key, e.value));
    this.editor.map(holder, "metadata", { children: [["annotations", { remove: stripAnnotation }], ["labels", { remove: stripLabel }]] }, "metadata");
    return dropped;
  }

  /** Inject (after a silent uninject), as Linkerd's resourceTransformerInject.transform. */
  inject(obj: MapNode, where: string, cfg: InjectConfig): void {
    const res = describe(obj, where);
    const ed = this.editor;
    const r = newReport(res.lkind, reportName(res));
    this.outcome.reports.push(r);
    const cpMeta = CONTROL_PLANE_COMPONENT_LABEL in res.labels;
    const pending: Record<string, string> = {};
    if (cfg.enableDebugSidecar) pending[A.enableDebugSidecar] = "true";
    if (cfg.closeWaitTimeout) pending[A.closeWaitTimeout] = cfg.closeWaitTimeout;

    if (!res.pod) {
      if (res.lkind === "namespace" || res.lkind === "service") {
        r.annotatable = true;
        const set: Record<string, string> = {};
        if (res.lkind === "namespace") {
          set[INJECT] = "enabled";
          Object.assign(set, cfg.overrides);
          r.annotated = true;
        } else if (A.opaquePorts in cfg.overrides) {
          set[A.opaquePorts] = cfg.overrides[A.opaquePorts];
          r.annotated = true;
        }
        r.unsupportedResource = true;
        const strip = cpMeta ? keepAll : stripAnnotation;
        ed.map(res.node, "metadata", { children: [["annotations", { remove: strip, set: sorted(set) }], ["labels", { remove: cpMeta ? keepAll : stripLabel }]] }, "metadata");
      } else r.unsupportedResource = true;
      return;
    }

    const pod = res.pod;
    const projection = Boolean(cfg.values.identity?.serviceAccountTokenProjection);
    // the pod as Linkerd sees it after its silent uninject
    const containers = pod.containers.filter((c) => !REMOVED_CONTAINERS.has(c.name as string));
    const initContainers = pod.initContainers.filter((c) => !REMOVED_INIT_CONTAINERS.has(c.name as string));
    const podCp = CONTROL_PLANE_COMPONENT_LABEL in pod.labels;
    const annotations = podCp ? { ...pod.annotations } : strippedAnnotations(pod.annotations);
    r.annotatable = true;
    r.injectDisabled = annotations[INJECT] === "disabled";
    r.hostNetwork = pod.hostNetwork;
    r.sidecar = hasSidecar(containers, initContainers);
    r.udp = hasUdp(containers);
    if (pod.automountServiceAccountToken !== undefined && !projection) r.automountServiceAccountToken = pod.automountServiceAccountToken;

    if (podCp && !cfg.manual) {
      this.outcome.failures.push("--manual must be set when injecting control plane components");
      return;
    }
    if (Object.keys(cfg.overrides).length) {
      Object.assign(pending, cfg.overrides);
      r.annotated = true;
    }

    const wlStrip = res.lkind !== "pod" && !cpMeta;
    const podStrip = !podCp;
    const metaPlan = (set: Record<string, string>, labels: Record<string, string>): MapPlan => ({
      createFirst: true,
      children: [
        ["annotations", { remove: podStrip ? stripAnnotation : keepAll, set: sorted(set) }],
        ["labels", { remove: podStrip ? stripLabel : keepAll, set: sorted(labels) }],
      ],
    });
    const tplMetaHolder = res.lkind === "pod" ? res.node : pod.node;
    const stripSpec = () => {
      ed.seq(pod.spec, "initContainers", { remove: named(REMOVED_INIT_CONTAINERS) }, `${pod.path}.spec.initContainers`);
      ed.seq(pod.spec, "containers", { remove: named(REMOVED_CONTAINERS) }, `${pod.path}.spec.containers`);
      ed.seq(pod.spec, "volumes", { remove: named(REMOVED_VOLUMES) }, `${pod.path}.spec.volumes`);
    };
    if (wlStrip) ed.map(res.node, "metadata", { children: [["annotations", { remove: stripAnnotation }], ["labels", { remove: stripLabel }]] }, "metadata");

    if (!injectable(r)) {
      const errs = injectErrors(r);
      if (errs.length) this.outcome.failures.push(`failed to inject ${r.kind}/${r.name}: ${errs.join(", ")}`);
      stripSpec();
      ed.map(tplMetaHolder, "metadata", metaPlan({}, {}), "metadata");
      return;
    }

    if (cfg.manual) {
      // Linkerd deletes the ingress inject annotation from the shared overrides after the first
      // injectable resource, so only that one keeps `linkerd.io/inject: ingress` (spec §4.2).
      delete cfg.overrides[INJECT];
      pending[CREATED_BY] = cfg.createdBy;
    } else if (!cfg.values.proxy?.isIngress) pending[INJECT] = "enabled";

    // The per-pod values: only --manual renders them; in annotation mode they are computed
    // only for the warnings about invalid annotations Linkerd would log.
    let values = cfg.values as ProxyTemplateValues;
    if (cfg.manual || hasOverrides(annotations)) {
      values = clone(cfg.values) as ProxyTemplateValues;
      values.proxy = { ...(values.proxy ?? {}), podInboundPorts: podInboundPorts(containers) };
      if (hasOverrides(annotations)) applyAnnotationOverrides(values, annotations, containers as never, (m) => this.outcome.warnings.push(`${r.kind}/${r.name}: ${m}`));
    }
    const bad = badNetwork(values.clusterNetworks);
    if (bad !== undefined) {
      this.outcome.failures.push(`cannot parse destination get networks: invalid CIDR address: ${bad}`);
      return;
    }

    const setAnn: Record<string, string> = { ...pending };
    const setLabels: Record<string, string> = {};
    if (cfg.manual) {
      setAnn[PROXY_VERSION] = proxyVersion(values);
      setAnn[TRUST_ROOT_SHA] = createHash("sha256").update(values.identityTrustAnchorsPEM ?? "").digest("hex");
      setLabels[CONTROL_PLANE_NS_LABEL] = cfg.namespace;
      if (WORKLOAD_LABEL[res.lkind]) setLabels[WORKLOAD_LABEL[res.lkind]] = res.name;
      setLabels[WORKLOAD_NS_LABEL] = res.namespace;
    }
    ed.map(tplMetaHolder, "metadata", metaPlan(setAnn, setLabels), "metadata");

    if (res.lkind === "job" || res.lkind === "cronjob") r.jobWithoutShutdown = !handlesShutdown(containers[0]);

    if (!cfg.manual) {
      stripSpec();
      return;
    }

    // --manual: the sidecar itself
    const merged = { ...annotations, ...setAnn };
    const first = containers[0];
    const caps = asObj(asObj(asObj(first?.securityContext)?.capabilities));
    const proxy = values.proxy!;
    const proxyInit = (values.proxyInit = { ...(values.proxyInit ?? {}) });
    if (caps) {
      const add = asList(caps.add).map(String);
      const drop = asList(caps.drop).map(String);
      proxy.capabilities = { add, drop };
      proxyInit.capabilities = { add, drop: drop.filter((d) => d !== "NET_RAW" && d !== "NET_ADMIN") };
    }
    const sa = asList(first?.volumeMounts).map(asObj).find((m) => m?.mountPath === SA_MOUNT_PATH);
    if (sa) {
      proxy.saMountPath = { name: String(sa.name ?? ""), mountPath: SA_MOUNT_PATH, readOnly: sa.readOnly === true };
      proxyInit.saMountPath = proxy.saMountPath;
    }
    const cw = merged[A.closeWaitTimeout];
    if (cw) {
      const ns = parseGoDuration(cw);
      if (ns === undefined) this.outcome.warnings.push(`${r.kind}/${r.name}: invalid duration value used for the ${A.closeWaitTimeout} annotation: ${cw}`);
      else proxyInit.closeWaitTimeoutSecs = Math.trunc(ns / 1e9);
    }
    let debug: Json | undefined;
    const dbg = merged[A.enableDebugSidecar];
    if (dbg) {
      const on = parseBool(dbg);
      if (on === undefined) this.outcome.warnings.push(`${r.kind}/${r.name}: unrecognized value used for the ${A.enableDebugSidecar} annotation: ${dbg}`);
      // Linkerd 2.14 builds the debug container from the config, not the pod's debug-image annotations
      if (on) debug = debugContainer({ ...cfg.values, linkerdVersion: values.linkerdVersion }) as unknown as Json;
    }
    const ctx = { namespace: cfg.namespace };
    const proxyC = proxyContainer(values, ctx) as unknown as Json;
    const init = initContainer(values, ctx) as unknown as Json;
    const volumes = proxyVolumes(values) as unknown as Json[];
    const awaitOn = Boolean(proxy.await);
    const containersPlan: SeqPlan = {
      remove: named(REMOVED_CONTAINERS),
      front: awaitOn ? [proxyC] : [],
      back: [...(debug ? [debug] : []), ...(awaitOn ? [] : [proxyC])],
    };
    ed.seq(pod.spec, "initContainers", { remove: named(REMOVED_INIT_CONTAINERS), back: [init] }, `${pod.path}.spec.initContainers`);
    ed.seq(pod.spec, "containers", containersPlan, `${pod.path}.spec.containers`);
    ed.seq(pod.spec, "volumes", { remove: named(REMOVED_VOLUMES), back: volumes }, `${pod.path}.spec.volumes`);
  }
}

function reportName(res: Resource): string {
  if (res.lkind === "pod") return res.pod?.name || res.pod?.generateName || "";
  return res.name;
}

function describeLenient(obj: MapNode, where: string): Resource {
  return describe(obj, where, { requireContainers: false });
}

export { InputError };
export type { Report };
