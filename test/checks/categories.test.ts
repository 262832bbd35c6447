// Every category's logic against hand-made clusters: "<category> <description>: <error>" lines.
import { test } from "node:test";
import assert from "node:assert/strict";
import { certFixture } from "../fixtures/certs/fixtures.js";
import type { KubeObject, Pod } from "../../src/kube/types.js";
import { FakeApi } from "../kube/fake-api.js";
import { FIXTURE_NOW, healthyCluster, healthyMetrics, linkerdValues, pod, problems, proxyMetricsText, runAgainst, statusOf } from "./fixtures.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");
type Mutator = (objects: KubeObject[]) => KubeObject[];

function cluster(...mutate: Mutator[]): KubeObject[] {
  return mutate.reduce((objs, m) => m(objs), healthyCluster());
}
const without = (kind: string, name: string): Mutator => (objs) => objs.filter((o) => !(o.kind === kind && o.metadata.name === name));
const replace = (kind: string, name: string, f: (o: any) => void): Mutator => (objs) =>
  objs.map((o) => {
    if (o.kind !== kind || o.metadata.name !== name) return o;
    const copy = structuredClone(o);
    f(copy);
    return copy;
  });
const add = (...extra: KubeObject[]): Mutator => (objs) => [...objs, ...extra];
const issuer = (name: string): Mutator => replace("Secret", "linkerd-identity-issuer", (s) => (s.data = { "crt.pem": b64(certFixture(`${name}.crt`)), "key.pem": b64(certFixture(`${name}.key`)) }));
const values = (overrides: Record<string, unknown>): Mutator => replace("ConfigMap", "linkerd-config", (c) => (c.data.values = linkerdValues(overrides)));

test("a healthy cluster passes every check of every mode", async () => {
  for (const mode of ["default", "proxy", "crds"] as const) {
    const { results } = await runAgainst({ mode });
    assert.deepEqual(problems(results), [], mode);
  }
});

test("default mode runs Linkerd's categories in Linkerd's order, then mesh's", async () => {
  const { results } = await runAgainst();
  const cats = [...new Set(results.filter((r) => r.status !== "skipped").map((r) => r.category))];
  assert.deepEqual(cats, [
    "kubernetes-api",
    "kubernetes-version",
    "linkerd-existence",
    "linkerd-config",
    "linkerd-identity",
    "linkerd-webhooks-and-apisvc-tls",
    "linkerd-version",
    "control-plane-version",
    "linkerd-control-plane-proxy",
    "mesh-production",
    "mesh-config",
  ]);
});

test("--proxy adds the data-plane categories and drops control-plane-version", async () => {
  const { results } = await runAgainst({ mode: "proxy" });
  const cats = [...new Set(results.filter((r) => r.status !== "skipped").map((r) => r.category))];
  assert.deepEqual(cats, [
    "kubernetes-api",
    "kubernetes-version",
    "linkerd-existence",
    "linkerd-config",
    "linkerd-identity",
    "linkerd-webhooks-and-apisvc-tls",
    "linkerd-identity-data-plane",
    "linkerd-version",
    "linkerd-control-plane-proxy",
    "linkerd-data-plane",
    "mesh-production",
    "mesh-config",
  ]);
});

test("each object is fetched once per run", async () => {
  for (const mode of ["default", "proxy", "pre", "crds"] as const) {
    const { api } = await runAgainst({ mode });
    const seen = api.log.map((r) => `${r.method} ${r.path} ${r.body ?? ""}`);
    assert.deepEqual(seen.filter((r, i) => seen.indexOf(r) !== i), [], `${mode}: duplicate requests`);
  }
});

// -- kubernetes-api / kubernetes-version ----------------------------------------------------------

test("an unreachable API server fails 'can initialize the client' or 'can query' and stops", async () => {
  const { results } = await runAgainst({
    world: {
      connect: async () => {
        throw new Error("cannot load kubeconfig /nope: ENOENT");
      },
    },
  });
  assert.deepEqual(problems(results), ["kubernetes-api can initialize the client: cannot load kubeconfig /nope: ENOENT"]);
  const refused = new FakeApi(healthyCluster(), {
    intercept: () => {
      throw Object.assign(new Error("cannot connect to the Kubernetes API at https://127.0.0.1:1: connection refused"), { code: "ECONNREFUSED" });
    },
  });
  const r2 = await runAgainst({ api: refused });
  assert.deepEqual(problems(r2.results), ["kubernetes-api can query the Kubernetes API: cannot connect to the Kubernetes API at https://127.0.0.1:1: connection refused"]);
});

test("bad credentials (401) fail 'can query the Kubernetes API' readably", async () => {
  const api = new FakeApi(healthyCluster(), { intercept: () => ({ status: 401, body: '{"kind":"Status","message":"Unauthorized","code":401}' }) });
  const { results } = await runAgainst({ api });
  assert.deepEqual(problems(results), ["kubernetes-api can query the Kubernetes API: unauthorized: the API server rejected the credentials (GET /version)"]);
});

