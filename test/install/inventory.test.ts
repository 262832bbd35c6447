/** uninstall and prune over a fake API: which objects, in what order, and when uninstall refuses. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { crdListPath, INVENTORY_KINDS, objectKey } from "../../src/install/inventory.js";
import type { Cluster } from "../../src/kube/cluster.js";
import { runMesh } from "../helpers/run.js";

type Obj = { metadata: { name: string; namespace?: string; labels?: Record<string, string>; ownerReferences?: unknown[] } };

/** Answers list GETs (`/api/v1` or `/apis/<g>/<v>`, `[/namespaces/<ns>]/<resource>?labelSelector=k=v|k`) from `objects` by resource. */
function fakeApi(objects: Record<string, Obj[]>): Cluster {
  const api = {
    server: "https://fake.test",
    async getJson(path: string) {
      const m = /^\/(?:api\/v1|apis\/[^/]+\/[^/]+)(?:\/namespaces\/([^/?]+))?\/([a-z.]+)(?:\?labelSelector=([^&]*))?/.exec(path);
      if (!m) return undefined;
      const [, ns, resource, sel] = m;
      if (!(resource in objects)) return undefined;
      const [key, value] = decodeURIComponent(sel ?? "").split("=");
      const items = objects[resource].filter((o) => (!ns || o.metadata.namespace === ns) && (!key || (o.metadata.labels?.[key] !== undefined && (value === undefined || o.metadata.labels[key] === value))));
      return { items };
    },
    async getText() {
      return "";
    },
    async controlPlaneVersion() {
      return undefined;
    },
  };
  return api as unknown as Cluster;
}

const cp = { "linkerd.io/control-plane-ns": "linkerd" };
const base = (): Record<string, Obj[]> => ({
  mutatingwebhookconfigurations: [{ metadata: { name: "linkerd-proxy-injector-webhook-config", labels: cp } }],
  deployments: [{ metadata: { name: "linkerd-destination", namespace: "linkerd", labels: cp } }],
  replicasets: [],
  configmaps: [
    { metadata: { name: "linkerd-config", namespace: "linkerd", labels: cp } },
    { metadata: { name: "other-plane", namespace: "linkerd", labels: { "linkerd.io/control-plane-ns": "other" } } },
  ],
  secrets: [],
  jobs: [{ metadata: { name: "linkerd-heartbeat-1", namespace: "linkerd", labels: cp, ownerReferences: [{ kind: "CronJob" }] } }],
  clusterroles: [{ metadata: { name: "linkerd-linkerd-identity", labels: cp } }],
  namespaces: [{ metadata: { name: "linkerd", labels: cp } }],
  customresourcedefinitions: [
    { metadata: { name: "servers.policy.linkerd.io", labels: cp }, spec: { group: "policy.linkerd.io", names: { plural: "servers" }, versions: [{ name: "v1alpha1", served: true }, { name: "v1beta1", served: true, storage: true }] } } as Obj,
  ],
  servers: [],
  pods: [],
});

test("uninstall lists this control plane's objects, webhooks first and CRDs last, leaving owned objects and other planes' alone", async () => {
  const r = await runMesh(["uninstall"], { cluster: async () => fakeApi(base()) });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stdout,
    [
      "admissionregistration.k8s.io/v1 MutatingWebhookConfiguration linkerd-proxy-injector-webhook-config",
      "apps/v1 Deployment linkerd-destination linkerd",
      "v1 ConfigMap linkerd-config linkerd",
      "rbac.authorization.k8s.io/v1 ClusterRole linkerd-linkerd-identity",
      "v1 Namespace linkerd",
      "apiextensions.k8s.io/v1 CustomResourceDefinition servers.policy.linkerd.io",
    ]
      .map((l) => {
        const [apiVersion, kind, name, namespace] = l.split(" ");
        return `---\napiVersion: ${apiVersion}\nkind: ${kind}\nmetadata:\n  name: ${name}\n${namespace ? `  namespace: ${namespace}\n` : ""}`;
      })
      .join(""),
  );
});

test("uninstall refuses, naming them, while extensions, meshed pods or Linkerd resources exist; --force renders anyway", async () => {
  const objs = base();
  objs.namespaces.push({ metadata: { name: "linkerd-viz", labels: { "linkerd.io/extension": "viz" } } });
  objs.pods.push({ metadata: { name: "web-1", namespace: "shop", labels: cp } }, { metadata: { name: "linkerd-destination-x", namespace: "linkerd", labels: cp } }, { metadata: { name: "metrics", namespace: "linkerd-viz", labels: cp } });
  objs.servers.push({ metadata: { name: "web", namespace: "shop" } });
  const r = await runMesh(["uninstall"], { cluster: async () => fakeApi(objs) });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  assert.equal(
    r.stderr.split("\n")[0],
    'error: cannot uninstall the control plane in namespace "linkerd": extensions are installed (viz in namespace linkerd-viz): uninstall them first; meshed pods exist: shop/web-1; Linkerd resources exist, which deleting the CRDs deletes: servers.policy.linkerd.io shop/web',
  );
  const forced = await runMesh(["uninstall", "--force"], { cluster: async () => fakeApi(objs) });
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stdout, /kind: CustomResourceDefinition\n.*\n  name: servers.policy.linkerd.io\n$/);
});

test("nothing labelled: uninstall says so", async () => {
  const r = await runMesh(["uninstall", "-L", "absent"], { cluster: async () => fakeApi(base()) });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: nothing to uninstall: no object carries the label linkerd.io\/control-plane-ns=absent\nhint: pass -L/);
});

test("inventory helpers: object keys ignore the version; a CRD's resources are listed at its storage version", () => {
  assert.equal(objectKey({ apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "a", namespace: "n" } }), objectKey({ apiVersion: "policy/v1beta1", kind: "PodDisruptionBudget", metadata: { name: "a", namespace: "n" } }));
  assert.equal(crdListPath({ spec: { group: "linkerd.io", names: { plural: "serviceprofiles" }, versions: [{ name: "v1alpha1", served: true }, { name: "v1alpha2", served: true, storage: true }] } }), "/apis/linkerd.io/v1alpha2/serviceprofiles");
  assert.equal(INVENTORY_KINDS[INVENTORY_KINDS.length - 1].kind, "CustomResourceDefinition");
});
