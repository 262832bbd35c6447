import type { ClusterApi } from "../kube/cluster.js";
import type { KubeObject, LabelSelector, Pod, Service } from "../kube/types.js";
import { MeshError } from "../errors.js";
import type { ResourceRef, ResourceType } from "./resources.js";

/**
 * The objects named by resource arguments and their pods, as Linkerd's metrics API finds them
 * (B2.3): objects listed from the API (`-l` applies to them), pods by label selector and owner
 * UID, only pending or running pods that are not terminating.
 */
export interface Target {
  ref: ResourceRef;
  /** The object (absent for authorities, which are not API objects). */
  object?: KubeObject;
  pods: Pod[];
}

/** The label that marks a pod meshed by the control plane in namespace `cp`. */
export const CONTROL_PLANE_NS_LABEL = "linkerd.io/control-plane-ns";

export function isMeshed(pod: Pod, controlPlaneNamespace: string): boolean {
  return pod.metadata.labels?.[CONTROL_PLANE_NS_LABEL] === controlPlaneNamespace;
}

/** Pending or running, and not being deleted. */
export function isLivePod(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return (phase === "Pending" || phase === "Running") && !pod.metadata.deletionTimestamp;
}

function matchLabels(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector)) if (l[k] !== v) return false;
  return true;
}

function ownedBy(o: KubeObject, uid: string | undefined): boolean {
  return uid !== undefined && (o.metadata.ownerReferences ?? []).some((r) => r.uid === uid);
}

const selectorOf = (o: KubeObject): Record<string, string> | undefined => ((o as { spec?: { selector?: LabelSelector } }).spec?.selector?.matchLabels);

/**
 * Pods are listed in pages of this many: a page's answer (some 6 KB of JSON a pod) is parsed and
 * reduced to what mesh reads (see kube/project.ts) before the next is read, so that listing every
 * pod of a big cluster never holds the whole answer and its parse at once.
 */
export const POD_PAGE_SIZE = 100;

type Lister = (cluster: ClusterApi, namespace: string | undefined, selector: string | undefined) => Promise<KubeObject[]>;

const LISTERS: Partial<Record<ResourceType, Lister>> = {
  deployment: (c, ns, sel) => c.listDeployments(ns, sel),
  statefulset: (c, ns, sel) => c.listStatefulSets(ns, sel),
  daemonset: (c, ns, sel) => c.listDaemonSets(ns, sel),
  replicaset: (c, ns, sel) => c.listReplicaSetsIn(ns, sel),
  job: (c, ns, sel) => c.listJobs(ns, sel),
  cronjob: (c, ns, sel) => c.listCronJobs(ns, sel),
  replicationcontroller: (c, ns, sel) => c.listReplicationControllers(ns, sel),
  pod: (c, ns, sel) => c.listPods(ns, sel, { pageSize: POD_PAGE_SIZE }),
  service: (c, ns, sel) => c.listServices(ns, sel),
  namespace: (c, _ns, sel) => c.listNamespaces(sel),
};

/** Resource types that are API objects owning pods or selecting them, which resolveTargets handles. */
export const OBJECT_TYPES = Object.keys(LISTERS) as ResourceType[];

/**
 * Resolves resource arguments to objects and their live pods. Authorities resolve to one target
 * holding every live pod of the namespace (all namespaces with `allNamespaces`): the pods whose
 * inbound traffic may carry that authority. A named object that does not exist is an error.
 */
