import { test } from "node:test";
import assert from "node:assert/strict";
import { POD_PAGE_SIZE, resolveTargets } from "../../src/viz/objects.js";
import type { KubeObject } from "../../src/kube/types.js";
import { FakeApi } from "../kube/fake-api.js";

/** `replicas` running pods of Deployment `app` in `ns`, with its ReplicaSet. */
function workload(ns: string, app: string, replicas: number): KubeObject[] {
  const labels = { app };
  const deploy = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: app, namespace: ns, uid: `${ns}-${app}`, labels }, spec: { selector: { matchLabels: labels } } };
  const rs = { apiVersion: "apps/v1", kind: "ReplicaSet", metadata: { name: `${app}-rs`, namespace: ns, uid: `${ns}-${app}-rs`, labels, ownerReferences: [{ kind: "Deployment", name: app, uid: `${ns}-${app}` }] }, spec: { selector: { matchLabels: labels } } };
  const pods = Array.from({ length: replicas }, (_, i) => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: `${app}-${i}`, namespace: ns, labels, ownerReferences: [{ kind: "ReplicaSet", name: `${app}-rs`, uid: `${ns}-${app}-rs` }], managedFields: [{ manager: "kubelet" }] },
    spec: { containers: [{ name: app }], volumes: [{ name: "token" }] },
    status: { phase: "Running", podIP: `10.42.0.${i}` },
  }));
  return [deploy, rs, ...pods] as KubeObject[];
}

test("pods are listed page by page: every page's pods reach their workloads, reduced to what mesh reads", async () => {
  const api = new FakeApi([...workload("shop", "web", 130), ...workload("shop", "api", 20), ...workload("bank", "web", 100)]);
  const targets = await resolveTargets(api.cluster(), [{ type: "deployment", namespace: "" }], { allNamespaces: true });
  assert.deepEqual(
    targets.map((t) => [`${t.ref.namespace}/${t.ref.name}`, t.pods.length]),
    [["bank/web", 100], ["shop/api", 20], ["shop/web", 130]],
  );
  const podPages = api.requests().filter((r) => r.startsWith("GET /api/v1/pods"));
  const offsets = Array.from({ length: Math.ceil(250 / POD_PAGE_SIZE) }, (_, i) => i * POD_PAGE_SIZE);
  assert.ok(offsets.length > 1, "the fixture spans pages");
  assert.deepEqual(
    podPages,
    offsets.map((o) => `GET /api/v1/pods?limit=${POD_PAGE_SIZE}${o ? `&continue=${o}` : ""}`),
  );
  const pod = targets[0].pods[0] as unknown as { metadata: object; spec: object };
  assert.ok(!("managedFields" in pod.metadata) && !("volumes" in pod.spec));
});
