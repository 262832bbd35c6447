/**
 * The cluster's side of `mesh analyze --cluster`: one list request per resource type (never one per
 * object), all at once, in one namespace or all of them. A type whose CRD is not installed is
 * simply absent. Linkerd's settings (cluster domain, trust domain, default policy) come from
 * linkerd-config.
 */
import type { ClusterApi, ConfigMap } from "../kube/cluster.js";
import { loadYaml, parseYamlSafe } from "../yaml-lib.js";
import { obj, path, str, type JsObj, type Obj } from "./model.js";
import { DEFAULT_SETTINGS, type Settings } from "./context.js";

interface Resource {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

const r = (group: string, version: string, kind: string, plural: string, namespaced = true): Resource => ({ group, version, kind, plural, namespaced });

/** What analyze reads: Kubernetes' workloads and networking, and Linkerd's custom resources (the versions 2.14 stores). */
export const RESOURCES: readonly Resource[] = [
  r("", "v1", "Service", "services"),
  r("", "v1", "Pod", "pods"),
  r("", "v1", "ServiceAccount", "serviceaccounts"),
  r("apps", "v1", "Deployment", "deployments"),
  r("apps", "v1", "StatefulSet", "statefulsets"),
  r("apps", "v1", "DaemonSet", "daemonsets"),
  r("batch", "v1", "Job", "jobs"),
  r("batch", "v1", "CronJob", "cronjobs"),
  r("linkerd.io", "v1alpha2", "ServiceProfile", "serviceprofiles"),
  r("policy.linkerd.io", "v1beta1", "Server", "servers"),
  r("policy.linkerd.io", "v1beta1", "ServerAuthorization", "serverauthorizations"),
  r("policy.linkerd.io", "v1alpha1", "AuthorizationPolicy", "authorizationpolicies"),
  r("policy.linkerd.io", "v1alpha1", "MeshTLSAuthentication", "meshtlsauthentications"),
  r("policy.linkerd.io", "v1alpha1", "NetworkAuthentication", "networkauthentications"),
  r("policy.linkerd.io", "v1beta3", "HTTPRoute", "httproutes"),
  r("gateway.networking.k8s.io", "v1beta1", "HTTPRoute", "httproutes"),
];

export interface ClusterState {
  objects: Obj[];
  pods: Obj[];
  /** linkerd-config, when a control plane is installed in the -L namespace. */
  linkerdConfig?: ConfigMap;
  settings: Omit<Settings, "now">;
}

function collectionPath(res: Resource, ns: string | undefined): string {
  const base = res.group ? `/apis/${res.group}/${res.version}` : `/api/${res.version}`;
  return ns && res.namespaced ? `${base}/namespaces/${encodeURIComponent(ns)}/${res.plural}` : `${base}/${res.plural}`;
}

/**
 * Lists another reader already has (mesh check's memoised reads), by `<plural>.<group>` (`pods`,
 * `serviceprofiles.linkerd.io`, `namespaces`), and linkerd-config: used instead of asking again.
 * Items are the API's own objects; undefined means the type is not served.
 */
export interface SharedReads {
  lists?: Record<string, () => Promise<unknown[] | undefined>>;
  linkerdConfig?: () => Promise<ConfigMap | undefined>;
}

/** Reads the cluster's state: `ns` undefined for every namespace. */
export async function readCluster(cluster: ClusterApi, ns: string | undefined, controlPlaneNamespace: string, shared: SharedReads = {}): Promise<ClusterState> {
  const list = (res: Resource, path: string): Promise<JsObj[]> => {
    const mine = shared.lists?.[res.group ? `${res.plural}.${res.group}` : res.plural];
    if (mine) return mine().then((items) => (items ?? []) as JsObj[]);
    return cluster.getJson<{ items?: JsObj[] }>(path).then((b) => b?.items ?? []);
  };
  const lists = RESOURCES.map(async (res) => (await list(res, collectionPath(res, ns))).map((item) => toObj(item, res)));
  const nsRes = r("", "v1", "Namespace", "namespaces", false);
  const namespaces = ns
    ? cluster.getJson<JsObj>(`/api/v1/namespaces/${encodeURIComponent(ns)}`).then((n) => (n ? [n] : []))
    : list(nsRes, "/api/v1/namespaces");
  const config = shared.linkerdConfig ? shared.linkerdConfig() : cluster.getJson<ConfigMap>(`/api/v1/namespaces/${encodeURIComponent(controlPlaneNamespace)}/configmaps/linkerd-config`);
  const [all, nsItems, cm] = await Promise.all([Promise.all(lists), namespaces, config]);
  // What is being deleted (an object, or everything in a terminating namespace) is going away:
  // its mistakes are no longer the user's to fix.
  const deleting = (o: Obj) => Boolean(obj(o.value.metadata)?.deletionTimestamp);
  const namespaceObjs = nsItems.map((n) => toObj(n, nsRes));
  const terminating = new Set(namespaceObjs.filter(deleting).map((n) => n.name));
  const objects = [...namespaceObjs, ...all.flat()].filter((o) => !deleting(o) && !terminating.has(o.namespace));
  const settings = { ...DEFAULT_SETTINGS, controlPlaneNamespace };
  if (cm) {
    const v = (await linkerdValues(cm)) ?? {};
    settings.clusterDomain = str(v.clusterDomain) || settings.clusterDomain;
    settings.trustDomain = str(v.identityTrustDomain) || settings.trustDomain;
    settings.defaultInboundPolicy = str(path(v, "proxy", "defaultInboundPolicy")) || settings.defaultInboundPolicy;
  }
  return { objects, pods: objects.filter((o) => o.kind === "Pod"), linkerdConfig: cm, settings };
}

function toObj(item: JsObj, res: Resource): Obj {
  const meta = obj(item.metadata) ?? {};
  const apiVersion = res.group ? `${res.group}/${res.version}` : res.version;
  // a list's items carry no apiVersion and kind: put them back, as a manifest has them
  return { kind: res.kind, apiVersion, group: res.group, name: str(meta.name), namespace: res.namespaced ? str(meta.namespace) : "", value: { apiVersion, kind: res.kind, ...item } };
}

/** linkerd-config's `values` as a tree; undefined when absent or not YAML (mesh check reports a broken linkerd-config; analyze keeps its defaults). */
export async function linkerdValues(cm: ConfigMap): Promise<JsObj | undefined> {
  const text = cm.data?.values;
  if (typeof text !== "string" || !text.trim()) return undefined;
  try {
    return obj(parseYamlSafe(text, {}, await loadYaml())[0] as never);
  } catch {
    return undefined;
  }
}
