/**
 * What analyzers ask about the world, whether it came from files, the cluster, or files laid
 * over the cluster (as if applied): objects by kind and name, the pods a selector selects, the
 * ports of a Service, whether a namespace or service account exists. Analyzers never care where
 * an object came from.
 */
import { matchesSelector, type Requirement } from "../kube/selector.js";
import { selectorRequirements, type FullSelector } from "../policy/authorizations.js";
import { POD_TEMPLATE_PATH } from "../inject/resource.js";
import { list, obj, path, str, strMap, type JsObj, type Obj } from "./model.js";

export interface Settings {
  clusterDomain: string;
  trustDomain: string;
  /** The cluster-wide default inbound policy (linkerd-config's proxy.defaultInboundPolicy). */
  defaultInboundPolicy: string;
  controlPlaneNamespace: string;
  now: Date;
}

export const DEFAULT_SETTINGS: Omit<Settings, "now"> = {
  clusterDomain: "cluster.local",
  trustDomain: "cluster.local",
  defaultInboundPolicy: "all-unauthenticated",
  controlPlaneNamespace: "linkerd",
};

/** A pod, or a workload's pod template standing for the pods it will make. */
export interface PodLike {
  /** The Pod or the workload holding the template. */
  owner: Obj;
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  spec: JsObj;
  /** Path of the pod template in the owner (`[]` for a Pod). */
  at: string[];
}

export interface ContainerPort {
  name: string;
  port: number;
  protocol: string;
}

const WORKLOAD_KINDS = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob"]);

export class World {
  private readonly byKey = new Map<string, Obj>();
  private readonly byKind = new Map<string, Obj[]>();
  private podCache?: Map<string, PodLike[]>;
  /** Objects findings are reported for (the files in overlay mode; everything otherwise). */
  readonly subjects: Obj[];

  constructor(
    objects: Obj[],
    readonly settings: Settings,
    /** Namespaces whose objects are all known (undefined: every namespace). */
    readonly scope: Set<string> | undefined,
    /** Cluster pods (not templates); undefined offline. */
    private readonly clusterPods: Obj[] | undefined,
    /** Only file objects get findings (files laid over the cluster). */
    readonly overlay: boolean,
  ) {
    // later objects win: the command passes cluster objects first, then files
    for (const o of objects) this.byKey.set(key(o.group, o.kind, o.namespace, o.name), o);
    for (const o of this.byKey.values()) {
      let l = this.byKind.get(o.kind);
      if (!l) this.byKind.set(o.kind, (l = []));
      l.push(o);
    }
    this.subjects = overlay ? [...this.byKey.values()].filter((o) => o.src) : [...this.byKey.values()];
  }

  /** Findings are reported about this object. */
  isSubject(o: Obj): boolean {
    return !this.overlay || o.src !== undefined;
  }

  get offline(): boolean {
    return this.clusterPods === undefined;
  }

  /** Do we know every object of this namespace? (false for namespaces outside a -n scope) */
  knows(ns: string): boolean {
    return !this.scope || this.scope.has(ns);
  }

  all(kind: string, group?: string): Obj[] {
    const l = this.byKind.get(kind) ?? [];
    return group === undefined ? l : l.filter((o) => o.group === group);
  }

  get(group: string, kind: string, ns: string, name: string): Obj | undefined {
    return this.byKey.get(key(group, kind, ns, name));
  }

  service(ns: string, name: string): Obj | undefined {
    return this.get("", "Service", ns, name);
  }

  /** Does the namespace exist? Undefined when nothing says (offline, without Namespace objects). */
  namespaceExists(ns: string): boolean | undefined {
    if (this.get("", "Namespace", "", ns)) return true;
    if (!this.knows(ns)) return undefined;
    if (!this.offline) return false;
    // offline: the files are the world only when they declare namespaces at all
    if (this.all("Namespace").length === 0) return undefined;
    return [...this.byKey.values()].some((o) => o.namespace === ns) ? undefined : false;
  }

  /** Does the service account exist? Undefined when it cannot be told (offline without ServiceAccounts there, or outside the scope). */
  serviceAccountExists(ns: string, name: string): boolean | undefined {
    if (this.get("", "ServiceAccount", ns, name)) return true;
    if (!this.knows(ns)) return undefined;
    // every namespace has "default"; a pod naming an account shows it is meant to exist
    if (name === "default" && (this.offline || this.namespaceExists(ns) !== false)) return true;
    if (this.podsIn(ns).some((p) => serviceAccountOf(p) === name)) return true;
    if (this.offline && !this.all("ServiceAccount").some((s) => s.namespace === ns)) return undefined;
    return false;
  }