export async function resolveTargets(cluster: ClusterApi, refs: ResourceRef[], opts: { selector?: string; allNamespaces?: boolean }): Promise<Target[]> {
  const memo = new Map<string, Promise<unknown[]>>();
  const once = <T>(key: string, f: () => Promise<T[]>): Promise<T[]> => {
    let p = memo.get(key);
    if (!p) memo.set(key, (p = f()));
    return p as Promise<T[]>;
  };
  const nsOf = (ref: ResourceRef) => (opts.allNamespaces ? undefined : ref.namespace || undefined);
  const pods = (ns: string | undefined) => once<Pod>(`pods/${ns ?? ""}`, () => cluster.listPods(ns ?? "", undefined, { pageSize: POD_PAGE_SIZE })).then((all) => all.filter(isLivePod));
  const list = (type: ResourceType, ns: string | undefined, selector: string | undefined) =>
    once<KubeObject>(`${type}/${ns ?? ""}/${selector ?? ""}`, () => LISTERS[type]!(cluster, type === "namespace" ? undefined : ns ?? "", selector));
  // The pods (and ReplicaSets, Jobs) of one object's namespace. With -A, one cluster-wide list serves
  // every namespace instead of one list per namespace, one after the other (41 requests for 100
  // Deployments in 20 namespaces, 3 now).
  const grouped = new Map<string, Promise<Map<string, KubeObject[]>>>();
  const byNamespace = <T extends KubeObject>(key: string, all: () => Promise<T[]>, ns: string | undefined): Promise<T[]> => {
    let g = grouped.get(key);
    if (!g) {
      g = all().then((items) => {
        const m = new Map<string, KubeObject[]>();
        for (const o of items) {
          const k = o.metadata.namespace ?? "";
          const l = m.get(k);
          if (l) l.push(o);
          else m.set(k, [o]);
        }
        return m;
      });
      grouped.set(key, g);
    }
    return g.then((m) => (m.get(ns ?? "") ?? []) as T[]);
  };
  const podsIn = (ns: string | undefined) => (opts.allNamespaces ? byNamespace("pods", () => pods(undefined), ns) : pods(ns));
  const listIn = (type: ResourceType, ns: string | undefined) => (opts.allNamespaces ? byNamespace(type, () => list(type, undefined, undefined), ns) : list(type, ns, undefined));

  const out: Target[] = [];
  for (const ref of refs) {
    if (ref.type === "authority") {
      out.push({ ref, pods: await pods(nsOf(ref)) });
      continue;
    }
    if (!LISTERS[ref.type]) throw new MeshError(`resource type ${ref.type} is not supported here`, "use deploy, sts, ds, rs, rc, job, cj, po, ns, svc or au", 2);
    const ns = ref.type === "namespace" ? undefined : nsOf(ref);
    let objects = await list(ref.type, ns, opts.selector);
    if (ref.name !== undefined) {
      objects = objects.filter((o) => o.metadata.name === ref.name);
      if (objects.length === 0) {
        const where = ref.type === "namespace" ? "" : opts.allNamespaces ? " in any namespace" : ` in namespace "${ref.namespace}"`;
        throw new MeshError(`${ref.type} "${ref.name}" not found${where}${opts.selector ? ` (with selector "${opts.selector}")` : ""}`, "check the name and the namespace (-n)");
      }
    }
    for (const object of objects) {
      const oNs = object.metadata.namespace;
      out.push({ ref: { type: ref.type, name: object.metadata.name, namespace: ref.type === "namespace" ? "" : (oNs ?? ref.namespace) }, object, pods: await podsOf(ref.type, object) });
    }
  }
  return out;

  async function podsOf(type: ResourceType, o: KubeObject): Promise<Pod[]> {
    const ns = o.metadata.namespace;
    switch (type) {
      case "namespace":
        return podsIn(o.metadata.name);
      case "pod":
        return isLivePod(o as Pod) ? [o as Pod] : [];
      case "service": {
        const spec = (o as Service).spec;
        if (!spec?.selector || Object.keys(spec.selector).length === 0 || spec.type === "ExternalName") return [];
        return (await podsIn(ns)).filter((p) => matchLabels(spec.selector, p.metadata.labels));
      }
      case "deployment": {
        const sel = selectorOf(o);
        const rss = (await listIn("replicaset", ns)).filter((rs) => rs.metadata.namespace === ns && ownedBy(rs, o.metadata.uid) && matchLabels(sel, rs.metadata.labels));
        const all = await podsIn(ns);
        return all.filter((p) => rss.some((rs) => ownedBy(p, rs.metadata.uid) && matchLabels(selectorOf(rs), p.metadata.labels)));
      }
      case "cronjob": {
        const jobs = (await listIn("job", ns)).filter((j) => j.metadata.namespace === ns && ownedBy(j, o.metadata.uid));
        const all = await podsIn(ns);
        return all.filter((p) => jobs.some((j) => ownedBy(p, j.metadata.uid) && matchLabels(selectorOf(j), p.metadata.labels)));
      }
      case "replicationcontroller": {
        const sel = (o as { spec?: { selector?: Record<string, string> } }).spec?.selector;
        return (await podsIn(ns)).filter((p) => ownedBy(p, o.metadata.uid) && matchLabels(sel, p.metadata.labels));
      }
      default: {
        const sel = selectorOf(o);
        return (await podsIn(ns)).filter((p) => ownedBy(p, o.metadata.uid) && matchLabels(sel, p.metadata.labels));
      }
    }
  }
}

/** kubectl's STATUS column for a pod, in short: the reason a container waits or ended, else the phase. */
export function podStatus(pod: Pod): string {
  let reason = pod.status?.reason || pod.status?.phase || "Unknown";
  const init = pod.status?.initContainerStatuses ?? [];
  for (let i = 0; i < init.length; i++) {
    const s = init[i].state;
    if (s?.terminated && s.terminated.exitCode === 0) continue;
    if (s?.terminated) return s.terminated.reason ? `Init:${s.terminated.reason}` : `Init:ExitCode:${s.terminated.exitCode}`;
    if (s?.waiting?.reason && s.waiting.reason !== "PodInitializing") return `Init:${s.waiting.reason}`;
    return `Init:${i}/${init.length}`;
  }
  let running = false;
  for (const c of [...(pod.status?.containerStatuses ?? [])].reverse()) {
    const s = c.state;
    if (s?.waiting?.reason) reason = s.waiting.reason;
    else if (s?.terminated) reason = s.terminated.reason || (s.terminated.signal ? `Signal:${s.terminated.signal}` : `ExitCode:${s.terminated.exitCode}`);
    else if (s?.running && c.ready) running = true;
  }
  if (reason === "Completed" && running) reason = "Running";
  if (pod.metadata.deletionTimestamp) reason = pod.status?.reason === "NodeLost" ? "Unknown" : "Terminating";
  return reason;
}
