/**
 * What `mesh install` reads from the cluster before rendering (spec §2.1 step 3), through the
 * narrow `getJson` view of src/kube. Without `--ignore-cluster` install refuses to run when the
 * cluster cannot be asked.
 */
import { MeshError } from "../errors.js";
import type { Cluster } from "../kube/cluster.js";
import { fetchLinkerdConfigMap } from "../kube/linkerd-config.js";
import type { ExternalIssuer } from "./install.js";
import { isTree, type Tree } from "./values.js";

type Reader = Pick<Cluster, "getJson" | "server">;

const IGNORE_CLUSTER_HINT = "to render the manifests without looking at a cluster, pass --ignore-cluster";

/** Fails unless the cluster answers, and unless no control plane is installed in `namespace`. */
export async function checkNoControlPlane(cluster: Reader, namespace: string): Promise<void> {
  let cm: unknown;
  try {
    cm = await fetchLinkerdConfigMap(cluster, namespace);
  } catch (err) {
    throw new MeshError(`cannot check the cluster for an existing control plane: ${(err as Error).message}`, IGNORE_CLUSTER_HINT, 1, err);
  }
  if (cm !== undefined)
    throw new MeshError(
      `a control plane is already installed in namespace "${namespace}": configmap/linkerd-config exists`,
      "to change it, run `mesh upgrade | kubectl apply -f -`; to render the manifests anyway, pass --ignore-cluster",
    );
}

/** Fails unless every CRD in `crds` exists with its newest version (Linkerd's CheckCustomResourceDefinitions). */
export async function checkCrdsInstalled(cluster: Reader, crds: Tree[], hint = "run `mesh install --crds | kubectl apply -f -` first"): Promise<void> {
  const problems: string[] = [];
  for (const crd of crds) {
    const name = String((crd.metadata as Tree).name);
    const versions = ((crd.spec as Tree).versions as Tree[]) ?? [];
    const want = versions.length ? String(versions[versions.length - 1].name) : undefined;
    const live = await cluster.getJson<{ spec?: { versions?: { name: string }[] } }>(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
    if (!live) problems.push(`${name} is missing`);
    else if (want && !live.spec?.versions?.some((v) => v.name === want)) problems.push(`${name} does not serve ${want}`);
  }
  if (problems.length)
    throw new MeshError(`the Linkerd CRDs are not installed: ${problems.join(", ")}`, hint);
}

/** Fails when a node runs the docker runtime, where proxy-init must run as root. */
export async function checkNodeRuntimes(cluster: Reader): Promise<void> {
  let token = "";
  do {
    const list = await cluster.getJson<{ items?: { metadata?: { name?: string }; status?: { nodeInfo?: { containerRuntimeVersion?: string } } }[]; metadata?: { continue?: string } }>(
      `/api/v1/nodes${token ? `?continue=${encodeURIComponent(token)}` : ""}`,
    );
    const docker = list?.items?.find((n) => n.status?.nodeInfo?.containerRuntimeVersion?.startsWith("docker:"));
    if (docker)
      throw new MeshError(
        `node/${docker.metadata?.name ?? "?"} uses the docker container runtime, where the proxy-init container must run as root`,
        "install with --set proxyInit.runAsRoot=true",
      );
    token = list?.metadata?.continue ?? "";
  } while (token);
}

/** The ports of Service default/kubernetes (each port, then its numeric targetPort), or undefined. */
export async function readKubeApiServerPorts(cluster: Reader): Promise<string | undefined> {
  try {
    const svc = await cluster.getJson<{ spec?: { ports?: { port: number; targetPort?: number | string }[] } }>("/api/v1/namespaces/default/services/kubernetes");
    const ports: string[] = [];
    for (const p of svc?.spec?.ports ?? []) {
      ports.push(String(p.port));
      if (typeof p.targetPort === "number") ports.push(String(p.targetPort));
    }
    return ports.length ? ports.join(",") : undefined;
  } catch {
    // Like Linkerd: without the Service, keep the default ports.
    return undefined;
  }
}

/** Fails unless the cluster serves discovery.k8s.io/v1 EndpointSlices (needed by enableEndpointSlices). */
export async function checkEndpointSlices(cluster: Reader): Promise<void> {
  const hint = "on clusters without discovery.k8s.io/v1 (Kubernetes < 1.21), pass --enable-endpoint-slices=false";
  const group = await cluster.getJson<{ resources?: { kind: string }[] }>("/apis/discovery.k8s.io/v1");
  if (!group?.resources?.some((r) => r.kind === "EndpointSlice")) throw new MeshError("the cluster does not serve discovery.k8s.io/v1 EndpointSlices", hint);
  const slices = await cluster.getJson<{ items?: unknown[] }>("/apis/discovery.k8s.io/v1/endpointslices?limit=1");
  if (!slices?.items?.length) throw new MeshError("the cluster has no EndpointSlices: is its EndpointSlice controller running?", hint);
}

/** The external issuer's secret (`ca.crt`, `tls.crt`, `tls.key`), for --identity-external-issuer. */
export async function readExternalIssuer(cluster: Reader, namespace: string): Promise<ExternalIssuer> {
  const secret = await cluster.getJson<{ data?: Record<string, string> }>(`/api/v1/namespaces/${namespace}/secrets/linkerd-identity-issuer`);
  const hint = "with --identity-external-issuer, create secret linkerd-identity-issuer (type kubernetes.io/tls, with ca.crt, tls.crt and tls.key; e.g. with cert-manager) before installing";
  if (!secret) throw new MeshError(`secret ${namespace}/linkerd-identity-issuer not found`, hint);
  const data = isTree(secret.data) ? secret.data : {};
  const key = (k: string, what: string): string => {
    if (typeof data[k] !== "string") throw new MeshError(`secret ${namespace}/linkerd-identity-issuer has no ${k} (the ${what})`, hint);
    return Buffer.from(data[k], "base64").toString("utf8");
  };
  return { trustAnchorsPem: key("ca.crt", "trust anchors"), issuerCrtPem: key("tls.crt", "issuer certificate"), issuerKeyPem: key("tls.key", "issuer key") };
}