test("Kubernetes older than 1.21 fails the minimum version check (not fatal)", async () => {
  const api = new FakeApi(healthyCluster(), { gitVersion: "v1.20.2", metrics: healthyMetrics(healthyCluster()) });
  const { results } = await runAgainst({ api });
  assert.deepEqual(problems(results), ["kubernetes-version is running the minimum Kubernetes API version: Kubernetes is on version [1.20.2], but version [1.21.0] or more recent is required"]);
  assert.equal(statusOf(results, "control plane pods are ready"), "ok");
});

test("an unparseable server version is reported in Linkerd's words", async () => {
  const api = new FakeApi(healthyCluster(), { gitVersion: "v1.28", metrics: healthyMetrics(healthyCluster()) });
  const { results } = await runAgainst({ api });
  assert.deepEqual(problems(results), ["kubernetes-version is running the minimum Kubernetes API version: unknown version string format [v1.28]"]);
});

test("a 500 from the API server fails the checks reading that object, with the server's message", async () => {
  const api = new FakeApi(healthyCluster(), {
    metrics: healthyMetrics(healthyCluster()),
    intercept: (req) => (req.path === "/api/v1/nodes" ? { status: 500, body: '{"kind":"Status","message":"etcdserver: request timed out","code":500}' } : undefined),
  });
  const { results } = await runAgainst({ api });
  assert.deepEqual(problems(results), [
    "linkerd-existence cluster networks contains all node podCIDRs: the API server answered 500 to GET /api/v1/nodes: etcdserver: request timed out",
    "linkerd-config proxy-init container runs as root user if docker container runtime is used: the API server answered 500 to GET /api/v1/nodes: etcdserver: request timed out",
  ]);
});

test("a 403 names the missing permission", async () => {
  const api = new FakeApi(healthyCluster(), {
    metrics: healthyMetrics(healthyCluster()),
    intercept: (req) => (req.path.startsWith("/api/v1/nodes") ? { status: 403, body: "" } : undefined),
  });
  const { results } = await runAgainst({ api });
  assert.equal(problems(results)[0], 'linkerd-existence cluster networks contains all node podCIDRs: forbidden: missing RBAC permission "list" on nodes (cluster-wide)');
});

test("a user who may not list pods cluster-wide still gets namespace-scoped pod checks", async () => {
  const api = new FakeApi(healthyCluster(), {
    metrics: healthyMetrics(healthyCluster()),
    intercept: (req) =>
      req.path === "/api/v1/pods"
        ? { status: 403, body: JSON.stringify({ kind: "Status", code: 403, message: 'pods is forbidden: User "dev" cannot list resource "pods" in API group "" at the cluster scope' }) }
        : undefined,
  });
  const { results } = await runAgainst({ api });
  assert.equal(statusOf(results, "control plane pods are ready"), "ok");
  const denied = 'pods is forbidden: User "dev" cannot list resource "pods" in API group "" at the cluster scope';
  assert.deepEqual(problems(results), [
    `linkerd-existence cluster networks contains all pods: ${denied}`,
    `mesh-production data plane proxies are not older than the control plane: ${denied}`,
    `mesh-production no Job pod is kept running by its proxy: ${denied}`,
  ]);
});

// -- pre-kubernetes-setup ------------------------------------------------------------------------

const emptyCluster = (): KubeObject[] => healthyCluster().filter((o) => o.kind === "Node" || (o.kind === "Namespace" && o.metadata.name !== "linkerd") || o.metadata.name === "extension-apiserver-authentication");
const installObjects = async (): Promise<KubeObject[]> => [
  { apiVersion: "v1", kind: "Namespace", metadata: { name: "linkerd" } },
  { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: "linkerd-linkerd-identity" } },
  { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "linkerd-identity", namespace: "linkerd" } },
];

test("--pre passes on an empty cluster and dry-runs only cluster-scoped objects", async () => {
  const { results, api } = await runAgainst({ mode: "pre", objects: emptyCluster(), world: { installObjects } });
  assert.deepEqual(problems(results), []);
  assert.deepEqual(
    api.requests().filter((r) => r.startsWith("POST") && r.includes("dryRun")),
    ["POST /api/v1/namespaces?dryRun=All", "POST /apis/rbac.authorization.k8s.io/v1/clusterroles?dryRun=All"],
  );
  assert.equal(results.filter((r) => r.category === "pre-kubernetes-setup" && r.status === "ok").length, 11);
});

