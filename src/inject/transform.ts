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
import { describe, InputError, type Container, type PodTemplate, type Resource } from "./resource.js";
import { injectable, injectErrors, newReport, type Report } from "./report.js";
import { DocEditor, reusable, type MapPlan, type SeqPlan } from "./yaml/edit.js";
import { at, entry, type Json, type MapEntry, type MapNode, type Node } from "./yaml/tree.js";

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

/** The containers not named in `names` (the list itself when none is). */
function without(list: Container[], names: Set<string>): Container[] {
  for (let i = 0; i < list.length; i++) if (names.has(list[i].name as string)) return list.filter((x) => !names.has(x.name as string));
  return list;
}

/**
 * False when stripping linkerd.io annotations and labels from `holder.metadata` is
 * certain to change nothing (and to raise nothing): the map is absent or empty, or a
 * block map whose annotations and labels are absent, empty, or maps without such keys.
 * Anything else goes through the editor, which decides (and reports shape errors).
 */
function metaHasStrippable(holder: MapNode): boolean {
  const e = entry(holder, "metadata");
  if (!e || e.value === null) return false;
  const m = e.value;
  if (m.kind !== "map" || m.flow) return !(m.kind !== "scalar" && m.flow && (m.kind === "map" ? m.entries.length === 0 : m.items.length === 0));
  return strippable(entry(m, "annotations"), stripAnnotation) || strippable(entry(m, "labels"), stripLabel);
}

function strippable(c: MapEntry | undefined, strip: (k: string, v: Node | null) => boolean): boolean {
  if (!c || c.value === null) return false;
  const v = c.value;
  if (v.kind !== "map") return true;
  for (let i = 0; i < v.entries.length; i++) if (strip(v.entries[i].key, v.entries[i].value)) return true;
  return false;
}

function strippedAnnotations(ann: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in ann) {
    const v = ann[k];
    if (!k.startsWith(PREFIX) || (k === INJECT && v === "disabled")) out[k] = v;
  }
  return out;
}

const sorted = (o: Record<string, string>): [string, string][] => Object.keys(o).sort().map((k) => [k, o[k]]);

type Pairs = [string, string][];
/** Sets `k` in a list of pairs (replacing its value, as an object would). */
function put(list: Pairs, k: string, v: string): void {
  for (let i = 0; i < list.length; i++) {
    const e = list[i];
    if (e[0] === k) {
      e[1] = v;
      return;
    }
  }
  list.push([k, v]);
}
function get(list: Pairs, k: string): string | undefined {
  for (let i = 0; i < list.length; i++) if (list[i][0] === k) return list[i][1];
  return undefined;
}
/** Sorts pairs in place in Object.keys(…).sort() order (UTF-16 code units); a few pairs: insertion sort. */
function sortPairs(list: Pairs): Pairs {
  for (let i = 1; i < list.length; i++) {
    const e = list[i];
    let j = i - 1;
    while (j >= 0 && list[j][0] > e[0]) {
      list[j + 1] = list[j];
      j--;
    }
    list[j + 1] = e;
  }
  return list;
}

/** The plan of a pod template's metadata: linkerd.io entries go (unless `strip` is off), `set` and `labels` are set. */
function metaPlan(strip: boolean, set: Pairs, labels: Pairs): MapPlan {
  return {
    createFirst: true,
    children: [
      ["annotations", { remove: strip ? stripAnnotation : keepAll, set: sortPairs(set) }],
      ["labels", { remove: strip ? stripLabel : keepAll, set: sortPairs(labels) }],
    ],
  };
}

/** The silent uninject's plans. */
const STRIP_META: MapPlan = { children: [["annotations", { remove: stripAnnotation }], ["labels", { remove: stripLabel }]] };
const STRIP_INIT: SeqPlan = { remove: named(REMOVED_INIT_CONTAINERS) };
const STRIP_CONTAINERS: SeqPlan = { remove: named(REMOVED_CONTAINERS) };
const STRIP_VOLUMES: SeqPlan = { remove: named(REMOVED_VOLUMES) };

function img(c: Container): string {
  return typeof c.image === "string" ? c.image : "";
}

