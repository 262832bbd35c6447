import { test } from "node:test";
import assert from "node:assert/strict";
import { runMesh } from "../helpers/run.js";
import { deployment, fakeMesh, list, pod, replicaSet } from "../viz/fake-mesh.js";
import { obfuscateMetrics, obfuscateValue } from "../../src/diagnostics/metrics.js";
import { computeEndpoints, formatEndpointsJson, formatEndpointsTable, parseAuthority } from "../../src/diagnostics/endpoints.js";
import type { Pod, Service } from "../../src/kube/types.js";

const NS = "shop";
const METRICS = (name: string) => `# HELP request_total Total count of HTTP requests.\n# TYPE request_total counter\nrequest_total{direction="inbound",authority="web.${NS}.svc.cluster.local:80",target_addr="10.0.0.1:8080",dst_pod="${name}",tls="true"} 7\nprocess_start_time_seconds 1\n`;

function shop(extra: Record<string, unknown> = {}, metrics: Record<string, string[]> = {}) {
  const web1 = pod(NS, "web-1", "web");
  const web2 = pod(NS, "web-2", "web");
  const plain = pod(NS, "plain-1", "plain", { meshed: false });
  return fakeMesh({
    objects: {
      [`/apis/apps/v1/namespaces/${NS}/deployments`]: list([deployment(NS, "web"), deployment(NS, "plain")]),
      [`/apis/apps/v1/namespaces/${NS}/replicasets`]: list([replicaSet(NS, "web"), replicaSet(NS, "plain")]),
      [`/api/v1/namespaces/${NS}/pods`]: list([web2, web1, plain]),
      ...extra,
    },
    metrics: { [`${NS}/web-1`]: [METRICS("web-1")], [`${NS}/web-2`]: [METRICS("web-2")], ...metrics },
  });
}

test("obfuscate: values of the labels that name pods, paths and authorities are hashed; the rest of the text is unchanged", () => {
  const out = obfuscateMetrics(METRICS("web-1"));
  assert.equal(obfuscateValue("web-1"), obfuscateValue("web-1"));
  assert.match(obfuscateValue("x"), /^[0-9a-f]{8}$/);
  assert.equal(
    out,
    `# HELP request_total Total count of HTTP requests.\n# TYPE request_total counter\nrequest_total{direction="inbound",authority="${obfuscateValue(`web.${NS}.svc.cluster.local:80`)}",target_addr="${obfuscateValue("10.0.0.1:8080")}",dst_pod="${obfuscateValue("web-1")}",tls="true"} 7\nprocess_start_time_seconds 1\n`,
  );
  // escaped quotes inside a value are part of the value
  assert.equal(obfuscateMetrics('m{path="/a\\"b",x="1"} 2'), `m{path="${obfuscateValue('/a"b')}",x="1"} 2`);
  assert.throws(() => obfuscateMetrics('m{path="/unterminated} 2'), /line 1 is not valid exposition text/);
});

test("dg proxy-metrics deploy/web: one block per pod, sorted, with Linkerd's headers", async () => {
  const f = shop();
  const r = await runMesh(["dg", "proxy-metrics", "-n", NS, "deploy/web"], { cluster: async () => f.cluster });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `#\n# POD web-1 (1 of 2)\n#\n${METRICS("web-1")}#\n# POD web-2 (2 of 2)\n#\n${METRICS("web-2")}`);
  assert.ok(f.paths.includes(`/api/v1/namespaces/${NS}/pods/web-1:4191/proxy/metrics`));
});

test("diagnostics proxy-metrics --obfuscate hashes pod names and authorities", async () => {
  const f = shop();
  const r = await runMesh(["diagnostics", "proxy-metrics", "-n", NS, "po/web-1", "--obfuscate"], { cluster: async () => f.cluster });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^#\n# POD web-1 \(1 of 1\)\n#\n/);
  assert.doesNotMatch(r.stdout.split("\n").slice(3).join("\n"), /web-1|svc\.cluster\.local/);
});