test("--pre as a user without rights names every missing permission", async () => {
  const api = new FakeApi(emptyCluster(), {
    access: (a) => (a.verb === "get" ? { allowed: true } : { allowed: false, reason: a.resource === "secrets" ? "RBAC: no rule" : undefined }),
    dryRun: (o) => ({
      status: 403,
      body: JSON.stringify({ kind: "Status", code: 403, message: `${o.kind!.toLowerCase()}s is forbidden: User "dev" cannot create resource "${o.kind!.toLowerCase()}s" in API group "" at the cluster scope` }),
    }),
  });
  const { results } = await runAgainst({ mode: "pre", api, world: { installObjects } });
  assert.deepEqual(problems(results), [
    'pre-kubernetes-setup can create non-namespaced resources: cannot create Namespace/linkerd: namespaces is forbidden: User "dev" cannot create resource "namespaces" in API group "" at the cluster scope\n    cannot create ClusterRole/linkerd-linkerd-identity: clusterroles is forbidden: User "dev" cannot create resource "clusterroles" in API group "" at the cluster scope',
    "pre-kubernetes-setup can create ServiceAccounts: not authorized to access serviceaccounts",
    "pre-kubernetes-setup can create Services: not authorized to access services",
    "pre-kubernetes-setup can create Deployments: not authorized to access deployments.apps",
    "pre-kubernetes-setup can create CronJobs: not authorized to access cronjobs.batch",
    "pre-kubernetes-setup can create ConfigMaps: not authorized to access configmaps",
    "pre-kubernetes-setup can create Secrets: not authorized to access secrets: RBAC: no rule",
  ]);
});

test("--pre: existing namespace, missing extension-apiserver-authentication, clock skew", async () => {
  const objects = cluster(
    without("ConfigMap", "extension-apiserver-authentication"),
    replace("Node", "node-1", (n) => (n.status.conditions[0].lastHeartbeatTime = "2025-12-31T23:00:00Z")),
  );
  const { results } = await runAgainst({ mode: "pre", objects, world: { installObjects: async () => [] } });
  assert.deepEqual(problems(results), [
    'pre-kubernetes-setup control plane namespace does not already exist: The "linkerd" namespace already exists',
    'pre-kubernetes-setup can read extension-apiserver-authentication configmap: configmaps "extension-apiserver-authentication" not found',
    "pre-kubernetes-setup no clock skew detected: clock skew detected for node(s): node-1",
  ]);
  assert.equal(results.find((r) => r.description === "no clock skew detected")?.status, "warning");
});

test("--pre --linkerd-cni-enabled runs the CNI category", async () => {
  const { results } = await runAgainst({ mode: "pre", objects: emptyCluster(), config: { cniEnabled: true } });
  assert.deepEqual(problems(results), ['linkerd-cni-plugin cni plugin ConfigMap exists: configmaps "linkerd-cni-config" not found']);
});

// -- CRDs ------------------------------------------------------------------------------------------

test("--crds lists every missing CRD and version, joined with commas", async () => {
  const objects = cluster(without("CustomResourceDefinition", "servers.policy.linkerd.io"), replace("CustomResourceDefinition", "httproutes.policy.linkerd.io", (c) => (c.spec.versions = [{ name: "v1alpha1" }])));
  const { results } = await runAgainst({ mode: "crds", objects });
  assert.deepEqual(problems(results), ["linkerd-crd control plane CustomResourceDefinitions exist: CRD httproutes.policy.linkerd.io is missing version v1beta3, missing servers.policy.linkerd.io"]);
});

test("--crds retries until the CRDs appear, within --wait", async () => {
  const api = new FakeApi(cluster(without("CustomResourceDefinition", "servers.policy.linkerd.io")));
  let polls = 0;
  const clock = {
    now: () => FIXTURE_NOW.getTime() + polls * 5000,
    sleep: async (_ms: number, signal?: AbortSignal) => {
      if (signal) return new Promise<void>((r) => signal.addEventListener("abort", () => r()));
      polls++;
      if (polls === 2) api.put(healthyCluster().find((o) => o.metadata.name === "servers.policy.linkerd.io")!);
    },
  };
  const { results } = await runAgainst({ mode: "crds", api, wait: 60_000, clock });
  assert.deepEqual(results.filter((r) => r.category === "linkerd-crd").map((r) => `${r.retry ? "retry " : ""}${r.status}`), ["retry error", "retry error", "ok"]);
});

// -- linkerd-existence / linkerd-config --------------------------------------------------------------

test("control plane missing: 'linkerd-config' fails and the run stops", async () => {
  const { results } = await runAgainst({ objects: emptyCluster() });
  assert.deepEqual(problems(results), [`linkerd-existence 'linkerd-config' config map exists: configmaps "linkerd-config" not found`]);
  assert.equal(results.at(-1)?.description, "'linkerd-config' config map exists");
});

