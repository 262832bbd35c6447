// The ServiceProfile CRD for viz tests that need ServiceProfiles but no control plane.
import assert from "node:assert/strict";
import type { TestCluster } from "../helpers/cluster.js";
import { runMesh } from "../helpers/run.js";

export const SP_CRD = "serviceprofiles.linkerd.io";

/**
 * Applies the ServiceProfile CRD as `mesh install --crds` renders it, unless the cluster has it
 * already; resolves with a function that removes it again if it was created here.
 */
export async function ensureServiceProfileCrd(c: TestCluster): Promise<() => Promise<void>> {
  const have = await c.kubectl(["get", "crd", SP_CRD], { allowFail: true });
  if (have.code === 0) return async () => undefined;
  const crds = await runMesh(["install", "--crds", "--ignore-cluster", "-o", "json"]);
  assert.equal(crds.code, 0, crds.stderr);
  const sp = (JSON.parse(crds.stdout).items as { metadata: { name: string } }[]).find((o) => o.metadata.name === SP_CRD);
  assert.ok(sp, "mesh install --crds renders the ServiceProfile CRD");
  await c.kubectl(["apply", "-f", "-"], { stdin: JSON.stringify(sp) });
  await c.kubectl(["wait", "--for=condition=Established", `crd/${SP_CRD}`, "--timeout=30s"]);
  return async () => void (await c.kubectl(["delete", "crd", SP_CRD, "--ignore-not-found", "--wait=false"], { allowFail: true }));
}
