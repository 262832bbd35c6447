import { MeshError } from "../errors.js";
import type { ClusterApi } from "../kube/cluster.js";
import type { AuthorizationPolicy, HttpRoute, PolicyObjects, Server, ServerAuthorization } from "./authorizations.js";

const P = "/apis/policy.linkerd.io";

/** The namespace's policy resources (the versions Linkerd's CLI reads); an error when the Server CRD is not installed. */
export async function listPolicyObjects(cluster: ClusterApi, ns: string): Promise<PolicyObjects> {
  const e = encodeURIComponent(ns);
  const get = <T>(path: string) => cluster.getJson<{ items?: T[] }>(path);
  const [servers, sazs, policies, routes] = await Promise.all([
    get<Server>(`${P}/v1beta1/namespaces/${e}/servers`),
    get<ServerAuthorization>(`${P}/v1beta1/namespaces/${e}/serverauthorizations`),
    get<AuthorizationPolicy>(`${P}/v1alpha1/namespaces/${e}/authorizationpolicies`),
    get<HttpRoute>(`${P}/v1alpha1/namespaces/${e}/httproutes`),
  ]);
  if (!servers) throw new MeshError("the Linkerd policy CRDs are not installed (no servers.policy.linkerd.io)", "install them: mesh install --crds | kubectl apply -f -");
  return { servers: servers.items ?? [], serverAuthorizations: sazs?.items ?? [], authorizationPolicies: policies?.items ?? [], httpRoutes: routes?.items ?? [] };
}
