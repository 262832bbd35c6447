/**
 * `mesh install` against the real Kubernetes 1.20 API server of the test cluster:
 * - `install --crds` is applied for real, and every CRD must become Established;
 * - every object of `install` and `install --ha` must be accepted by a server-side dry run
 *   (`kubectl apply --dry-run=server`: admission, validation and defaulting run, nothing is
 *   stored, so the fixed-name webhook configurations of other tests are not disturbed);
 * - without --ignore-cluster, install reads the real cluster (CRDs, nodes, Service
 *   default/kubernetes, EndpointSlice API) and refuses to install over linkerd-config.
 *
 * The server is Kubernetes 1.20, older than Linkerd 2.14 supports (1.21), and two of its gaps
 * show. The test, and only the test, works around them and asserts it changed exactly this:
 * - PodDisruptionBudget and CronJob exist there only as v1beta1 (policy/v1 and batch/v1 came
 *   in 1.21): those objects are sent as v1beta1; the fields mesh uses are the same in both.
 * - 1.20 rejects a CRD schema `default: ""` (it reads it as null; fixed in 1.21). Linkerd's own
 *   HTTPRoute CRDs default `backendRef.group` to "": those defaults are removed before applying.
 * Nothing is skipped: every object is sent to the API server.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { parseAllDocuments, stringify } from "yaml";
import { connectTestCluster, testClusterSkipReason, type TestCluster } from "../helpers/cluster.js";
import { connect } from "../../src/kube/cluster.js";
import { runInstall } from "../install/run-install.js";
import { removeEmptyDefaults } from "../checks/install-on-cluster.js";

const skip = testClusterSkipReason();

type Obj = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } };

/** Rewrites the two API versions 1.20 lacks; returns the YAML to apply and the ids converted. */
function for120(yaml: string): { yaml: string; converted: string[]; count: number } {
  const objs = parseAllDocuments(yaml).map((d) => d.toJS() as Obj);
  const converted: string[] = [];
  for (const o of objs) {
    const to = o.apiVersion === "policy/v1" && o.kind === "PodDisruptionBudget" ? "policy/v1beta1" : o.apiVersion === "batch/v1" && o.kind === "CronJob" ? "batch/v1beta1" : undefined;
    if (!to) continue;
    converted.push(`${o.kind}/${o.metadata.name}`);
    o.apiVersion = to;
  }
  return { yaml: objs.map((o) => `---\n${stringify(o)}`).join(""), converted, count: objs.length };
}

/** Removes the `default: ""` entries 1.20 rejects from CRD schemas; returns the YAML and what was removed. */
function crdsFor120(yaml: string): { yaml: string; removed: string[] } {
  const objs = parseAllDocuments(yaml).map((d) => d.toJS() as Obj);
  const removed = objs.flatMap((o) => removeEmptyDefaults(o));
  return { yaml: objs.map((o) => `---\n${stringify(o)}`).join(""), removed };
}

let c: TestCluster;
let ns: string;

before(async () => {
  if (skip) return;
  c = await connectTestCluster();
  ns = await c.newNamespace("install");
});

/** kubectl apply, retried once: tests sharing the cluster may update the same CRDs at the same time. */
async function apply(args: string[], yaml: string) {
  let r = await c.kubectl(["apply", ...args, "-f", "-"], { stdin: yaml, allowFail: true, timeoutMs: 120_000 });
  if (r.code !== 0 && /the object has been modified|Operation cannot be fulfilled/.test(r.stderr ?? "")) r = await c.kubectl(["apply", ...args, "-f", "-"], { stdin: yaml, allowFail: true, timeoutMs: 120_000 });
  return r;
}

