/**
 * The objects of an installed control plane, found by the label `mesh install` (like Linkerd)
 * puts on them: `linkerd.io/control-plane-ns: <ns>`. Used by `mesh uninstall` (all of them, in
 * an order `kubectl delete -f -` can follow) and `mesh prune` (those the current release would
 * not render). Pure: the listing is done by the caller with `listPath`.
 */
import type { KubeObject } from "../kube/types.js";

export const CONTROL_PLANE_NS_LABEL = "linkerd.io/control-plane-ns";
/** Extensions (viz, jaeger, multicluster) label their namespaces with this. */
export const EXTENSION_LABEL = "linkerd.io/extension";

/** A kind mesh's install (or Linkerd's) may create, and where it lives. */
export interface InventoryKind {
  apiVersion: string;
  kind: string;
  /** Plural resource name. */
  resource: string;
  namespaced: boolean;
}

const k = (apiVersion: string, kind: string, resource: string, namespaced: boolean): InventoryKind => ({ apiVersion, kind, resource, namespaced });

/**
 * Every kind, in deletion order: webhooks first (the API server must stop calling them before
 * their servers go), then the workloads and what they use, cluster RBAC, the namespace, and the
 * CRDs last (deleting a CRD deletes every resource of it). Objects owned by another object
 * (ReplicaSets, Pods, Jobs of the CronJob, EndpointSlices) are left to the garbage collector.
 */
export const INVENTORY_KINDS: InventoryKind[] = [
  k("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations", false),
  k("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations", false),
  k("apiregistration.k8s.io/v1", "APIService", "apiservices", false),
  k("apps/v1", "Deployment", "deployments", true),
  k("apps/v1", "DaemonSet", "daemonsets", true),
  k("apps/v1", "StatefulSet", "statefulsets", true),
  k("batch/v1", "CronJob", "cronjobs", true),
  k("batch/v1", "Job", "jobs", true),
  k("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", true),
  k("monitoring.coreos.com/v1", "PodMonitor", "podmonitors", true),
  k("v1", "Service", "services", true),
  k("v1", "ConfigMap", "configmaps", true),
  k("v1", "Secret", "secrets", true),
  k("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", true),
  k("rbac.authorization.k8s.io/v1", "Role", "roles", true),
  k("v1", "ServiceAccount", "serviceaccounts", true),
  k("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", false),
  k("rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", false),
  k("policy/v1beta1", "PodSecurityPolicy", "podsecuritypolicies", false),
  k("v1", "Namespace", "namespaces", false),
  k("apiextensions.k8s.io/v1", "CustomResourceDefinition", "customresourcedefinitions", false),
];

/** The list path of a kind, with a label selector (namespaced kinds: in `namespace`). */
export function listPath(kind: InventoryKind, selector: string, namespace?: string): string {
  const base = kind.apiVersion.includes("/") ? `/apis/${kind.apiVersion}` : `/api/${kind.apiVersion}`;
  const ns = kind.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  return `${base}${ns}/${kind.resource}?labelSelector=${encodeURIComponent(selector)}`;
}

/** `group/Kind namespace/name`: what identifies an object across versions (as Linkerd's prune compares). */
export function objectKey(o: { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string } }): string {
  const av = o.apiVersion ?? "";
  const group = av.includes("/") ? av.slice(0, av.lastIndexOf("/")) : "";
  return `${group}/${o.kind ?? ""} ${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;
}

/** What `kubectl delete -f -` needs of an object: its type and name. */
export function deletionStub(kind: InventoryKind, o: KubeObject): KubeObject {
  const metadata: KubeObject["metadata"] = { name: o.metadata.name };
  if (kind.namespaced && o.metadata.namespace) metadata.namespace = o.metadata.namespace;
  return { apiVersion: kind.apiVersion, kind: kind.kind, metadata };
}

/** Objects kept out of both lists: owned ones (the garbage collector's) and an extension's. */
export function isInventoried(o: KubeObject): boolean {
  const owned = ((o.metadata as { ownerReferences?: unknown[] }).ownerReferences ?? []).length > 0;
  return !owned && !(o.metadata.labels && EXTENSION_LABEL in o.metadata.labels);
}

/** A CRD's served version to list its resources with: the storage version, else the last served. */
export function crdListPath(crd: { spec?: { group?: string; names?: { plural?: string }; scope?: string; versions?: { name: string; served?: boolean; storage?: boolean }[] } }): string | undefined {
  const versions = crd.spec?.versions ?? [];
  const v = versions.find((x) => x.storage && x.served !== false) ?? [...versions].reverse().find((x) => x.served !== false);
  if (!v || !crd.spec?.group || !crd.spec.names?.plural) return undefined;
  return `/apis/${crd.spec.group}/${v.name}/${crd.spec.names.plural}`;
}

/** Names at most `max` things, then how many more. */
export function nameSome(names: string[], max = 10): string {
  return names.length > max ? `${names.slice(0, max).join(", ")} and ${names.length - max} more` : names.join(", ");
}