test("proxy-metrics: a pod that cannot be read gets an ERROR block; an unmeshed pod says so; hostile bodies are inert", async () => {
  const f = shop({}, { [`${NS}/web-2`]: ["ok 1\n\x1b]0;owned\x07evil 2\n"] });
  const r = await runMesh(["dg", "proxy-metrics", "-n", NS, "deploy/web"], { cluster: async () => f.cluster });
  assert.equal(r.code, 0);
  assert.doesNotMatch(r.stdout, /\x1b/);
  const plain = await runMesh(["dg", "proxy-metrics", "-n", NS, "deploy/plain"], { cluster: async () => shop().cluster });
  assert.match(plain.stdout, /# ERROR: pod plain-1 has no linkerd-admin port: is it meshed\?\n/);
  const broken = fakeMesh({ objects: { [`/api/v1/namespaces/${NS}/pods`]: list([pod(NS, "web-9", "web")]) }, metrics: {} });
  const e = await runMesh(["dg", "proxy-metrics", "-n", NS, "po/web-9"], { cluster: async () => broken.cluster });
  assert.equal(e.code, 0);
  assert.match(e.stdout, /^#\n# POD web-9 \(1 of 1\)\n#\n# ERROR: .*not found/);
});

test("proxy-metrics: usage errors exit 2 before any I/O; a missing workload exits 1", async () => {
  let connected = false;
  const cluster = async () => ((connected = true), shop().cluster);
  for (const args of [[], ["deploy"], ["svc/web"], ["deploy/web", "deploy/x"], ["-n", "Bad_NS", "deploy/web"]]) {
    const r = await runMesh(["dg", "proxy-metrics", ...args], { cluster });
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /^error: /);
  }
  assert.equal(connected, false);
  const r = await runMesh(["dg", "proxy-metrics", "-n", NS, "deploy/nope"], { cluster: async () => shop().cluster });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: deployment "nope" not found in namespace "shop"\n/);
});

test("controller-metrics: every admin-http container of the control plane's pods, through the pod proxy", async () => {
  const cpPod = (name: string, containers: { name: string; port?: number }[], phase = "Running") => ({
    metadata: { name, namespace: "linkerd" },
    spec: { containers: containers.map((c) => ({ name: c.name, ports: c.port ? [{ name: "admin-http", containerPort: c.port }] : [{ name: "linkerd-admin", containerPort: 4191 }] })) },
    status: { phase },
  });
  const objects = {
    "/api/v1/namespaces/linkerd/pods": list([cpPod("linkerd-identity-1", [{ name: "identity", port: 9990 }, { name: "linkerd-proxy" }]), cpPod("linkerd-destination-1", [{ name: "destination", port: 9996 }, { name: "policy", port: 9990 }]), cpPod("linkerd-old-1", [], "Pending")]),
  };
  const served: Record<string, string> = {
    "/api/v1/namespaces/linkerd/pods/linkerd-identity-1:9990/proxy/metrics": "identity_metric 1\n",
    "/api/v1/namespaces/linkerd/pods/linkerd-destination-1:9996/proxy/metrics": "destination_metric 1\n",
  };
  const paths: string[] = [];
  const { apiError } = await import("../../src/kube/errors.js");
  const cluster = {
    server: "https://fake",
    getJson: async () => undefined,
    controlPlaneVersion: async () => "stable-2.14.10",
    async getText(path: string) {
      paths.push(path);
      if (served[path]) return served[path];
      const body = (objects as Record<string, unknown>)[path.split("?")[0]];
      if (body) return JSON.stringify(body);
      throw apiError(503, "GET", path, JSON.stringify({ message: "error trying to reach service: dial tcp: connection refused" }));
    },
  };
  const r = await runMesh(["dg", "cp-metrics"], { cluster: async () => cluster });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stdout,
    "#\n# POD linkerd-destination-1 (1 of 4)\n# CONTAINER destination \n#\ndestination_metric 1\n" +
      "#\n# POD linkerd-destination-1 (2 of 4)\n# ERROR the API server answered 503 to GET /api/v1/namespaces/linkerd/pods/linkerd-destination-1:9990/proxy/metrics: error trying to reach service: dial tcp: connection refused\n" +
      "#\n# POD linkerd-identity-1 (3 of 4)\n# CONTAINER identity \n#\nidentity_metric 1\n" +
      "#\n# POD linkerd-old-1 (4 of 4)\n# ERROR pod not running: linkerd-old-1\n",
  );
  assert.ok(!paths.some((p) => p.includes(":4191")));
});

const svc: Service = { metadata: { name: "web", namespace: NS }, spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: 8080 }, { name: "admin", port: 9000, targetPort: 9001 }] } };
const slices = [
  {
    metadata: { name: "web-abc", namespace: NS },
    addressType: "IPv4",
    ports: [{ name: "http", port: 8080 }, { name: "admin", port: 9001 }],
    endpoints: [
      { addresses: ["10.0.0.2"], conditions: { ready: true }, targetRef: { kind: "Pod", name: "web-2" } },
      { addresses: ["10.0.0.1"], conditions: { ready: true }, targetRef: { kind: "Pod", name: "web-1" } },
      { addresses: ["10.0.0.3"], conditions: { ready: false }, targetRef: { kind: "Pod", name: "web-3" } },
      { addresses: ["10.0.0.9"], targetRef: { kind: "Pod", name: "plain-1" } },
    ],
  },
];
const pods = [pod(NS, "web-1", "web"), pod(NS, "web-2", "web"), pod(NS, "plain-1", "plain", { meshed: false })] as unknown as Pod[];

