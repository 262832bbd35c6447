import { MeshError } from "../errors.js";
import { sanitize } from "../output/sanitize.js";
import type { KubeObject } from "./types.js";

/**
 * The API resources of every kind mesh sends or renders, as the API server's discovery names
 * them (`test/kube/resources.cluster.test.ts` compares each entry with a real server's
 * discovery). A kind not listed is an error, never a guessed plural (`Endpoints` is not
 * `endpointses`).
 */
export interface ResourceType {
  /** The API group; "" for the core group (`/api/v1`). */
  group: string;
  /** The versions of the group that serve this kind, as mesh uses them. */
  versions: readonly string[];
  kind: string;
  /** The plural resource name in paths. */
  resource: string;
  namespaced: boolean;
}

const t = (group: string, versions: string[], kind: string, resource: string, namespaced: boolean): ResourceType => ({ group, versions, kind, resource, namespaced });

export const RESOURCE_TYPES: readonly ResourceType[] = [
  t("", ["v1"], "ConfigMap", "configmaps", true),
  t("", ["v1"], "Endpoints", "endpoints", true),
  t("", ["v1"], "Event", "events", true),
  t("", ["v1"], "Namespace", "namespaces", false),
  t("", ["v1"], "Node", "nodes", false),
  t("", ["v1"], "Pod", "pods", true),
  t("", ["v1"], "ReplicationController", "replicationcontrollers", true),
  t("", ["v1"], "Secret", "secrets", true),
  t("", ["v1"], "Service", "services", true),
  t("", ["v1"], "ServiceAccount", "serviceaccounts", true),
  t("admissionregistration.k8s.io", ["v1"], "MutatingWebhookConfiguration", "mutatingwebhookconfigurations", false),
  t("admissionregistration.k8s.io", ["v1"], "ValidatingWebhookConfiguration", "validatingwebhookconfigurations", false),
  t("apiextensions.k8s.io", ["v1"], "CustomResourceDefinition", "customresourcedefinitions", false),
  t("apiregistration.k8s.io", ["v1"], "APIService", "apiservices", false),
  t("apps", ["v1"], "DaemonSet", "daemonsets", true),
  t("apps", ["v1"], "Deployment", "deployments", true),
  t("apps", ["v1"], "ReplicaSet", "replicasets", true),
  t("apps", ["v1"], "StatefulSet", "statefulsets", true),
  t("authorization.k8s.io", ["v1"], "SelfSubjectAccessReview", "selfsubjectaccessreviews", false),
  t("batch", ["v1"], "Job", "jobs", true),
  // batch/v1beta1 is the CronJob of servers before 1.21 (removed in 1.25).
  t("batch", ["v1", "v1beta1"], "CronJob", "cronjobs", true),
  t("policy", ["v1"], "PodDisruptionBudget", "poddisruptionbudgets", true),
  // Rendered with `enablePSP` only; served by servers before 1.25.
  t("policy", ["v1beta1"], "PodSecurityPolicy", "podsecuritypolicies", false),
  t("rbac.authorization.k8s.io", ["v1"], "ClusterRole", "clusterroles", false),
  t("rbac.authorization.k8s.io", ["v1"], "ClusterRoleBinding", "clusterrolebindings", false),
  t("rbac.authorization.k8s.io", ["v1"], "Role", "roles", true),
  t("rbac.authorization.k8s.io", ["v1"], "RoleBinding", "rolebindings", true),
  // Rendered with `podMonitor.enabled`; served once the Prometheus operator's CRDs are installed.
  t("monitoring.coreos.com", ["v1"], "PodMonitor", "podmonitors", true),
  // Linkerd's CRDs (templates/crds/), every version they serve.
  t("linkerd.io", ["v1alpha1", "v1alpha2"], "ServiceProfile", "serviceprofiles", true),
  t("policy.linkerd.io", ["v1alpha1"], "AuthorizationPolicy", "authorizationpolicies", true),
  t("policy.linkerd.io", ["v1alpha1", "v1beta1", "v1beta2", "v1beta3"], "HTTPRoute", "httproutes", true),
  t("policy.linkerd.io", ["v1alpha1"], "MeshTLSAuthentication", "meshtlsauthentications", true),
  t("policy.linkerd.io", ["v1alpha1"], "NetworkAuthentication", "networkauthentications", true),
  t("policy.linkerd.io", ["v1alpha1", "v1beta1"], "Server", "servers", true),
  t("policy.linkerd.io", ["v1alpha1", "v1beta1"], "ServerAuthorization", "serverauthorizations", true),
  t("gateway.networking.k8s.io", ["v1beta1"], "HTTPRoute", "httproutes", true),
];

/** The resource type of an apiVersion (`v1`, `apps/v1`) and kind; a kind mesh does not know is a MeshError. */
export function resourceType(apiVersion: string, kind: string): ResourceType {
  const slash = apiVersion.lastIndexOf("/");
  const group = slash < 0 ? "" : apiVersion.slice(0, slash);
  const version = apiVersion.slice(slash + 1);
  const found = RESOURCE_TYPES.find((r) => r.group === group && r.kind === kind && r.versions.includes(version));
  if (!found)
    throw new MeshError(
      `mesh does not know the API resource of kind "${sanitize(kind, 80)}" in ${sanitize(apiVersion || '""', 80)}`,
      "mesh sends only kinds from its resource table (src/kube/resources.ts), and this one is missing: please report it",
    );
  return found;
}

/**
 * The collection path of an object (`/apis/apps/v1/namespaces/web/deployments`), from the table:
 * a namespaced kind needs `metadata.namespace`; a cluster-scoped kind ignores it, as kubectl does.
 */
export function resourcePath(obj: KubeObject): string {
  const apiVersion = obj.apiVersion ?? "v1";
  const type = resourceType(apiVersion, obj.kind ?? "");
  const base = type.group ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  if (!type.namespaced) return `${base}/${type.resource}`;
  const ns = obj.metadata.namespace;
  if (!ns) throw new MeshError(`${obj.kind}/${sanitize(obj.metadata.name ?? "", 80)} has no namespace (metadata.namespace)`, "set the namespace of the object");
  return `${base}/namespaces/${encodeURIComponent(ns)}/${type.resource}`;
}
