import { clusterApi, type Cluster } from "../kube/cluster.js";
import { CONTROL_PLANE_NS_LABEL } from "../checks/pods.js";
import { computeProxyVersions, formatProxyVersions, type ProxyVersionGroup } from "../version/proxy-versions.js";

/** `version --proxy`'s cluster part: the pods meshed by control plane `cp` in `namespace` ("" = all), grouped by proxy version. */
export async function listProxyVersions(c: Cluster, cp: string, namespace: string, server: string | undefined): Promise<{ groups: ProxyVersionGroup[]; text: string }> {
  const pods = await clusterApi(c).listPods(namespace, `${CONTROL_PLANE_NS_LABEL}=${cp}`);
  const groups = computeProxyVersions(pods, server);
  return { groups, text: formatProxyVersions(groups, server) };
}