/** Go's HasExistingSidecars, on the pod after the silent uninject. */
function hasSidecar(containers: Container[], init: Container[]): boolean {
  for (let i = 0; i < containers.length; i++) {
    const c = containers[i];
    if (img(c).startsWith("cr.l5d.io/linkerd/proxy:") || img(c).startsWith("gcr.io/istio-release/proxyv2:") || c.name === PROXY_CONTAINER_NAME || c.name === "istio-proxy")
      return true;
  }
  for (let i = 0; i < init.length; i++) {
    const c = init[i];
    if (img(c).startsWith("cr.l5d.io/linkerd/proxy-init:") || img(c).startsWith("gcr.io/istio-release/proxy_init:") || c.name === INIT_CONTAINER_NAME || c.name === "istio-init")
      return true;
  }
  return false;
}

const asList = (v: Json | undefined): Json[] => (Array.isArray(v) ? v : []);
const asObj = (v: Json | undefined): { [k: string]: Json } | undefined => (v && typeof v === "object" && !Array.isArray(v) ? v : undefined);

function hasUdp(containers: Container[]): boolean {
  return containers.some((c) => asList(c.ports).some((p) => asObj(p)?.protocol === "UDP"));
}

/** LINKERD2_PROXY_INBOUND_PORTS: container ports and integer HTTP probe ports, sorted as strings. */
export function podInboundPorts(containers: Container[]): string {
  const ports: string[] = [];
  for (let i = 0; i < containers.length; i++) {
    const c = containers[i];
    const list = c.ports;
    if (Array.isArray(list))
      for (let j = 0; j < list.length; j++) {
        const cp = asObj(list[j])?.containerPort;
        if (typeof cp === "number") addPort(ports, String(cp));
      }
    probePort(ports, c.readinessProbe);
    probePort(ports, c.livenessProbe);
  }
  if (ports.length > 1) ports.sort();
  return ports.length === 1 ? ports[0] : ports.join(",");
}

function probePort(ports: string[], probe: Json | undefined): void {
  const port = asObj(asObj(probe)?.httpGet)?.port;
  if (typeof port === "number") addPort(ports, String(port));
}

