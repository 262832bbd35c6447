// Installs mesh's Linkerd on the test cluster (for the e2e tests and bench/check.mjs) with the
// pipelines a user runs, verbatim: `mesh install --crds | kubectl apply -f -`, then
// `mesh install | kubectl apply -f -`.
import type { TestCluster } from "../helpers/cluster.js";
import { pipeline } from "../helpers/pipeline.js";

/** Installs the CRDs and a control plane into namespace `cp`; resolves when its pods are ready. */
export async function installLinkerd(c: TestCluster, cp: string): Promise<void> {
  // Tests sharing the cluster may update the same CRDs at the same moment: retry that conflict once.
  const crds = `mesh install --crds -L ${cp} | kubectl apply -f -`;
  const r = await pipeline(c, crds, { allowFail: true });
  if (r.code !== 0 && /the object has been modified/.test(r.stderr)) await pipeline(c, crds);
  else if (r.code !== 0) throw new Error(`${crds}: ${r.stderr}`);
  await pipeline(c, `mesh install -L ${cp} | kubectl apply -f -`);
  await c.waitForPods(cp, "linkerd.io/control-plane-component", { count: 3, timeoutMs: 60_000 });
}

/** Removes what `installLinkerd` created outside its namespace, then the namespace. */
export async function uninstallLinkerd(c: TestCluster, cp: string): Promise<void> {
  for (const path of [
    "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/linkerd-proxy-injector-webhook-config",
    "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/linkerd-sp-validator-webhook-config",
    "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/linkerd-policy-validator-webhook-config",
  ]) {
    const obj = await c.api.find<{ metadata: { labels?: Record<string, string> } }>(path);
    if (obj?.metadata.labels?.["linkerd.io/control-plane-ns"] === cp) await c.api.json("DELETE", path).catch(() => undefined);
  }
  const mine = encodeURIComponent(`linkerd.io/control-plane-ns=${cp}`);
  for (const kind of ["clusterroles", "clusterrolebindings"]) await c.api.json("DELETE", `/apis/rbac.authorization.k8s.io/v1/${kind}?labelSelector=${mine}`).catch(() => undefined);
  await c.deleteNamespace(cp);
}