test("endpoints: the ready addresses of the named service port, with target ports and whether each pod is meshed", () => {
  const a = parseAuthority(`web.${NS}.svc.cluster.local:80`, "cluster.local");
  const rows = computeEndpoints(a, svc, { slices }, pods, "linkerd");
  assert.deepEqual(rows.map((r) => `${r.ip}:${r.port} ${r.pod} ${r.meshed}`), ["10.0.0.2:8080 web-2 true", "10.0.0.1:8080 web-1 true", "10.0.0.9:8080 plain-1 false"]);
  assert.equal(
    formatEndpointsTable(rows),
    "NAMESPACE   IP         PORT   POD       SERVICE    MESHED\n" +
      "shop        10.0.0.1   8080   web-1     web.shop   yes\n" +
      "shop        10.0.0.2   8080   web-2     web.shop   yes\n" +
      "shop        10.0.0.9   8080   plain-1   web.shop   no\n",
  );
  assert.deepEqual(JSON.parse(formatEndpointsJson(rows))[0], { namespace: "shop", ip: "10.0.0.1", port: 8080, pod: "web-1", service: "web.shop", meshed: true });
  // the Endpoints fallback
  const ep = { metadata: { name: "web", namespace: NS }, subsets: [{ addresses: [{ ip: "10.0.0.1", targetRef: { kind: "Pod", name: "web-1" } }], ports: [{ name: "admin", port: 9001 }, { name: "http", port: 8080 }] }] };
  assert.deepEqual(computeEndpoints(parseAuthority(`web.${NS}.svc.cluster.local:9000`, "cluster.local"), svc, { endpoints: ep }, pods, "linkerd").map((r) => `${r.ip}:${r.port}`), ["10.0.0.1:9001"]);
  assert.throws(() => computeEndpoints(parseAuthority(`web.${NS}.svc.cluster.local:81`, "cluster.local"), svc, { slices }, pods, "linkerd"), /service shop\/web has no port 81/);
});

test("endpoints: authorities are SERVICE.NAMESPACE.svc.DOMAIN[:PORT]", () => {
  assert.deepEqual(parseAuthority("web.shop.svc.cluster.local", "cluster.local"), { service: "web", namespace: "shop", port: 80, text: "web.shop.svc.cluster.local" });
  assert.throws(() => parseAuthority("web.shop:80", "cluster.local"), /invalid authority/);
  assert.throws(() => parseAuthority("web.shop.svc.other.domain:80", "cluster.local"), /not in the cluster domain cluster\.local/);
});

test("dg endpoints: reads the Service, its EndpointSlices and pods; table, json, and errors", async () => {
  const objects = {
    [`/api/v1/namespaces/${NS}/services/web`]: svc,
    [`/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices`]: list(slices),
    [`/api/v1/namespaces/${NS}/pods`]: list(pods),
  };
  const f = fakeMesh({ objects, metrics: {} });
  const r = await runMesh(["dg", "endpoints", `web.${NS}.svc.cluster.local:80`], { cluster: async () => f.cluster });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^NAMESPACE {3}IP {9}PORT {3}POD {7}SERVICE {4}MESHED\n/);
  assert.ok(f.paths.includes(`/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices?labelSelector=${encodeURIComponent("kubernetes.io/service-name=web")}`));
  const j = await runMesh(["dg", "ep", "-o", "json", `web.${NS}.svc.cluster.local:80`], { cluster: async () => fakeMesh({ objects, metrics: {} }).cluster });
  assert.equal((JSON.parse(j.stdout) as unknown[]).length, 3);
  const missing = await runMesh(["dg", "endpoints", `nope.${NS}.svc.cluster.local:80`], { cluster: async () => fakeMesh({ objects, metrics: {} }).cluster });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^error: service "nope" not found in namespace "shop"\n/);
  const bad = await runMesh(["dg", "endpoints", "web:80"], { cluster: async () => fakeMesh({ objects, metrics: {} }).cluster });
  assert.equal(bad.code, 2);
  const fmt = await runMesh(["dg", "endpoints", "-o", "wide", `web.${NS}.svc.cluster.local:80`]);
  assert.equal(fmt.code, 2);
  const help = await runMesh(["dg", "endpoints", "--help"]);
  assert.match(help.stdout, /not reachable from a laptop/);
});