  /** The pods of a namespace: the cluster's (less those of workloads the files replace) and the files' pod templates. */
  podsIn(ns: string): PodLike[] {
    if (!this.podCache) {
      this.podCache = new Map();
      const add = (p: PodLike) => {
        let l = this.podCache!.get(p.namespace);
        if (!l) this.podCache!.set(p.namespace, (l = []));
        l.push(p);
      };
      for (const o of this.byKey.values()) {
        if (o.kind === "Pod" && (o.src || !this.clusterPods)) add(podLike(o, []));
        else if (WORKLOAD_KINDS.has(o.kind) && (o.src || !this.clusterPods)) {
          const at = POD_TEMPLATE_PATH[o.kind.toLowerCase()];
          const tpl = obj(path(o.value, ...at));
          if (tpl && obj(tpl.spec)) add(podLike(o, at, tpl));
        }
      }
      for (const p of this.clusterPods ?? []) {
        if (this.get("", "Pod", p.namespace, p.name)?.src) continue;
        const owner = ownerWorkload(p);
        if (owner && this.get("apps", owner.kind, p.namespace, owner.name)?.src) continue;
        if (owner && owner.kind === "Job" && this.get("batch", "Job", p.namespace, owner.name)?.src) continue;
        if (str(path(p.value, "status", "phase")) === "Succeeded" || str(path(p.value, "status", "phase")) === "Failed") continue;
        add(podLike(p, []));
      }
    }
    return this.podCache.get(ns) ?? [];
  }

  /** Pods of `ns` a metav1.LabelSelector selects; undefined when the selector is invalid. */
  selectPods(ns: string, selector: FullSelector | undefined): PodLike[] | undefined {
    if (!selector) return [];
    const reqs = selectorRequirements(selector);
    if (!reqs) return undefined;
    return this.podsIn(ns).filter((p) => matchesSelector(p.labels, reqs));
  }

  /** Pods of `ns` a Service's `spec.selector` (a plain map) selects. */
  servicePods(svc: Obj): PodLike[] {
    const sel = strMap(path(svc.value, "spec", "selector"));
    if (!Object.keys(sel).length) return [];
    const reqs: Requirement[] = Object.entries(sel).map(([k, v]) => ({ key: k, op: "=", value: v }));
    return this.podsIn(svc.namespace).filter((p) => matchesSelector(p.labels, reqs));
  }

  /** The namespace's annotations (for the config annotations pods inherit). */
  namespaceAnnotations(ns: string): Record<string, string> {
    const n = this.get("", "Namespace", "", ns);
    return n ? strMap(path(n.value, "metadata", "annotations")) : {};
  }
}

const key = (group: string, kind: string, ns: string, name: string) => `${group}\0${kind}\0${ns}\0${name}`;

function podLike(owner: Obj, at: string[], tpl: JsObj = owner.value): PodLike {
  return {
    owner,
    namespace: owner.namespace,
    labels: strMap(path(tpl, "metadata", "labels")),
    annotations: strMap(path(tpl, "metadata", "annotations")),
    spec: obj(tpl.spec) ?? {},
    at,
  };
}

export const serviceAccountOf = (p: PodLike): string => str(p.spec.serviceAccountName) || str(p.spec.serviceAccount) || "default";

/** The workload that owns a cluster pod (a Deployment through its ReplicaSet's name). */
export function ownerWorkload(pod: Obj): { kind: string; name: string } | undefined {
  const ref = obj(list(path(pod.value, "metadata", "ownerReferences"))[0]);
  if (!ref) return undefined;
  const kind = str(ref.kind);
  const name = str(ref.name);
  if (kind === "ReplicaSet") {
    const hash = str(path(pod.value, "metadata", "labels", "pod-template-hash"));
    return hash && name.endsWith(`-${hash}`) ? { kind: "Deployment", name: name.slice(0, -hash.length - 1) } : { kind, name };
  }
  return { kind, name };
}

const portsCache = new WeakMap<PodLike, ContainerPort[]>();

/** The containers' declared ports (computed once per pod). */
export function containerPorts(p: PodLike): ContainerPort[] {
  const cached = portsCache.get(p);
  if (cached) return cached;
  const out: ContainerPort[] = [];
  portsCache.set(p, out);
  for (const c of list(p.spec.containers)) {
    for (const port of list(obj(c)?.ports)) {
      const po = obj(port);
      if (!po || typeof po.containerPort !== "number") continue;
      out.push({ name: str(po.name), port: po.containerPort, protocol: str(po.protocol) || "TCP" });
    }
  }
  return out;
}

/** A Service's ports: port number, name and target (number or name). */
export function servicePorts(svc: Obj): { port: number; name: string; targetPort: number | string }[] {
  return list(path(svc.value, "spec", "ports")).flatMap((p) => {
    const po = obj(p);
    if (!po || typeof po.port !== "number") return [];
    const t = po.targetPort;
    return [{ port: po.port, name: str(po.name), targetPort: typeof t === "number" || typeof t === "string" ? t : po.port }];
  });
}

export { WORKLOAD_KINDS };