test("install --crds: the API server accepts every CRD and each becomes Established", { skip }, async () => {
  const r = await runInstall(["install", "--crds", "--ignore-cluster"], { now: new Date() });
  assert.equal(r.code, 0, r.stderr);
  const crds = parseAllDocuments(r.stdout).map((d) => d.toJS() as Obj);
  assert.equal(crds.length, 8);
  const { yaml, removed } = crdsFor120(r.stdout);
  // Only the empty `group` defaults of the two HTTPRoute CRDs, all of them.
  assert.equal(removed.length, (r.stdout.match(/^ *default: ""$/gm) ?? []).length);
  assert.ok(removed.length > 0);
  for (const p of removed) assert.match(p, /^httproutes\.(policy\.linkerd\.io|gateway\.networking\.k8s\.io): spec\.versions\.\d+\.schema\.openAPIV3Schema\..*\.properties\.group\.default$/);
  const applied = await apply([], yaml);
  assert.equal(applied.code, 0, applied.stderr);
  for (const crd of crds) {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const live = await c.api.get<{ status?: { conditions?: { type: string; status: string }[] } }>(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`);
      if (live.status?.conditions?.some((x) => x.type === "Established" && x.status === "True")) break;
      assert.ok(Date.now() < deadline, `${crd.metadata.name} is not Established after 30s: ${JSON.stringify(live.status)}`);
      await new Promise((res) => setTimeout(res, 200));
    }
  }
});

for (const [name, flags, expectConverted] of [
  ["install", [], ["CronJob/linkerd-heartbeat"]],
  ["install --ha", ["--ha"], ["PodDisruptionBudget/linkerd-identity", "PodDisruptionBudget/linkerd-dst", "CronJob/linkerd-heartbeat", "PodDisruptionBudget/linkerd-proxy-injector"]],
] as const)
  test(`${name}: the API server accepts every object (server-side dry run)`, { skip }, async () => {
    const r = await runInstall(["install", "--ignore-cluster", "-L", ns, ...flags], { now: new Date() });
    assert.equal(r.code, 0, r.stderr);
    const { yaml, converted, count } = for120(r.stdout);
    assert.deepEqual(converted, expectConverted, "only PodDisruptionBudgets and the CronJob are sent as v1beta1");
    const applied = await apply(["--dry-run=server"], yaml);
    assert.equal(applied.code, 0, applied.stderr);
    // kubectl prints one line per object it sent: all of them went through the API server.
    const lines = (applied.stdout ?? "").trim().split("\n").filter((l) => /\(server dry run\)$/.test(l));
    assert.equal(lines.length, count, applied.stdout);
  });

test("install reads the real cluster: preflight passes, API server ports come from Service default/kubernetes", { skip }, async () => {
  const cluster = await connect({ kubeconfig: c.kubeconfig, linkerdNamespace: ns, verbose: false, color: false });
  const svc = await c.api.get<{ spec: { ports: { port: number; targetPort: number | string }[] } }>("/api/v1/namespaces/default/services/kubernetes");
  const ports = svc.spec.ports.flatMap((p) => (typeof p.targetPort === "number" ? [p.port, p.targetPort] : [p.port])).join(",");

  // Kubernetes 1.20 has no discovery.k8s.io/v1: the default (EndpointSlices on) is refused with a way out.
  const slices = await runInstall(["install", "-L", ns], { cluster, now: new Date() });
  assert.equal(slices.code, 1);
  assert.equal(slices.stdout, "");
  assert.match(slices.stderr, /^error: the cluster does not serve discovery.k8s.io\/v1 EndpointSlices\nhint: .*--enable-endpoint-slices=false/);

  const r = await runInstall(["install", "-L", ns, "--enable-endpoint-slices=false"], { cluster, now: new Date() });
  assert.equal(r.code, 0, r.stderr);
  const identity = parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as Obj)
    .find((o) => o.kind === "Deployment" && o.metadata.name === "linkerd-identity") as unknown as { spec: { template: { spec: { initContainers: { args: string[] }[] } } } };
  assert.deepEqual(identity.spec.template.spec.initContainers[0].args.slice(-2), ["--outbound-ports-to-ignore", ports]);

  // With linkerd-config present, install refuses (and so does install --crds).
  await c.api.json("POST", `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "linkerd-config" }, data: { values: "linkerdVersion: stable-2.14.10\n" } });
  for (const args of [["install", "--enable-endpoint-slices=false"], ["install", "--crds"]]) {
    const again = await runInstall([...args, "-L", ns], { cluster, now: new Date() });
    assert.equal(again.code, 1);
    assert.equal(again.stdout, "");
    assert.match(again.stderr, new RegExp(`^error: a control plane is already installed in namespace "${ns}": configmap/linkerd-config exists\\n`));
  }
  await c.deleteNamespace(ns);
});
