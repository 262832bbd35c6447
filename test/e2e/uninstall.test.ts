/**
 * `mesh prune` and `mesh uninstall` against the test cluster, through the pipelines users run,
 * verbatim (`mesh prune | kubectl delete -f -`, `mesh uninstall | kubectl delete -f -`):
 * - prune prints exactly a stray object that carries the control plane's label;
 * - uninstall refuses while a meshed pod or a Linkerd resource exists, naming them;
 * - uninstall | kubectl delete -f - leaves no object with the label, no namespace, no CRD.
 * The CRDs are cluster-wide and shared with the other files: they are applied again at the end.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectTestCluster, testClusterSkipReason, type TestCluster } from "../helpers/cluster.js";
import { pipeline } from "../helpers/pipeline.js";
import { installLinkerd, uninstallLinkerd } from "../checks/install-on-cluster.js";
import { INVENTORY_KINDS, listPath } from "../../src/install/inventory.js";

const skip = testClusterSkipReason();

let c: TestCluster;
let app: string;
const cp = `l5d-${randomBytes(3).toString("hex")}`;

before(async () => {
  if (skip) return;
  c = await connectTestCluster();
  await installLinkerd(c, cp);
  app = await c.newNamespace("uninstall-app");
});

after(async () => {
  if (skip || !c) return;
  await uninstallLinkerd(c, cp).catch(() => undefined);
  await c.deleteNamespace(app).catch(() => undefined);
  // the next files expect Linkerd's CRDs
  const crds = "mesh install --crds | kubectl apply -f -";
  const r = await pipeline(c, crds, { allowFail: true });
  if (r.code !== 0) await pipeline(c, crds);
});

/** Every object that still carries the control plane's label, as `Kind ns/name`. */
async function labelled(): Promise<string[]> {
  const out: string[] = [];
  for (const kind of INVENTORY_KINDS) {
    const list = await c.api.find<{ items: { metadata: { name: string; namespace?: string } }[] }>(listPath(kind, `linkerd.io/control-plane-ns=${cp}`));
    for (const o of list?.items ?? []) out.push(`${kind.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`);
  }
  return out;
}

test("mesh prune prints exactly a stray ConfigMap that carries the control plane's label, and kubectl deletes it", { skip }, async () => {
  const clean = await pipeline(c, `mesh prune -L ${cp}`);
  assert.equal(clean.stdout, "", "a fresh install has nothing to prune");
  await c.apply(`apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: stray\n  labels:\n    linkerd.io/control-plane-ns: ${cp}\ndata:\n  a: b\n`, cp);
  const r = await pipeline(c, `mesh prune -L ${cp}`);
  assert.equal(r.stdout, `---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: stray\n  namespace: ${cp}\n`);
  const del = await pipeline(c, `mesh prune -L ${cp} | kubectl delete -f -`);
  assert.match(del.stdout.trim(), /^configmap "stray" deleted( from \S+ namespace)?$/);
  assert.equal(await c.api.find(`/api/v1/namespaces/${cp}/configmaps/stray`), undefined);
});

test("mesh uninstall refuses while a meshed pod and a Linkerd resource exist, naming them", { skip }, async () => {
  await c.apply(
    `apiVersion: v1
kind: Pod
metadata:
  name: meshed
  labels:
    linkerd.io/control-plane-ns: ${cp}
spec:
  containers:
  - name: app
    image: app
  - name: linkerd-proxy
    image: cr.l5d.io/linkerd/proxy:stable-2.14.10
---
apiVersion: policy.linkerd.io/v1beta1
kind: Server
metadata:
  name: web
spec:
  podSelector: {}
  port: 8080
`,
    app,
  );
  const r = await pipeline(c, `mesh uninstall -L ${cp}`, { allowFail: true });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  const [error, hint, ...rest] = r.stderr.split("\n");
  assert.match(error, new RegExp(`^error: cannot uninstall the control plane in namespace "${cp}": `));
  assert.ok(error.includes(`meshed pods exist: ${app}/meshed`), error);
  assert.ok(error.includes(`servers.policy.linkerd.io ${app}/web`), error);
  assert.match(hint, /^hint: .*--force$/);
  assert.deepEqual(rest, [""]);
  await c.kubectl(["delete", "pod/meshed", "server/web", "-n", app, "--wait=false"]);
  const deadline = Date.now() + 60_000;
  while (await c.api.find(`/api/v1/namespaces/${app}/pods/meshed`)) {
    assert.ok(Date.now() < deadline, "pod/meshed is still there after 60s");
    await new Promise((res) => setTimeout(res, 250));
  }
});

test("mesh uninstall | kubectl delete -f - leaves no Linkerd object: nothing labelled, no namespace, no CRD", { skip }, async () => {
  const listed = (await pipeline(c, `mesh uninstall -L ${cp}`)).stdout;
  const kinds = [...listed.matchAll(/^kind: (\S+)$/gm)].map((m) => m[1]);
  assert.equal(kinds[kinds.length - 1], "CustomResourceDefinition", "CRDs come last");
  assert.ok(kinds.indexOf("Namespace") > kinds.lastIndexOf("Deployment"));
  assert.ok(kinds.indexOf("MutatingWebhookConfiguration") < kinds.indexOf("Deployment"), "webhooks go before their servers");
  await pipeline(c, `mesh uninstall -L ${cp} | kubectl delete -f -`, { timeoutMs: 180_000 });
  assert.deepEqual(await labelled(), []);
  assert.equal(await c.api.find(`/api/v1/namespaces/${cp}`), undefined);
  assert.equal(await c.api.find("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/servers.policy.linkerd.io"), undefined);
  const again = await pipeline(c, `mesh uninstall -L ${cp}`, { allowFail: true });
  assert.equal(again.code, 1);
  assert.match(again.stderr, new RegExp(`^error: nothing to uninstall: no object carries the label linkerd.io/control-plane-ns=${cp}\\n`));
});

test("global --api-addr replaces the kubeconfig's server (credentials kept); global --cni-namespace reaches check's CNI checks", { skip }, async () => {
  const fp = await c.startFaultProxy();
  try {
    // the kubeconfig names a server nobody listens on; --api-addr names the fault proxy in front of the real one
    const dead = join(mkdtempSync(join(tmpdir(), "mesh-api-addr-")), "dead.kubeconfig");
    writeFileSync(dead, readFileSync(fp.kubeconfig, "utf8").replace(/server: \S+/, "server: https://127.0.0.1:1"));
    const addr = new URL(fp.url).host;
    const r = await pipeline(c, `mesh uninstall -L absent-cp --api-addr ${addr}`, { kubeconfig: dead, allowFail: true });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: nothing to uninstall: no object carries the label linkerd.io\/control-plane-ns=absent-cp\n/);
    assert.ok(fp.count(/control-plane-ns%3Dabsent-cp/) > 0, "the requests went to --api-addr");
    const without = await pipeline(c, "mesh uninstall -L absent-cp", { kubeconfig: dead, allowFail: true });
    assert.equal(without.code, 1);
    assert.doesNotMatch(without.stderr, /nothing to uninstall/);

    fp.resetCounts();
    await pipeline(c, "mesh check --pre --linkerd-cni-enabled --cni-namespace cni-elsewhere --expected-version stable-2.14.10 --wait 0s -o json", { kubeconfig: fp.kubeconfig, allowFail: true });
    assert.ok(fp.count("/api/v1/namespaces/cni-elsewhere/configmaps/linkerd-cni-config") > 0, JSON.stringify(fp.requests.map((x) => x.path)));
  } finally {
    await fp.close();
  }
});