test("control plane pods not ready: the proxy container is named", async () => {
  const objects = cluster(replace("Pod", "linkerd-identity-5d8c7b9f4-q9w8e", (p: Pod) => (p.status!.containerStatuses!.find((c) => c.name === "linkerd-proxy")!.ready = false)));
  const { results } = await runAgainst({ objects });
  assert.deepEqual(problems(results), ["linkerd-existence control plane pods are ready: pod/linkerd-identity-5d8c7b9f4-q9w8e container linkerd-proxy is not ready"]);
});

test("no destination pod: No running pods for linkerd-destination; retried with the live error under --wait", async () => {
  const objects = cluster(without("Pod", "linkerd-destination-7c4f9d8b6-x2k4p"));
  const { results } = await runAgainst({ objects, wait: 10_000 });
  const mine = results.filter((r) => r.description === "control plane pods are ready");
  assert.deepEqual(
    mine.map((r) => `${r.retry ? "retry " : ""}${r.error}`),
    ['retry No running pods for "linkerd-destination"', 'retry No running pods for "linkerd-destination"', 'No running pods for "linkerd-destination"'],
  );
});

test("missing RBAC, service accounts and webhooks are listed", async () => {
  const objects = cluster(without("ClusterRole", "linkerd-linkerd-proxy-injector"));
  assert.deepEqual(problems((await runAgainst({ objects })).results), ["linkerd-config control plane ClusterRoles exist: missing ClusterRoles: linkerd-linkerd-proxy-injector"]);
  const o2 = cluster(without("ServiceAccount", "linkerd-heartbeat"));
  assert.deepEqual(problems((await runAgainst({ objects: o2 })).results), ["linkerd-existence heartbeat ServiceAccount exist: missing ServiceAccounts: linkerd-heartbeat"]);
  const o3 = cluster(without("ServiceAccount", "linkerd-heartbeat"), values({ disableHeartBeat: true }));
  assert.deepEqual(problems((await runAgainst({ objects: o3 })).results), []);
  const o4 = cluster(without("ValidatingWebhookConfiguration", "linkerd-sp-validator-webhook-config"));
  assert.deepEqual(problems((await runAgainst({ objects: o4 })).results), ["linkerd-config control plane ValidatingWebhookConfigurations exist: missing ValidatingWebhookConfigurations: linkerd-sp-validator-webhook-config"]);
});

test("cluster networks: pods, services and node podCIDRs outside them", async () => {
  const stray = pod({ name: "stray", namespace: "default", ip: "203.0.113.7" });
  stray.metadata.labels = {};
  const objects = cluster(
    add(stray),
    replace("Node", "node-1", (n) => (n.spec.podCIDR = "198.51.100.0/24")),
    replace("Service", "kubernetes", (s) => (s.spec.clusterIP = "198.18.0.1")),
  );
  assert.deepEqual(problems((await runAgainst({ objects })).results), [
    'linkerd-existence cluster networks contains all node podCIDRs: node has podCIDR(s) [198.51.100.0/24] which are not contained in the Linkerd clusterNetworks.\n\tTry installing linkerd via --set clusterNetworks="198.51.100.0/24"',
    'linkerd-existence cluster networks contains all pods: the Linkerd clusterNetworks ["10.0.0.0/8,100.64.0.0/10,172.16.0.0/12,192.168.0.0/16"] do not include pod default/stray (203.0.113.7)',
    'linkerd-existence cluster networks contains all services: the Linkerd clusterNetworks ["10.0.0.0/8,100.64.0.0/10,172.16.0.0/12,192.168.0.0/16"] do not include svc default/kubernetes (198.18.0.1)',
  ]);
});

test("nodes without podCIDR skip the podCIDR check silently; docker nodes need runAsRoot", async () => {
  const objects = cluster(replace("Node", "node-1", (n) => ((n.spec = {}), (n.status.nodeInfo.containerRuntimeVersion = "docker://20.10.7"))));
  const { results } = await runAgainst({ objects });
  assert.equal(statusOf(results, "cluster networks contains all node podCIDRs"), "skipped");
  assert.deepEqual(problems(results), [
    "linkerd-config proxy-init container runs as root user if docker container runtime is used: there are nodes using the docker container runtime and proxy-init container must run as root user.\ntry installing linkerd via --set proxyInit.runAsRoot=true",
  ]);
  const ok = cluster(replace("Node", "node-1", (n) => (n.status.nodeInfo.containerRuntimeVersion = "docker://20.10.7")), values({ proxyInit: { runAsRoot: true } }));
  assert.deepEqual(problems((await runAgainst({ objects: ok })).results), []);
});

test("unschedulable control-plane pods are a warning", async () => {
  const objects = cluster(replace("Pod", "linkerd-identity-5d8c7b9f4-q9w8e", (p) => p.status.conditions.push({ type: "PodScheduled", status: "False", reason: "Unschedulable", message: "0/1 nodes are available" })));
  assert.deepEqual(problems((await runAgainst({ objects })).results), ["linkerd-existence no unschedulable pods: linkerd-identity-5d8c7b9f4-q9w8e: 0/1 nodes are available"]);
});

