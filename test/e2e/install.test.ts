/**
 * `mesh install` against the test cluster's real API server, through the pipelines users run,
 * verbatim (`mesh install --crds | kubectl apply -f -`, `mesh install | kubectl apply -f -`, with
 * the kubectl built with the cluster):
 * - every CRD becomes Established, and the CRDs' defaults and validations are live;
 * - `install` and `install --ha` are applied for real, every object accepted;
 * - `kubectl apply --server-side` over the client-side apply meets no field-manager conflict;
 * - without --ignore-cluster, install reads the real cluster (CRDs, nodes, Service
 *   default/kubernetes, EndpointSlice API) and refuses to install over linkerd-config.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { parseAllDocuments } from "yaml";
import { connectTestCluster, testClusterSkipReason, type TestCluster } from "../helpers/cluster.js";
import { pipeline } from "../helpers/pipeline.js";
import { connect } from "../../src/kube/cluster.js";
import { runInstall } from "../install/run-install.js";
import { uninstallLinkerd } from "../checks/install-on-cluster.js";

const skip = testClusterSkipReason();

type Obj = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } };

let c: TestCluster;
let ns: string;

before(async () => {
  if (skip) return;
  c = await connectTestCluster();
  ns = await c.newNamespace("install");
});

/** The objects a YAML stream holds. */
const objects = (yaml: string) => parseAllDocuments(yaml).map((d) => d.toJS() as Obj).filter(Boolean);

/** kubectl prints one `<kind>/<name> <verb>` line per object it sent. */
const appliedLines = (stdout: string) => stdout.trim().split("\n").filter((l) => /^\S+\/\S+ (created|configured|unchanged|serverside-applied)$/.test(l));

