// Every entry of mesh's resource table (src/kube/resources.ts) against a real API server's
// discovery (/api/v1, /apis/<group>/<version>), with Linkerd's CRDs applied as a user applies
// them (`mesh install --crds | kubectl apply -f -`) so that their plurals are checked too.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { RESOURCE_TYPES } from "../../src/kube/resources.js";
import { connectTestCluster, KubeRestError, type TestCluster } from "../helpers/cluster.js";
import { runMesh } from "../helpers/run.js";

interface Discovery {
  resources: { name: string; kind: string; namespaced: boolean }[];
}

/**
 * Group versions of the table that a current server does not serve, and why. Each is checked to
 * be absent, so that the list cannot hide an entry the server could have verified.
 */
const NOT_SERVED: Record<string, string> = {
  "batch/v1beta1": "CronJob's beta API, removed in Kubernetes 1.25 (mesh falls back to it on servers before 1.21)",
  "policy/v1beta1": "PodSecurityPolicy, removed in Kubernetes 1.25 (rendered only with enablePSP)",
  "monitoring.coreos.com/v1": "the Prometheus operator's CRDs, not installed on the test cluster (PodMonitor is rendered only with podMonitor.enabled)",
};

let c: TestCluster;
const discovery = new Map<string, Discovery | undefined>();

async function discover(groupVersion: string): Promise<Discovery | undefined> {
  const path = groupVersion.includes("/") ? `/apis/${groupVersion}` : `/api/${groupVersion}`;
  try {
    return await c.api.get<Discovery>(path);
  } catch (e) {
    if (e instanceof KubeRestError && e.status === 404) return undefined;
    throw e;
  }
}

before(async () => {
  c = await connectTestCluster();
  const crds = await runMesh(["install", "--crds", "--ignore-cluster"]);
  assert.equal(crds.code, 0, crds.stderr);
  // Tests sharing the cluster may apply the same CRDs at the same moment: retry that conflict.
  for (let attempt = 1; ; attempt++) {
    const r = await c.kubectl(["apply", "-f", "-"], { stdin: crds.stdout, allowFail: true });
    if (r.code === 0) break;
    if (attempt >= 3 || !/the object has been modified/.test(r.stderr)) throw new Error(`kubectl apply of the CRDs failed: ${r.stderr}`);
  }
  const groupVersions = new Set(RESOURCE_TYPES.flatMap((r) => r.versions.map((v) => (r.group ? `${r.group}/${v}` : v))));
  // A CRD's group version appears in discovery once the CRD is established: wait for it (bounded).
  const deadline = Date.now() + 60_000;
  for (const gv of groupVersions) {
    let d = await discover(gv);
    while (!d && !(gv in NOT_SERVED) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      d = await discover(gv);
    }
    discovery.set(gv, d);
  }
});

for (const r of RESOURCE_TYPES)
  for (const v of r.versions) {
    const gv = r.group ? `${r.group}/${v}` : v;
    test(`${gv} ${r.kind}: the table's plural "${r.resource}" and scope match the API server's discovery`, () => {
      const d = discovery.get(gv);
      if (gv in NOT_SERVED) {
        // Only absent group versions may be listed as not served.
        assert.equal(d, undefined, `${gv} is served after all: drop it from NOT_SERVED so its entries are checked`);
        return;
      }
      assert.ok(d, `the API server does not serve ${gv}`);
      const found = d.resources.filter((x) => x.kind === r.kind && !x.name.includes("/"));
      assert.deepEqual(
        found.map((x) => ({ resource: x.name, namespaced: x.namespaced })),
        [{ resource: r.resource, namespaced: r.namespaced }],
      );
    });
  }
