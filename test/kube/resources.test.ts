import { test } from "node:test";
import assert from "node:assert/strict";
import { RESOURCE_TYPES, resourcePath, resourceType } from "../../src/kube/resources.js";
import { MeshError } from "../../src/errors.js";
import type { KubeObject } from "../../src/kube/types.js";
import { runMesh } from "../helpers/run.js";

const obj = (apiVersion: string, kind: string, namespace?: string): KubeObject => ({ apiVersion, kind, metadata: { name: "x", ...(namespace ? { namespace } : {}) } }) as KubeObject;

for (const [apiVersion, kind, namespace, path] of [
  ["v1", "Endpoints", "web", "/api/v1/namespaces/web/endpoints"],
  ["v1", "Namespace", undefined, "/api/v1/namespaces"],
  ["v1", "Namespace", "ignored", "/api/v1/namespaces"],
  ["rbac.authorization.k8s.io/v1", "ClusterRole", undefined, "/apis/rbac.authorization.k8s.io/v1/clusterroles"],
  ["policy/v1", "PodDisruptionBudget", "linkerd", "/apis/policy/v1/namespaces/linkerd/poddisruptionbudgets"],
  ["policy/v1beta1", "PodSecurityPolicy", undefined, "/apis/policy/v1beta1/podsecuritypolicies"],
  ["policy.linkerd.io/v1beta3", "HTTPRoute", "a b", "/apis/policy.linkerd.io/v1beta3/namespaces/a%20b/httproutes"],
  ["linkerd.io/v1alpha2", "ServiceProfile", "web", "/apis/linkerd.io/v1alpha2/namespaces/web/serviceprofiles"],
] as const)
  test(`${apiVersion} ${kind}${namespace ? ` in ${namespace}` : ""}: ${path}`, () => assert.equal(resourcePath(obj(apiVersion, kind, namespace)), path));

test("a kind mesh does not know is an error naming it, never a guessed plural", () => {
  for (const [apiVersion, kind] of [
    ["v1", "Endpoint"],
    ["example.com/v1", "Widget"],
    ["apps/v2", "Deployment"],
    ["v1", ""],
  ])
    assert.throws(
      () => resourcePath(obj(apiVersion, kind, "ns")),
      (e: unknown) => e instanceof MeshError && e.message === `mesh does not know the API resource of kind "${kind}" in ${apiVersion}` && /resource table/.test(e.hint ?? ""),
    );
});

test("a namespaced kind without a namespace is an error, not a cluster-wide path", () => {
  assert.throws(() => resourcePath(obj("v1", "Service")), /^MeshError: Service\/x has no namespace \(metadata\.namespace\)$/);
});

test("the table has one entry per group and kind, each plural lower case", () => {
  const keys = RESOURCE_TYPES.map((r) => `${r.group}/${r.kind}`);
  assert.deepEqual(keys, [...new Set(keys)]);
  for (const r of RESOURCE_TYPES) assert.match(r.resource, /^[a-z]+$/, r.kind);
});

test("every kind mesh renders (install with every optional object, and the CRDs) has an entry", async () => {
  const docs: KubeObject[] = [];
  for (const args of [
    ["install", "--ignore-cluster", "-o", "json", "--ha", "--set", "enablePSP=true", "--set", "podMonitor.enabled=true"],
    ["install", "--crds", "--ignore-cluster", "-o", "json"],
  ]) {
    const r = await runMesh(args);
    assert.equal(r.code, 0, r.stderr);
    const list = JSON.parse(r.stdout) as { items?: KubeObject[] } & KubeObject;
    docs.push(...(list.items ?? [list]));
  }
  const kinds = new Set(docs.map((d) => `${d.apiVersion} ${d.kind}`));
  for (const k of ["policy/v1beta1 PodSecurityPolicy", "monitoring.coreos.com/v1 PodMonitor", "apiextensions.k8s.io/v1 CustomResourceDefinition", "batch/v1 CronJob"]) assert.ok(kinds.has(k), k);
  for (const d of docs) assert.equal(resourceType(d.apiVersion!, d.kind!).kind, d.kind);
});