// -- linkerd-identity --------------------------------------------------------------------------------

test("issuer expiring within 60 days is a warning", async () => {
  const { results } = await runAgainst({ objects: cluster(issuer("issuer-expiring-soon")) });
  assert.deepEqual(problems(results), ["linkerd-identity issuer cert is valid for at least 60 days: issuer certificate will expire on 2026-01-31T00:00:00Z"]);
  assert.equal(statusOf(results, "issuer cert is valid for at least 60 days"), "warning");
});

test("an expired issuer fails its validity check and stops the run", async () => {
  const { results } = await runAgainst({ objects: cluster(issuer("issuer-expired")) });
  assert.deepEqual(problems(results), ["linkerd-identity issuer cert is within its validity period: issuer certificate is not valid anymore. Expired on 2021-01-01T00:00:00Z"]);
});

test("an issuer not signed by the trust anchor fails 'issued by the trust anchor'", async () => {
  const { results } = await runAgainst({ objects: cluster(issuer("issuer-other-ca")) });
  const p = problems(results);
  assert.equal(p.length, 1);
  assert.match(p[0], /^linkerd-identity issuer cert is issued by the trust anchor: x509: certificate signed by unknown authority/);
});

test("trust anchors expiring or expired", async () => {
  const soon = cluster(values({ identityTrustAnchorsPEM: certFixture("ca.crt") + certFixture("ca-expiring-soon.crt") }));
  assert.deepEqual(problems((await runAgainst({ objects: soon })).results), ["linkerd-identity trust anchors are valid for at least 60 days: Anchors expiring soon:\n\t* 500 identity.linkerd.cluster.local will expire on 2026-01-31T00:00:00Z"]);
  const expired = cluster(values({ identityTrustAnchorsPEM: certFixture("ca.crt") + certFixture("ca-expired.crt") }));
  assert.deepEqual(problems((await runAgainst({ objects: expired })).results), ["linkerd-identity trust anchors are within their validity period: Invalid anchors:\n\t* 501 identity.linkerd.cluster.local not valid anymore. Expired on 2021-01-01T00:00:00Z"]);
});

test("missing issuer secret and keys use Linkerd's messages", async () => {
  assert.deepEqual(problems((await runAgainst({ objects: cluster(without("Secret", "linkerd-identity-issuer")) })).results), ['linkerd-identity certificate config is valid: secrets "linkerd-identity-issuer" not found']);
  const noKey = cluster(replace("Secret", "linkerd-identity-issuer", (s) => delete s.data["key.pem"]));
  assert.deepEqual(problems((await runAgainst({ objects: noKey })).results), [
    "linkerd-identity certificate config is valid: key key.pem containing the issuer key needs to exist in secret linkerd-identity-issuer if --identity-external-issuer=true",
  ]);
});

test("an external issuer (kubernetes.io/tls) is read from ca.crt, tls.crt and tls.key", async () => {
  const objects = cluster(
    values({ identity: { issuer: { scheme: "kubernetes.io/tls" } } }),
    replace("Secret", "linkerd-identity-issuer", (s) => (s.data = { "ca.crt": b64(certFixture("ca.crt")), "tls.crt": b64(certFixture("issuer.crt")), "tls.key": b64(certFixture("issuer.key")) })),
  );
  assert.deepEqual(problems((await runAgainst({ objects })).results), []);
});

// -- linkerd-webhooks-and-apisvc-tls ---------------------------------------------------------------

test("a webhook whose serving cert does not match its caBundle fails", async () => {
  const objects = cluster(replace("Secret", "linkerd-proxy-injector-k8s-tls", (s) => (s.data = { "tls.crt": b64(certFixture("webhook-sp-validator.crt")), "tls.key": b64(certFixture("webhook-sp-validator.key")) })));
  const p = problems((await runAgainst({ objects })).results);
  assert.equal(p.length, 1);
  assert.match(p[0], /^linkerd-webhooks-and-apisvc-tls proxy-injector webhook has valid cert: cert is not issued by the trust anchor: x509: /);
});