test("mesh install --crds | kubectl apply -f -: every CRD is accepted as rendered and becomes Established", { skip }, async () => {
  const rendered = objects((await pipeline(c, "mesh install --crds")).stdout);
  assert.equal(rendered.length, 8);
  // the CRDs carry their empty-string defaults (the HTTPRoute backendRef group) as Linkerd ships them
  assert.ok(rendered.some((o) => JSON.stringify(o).includes('"default":""')));
  const r = await pipeline(c, "mesh install --crds | kubectl apply -f -", { allowFail: true });
  if (r.code !== 0 && /the object has been modified/.test(r.stderr)) Object.assign(r, await pipeline(c, "mesh install --crds | kubectl apply -f -"));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(appliedLines(r.stdout).length, 8, r.stdout);
  for (const crd of rendered) {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const live = await c.api.get<{ status?: { conditions?: { type: string; status: string }[] } }>(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`);
      if (live.status?.conditions?.some((x) => x.type === "Established" && x.status === "True")) break;
      assert.ok(Date.now() < deadline, `${crd.metadata.name} is not Established after 30s: ${JSON.stringify(live.status)}`);
      await new Promise((res) => setTimeout(res, 200));
    }
  }
});

test("the CRDs' defaults and validations are live: an HTTPRoute without backendRef group reads back defaulted; a bad hostname is refused", { skip }, async () => {
  const route = (name: string, extra = "") => `apiVersion: policy.linkerd.io/v1beta3
kind: HTTPRoute
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  parentRefs:
  - name: web
    kind: Service
    group: core
    port: 80
${extra}  rules:
  - backendRefs:
    - name: web
      port: 80
`;
  const ok = await pipeline(c, "kubectl apply -f -", { stdin: route("defaults") });
  assert.match(ok.stdout, /httproute.policy.linkerd.io\/defaults created/);
  const live = await c.api.get<{ spec: { rules: { matches: unknown[]; backendRefs: Record<string, unknown>[] }[] } }>(`/apis/policy.linkerd.io/v1beta3/namespaces/${ns}/httproutes/defaults`);
  assert.deepEqual(live.spec.rules[0].backendRefs[0], { group: "", kind: "Service", name: "web", port: 80, weight: 1 });
  assert.deepEqual(live.spec.rules[0].matches, [{ path: { type: "PathPrefix", value: "/" } }]);

  const bad = await pipeline(c, "kubectl apply -f -", { stdin: route("bad", "  hostnames:\n  - Not_A_Host\n"), allowFail: true });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /spec\.hostnames\[0\]: Invalid value: "Not_A_Host": spec\.hostnames\[0\] in body should match/);
  assert.equal(await c.api.find(`/apis/policy.linkerd.io/v1beta3/namespaces/${ns}/httproutes/bad`), undefined);
});

test("kubectl apply --server-side of the same CRDs meets no field-manager conflict", { skip }, async () => {
  const r = await pipeline(c, "mesh install --crds | kubectl apply --server-side -f -", { allowFail: true });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /conflict/i);
  assert.equal(appliedLines(r.stdout).length, 8, r.stdout);
  assert.ok(appliedLines(r.stdout).every((l) => l.endsWith(" serverside-applied")), r.stdout);
});

for (const [name, flags] of [
  ["mesh install", ""],
  ["mesh install --ha", " --ha"],
] as const)
  test(`${name} | kubectl apply -f -: every object is accepted as rendered`, { skip }, async () => {
    const cp = `l5d-${randomBytes(3).toString("hex")}`; // mesh install renders the namespace itself
    try {
      const rendered = objects((await pipeline(c, `mesh install -L ${cp}${flags}`)).stdout);
      const kinds = new Set(rendered.map((o) => `${o.apiVersion} ${o.kind}`));
      assert.ok(kinds.has("batch/v1 CronJob"), "the heartbeat is a batch/v1 CronJob");
      if (flags) assert.ok(kinds.has("policy/v1 PodDisruptionBudget"), "--ha renders policy/v1 PodDisruptionBudgets");
      const r = await pipeline(c, `mesh install -L ${cp}${flags} | kubectl apply -f -`, { allowFail: true });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(appliedLines(r.stdout).length, rendered.length, r.stdout);
      // what was stored is what was rendered: spot-check the objects 1.20 could not take
      const cron = await c.api.get<{ spec: { schedule: string } }>(`/apis/batch/v1/namespaces/${cp}/cronjobs/linkerd-heartbeat`);
      assert.equal(cron.spec.schedule, (rendered.find((o) => o.kind === "CronJob") as unknown as { spec: { schedule: string } }).spec.schedule);
      if (flags) assert.ok(await c.api.find(`/apis/policy/v1/namespaces/${cp}/poddisruptionbudgets/linkerd-identity`));
    } finally {
      await uninstallLinkerd(c, cp);
    }
  });

test("install reads the real cluster: preflight passes, API server ports come from Service default/kubernetes", { skip }, async () => {
  const cluster = await connect({ kubeconfig: c.kubeconfig, linkerdNamespace: ns, verbose: false, color: false });
  const svc = await c.api.get<{ spec: { ports: { port: number; targetPort: number | string }[] } }>("/api/v1/namespaces/default/services/kubernetes");
  const ports = svc.spec.ports.flatMap((p) => (typeof p.targetPort === "number" ? [p.port, p.targetPort] : [p.port])).join(",");

  const r = await runInstall(["install", "-L", ns], { cluster, now: new Date() });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /- -enable-endpoint-slices=true$/m, "EndpointSlices are on by default and the cluster serves them");

  // A cluster that does not serve discovery.k8s.io/v1 (played by the fault proxy): the default is refused with a way out.
  const fp = await c.startFaultProxy();
  try {
    fp.setFaults([{ path: /^\/apis\/discovery\.k8s\.io\/v1\/?$/, status: 404 }]);
    const noSlices = await connect({ kubeconfig: fp.kubeconfig, linkerdNamespace: ns, verbose: false, color: false });
    const slices = await runInstall(["install", "-L", ns], { cluster: noSlices, now: new Date() });
    assert.equal(slices.code, 1);
    assert.equal(slices.stdout, "");
    assert.match(slices.stderr, /^error: the cluster does not serve discovery.k8s.io\/v1 EndpointSlices\nhint: .*--enable-endpoint-slices=false/);
    assert.ok(fp.count(/discovery\.k8s\.io/) >= 1);
  } finally {
    await fp.close();
  }

  const identity = parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as Obj)
    .find((o) => o.kind === "Deployment" && o.metadata.name === "linkerd-identity") as unknown as { spec: { template: { spec: { initContainers: { args: string[] }[] } } } };
  assert.deepEqual(identity.spec.template.spec.initContainers[0].args.slice(-2), ["--outbound-ports-to-ignore", ports]);

  // With linkerd-config present, install refuses (and so does install --crds).
  await c.api.json("POST", `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "linkerd-config" }, data: { values: "linkerdVersion: stable-2.14.10\n" } });
  for (const args of [["install"], ["install", "--crds"]]) {
    const again = await runInstall([...args, "-L", ns], { cluster, now: new Date() });
    assert.equal(again.code, 1);
    assert.equal(again.stdout, "");
    assert.match(again.stderr, new RegExp(`^error: a control plane is already installed in namespace "${ns}": configmap/linkerd-config exists\\n`));
  }
  await c.deleteNamespace(ns);
});