test("policy: the Servers selecting the pod's port (by number or port name) and what attaches to them", async () => {
  const { computePodPortPolicy, inertStrings } = await import("../../src/diagnostics/policy.js");
  const G = "policy.linkerd.io";
  const web = { ...pod(NS, "web-1", "web"), spec: { containers: [{ name: "web", ports: [{ name: "http", containerPort: 8080 }] }, { name: "linkerd-proxy", env: [{ name: "LINKERD2_PROXY_INBOUND_DEFAULT_POLICY", value: "deny" }] }] } } as unknown as Pod;
  const objects = {
    servers: [
      { metadata: { name: "by-name", managedFields: [{}] }, spec: { podSelector: { matchLabels: { app: "web" } }, port: "http" } },
      { metadata: { name: "by-number" }, spec: { podSelector: {}, port: 8080 } },
      { metadata: { name: "other-port" }, spec: { podSelector: { matchLabels: { app: "web" } }, port: 9000 } },
      { metadata: { name: "other-pod" }, spec: { podSelector: { matchLabels: { app: "api" } }, port: 8080 } },
    ],
    serverAuthorizations: [{ metadata: { name: "saz" }, spec: { server: { name: "by-name" } } }, { metadata: { name: "saz-other" }, spec: { server: { name: "other-port" } } }],
    httpRoutes: [{ metadata: { name: "vote" }, spec: { parentRefs: [{ group: G, kind: "Server", name: "by-number" }] } }],
    authorizationPolicies: [
      { metadata: { name: "ap-route" }, spec: { targetRef: { group: G, kind: "HTTPRoute", name: "vote" } } },
      { metadata: { name: "ap-ns" }, spec: { targetRef: { kind: "Namespace", name: NS } } },
      { metadata: { name: "ap-other" }, spec: { targetRef: { group: G, kind: "Server", name: "other-pod" } } },
    ],
  };
  const r = computePodPortPolicy(web, 8080, objects, "all-unauthenticated");
  assert.deepEqual([r.servers, r.serverAuthorizations, r.httpRoutes, r.authorizationPolicies].map((l) => l.map((o) => o.metadata.name)), [["by-name", "by-number"], ["saz"], ["vote"], ["ap-route", "ap-ns"]]);
  assert.equal(r.defaultPolicy, "deny");
  assert.equal("managedFields" in r.servers[0].metadata, false);
  const none = computePodPortPolicy(web, 7000, objects, "all-unauthenticated");
  assert.deepEqual([none.servers.length, none.authorizationPolicies.length], [0, 0]);
  assert.equal(inertStrings({ a: ["x\u202ey\x9b"] }).a[0], "x\ufffdy\ufffd");
});

test("dg policy -n NS po/NAME PORT: yaml by default, json with -o json; usage errors exit 2", async () => {
  const G = "/apis/policy.linkerd.io";
  const web = pod(NS, "web-1", "web");
  const objects = {
    [`/api/v1/namespaces/${NS}/pods/web-1`]: web,
    [`${G}/v1beta1/namespaces/${NS}/servers`]: list([{ metadata: { name: "admin" }, spec: { podSelector: { matchLabels: { app: "web" } }, port: 4191 } }]),
    [`${G}/v1beta1/namespaces/${NS}/serverauthorizations`]: list([]),
    [`${G}/v1alpha1/namespaces/${NS}/authorizationpolicies`]: list([]),
    [`${G}/v1alpha1/namespaces/${NS}/httproutes`]: list([]),
  };
  const y = await runMesh(["dg", "policy", "-n", NS, "po/web-1", "4191"], { cluster: async () => fakeMesh({ objects, metrics: {} }).cluster });
  assert.equal(y.code, 0, y.stderr);
  assert.match(y.stdout, /^pod: web-1\nnamespace: shop\nport: 4191\ndefaultPolicy: all-unauthenticated\nservers:\n  - metadata:\n      name: admin\n/);
  const j = await runMesh(["dg", "policy", "-n", NS, "po/web-1", "4191", "-o", "json"], { cluster: async () => fakeMesh({ objects, metrics: {} }).cluster });
  assert.equal((JSON.parse(j.stdout) as { servers: unknown[] }).servers.length, 1);
  for (const args of [["po/web-1"], ["po/web-1", "http"], ["web-1", "80"], ["svc/web", "80"], ["deploy/web", "80"], ["po/web-1", "80", "-o", "table"]]) {
    const r = await runMesh(["dg", "policy", "-n", NS, ...args], { cluster: async () => fakeMesh({ objects, metrics: {} }).cluster });
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
  }
  // The cluster-wide default comes from linkerd-config's proxy.defaultInboundPolicy.
  const withConfig = { ...objects, "/api/v1/namespaces/linkerd/configmaps/linkerd-config": { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "linkerd-config", namespace: "linkerd" }, data: { values: "proxy:\n  defaultInboundPolicy: cluster-authenticated\n" } } };
  const d = await runMesh(["dg", "policy", "-n", NS, "po/web-1", "4191"], { cluster: async () => fakeMesh({ objects: withConfig, metrics: {} }).cluster });
  assert.match(d.stdout, /\ndefaultPolicy: cluster-authenticated\n/);
  const gone = await runMesh(["dg", "policy", "-n", NS, "po/nope", "80"], { cluster: async () => fakeMesh({ objects, metrics: {} }).cluster });
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /^error: pod "nope" not found in namespace "shop"/);
});