test("webhook cert expiring within 60 days is a warning; the legacy secret is read when the new one is absent", async () => {
  const soon = cluster(
    replace("Secret", "linkerd-proxy-injector-k8s-tls", (s) => (s.data = { "tls.crt": b64(certFixture("webhook-expiring-soon.crt")), "tls.key": b64(certFixture("webhook-expiring-soon.key")) })),
    replace("MutatingWebhookConfiguration", "linkerd-proxy-injector-webhook-config", (m) => (m.webhooks[0].clientConfig.caBundle = b64(certFixture("webhook-expiring-soon.crt")))),
  );
  assert.deepEqual(problems((await runAgainst({ objects: soon })).results), ["linkerd-webhooks-and-apisvc-tls proxy-injector cert is valid for at least 60 days: certificate will expire on 2026-01-31T00:00:00Z"]);
  const legacy = cluster(
    without("Secret", "linkerd-sp-validator-k8s-tls"),
    add({ apiVersion: "v1", kind: "Secret", metadata: { name: "linkerd-sp-validator-tls", namespace: "linkerd" }, data: { "crt.pem": b64(certFixture("webhook-sp-validator.crt")), "key.pem": b64(certFixture("webhook-sp-validator.key")) } } as KubeObject),
  );
  assert.deepEqual(problems((await runAgainst({ objects: legacy })).results), []);
  const none = cluster(without("Secret", "linkerd-sp-validator-k8s-tls"));
  assert.deepEqual(problems((await runAgainst({ objects: none })).results), ['linkerd-webhooks-and-apisvc-tls sp-validator webhook has valid cert: secrets "linkerd-sp-validator-tls" not found']);
});

test("the policy validator's checks skip when it is not installed", async () => {
  const objects = cluster(without("ValidatingWebhookConfiguration", "linkerd-policy-validator-webhook-config"), without("Secret", "linkerd-policy-validator-k8s-tls"));
  const { results } = await runAgainst({ objects });
  assert.deepEqual(problems(results), []);
  assert.equal(statusOf(results, "policy-validator webhook has valid cert"), "skipped");
});

// -- versions ------------------------------------------------------------------------------------------

test("offline: 'can determine the latest version' warns, and every up-to-date check says the channel is unsupported", async () => {
  const { results } = await runAgainst({
    world: {
      fetchLatestVersions: async () => {
        throw new Error("cannot look up the latest version at versioncheck.linkerd.io (cannot resolve versioncheck.linkerd.io)");
      },
    },
  });
  assert.deepEqual(problems(results), [
    "linkerd-version can determine the latest version: cannot look up the latest version at versioncheck.linkerd.io (cannot resolve versioncheck.linkerd.io)",
    "linkerd-version cli is up-to-date: unsupported version channel: stable-2.14.10",
    "control-plane-version control plane is up-to-date: unsupported version channel: stable-2.14.10",
    "linkerd-control-plane-proxy control plane proxies are up-to-date: some proxies are not running the current version:\n\t* linkerd-destination-7c4f9d8b6-x2k4p (stable-2.14.10)\n\t* linkerd-identity-5d8c7b9f4-q9w8e (stable-2.14.10)\n\t* linkerd-proxy-injector-6b9d5c8f7-m3n4b (stable-2.14.10)",
  ]);
  assert.ok(results.filter((r) => r.status === "warning").length === 4);
});

test("--expected-version replaces the lookup; the uuid sent is linkerd-config's UID", async () => {
  let asked = "";
  const { results } = await runAgainst({
    config: { expectedVersion: "stable-2.14.11" },
    world: {
      fetchLatestVersions: async (uuid) => {
        asked = uuid;
        return {};
      },
    },
  });
  assert.equal(asked, "");
  assert.deepEqual(problems(results).slice(0, 2), ["linkerd-version cli is up-to-date: is running version 2.14.10 but the latest stable version is 2.14.11", "control-plane-version control plane is up-to-date: is running version 2.14.10 but the latest stable version is 2.14.11"]);
  await runAgainst({
    world: {
      fetchLatestVersions: async (uuid) => {
        asked = uuid;
        return { stable: "stable-2.14.10" };
      },
    },
  });
  assert.equal(asked, "8a3e2c1e-0000-4000-8000-000000000001");
});

test("a control plane of another version: up-to-date and cli-match warnings", async () => {
  const { results } = await runAgainst({ objects: cluster(values({ linkerdVersion: "stable-2.14.9" })) });
  assert.deepEqual(problems(results), [
    "control-plane-version control plane is up-to-date: is running version 2.14.9 but the latest stable version is 2.14.10",
    "control-plane-version control plane and cli versions match: control plane running stable-2.14.9 but cli running stable-2.14.10",
  ]);
});

// -- data plane (--proxy) ---------------------------------------------------------------------------

const oldWeb: Mutator = replace("Pod", "web-5f86686c4d-58p7k", (p) => (p.spec.containers.find((c: { name: string }) => c.name === "linkerd-proxy").image = "cr.l5d.io/linkerd/proxy:stable-2.14.9"));

