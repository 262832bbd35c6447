// Installs mesh's Linkerd on the real 1.20 test cluster (for the e2e tests and bench/check.mjs).
import { parseAllDocuments, stringify } from "yaml";
import type { TestCluster } from "../helpers/cluster.js";
import { runMesh } from "../helpers/run.js";

/**
 * `mesh install` output made acceptable to Kubernetes 1.20: the batch/v1 CronJob (heartbeat)
 * arrives in 1.21, and 1.20 rejects CRD schema defaults of "" (a bug fixed in 1.21). Neither
 * matters to `mesh check`, which needs the CRDs' names and versions only.
 */
export function for120(yaml: string): string {
  const docs = parseAllDocuments(yaml)
    .map((d) => d.toJS() as Record<string, unknown> | null)
    .filter((o): o is Record<string, unknown> => Boolean(o))
    .filter((o) => o.kind !== "CronJob");
  const strip = (x: unknown): void => {
    if (Array.isArray(x)) x.forEach(strip);
    else if (x && typeof x === "object") {
      const o = x as Record<string, unknown>;
      for (const k of Object.keys(o)) if (k === "default" && o[k] === "") delete o[k];
      else strip(o[k]);
    }
  };
  docs.forEach(strip);
  return docs.map((d) => stringify(d)).join("---\n");
}

/** `mesh install --crds` and `mesh install` into namespace `cp`, applied, control-plane pods ready. */
export async function installLinkerd(c: TestCluster, cp: string): Promise<void> {
  const crds = await runMesh(["install", "--crds", "-L", cp, "--ignore-cluster"], { now: new Date() });
  if (crds.code !== 0) throw new Error(`mesh install --crds: ${crds.stderr}`);
  await c.apply(for120(crds.stdout));
  const cpYaml = await runMesh(["install", "-L", cp, "--enable-endpoint-slices=false", "--ignore-cluster"], { now: new Date() });
  if (cpYaml.code !== 0) throw new Error(`mesh install: ${cpYaml.stderr}`);
  await c.apply(for120(cpYaml.stdout));
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
