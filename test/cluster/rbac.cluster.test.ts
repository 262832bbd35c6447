// Token users for RBAC tests: `nobody` has no RBAC at all, `viewer` has the
// `view` ClusterRole, `admin` is in system:masters.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { connectTestCluster, KubeRestError, type TestCluster } from "../helpers/cluster.js";

let c: TestCluster;
let ns: string;
let pod: string;

before(async () => {
  c = await connectTestCluster();
  ns = await c.newNamespace("rbac");
  await c.apply(
    `apiVersion: v1
kind: Pod
metadata: {name: meshed, labels: {app: meshed}}
spec:
  containers:
  - {name: app, image: example/app:1}
  - {name: linkerd-proxy, image: cr.l5d.io/linkerd/proxy:stable-2.14.10}
`,
    ns,
  );
  [{ metadata: { name: pod } }] = await c.waitForPods(ns, "app=meshed", { count: 1 });
});

test("a user without RBAC gets 403 from kubectl", async () => {
  const r = await c.kubectl(["get", "pods", "-n", ns], { user: "nobody", allowFail: true });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Forbidden.*User "mesh-nobody" cannot list resource "pods"/);
});

for (const [what, path] of [
  ["list namespaces", "/api/v1/namespaces"],
  ["read a pod's metrics through the pod proxy", "PODPROXY"],
  ["read the kube-system namespace", "/api/v1/namespaces/kube-system"],
] as const) {
  test(`nobody cannot ${what} (403)`, async () => {
    const p = path === "PODPROXY" ? `/api/v1/namespaces/${ns}/pods/${pod}:4191/proxy/metrics` : path;
    await assert.rejects(c.apiAs("nobody").get(p), (e: unknown) => e instanceof KubeRestError && e.status === 403);
  });
}

test("nobody may still do what every authenticated user may (discovery, version)", async () => {
  const v = await c.apiAs("nobody").get<{ gitVersion: string }>("/version");
  assert.equal(v.gitVersion, `v${c.state.kubeVersion}`);
});

test("the viewer can read pods and logs but not the pod proxy, secrets or writes", async () => {
  const r = await c.kubectl(["get", "pods", "-n", ns, "-o", "name"], { user: "viewer" });
  assert.equal(r.stdout.trim(), `pod/${pod}`);
  const logs = await c.apiAs("viewer").raw("GET", `/api/v1/namespaces/${ns}/pods/${pod}/log?container=linkerd-proxy`);
  assert.equal(logs.status, 200);
  for (const [method, path] of [
    ["GET", `/api/v1/namespaces/${ns}/pods/${pod}:4191/proxy/metrics`],
    ["GET", `/api/v1/namespaces/${ns}/secrets`],
    ["DELETE", `/api/v1/namespaces/${ns}/pods/${pod}`],
  ] as const) {
    const res = await c.apiAs("viewer").raw(method, path);
    assert.equal(res.status, 403, `${method} ${path}: ${res.body}`);
  }
  const auth = await c.kubectl(["auth", "can-i", "create", "deployments", "-n", ns], { user: "viewer", allowFail: true });
  assert.equal(auth.stdout.trim(), "no");
});

test("admin is in system:masters", async () => {
  const auth = await c.kubectl(["auth", "can-i", "*", "*", "--all-namespaces"]);
  assert.equal(auth.stdout.trim(), "yes");
});
