// mesh version --proxy, diagnostics (proxy-metrics, controller-metrics, endpoints, policy) and authz against
// the real API server and the proxy stand-ins (test/cluster/README.md). The test namespace plays the
// control plane's too (-L NS, a linkerd-config in it, pods labelled linkerd.io/control-plane-ns=NS),
// so nothing here depends on an installed control plane or on other tests' pods.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "../../src/kube/cluster.js";
import { connectTestCluster, testClusterSkipReason, type TestCluster } from "../helpers/cluster.js";
import { runMesh } from "../helpers/run.js";
import { obfuscateValue } from "../../src/diagnostics/metrics.js";

const skip = testClusterSkipReason();
let c: TestCluster;
let ns: string;
const createdCrds: string[] = [];
const POLICY_CRDS = ["servers.policy.linkerd.io", "serverauthorizations.policy.linkerd.io", "authorizationpolicies.policy.linkerd.io", "httproutes.policy.linkerd.io", "meshtlsauthentications.policy.linkerd.io", "networkauthentications.policy.linkerd.io"];

function deployment(name: string, opts: { image?: string; replicas?: number; adminHttp?: boolean } = {}): string {
  return JSON.stringify({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name },
    spec: {
      replicas: opts.replicas ?? 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, "linkerd.io/control-plane-ns": ns, "linkerd.io/proxy-deployment": name } },
        spec: {
          containers: [
            // a control-plane-like container whose admin-http port is the stand-in's admin server
            { name: "app", image: `example/${name}:1`, ports: [{ name: "http", containerPort: 8080 }, ...(opts.adminHttp ? [{ name: "admin-http", containerPort: 4191 }] : [])] },
            { name: "linkerd-proxy", image: opts.image ?? "cr.l5d.io/linkerd/proxy:stable-2.14.10", ports: [{ name: "linkerd-admin", containerPort: 4191 }] },
          ],
        },
      },
    },
  });
}

async function mesh(args: string[]) {
  return runMesh([...args, "--kubeconfig", c.kubeconfig, "-L", ns], { now: new Date(), cluster: (g) => connect(g) });
}

before(async () => {
  if (skip) return;
  c = await connectTestCluster();
  ns = await c.newNamespace("diag");
  const config = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "linkerd-config" }, data: { values: "linkerdVersion: stable-2.14.10\nclusterDomain: cluster.local\n" } };
  const svc = { apiVersion: "v1", kind: "Service", metadata: { name: "web" }, spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: 8080 }] } };
  await c.apply([JSON.stringify(config), deployment("web", { replicas: 2 }), deployment("old", { image: "cr.l5d.io/linkerd/proxy:stable-2.14.9" }), deployment("ctl", { adminHttp: true }), JSON.stringify(svc)].join("\n---\n"), ns);
  await c.waitForPods(ns, "app in (web,old,ctl)", { count: 4 });
});

after(async () => {
  if (skip || !c) return;
  await c.deleteNamespace(ns);
  if (createdCrds.length) await c.kubectl(["delete", "crd", ...createdCrds, "--ignore-not-found", "--wait=false"], { allowFail: true });
});

test("version --proxy -n NS: the image tags of the meshed pods, the older one flagged; -o json", { skip }, async () => {
  const r = await mesh(["version", "--proxy", "-n", ns]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\nServer version: stable-2\.14\.10\nProxy versions:\n\tstable-2\.14\.10 \(3 pods\)\n/);
  assert.match(r.stdout, new RegExp(`\\tstable-2\\.14\\.9 \\(1 pod, older than the control plane \\(stable-2\\.14\\.10\\)\\)\\n\\t\\t${ns}/old-\\S+\\n$`));
  const j = JSON.parse((await mesh(["version", "--proxy", "-n", ns, "-o", "json"])).stdout) as { proxyVersions: { version: string; pods: string[]; olderThanControlPlane: boolean }[] };
  assert.deepEqual(j.proxyVersions.map((g) => [g.version, g.pods.length, g.olderThanControlPlane]), [["stable-2.14.10", 3, false], ["stable-2.14.9", 1, true]]);
});