test("--proxy: old proxies, wrong trust bundle and misplaced labels are warnings", async () => {
  const objects = cluster(
    oldWeb,
    replace("Pod", "web-5f86686c4d-58p7k", (p) => {
      p.spec.containers.find((c: { name: string }) => c.name === "linkerd-proxy").env[0].value = certFixture("other-ca.crt");
      p.metadata.labels["config.linkerd.io/skip-inbound-ports"] = "25";
    }),
    replace("Service", "web-svc", (s) => (s.metadata.annotations = { "mirror.linkerd.io/exported": "true" })),
  );
  const { results } = await runAgainst({ mode: "proxy", objects });
  assert.deepEqual(problems(results).slice(0, 5), [
    "linkerd-identity-data-plane data plane proxies certificate match CA: Some pods do not have the current trust bundle and must be restarted:\n\t* emojivoto/web-5f86686c4d-58p7k",
    "linkerd-data-plane data plane is up-to-date: some proxies are not running the current version:\n\t* web-5f86686c4d-58p7k (stable-2.14.9)",
    "linkerd-data-plane data plane and cli versions match: web-5f86686c4d-58p7k running stable-2.14.9 but cli running stable-2.14.10",
    "linkerd-data-plane data plane pod labels are configured correctly: Some labels on data plane pods should be annotations:\n\t* emojivoto/web-5f86686c4d-58p7k\n\t\tconfig.linkerd.io/skip-inbound-ports",
    "linkerd-data-plane data plane service annotations are configured correctly: Some annotations on data plane services should be labels:\n\t* emojivoto/web-svc\n\t\tmirror.linkerd.io/exported",
  ]);
});

test("--proxy -n: a missing namespace is fatal; no proxies is fatal", async () => {
  assert.deepEqual(problems((await runAgainst({ mode: "proxy", config: { dataPlaneNamespace: "nope" } })).results), ['linkerd-data-plane data plane namespace exists: The "nope" namespace does not exist']);
  assert.deepEqual(problems((await runAgainst({ mode: "proxy", config: { dataPlaneNamespace: "default" } })).results), ['linkerd-data-plane data plane proxies are ready: no "linkerd-proxy" containers found in the "default" namespace']);
});

test("--proxy: opaque ports marked on the service but not on the pod", async () => {
  const objects = cluster(replace("Service", "web-svc", (s) => (s.metadata.annotations = { "config.linkerd.io/opaque-ports": "80" })));
  const { results } = await runAgainst({ mode: "proxy", objects });
  assert.deepEqual(problems(results), [
    "linkerd-data-plane opaque ports are properly annotated: \t* service web-svc expects target port 8080 to be opaque; add it to pod web-5f86686c4d-58p7k config.linkerd.io/opaque-ports annotation",
  ]);
});

// -- HA ------------------------------------------------------------------------------------------------

test("HA installs: kube-system must disable injection and every component needs 2 replicas", async () => {
  const deploy = (name: string, available: number): KubeObject => ({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name, namespace: "linkerd" }, status: { availableReplicas: available } }) as KubeObject;
  const objects = cluster(
    values({ highAvailability: true }),
    replace("MutatingWebhookConfiguration", "linkerd-proxy-injector-webhook-config", (m) => (m.webhooks[0].failurePolicy = "Fail")),
    add(deploy("linkerd-destination", 3), deploy("linkerd-identity", 1), deploy("linkerd-proxy-injector", 3)),
  );
  assert.deepEqual(problems((await runAgainst({ objects })).results), [
    "linkerd-ha-checks pod injection disabled on kube-system: kube-system namespace needs to have the label config.linkerd.io/admission-webhooks: disabled if injector webhook failure policy is Fail",
    "linkerd-ha-checks multiple replicas of control plane pods: not enough replicas available for [linkerd-identity]",
  ]);
});

// -- mesh-production -------------------------------------------------------------------------------------

test("a proxy whose certificate expired is an error (read from its admin endpoint)", async () => {
  const objects = healthyCluster();
  const metrics = healthyMetrics(objects);
  metrics["linkerd/linkerd-identity-5d8c7b9f4-q9w8e"] = proxyMetricsText(new Date("2025-12-31T12:00:00Z"));
  const api = new FakeApi(objects, { metrics });
  const { results } = await runAgainst({ api });
  const p = problems(results);
  assert.equal(p.length, 1);
  assert.match(p[0], /^mesh-production proxy identity certificates have not expired: the mTLS certificate of these proxies has expired, so meshed connections to and from them fail:\n\t\* linkerd\/linkerd-identity-5d8c7b9f4-q9w8e \(expired on 2025-12-31T12:00:00Z\)\n/);
  assert.equal(statusOf(results, "proxy identity certificates have not expired"), "error");
});

