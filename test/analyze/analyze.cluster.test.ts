// mesh analyze --cluster against the real API server: the corpus's cases applied to the cluster give
// the findings the files give offline; files laid over the cluster (pre-apply) catch a mistake only
// the cluster's state reveals; the cluster is read with a fixed number of list requests.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { connect } from "../../src/kube/cluster.js";
import { connectTestCluster, testClusterSkipReason, type TestCluster } from "../helpers/cluster.js";
import { runMesh } from "../helpers/run.js";
import { CASES, casePath } from "./cases.js";
import type { Finding } from "../../src/analyze/model.js";

const skip = testClusterSkipReason();
let c: TestCluster;

async function mesh(args: string[], stdin?: string) {
  return runMesh([...args, "--kubeconfig", c.kubeconfig], { now: new Date(), stdin, cluster: (g) => connect(g) });
}

before(async () => {
  if (skip) return;
  c = await connectTestCluster();
  // Linkerd's CRDs (no control plane: nothing admits or rejects the objects but the API server)
  const crds = await runMesh(["install", "--crds", "--ignore-cluster", "-o", "json"]);
  const items = JSON.parse(crds.stdout).items as { metadata: { name: string } }[];
  const missing: typeof items = [];
  for (const crd of items) if ((await c.kubectl(["get", "crd", crd.metadata.name], { allowFail: true })).code !== 0) missing.push(crd);
  if (missing.length) {
    const r = await c.kubectl(["apply", "-f", "-"], { stdin: JSON.stringify({ apiVersion: "v1", kind: "List", items: missing }), allowFail: true });
    if (r.code !== 0 && !/AlreadyExists|the object has been modified/.test(r.stderr)) throw new Error(r.stderr);
    await c.kubectl(["wait", "--for=condition=Established", ...missing.map((o) => `crd/${o.metadata.name}`), "--timeout=60s"]);
  }
});

const key = (f: Finding) => `${f.code} ${f.object}`;
const findings = (stdout: string) => (JSON.parse(stdout) as { findings: Finding[] }).findings;

/** Pods the analyzers need to see in the cluster, per case (the cases' Deployments make them). */
const PODS: Record<string, string[]> = { "server.yaml": ["app=api"], "annotations.yaml": ["app=db"] };

for (const name of Object.keys(CASES)) {
  test(`analyze --cluster: ${name} applied to the cluster gives the findings the file gives offline`, { skip }, async () => {
    const shop = await c.newNamespace("an-shop");
    const front = await c.newNamespace("an-front");
    try {
      const text = readFileSync(casePath(name), "utf8").replace(/\bshop\b/g, shop).replace(/\bfrontend\b/g, front);
      await c.apply(text);
      for (const sel of PODS[name] ?? []) await c.waitForPods(shop, sel, { count: 1 });
      const offline = await runMesh(["analyze", "-", "-o", "json"], { stdin: text });
      const expected = findings(offline.stdout).map(key).sort();
      assert.equal(expected.length, CASES[name].length);
      const live = await mesh(["analyze", "--cluster", "-A", "-o", "json", "-L", shop]);
      assert.match(live.stderr, /control-plane analyzers skipped/);
      const got = findings(live.stdout).filter((f) => f.namespace === shop || f.namespace === front);
      assert.deepEqual(got.map(key).sort(), expected);
      assert.ok(got.every((f) => f.file === undefined && f.line === undefined), "cluster objects have no file");
      // -n reads one namespace: the findings about it are the same
      const one = await mesh(["analyze", "--cluster", "-n", shop, "-o", "json", "-L", shop]);
      assert.deepEqual(findings(one.stdout).map(key).sort(), expected.filter((k) => !k.includes(`/${front}/`)));
    } finally {
      await c.deleteNamespace(shop);
      await c.deleteNamespace(front);
    }
  });
}

test("analyze --cluster with files: the files are laid over the cluster, and a mistake only the cluster reveals is found at its line", { skip }, async () => {
  const ns = await c.newNamespace("an-overlay");
  const dir = mkdtempSync(join(tmpdir(), "mesh-analyze-"));
  try {
    await c.apply(
      [
        { apiVersion: "v1", kind: "Service", metadata: { name: "cart" }, spec: { selector: { app: "cart" }, ports: [{ name: "http", port: 80, targetPort: 8080 }] } },
        { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "cart" }, spec: { selector: { matchLabels: { app: "cart" } }, template: { metadata: { labels: { app: "cart" } }, spec: { containers: [{ name: "cart", image: "example/cart:1", ports: [{ name: "http", containerPort: 8080 }] }] } } } },
      ].map((o) => JSON.stringify(o)).join("\n---\n"),
      ns,
    );
    await c.waitForPods(ns, "app=cart", { count: 1 });
    const file = join(dir, "route.yaml");
    writeFileSync(
      file,
      [
        "apiVersion: policy.linkerd.io/v1beta3",
        "kind: HTTPRoute",
        "metadata:",
        "  name: cart",
        "spec:",
        "  parentRefs:",
        "    - name: cart",
        "      kind: Service",
        "      group: core",
        "      port: 8080",
        "---",
        "apiVersion: policy.linkerd.io/v1beta1",
        "kind: Server",
        "metadata:",
        "  name: cart-http",
        "spec:",
        "  podSelector:",
        "    matchLabels:",
        "      app: cart",
        "  port: http",
        "---",
        "apiVersion: policy.linkerd.io/v1alpha1",
        "kind: AuthorizationPolicy",
        "metadata:",
        "  name: cart-http",
        "spec:",
        "  targetRef: {group: policy.linkerd.io, kind: Server, name: cart-http}",
        "  requiredAuthenticationRefs: []",
        "",
      ].join("\n"),
    );
    // alone, the file cannot tell: the Service and the pods are not in it
    const offline = findings((await runMesh(["analyze", file, "-n", ns, "-o", "json"])).stdout);
    assert.deepEqual(offline.map((f) => f.code).sort(), ["MESH111", "MESH201"]);
    // laid over the cluster: the Service exists but has no port 8080; the Server selects the cart pod
    const r = await mesh(["analyze", "--cluster", "-n", ns, file, "-o", "json", "--verbose"]);
    assert.equal(r.code, 1, r.stderr);
    const got = findings(r.stdout);
    assert.deepEqual(got.map((f) => [f.code, f.object, f.file, f.line]), [["MESH112", `HTTPRoute/${ns}/cart`, file, 10]]);
    assert.match(got[0].message, /parent Service \S+\/cart has no port 8080 \(it has 80\)/);
    // a fixed number of list requests, whatever the cluster holds: 16 resource types, namespaces, linkerd-config
    assert.match(r.stderr, /^read the cluster with 18 requests$/m);
    const all = await mesh(["analyze", "--cluster", "-A", "-o", "json", "--verbose"]);
    assert.match(all.stderr, /^read the cluster with 18 requests$/m);
    // the fixed file: nothing
    writeFileSync(file, readFileSync(file, "utf8").replace("port: 8080", "port: 80"));
    const fixed = await mesh(["analyze", "--cluster", "-n", ns, file, "-o", "json"]);
    assert.deepEqual(findings(fixed.stdout), []);
    assert.equal(fixed.code, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await c.deleteNamespace(ns);
  }
});