test("dg proxy-metrics deploy/web: both pods' /metrics through the pod proxy; --obfuscate hides the pod names", { skip }, async () => {
  const r = await mesh(["dg", "proxy-metrics", "-n", ns, "deploy/web"]);
  assert.equal(r.code, 0, r.stderr);
  const headers = r.stdout.match(/^# POD \S+ \(\d of \d\)$/gm) ?? [];
  assert.equal(headers.length, 2, r.stdout.slice(0, 500));
  assert.match(r.stdout, /^proxy_build_info\{/m);
  assert.doesNotMatch(r.stdout, /# ERROR/);
  const [pod] = await c.waitForPods(ns, "app=web", { count: 2 });
  const o = await mesh(["dg", "proxy-metrics", "-n", ns, `po/${pod.metadata.name}`, "--obfuscate"]);
  assert.equal(o.code, 0, o.stderr);
  const body = o.stdout.split("\n").slice(3).join("\n");
  assert.ok(body.length > 100);
  assert.doesNotMatch(body, /# ERROR/);
  assert.ok(!body.includes(pod.metadata.name) || body.includes(obfuscateValue(pod.metadata.name)));
});

test("dg controller-metrics: every admin-http container of -L's pods, through the pod proxy", { skip }, async () => {
  const r = await mesh(["dg", "controller-metrics"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^#\n# POD ctl-\S+ \(1 of 1\)\n# CONTAINER app \n#\n/);
  // the other pods have no admin-http port: no blocks of their own
  assert.equal((r.stdout.match(/^# POD /gm) ?? []).length, 1);
  assert.match(r.stdout, /^proxy_build_info\{/m);
});

test("dg endpoints: the Service's EndpointSlices as the controller wrote them, with pod, IP, target port, meshed", { skip }, async () => {
  const pods = await c.waitForPods(ns, "app=web", { count: 2 });
  let rows: { namespace: string; ip: string; port: number; pod: string; service: string; meshed: boolean }[] = [];
  // the EndpointSlice controller fills the slice shortly after the pods are ready
  for (let i = 0; i < 50 && rows.length < 2; i++) {
    const r = await mesh(["dg", "endpoints", "-o", "json", `web.${ns}.svc.cluster.local:80`]);
    assert.equal(r.code, 0, r.stderr);
    rows = JSON.parse(r.stdout) as typeof rows;
    if (rows.length < 2) await new Promise((res) => setTimeout(res, 200));
  }
  const want = pods.map((p) => ({ namespace: ns, ip: (p.status as { podIP: string }).podIP, port: 8080, pod: p.metadata.name, service: `web.${ns}`, meshed: true })).sort((a, b) => (a.ip < b.ip ? -1 : 1));
  assert.deepEqual(rows, want);
  const t = await mesh(["dg", "endpoints", `web.${ns}.svc.cluster.local:80`]);
  assert.match(t.stdout, /^NAMESPACE\s+IP\s+PORT\s+POD\s+SERVICE\s+MESHED\n/);
  const missing = await mesh(["dg", "endpoints", `nope.${ns}.svc.cluster.local:80`]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, new RegExp(`^error: service "nope" not found in namespace "${ns}"`));
});

test("authz deploy/web and dg policy: the Server selecting its pods and the policies authorizing it", { skip }, async () => {
  const missing: string[] = [];
  for (const crd of POLICY_CRDS) if ((await c.kubectl(["get", "crd", crd], { allowFail: true })).code !== 0) missing.push(crd);
  if (missing.length) {
    const crds = await runMesh(["install", "--crds", "--ignore-cluster", "-o", "json"]);
    const items = (JSON.parse(crds.stdout).items as { metadata: { name: string } }[]).filter((o) => missing.includes(o.metadata.name));
    await c.kubectl(["apply", "-f", "-"], { stdin: JSON.stringify({ apiVersion: "v1", kind: "List", items }) });
    createdCrds.push(...missing);
    await c.kubectl(["wait", "--for=condition=Established", ...missing.map((n) => `crd/${n}`), "--timeout=30s"]);
  }
  const objects = [
    { apiVersion: "policy.linkerd.io/v1beta1", kind: "Server", metadata: { name: "web-http" }, spec: { podSelector: { matchLabels: { app: "web" } }, port: "http" } },
    { apiVersion: "policy.linkerd.io/v1beta1", kind: "Server", metadata: { name: "old-http" }, spec: { podSelector: { matchLabels: { app: "old" } }, port: "http" } },
    { apiVersion: "policy.linkerd.io/v1alpha1", kind: "AuthorizationPolicy", metadata: { name: "web-authz" }, spec: { targetRef: { group: "policy.linkerd.io", kind: "Server", name: "web-http" }, requiredAuthenticationRefs: [{ group: "policy.linkerd.io", kind: "MeshTLSAuthentication", name: "any" }] } },
    { apiVersion: "policy.linkerd.io/v1alpha1", kind: "AuthorizationPolicy", metadata: { name: "old-authz" }, spec: { targetRef: { group: "policy.linkerd.io", kind: "Server", name: "old-http" }, requiredAuthenticationRefs: [{ group: "policy.linkerd.io", kind: "MeshTLSAuthentication", name: "any" }] } },
  ];
  await c.apply(objects.map((o) => JSON.stringify(o)).join("\n---\n"), ns);
  const r = await mesh(["authz", "-n", ns, "deploy/web"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "ROUTE   SERVER    AUTHORIZATION_POLICY   SERVER_AUTHORIZATION   \n*       web-http  web-authz                                     \n");

  // dg policy reads the same objects for one pod's port: the Server names the port "http" (8080)
  const [pod] = await c.waitForPods(ns, "app=web", { count: 2 });
  const p = await mesh(["dg", "policy", "-n", ns, `po/${pod.metadata.name}`, "8080", "-o", "json"]);
  assert.equal(p.code, 0, p.stderr);
  const doc = JSON.parse(p.stdout) as { port: number; servers: { metadata: { name: string } }[]; authorizationPolicies: { metadata: { name: string } }[] };
  assert.deepEqual([doc.port, doc.servers.map((x) => x.metadata.name), doc.authorizationPolicies.map((x) => x.metadata.name)], [8080, ["web-http"], ["web-authz"]]);
  const other = await mesh(["dg", "policy", "-n", ns, `po/${pod.metadata.name}`, "4191"]);
  assert.match(other.stdout, /\nservers: \[\]\n/);
});