test("--proxy reads every data-plane proxy's certificate; unreadable admin endpoints alone do not fail", async () => {
  const objects = healthyCluster();
  const metrics = healthyMetrics(objects);
  metrics["emojivoto/web-5f86686c4d-58p7k"] = proxyMetricsText(new Date("2025-06-01T00:00:00Z"));
  delete metrics["linkerd/linkerd-identity-5d8c7b9f4-q9w8e"];
  const { results } = await runAgainst({ mode: "proxy", api: new FakeApi(objects, { metrics }) });
  assert.match(problems(results).join("\n"), /emojivoto\/web-5f86686c4d-58p7k \(expired on 2025-06-01T00:00:00Z\)/);
  const none = await runAgainst({ api: new FakeApi(objects, { metrics: {} }) });
  assert.match(problems(none.results)[0], /^mesh-production proxy identity certificates have not expired: cannot read the admin endpoint of any proxy: the API server answered 503/);
});

test("proxies older than the control plane: listed by workload with the rollout restart to run", async () => {
  const { results } = await runAgainst({ objects: cluster(oldWeb) });
  assert.deepEqual(problems(results), [
    "mesh-production data plane proxies are not older than the control plane: some proxies are older than the control plane (stable-2.14.10):\n\t* emojivoto deployment/web (stable-2.14.9, 1 pod)\n    restart them to get the current proxy:\n\tkubectl rollout restart deployment/web -n emojivoto",
  ]);
});

test("ServiceProfiles in another namespace than their service, or for a missing service", async () => {
  const sp = (name: string, namespace: string): KubeObject => ({ apiVersion: "linkerd.io/v1alpha2", kind: "ServiceProfile", metadata: { name, namespace }, spec: { routes: [] } } as KubeObject);
  const objects = cluster(add(sp("web-svc.emojivoto.svc.cluster.local", "emojivoto"), sp("web-svc.emojivoto.svc.cluster.local", "default"), sp("gone.emojivoto.svc.cluster.local", "emojivoto"), sp("api.example.com", "emojivoto")));
  assert.deepEqual(problems((await runAgainst({ objects })).results), [
    'mesh-production ServiceProfiles name a service in their own namespace: some ServiceProfiles have no effect for the service they name:\n\t* default/web-svc.emojivoto.svc.cluster.local names a service of namespace "emojivoto": it applies only to clients in "default", not to the service\'s other clients (create it in "emojivoto")\n\t* emojivoto/gone.emojivoto.svc.cluster.local names service "gone", which does not exist in namespace "emojivoto" (delete it, or fix its name)',
  ]);
});

test("check --proxy -n NS sees ServiceProfiles created in other namespaces that name NS's services", async () => {
  const sp = (name: string, namespace: string): KubeObject => ({ apiVersion: "linkerd.io/v1alpha2", kind: "ServiceProfile", metadata: { name, namespace }, spec: { routes: [] } } as KubeObject);
  // The everyday mistake: the profile for emojivoto's service created in the client's namespace "checkout".
  const objects = cluster(add(sp("web-svc.emojivoto.svc.cluster.local", "checkout"), sp("other.default.svc.cluster.local", "checkout")));
  const scoped = problems((await runAgainst({ mode: "proxy", objects, config: { dataPlaneNamespace: "emojivoto" } })).results).filter((p) => p.includes("ServiceProfiles"));
  assert.equal(scoped.length, 1);
  assert.match(scoped[0], /\t\* checkout\/web-svc\.emojivoto\.svc\.cluster\.local names a service of namespace "emojivoto"/);
  // A profile that names no service of emojivoto is not emojivoto's concern.
  assert.doesNotMatch(scoped[0], /other\.default/);
  // A user who may not list ServiceProfiles cluster-wide still gets the namespace's own profiles checked.
  const forbidden = new FakeApi(objects, { metrics: healthyMetrics(objects), intercept: (req: { path: string }) => (/^\/apis\/linkerd\.io\/v1alpha2\/serviceprofiles/.test(req.path) ? { status: 403, body: '{"message":"forbidden"}' } : undefined) });
  const limited = problems((await runAgainst({ mode: "proxy", api: forbidden, config: { dataPlaneNamespace: "emojivoto" } })).results).filter((p) => p.includes("ServiceProfiles"));
  assert.deepEqual(limited, []);
});

test("Job pods whose app finished while linkerd-proxy runs", async () => {
  const job = pod({ name: "migrate-x7k2p", namespace: "emojivoto", owner: { kind: "Job", name: "migrate" }, terminated: ["app"], ip: "10.244.0.30" });
  const { results } = await runAgainst({ objects: cluster(add(job)) });
  const p = problems(results);
  assert.equal(p.length, 1);
  assert.match(p[0], /^mesh-production no Job pod is kept running by its proxy: these Job pods finished their work but linkerd-proxy keeps running, so their Jobs never complete:\n\t\* emojivoto\/migrate-x7k2p \(job\/migrate\)\n/);
  assert.match(p[0], /linkerd-await --shutdown/);
  assert.match(p[0], /kubectl delete pod migrate-x7k2p -n emojivoto$/);
});
