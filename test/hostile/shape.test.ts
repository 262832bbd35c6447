// The client boundary: every typed getter of RestCluster checks the answer's shape in one place
// (src/kube/shape.ts), so what reaches a check or viz is the shape types.ts promises.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RestCluster, type ClusterApi } from "../../src/kube/cluster.js";
import { ShapeError, shapeProblem, SHAPES } from "../../src/kube/shape.js";

function serving(body: unknown): ClusterApi {
  return new RestCluster("https://fake:6443", async () => ({ status: 200, body: typeof body === "string" ? body : JSON.stringify(body) }));
}

const cases: [name: string, call: (c: ClusterApi) => Promise<unknown>, body: unknown, problem: string][] = [
  ["listPods: items a string", (c) => c.listPods("ns"), { items: "x" }, "items is a string, not a list"],
  ["listPods: a null item", (c) => c.listPods(), { items: [null] }, "items[0] is null, not a map"],
  ["listPods: containers a string", (c) => c.listPods(), { items: [{ metadata: { name: "p" }, spec: { containers: "web" } }] }, "items[0].spec.containers is a string, not a list"],
  ["listPods: no spec", (c) => c.listPods(), { items: [{ metadata: { name: "p" } }] }, "items[0].spec is missing"],
  ["listPods: statuses with a null", (c) => c.listPods(), { items: [{ metadata: { name: "p" }, spec: { containers: [] }, status: { containerStatuses: [null] } }] }, "items[0].status.containerStatuses[0] is null, not a map"],
  ["listPods: labels a list", (c) => c.listPods(), { items: [{ metadata: { name: "p", labels: ["a"] }, spec: { containers: [] } }] }, "items[0].metadata.labels is a list, not a map"],
  ["listPods: a label value a number", (c) => c.listPods(), { items: [{ metadata: { name: "p", labels: { a: 1 } }, spec: { containers: [] } }] }, 'items[0].metadata.labels["a"] is a number, not a string'],
  ["listServices: ports a map", (c) => c.listServices(), { items: [{ metadata: { name: "s" }, spec: { ports: {} } }] }, "items[0].spec.ports is a map, not a list"],
  ["listServices: targetPort true", (c) => c.listServices(), { items: [{ metadata: { name: "s" }, spec: { ports: [{ port: 80, targetPort: true }] } }] }, "items[0].spec.ports[0].targetPort is true, not a number or a string"],
  ["listNodes: the body a string", (c) => c.listNodes(), "just text", "invalid JSON"],
  ["listNodes: the body a number", (c) => c.listNodes(), 42, "the body is a number, not a map"],
  ["getConfigMap: null", (c) => c.getConfigMap("ns", "x"), null, "the body is null, not a map"],
  ["getConfigMap: a data value a map", (c) => c.getConfigMap("ns", "x"), { metadata: { name: "x" }, data: { values: {} } }, 'data["values"] is a map, not a string'],
  ["getCustomResourceDefinition: versions a string", (c) => c.getCustomResourceDefinition("x"), { metadata: { name: "x" }, spec: { group: "g", versions: "v1" } }, "spec.versions is a string, not a list"],
  ["listMutatingWebhookConfigurations: webhooks of nulls", (c) => c.listMutatingWebhookConfigurations(), { items: [{ metadata: { name: "w" }, webhooks: [null] }] }, "items[0].webhooks[0] is null, not a map"],
  ["serverVersion: no gitVersion", (c) => c.serverVersion(), {}, "gitVersion is missing"],
  ["selfSubjectAccessReview: status a string", (c) => c.selfSubjectAccessReview({ verb: "get", resource: "pods" }), { status: "yes" }, "status is a string, not a map"],
  ["listServiceProfiles: items of strings", (c) => c.listServiceProfiles(), { items: ["sp"] }, "items[0] is a string, not a map"],
  ["listDeployments (viz): replicas a string", (c) => c.listDeployments(), { items: [{ metadata: { name: "d" }, spec: { replicas: "3" } }] }, "items[0].spec.replicas is a string, not a number"],
];

for (const [name, call, body, problem] of cases) {
  test(`shape: ${name}`, async () => {
    await assert.rejects(call(serving(body)), (e: unknown) => {
      assert.ok(e instanceof Error && "hint" in e, String(e));
      if (problem === "invalid JSON") assert.match((e as Error).message, /^the API server sent invalid JSON for GET \//);
      else {
        assert.ok(e instanceof ShapeError, String(e));
        assert.equal(e.problem, problem);
        assert.match(e.message, /^the API server's answer to (GET|POST) \/\S+ is not what Kubernetes sends: /);
      }
      return true;
    });
  });
}

test("shape: well-formed answers pass, null optional fields and null items lists are accepted", async () => {
  assert.deepEqual(await serving({ items: null }).listPods(), []);
  assert.deepEqual(await serving({ kind: "PodList" }).listPods(), []);
  const pods = await serving({ items: [{ metadata: { name: "p", labels: null, creationTimestamp: null }, spec: { containers: [{ name: "c", ports: null }] }, status: null }] }).listPods();
  assert.equal(pods[0].metadata.name, "p");
});

test("shape: a hostile, deeply nested answer is walked only as deep as the shape goes", () => {
  let deep: unknown = "x";
  for (let i = 0; i < 100_000; i++) deep = { a: deep };
  assert.equal(shapeProblem({ metadata: { name: "n" }, extra: deep, data: { k: "v" } }, SHAPES.configMap), undefined);
});