function addPort(ports: string[], p: string): void {
  if (!ports.includes(p)) ports.push(p);
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

/**
 * The proxy values of one pod (config, then the pod's inbound ports and `config.*`
 * annotations), with what they decide: cached per config and distinct input, so a stream
 * of similar workloads computes them, and renders their sidecar, once.
 */
interface PodValues {
  /** The values; `proxy.podInboundPorts` is INBOUND_PORTS unless an annotation set it. */
  values: ProxyTemplateValues;
  /** The values hold INBOUND_PORTS, which each pod's own ports replace in the rendered text. */
  portsHole: boolean;
  /** Messages (without the `kind/name: ` prefix) about ignored annotation values. */
  warnings: string[];
  badNetwork: string | undefined;
  proxyVersion: string;
  trustRootSha: string;
  /** Sidecars rendered from these values, by first container's capabilities, SA mount, close-wait and debug values. */
  sidecars: Map<string, Sidecar>;
}

/** What --manual adds to a pod's spec: plans whose values are shared (and whose rendered text is memoised, see `reusable`). */
interface Sidecar {
  warnings: string[];
  initPlan: SeqPlan;
  containersPlan: SeqPlan;
  volumesPlan: SeqPlan;
}

const MAX_CACHED_PODS = 256;
/** Stands for a pod's inbound ports in shared values and rendered sidecars (a plain scalar, never quoted). */
const INBOUND_PORTS = "Zz1nboundP0rtsZz";
const podCache = new WeakMap<InjectConfig, Map<string, PodValues>>();
const removeContainers = named(REMOVED_CONTAINERS);
const removeInitContainers = named(REMOVED_INIT_CONTAINERS);
const removeVolumes = named(REMOVED_VOLUMES);

/**
 * The proxy values of a pod, shared by every pod whose `config.*` annotations (and, for opaque
 * ports, container ports) are the same: its inbound ports (which vary most) are a hole,
 * INBOUND_PORTS, in the values and in the sidecar rendered from them, filled per pod.
 */
function podValues(cfg: InjectConfig, containers: Container[], annotations: Record<string, string>, overridden: boolean): PodValues {
  // applyAnnotationOverrides reads the annotations and, for opaque ports, the containers' ports
  let key = "";
  if (overridden) {
    key += JSON.stringify(annotations);
    if (A.opaquePorts in annotations) key += `\0${JSON.stringify(containers.map((c) => c.ports ?? null))}`;
  }
  let cache = podCache.get(cfg);
  if (!cache) podCache.set(cfg, (cache = new Map()));
  let pv = cache.get(key);
  if (pv) return pv;
  const values = clone(cfg.values) as ProxyTemplateValues;
  values.proxy = { ...(values.proxy ?? {}), podInboundPorts: INBOUND_PORTS };
  const warnings: string[] = [];
  if (overridden) applyAnnotationOverrides(values, annotations, containers as never, (m) => warnings.push(m));
  pv = {
    values,
    portsHole: values.proxy.podInboundPorts === INBOUND_PORTS,
    warnings,
    badNetwork: badNetwork(values.clusterNetworks),
    proxyVersion: proxyVersion(values),
    trustRootSha: trustRootSha(values.identityTrustAnchorsPEM ?? ""),
    sidecars: new Map(),
  };
  if (cache.size >= MAX_CACHED_PODS) cache.clear();
  cache.set(key, pv);
  return pv;
}

const shaMemo = new Map<string, string>();
function trustRootSha(pem: string): string {
  let h = shaMemo.get(pem);
  if (h === undefined) {
    h = createHash("sha256").update(pem).digest("hex");
    if (shaMemo.size > 16) shaMemo.clear();
    shaMemo.set(pem, h);
  }
  return h;
}

/** The sidecar for a pod with values `pv` whose first container is `first`. */
function sidecar(cfg: InjectConfig, pv: PodValues, first: Container | undefined, cw: string | undefined, dbg: string | undefined): Sidecar {
  const caps = asObj(asObj(asObj(first?.securityContext)?.capabilities));
  const add = caps ? asList(caps.add).map(String) : [];
  const drop = caps ? asList(caps.drop).map(String) : [];
  const sa = asList(first?.volumeMounts).map(asObj).find((m) => m?.mountPath === SA_MOUNT_PATH);
  const saName = sa ? String(sa.name ?? "") : "";
  const saRO = sa ? sa.readOnly === true : false;
  const key = `${caps ? JSON.stringify([add, drop]) : ""}\0${sa ? JSON.stringify([saName, saRO]) : ""}\0${cw ?? "\u0001"}\0${dbg ?? "\u0001"}`;
  let out = pv.sidecars.get(key);
  if (out) return out;
  const warnings: string[] = [];
  const values: ProxyTemplateValues = { ...pv.values };
  const proxy = (values.proxy = { ...(values.proxy ?? {}) });
  const proxyInit = (values.proxyInit = { ...(values.proxyInit ?? {}) });
  if (caps) {
    proxy.capabilities = { add, drop };
    proxyInit.capabilities = { add, drop: drop.filter((d) => d !== "NET_RAW" && d !== "NET_ADMIN") };
  }
  if (sa) {
    proxy.saMountPath = { name: saName, mountPath: SA_MOUNT_PATH, readOnly: saRO };
    proxyInit.saMountPath = proxy.saMountPath;
  }
  if (cw) {
    const ns = parseGoDuration(cw);
    if (ns === undefined) warnings.push(`invalid duration value used for the ${A.closeWaitTimeout} annotation: ${cw}`);
    else proxyInit.closeWaitTimeoutSecs = Math.trunc(ns / 1e9);
  }
  let debug: Json | undefined;
  if (dbg) {
    const on = parseBool(dbg);
    if (on === undefined) warnings.push(`unrecognized value used for the ${A.enableDebugSidecar} annotation: ${dbg}`);
    // Linkerd 2.14 builds the debug container from the config, not the pod's debug-image annotations
    if (on) debug = debugContainer({ ...cfg.values, linkerdVersion: values.linkerdVersion }) as unknown as Json;
  }
  const ctx = { namespace: cfg.namespace };
  const proxyC = proxyContainer(values, ctx) as unknown as Json;
  const init = initContainer(values, ctx) as unknown as Json;
  const volumes = proxyVolumes(values) as unknown as Json[];
  const awaitOn = Boolean(proxy.await);
  out = {
    warnings,
    initPlan: { remove: removeInitContainers, back: reusable([init]) },
    containersPlan: {
      remove: removeContainers,
      front: reusable(awaitOn ? [proxyC] : []),
      back: reusable([...(debug ? [debug] : []), ...(awaitOn ? [] : [proxyC])]),
    },
    volumesPlan: { remove: removeVolumes, back: reusable(volumes) },
  };
  if (pv.sidecars.size >= 16) pv.sidecars.clear();
  pv.sidecars.set(key, out);
  return out;
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

  /** Injects or uninjects the document root, or each item of a `kind: List`. */
  each(root: Node, mode: "inject" | "uninject", cfg: InjectConfig | undefined): void {
    if (root.kind !== "map") throw new InputError(`the document is not an object (it is ${root.kind === "seq" ? "a list" : "a scalar"})`, root.start);
    const kind = at(root, "kind");
    if (kind && kind.kind === "scalar" && kind.value === "List") {
      const items = at(root, "items");
      if (items && items.kind !== "seq") throw new InputError("items of a List must be a list", items.start);
      if (!items) return;
      for (let i = 0; i < items.items.length; i++) this.item(items.items[i].node, i, mode, cfg);
      return;
    }
    this.one(root, "", mode, cfg);
  }

  /** Injects or uninjects item `i` of a `kind: List`. */
  item(node: Node | null, i: number, mode: "inject" | "uninject", cfg: InjectConfig | undefined): void {
    if (!node || (node.kind === "scalar" && node.value === null)) {
      this.outcome.reports.push({ ...newReport("", ""), unsupportedResource: true }); // Linkerd reports a null item as a document without kind
      return;
    }
    if (node.kind !== "map") throw new InputError(`items[${i}] of the List is not an object`, node.start);
    this.one(node, `items[${i}]`, mode, cfg);
  }

  private one(obj: MapNode, where: string, mode: "inject" | "uninject", cfg: InjectConfig | undefined): void {
    if (mode === "inject") this.inject(obj, where, cfg!);
    else this.uninject(obj, where);
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
    this.stripSpec(pod);
    return removed;
  }

  /** Removes the sidecar containers and volumes from a pod spec. */
  private stripSpec(pod: PodTemplate): void {
    const ed = this.editor;
    ed.seq(pod.spec, "initContainers", STRIP_INIT, `${pod.path}.spec.initContainers`);
    ed.seq(pod.spec, "containers", STRIP_CONTAINERS, `${pod.path}.spec.containers`);
    ed.seq(pod.spec, "volumes", STRIP_VOLUMES, `${pod.path}.spec.volumes`);
  }

  /** Drops linkerd.io metadata from an object (unless it is a control-plane component); true when an annotation went. */
  private stripMeta(holder: MapNode, meta: MapNode | undefined, labels: Record<string, string>): boolean {
    if (!meta || CONTROL_PLANE_COMPONENT_LABEL in labels) return false;
    const annNode = at(meta, "annotations");
    const dropped = !!annNode && annNode.kind === "map" && annNode.entries.some((e) => stripAnnotation(e.key, e.value));
    if (metaHasStrippable(holder)) this.editor.map(holder, "metadata", STRIP_META, "metadata");
    return dropped;
  }

  /** Inject (after a silent uninject), as Linkerd's resourceTransformerInject.transform. */
  inject(obj: MapNode, where: string, cfg: InjectConfig): void {
    const res = describe(obj, where);
    const ed = this.editor;
    const r = newReport(res.lkind, reportName(res));
    this.outcome.reports.push(r);
    const cpMeta = CONTROL_PLANE_COMPONENT_LABEL in res.labels;
    // annotations to set, as [key, value] pairs (small lists: cheaper than objects keyed by these names)
    const pending: Pairs = [];
    if (cfg.enableDebugSidecar) pending.push([A.enableDebugSidecar, "true"]);
    if (cfg.closeWaitTimeout) pending.push([A.closeWaitTimeout, cfg.closeWaitTimeout]);

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
    const containers = without(pod.containers, REMOVED_CONTAINERS);
    const initContainers = without(pod.initContainers, REMOVED_INIT_CONTAINERS);
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
      for (const k in cfg.overrides) put(pending, k, cfg.overrides[k]);
      r.annotated = true;
    }

    const wlStrip = res.lkind !== "pod" && !cpMeta;
    const podStrip = !podCp;
    const tplMetaHolder = res.lkind === "pod" ? res.node : pod.node;
    if (wlStrip && metaHasStrippable(res.node)) ed.map(res.node, "metadata", STRIP_META, "metadata");

    if (!injectable(r)) {
      const errs = injectErrors(r);
      if (errs.length) this.outcome.failures.push(`failed to inject ${r.kind}/${r.name}: ${errs.join(", ")}`);
      this.stripSpec(pod);
      ed.map(tplMetaHolder, "metadata", metaPlan(podStrip, [], []), "metadata");
      return;
    }

    if (cfg.manual) {
      // Linkerd deletes the ingress inject annotation from the shared overrides after the first
      // injectable resource, so only that one keeps `linkerd.io/inject: ingress` (spec §4.2).
      if (INJECT in cfg.overrides) delete cfg.overrides[INJECT];
      put(pending, CREATED_BY, cfg.createdBy);
    } else if (!cfg.values.proxy?.isIngress) put(pending, INJECT, "enabled");

    // The per-pod values: only --manual renders them; in annotation mode they are computed
    // only for the warnings about invalid annotations Linkerd would log. Both are cached per
    // distinct input (see PodValues): a stream of similar workloads renders its sidecar once.
    const overridden = hasOverrides(annotations);
    const pv = cfg.manual || overridden ? podValues(cfg, containers, annotations, overridden) : undefined;
    if (pv) for (const w of pv.warnings) this.outcome.warnings.push(`${r.kind}/${r.name}: ${w}`);
    const bad = pv ? pv.badNetwork : badNetwork(cfg.values.clusterNetworks);
    if (bad !== undefined) {
      this.outcome.failures.push(`cannot parse destination get networks: invalid CIDR address: ${bad}`);
      return;
    }

    const setAnn: Pairs = pending.map((e) => [e[0], e[1]]);
    const setLabels: Pairs = [];
    if (cfg.manual) {
      put(setAnn, PROXY_VERSION, pv!.proxyVersion);
      put(setAnn, TRUST_ROOT_SHA, pv!.trustRootSha);
      setLabels.push([CONTROL_PLANE_NS_LABEL, cfg.namespace]);
      if (WORKLOAD_LABEL[res.lkind]) put(setLabels, WORKLOAD_LABEL[res.lkind], res.name);
      put(setLabels, WORKLOAD_NS_LABEL, res.namespace);
    }
    ed.map(tplMetaHolder, "metadata", metaPlan(podStrip, setAnn, setLabels), "metadata");

    if (res.lkind === "job" || res.lkind === "cronjob") r.jobWithoutShutdown = !handlesShutdown(containers[0]);

    if (!cfg.manual) {
      this.stripSpec(pod);
      return;
    }

    // --manual: the sidecar itself. Linkerd reads two keys of {...annotations, ...setAnn}
    // (setAnn's own keys are never these two: they come from `pending`).
    const cw = get(pending, A.closeWaitTimeout) ?? (overridden ? annotations[A.closeWaitTimeout] : undefined);
    const dbg = get(pending, A.enableDebugSidecar) ?? (overridden ? annotations[A.enableDebugSidecar] : undefined);
    const sc = sidecar(cfg, pv!, containers[0], cw, dbg);
    for (const w of sc.warnings) this.outcome.warnings.push(`${r.kind}/${r.name}: ${w}`);
    ed.seq(pod.spec, "initContainers", sc.initPlan, `${pod.path}.spec.initContainers`);
    ed.seq(pod.spec, "containers", sc.containersPlan, `${pod.path}.spec.containers`, pv!.portsHole ? [INBOUND_PORTS, podInboundPorts(containers)] : undefined);
    ed.seq(pod.spec, "volumes", sc.volumesPlan, `${pod.path}.spec.volumes`);
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
