// Hostile answers to this week's read-only commands: `mesh version --proxy` (pods whose image tags
// and names carry escape sequences, a linkerd-config version of garbage), `mesh diagnostics
// endpoints` and `policy` (objects named with escapes and HTML, wrong shapes), and `mesh viz stat
// --prometheus-url` against a hostile "Prometheus" (invalid JSON, wrong shapes, error answers with
// escapes, HTML, 200 MiB bodies, silence). Each ends within its bound, with either a clean product
// or one clean error line, and no server text raw on the terminal.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { IncomingMessage, ServerResponse } from "node:http";
import { apiHandler, expectClean, fakeServer, json, kubeconfig, meshIn, TOKEN, type Timed } from "./harness.js";

const ESC = "\x1b[2J\x1b]0;PWNED\x07\x9b31m\r\nerror: fake";
const RAW = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/; // tabs are the tables' own

type Override = (path: string, req: IncomingMessage, res: ServerResponse) => boolean | void;

async function against(override: Override, argv: string[]): Promise<Timed> {
  const s = await fakeServer(apiHandler(override));
  try {
    return await meshIn(["--kubeconfig", kubeconfig(s.url), ...argv]);
  } finally {
    await s.close();
  }
}

/**
 * A run that succeeded: its product on stdout, and neither stream carries raw control bytes or a
 * fake line (an indented continuation of a quoted YAML scalar is not one). JSON products are
 * held to C0 and DEL only: JSON.stringify leaves C1 characters (U+009B, an 8-bit CSI) as they are.
 */
function expectCleanProduct(r: Timed, o: { json?: boolean } = {}): void {
  const ctx = `\n--- stdout ---\n${JSON.stringify(r.stdout.slice(0, 2000))}\n--- stderr ---\n${JSON.stringify(r.stderr.slice(0, 2000))}`;
  assert.equal(r.code, 0, ctx);
  assert.doesNotMatch(r.stdout, o.json ? /[\x00-\x08\x0b-\x1f\x7f]/ : RAW, `raw control bytes on stdout${ctx}`);
  assert.doesNotMatch(r.stderr, RAW, `raw control bytes on stderr${ctx}`);
  assert.doesNotMatch(r.stdout + r.stderr, /^error: fake/m, `a fake line${ctx}`);
  assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+/, ctx);
  assert.ok(!(r.stdout + r.stderr).includes(TOKEN));
}

const path = (p: string) => p.split("?")[0];

// ---- version --proxy -------------------------------------------------------------------------

const proxyPod = (name: string, image: string) => ({
  metadata: { name, namespace: `ns${ESC}`, labels: { "linkerd.io/control-plane-ns": "linkerd" } },
  spec: { containers: [{ name: "linkerd-proxy", image }] },
  status: { phase: "Running" },
});

test("version --proxy: image tags and pod names with escapes are printed inert (linkerd-config absent)", async () => {
  const r = await against(
    (p, _req, res) => {
      if (path(p) === "/api/v1/pods") return json(res, 200, { items: [proxyPod(`web${ESC}`, `cr.l5d.io/linkerd/proxy:stable-2.14.10${ESC}`), proxyPod("<script>x</script>", `x:${"9".repeat(5000)}`), proxyPod("plain", "cr.l5d.io/linkerd/proxy@sha256:abc")] }), true;
      return false;
    },
    ["version", "--proxy"],
  );
  expectCleanProduct(r);
  assert.match(r.stdout, /^Server version: unavailable$/m);
  for (const line of r.stdout.split("\n")) assert.ok(line.length <= 1100, `a line of ${line.length} characters`);
});

test("version --proxy: pods of the wrong shape are one clean error", async () => {
  const r = await against((p, _req, res) => (path(p) === "/api/v1/pods" ? (json(res, 200, { items: [{ metadata: { name: ESC }, spec: { containers: ESC } }] }), true) : false), ["version", "--proxy"]);
  expectClean(r, { code: 1, message: /is not what Kubernetes sends: items\[0\]\.spec\.containers is a string, not a list$/, maxMs: 15_000, stdout: /^Client version: / });
});

test("version --proxy: a linkerd-config of invalid JSON is one clean error or an unknown server version, never raw text", async () => {
  const r = await against((p, _req, res) => (p.endsWith("/configmaps/linkerd-config") ? (json(res, 200, `{${ESC}`), true) : false), ["version", "--proxy"]);
  assert.doesNotMatch(r.stdout + r.stderr, RAW);
  assert.doesNotMatch(r.stdout + r.stderr, /PWNED/);
  assert.ok(r.code === 0 || r.code === 1, r.stderr);
});

// ---- diagnostics endpoints -------------------------------------------------------------------

const service = { metadata: { name: "web", namespace: "ns" }, spec: { ports: [{ name: `http${ESC}`, port: 80, targetPort: 8080, protocol: "TCP" }] } };
const slice = (addresses: unknown[], ports: unknown = [{ name: `http${ESC}`, port: 8080 }]) => ({ items: [{ metadata: { name: "web-1", labels: { "kubernetes.io/service-name": "web" } }, addressType: "IPv4", ports, endpoints: addresses }] });
const endpointsServer = (sl: unknown, pods: unknown[] = []): Override => (p, _req, res) => {
  if (path(p) === "/api/v1/namespaces/ns/services/web") return json(res, 200, service), true;
  if (path(p) === "/apis/discovery.k8s.io/v1/namespaces/ns/endpointslices") return json(res, 200, sl), true;
  if (path(p) === "/api/v1/namespaces/ns/pods") return json(res, 200, { items: pods }), true;
  return false;
};
const hostilePod = { metadata: { name: `pod${ESC}<img src=x>`, namespace: "ns", labels: { "linkerd.io/control-plane-ns": "linkerd" } }, spec: { containers: [{ name: "app" }] }, status: { podIP: "10.0.0.1", phase: "Running" } };
const hostileSlice = slice([{ addresses: ["10.0.0.1"], conditions: { ready: true }, targetRef: { kind: "Pod", name: `pod${ESC}<img src=x>`, namespace: "ns" } }, { addresses: [`10.0.0.2${ESC}`], conditions: { ready: true }, hostname: ESC }]);

for (const output of ["table", "json"]) {
  test(`diagnostics endpoints -o ${output}: addresses, pod and port names with escapes come out inert`, async () => {
    const r = await against(endpointsServer(hostileSlice, [hostilePod]), ["diagnostics", "endpoints", "-o", output, "web.ns.svc.cluster.local:80"]);
    expectCleanProduct(r, { json: output === "json" });
    assert.match(r.stdout, /10\.0\.0\.1/);
    if (output === "json") assert.ok(Array.isArray(JSON.parse(r.stdout)));
  });
}

const endpointShapes: [name: string, sl: unknown, message: RegExp][] = [
  ["slices of invalid JSON", `{${ESC}`, /^the API server sent invalid JSON for GET \/apis\/discovery\.k8s\.io\/v1\/namespaces\/ns\/endpointslices/],
  ["endpoints that are a string", { items: [{ metadata: { name: "x" }, endpoints: ESC, ports: [] }] }, /./],
  ["addresses that are numbers", slice([{ addresses: [1, 2], conditions: { ready: true } }]), /./],
  ["ports that are a map", slice([{ addresses: ["10.0.0.1"], conditions: { ready: true } }], { a: ESC }), /./],
];
for (const [name, sl, message] of endpointShapes) {
  test(`diagnostics endpoints: ${name} is a clean product or one clean error`, async () => {
    const r = await against(endpointsServer(sl), ["diagnostics", "endpoints", "web.ns.svc.cluster.local:80"]);
    if (r.code === 0) expectCleanProduct(r);
    else expectClean(r, { code: 1, message, maxMs: 15_000 });
  });
}

// ---- diagnostics policy ----------------------------------------------------------------------

test("diagnostics policy: Servers and policies named with escapes come out inert, in YAML and JSON", async () => {
  const pod = { metadata: { name: "web", namespace: "ns", labels: { app: "web" } }, spec: { containers: [{ name: "app", ports: [{ containerPort: 8080, name: "http" }] }] }, status: { phase: "Running", podIP: "10.0.0.1" } };
  const server = { apiVersion: "policy.linkerd.io/v1beta1", kind: "Server", metadata: { name: `srv${ESC}`, namespace: "ns" }, spec: { podSelector: { matchLabels: { app: "web" } }, port: 8080, proxyProtocol: `HTTP/1${ESC}` } };
  const authz = { apiVersion: "policy.linkerd.io/v1alpha1", kind: "AuthorizationPolicy", metadata: { name: `ap${ESC}`, namespace: "ns" }, spec: { targetRef: { group: "policy.linkerd.io", kind: "Server", name: `srv${ESC}` }, requiredAuthenticationRefs: [{ kind: "ServiceAccount", name: ESC }] } };
  const override: Override = (p, _req, res) => {
    const q = path(p);
    if (q === "/api/v1/namespaces/ns/pods/web") return json(res, 200, pod), true;
    if (q.endsWith("/namespaces/ns/servers")) return json(res, 200, { items: [server] }), true;
    if (q.endsWith("/namespaces/ns/authorizationpolicies")) return json(res, 200, { items: [authz] }), true;
    return false;
  };
  for (const output of ["yaml", "json"]) {
    const r = await against(override, ["diagnostics", "policy", "-n", "ns", "-o", output, "po/web", "8080"]);
    expectCleanProduct(r, { json: output === "json" });
    if (output === "json") JSON.parse(r.stdout);
  }
});

test("diagnostics policy: a pod of the wrong shape is one clean error", async () => {
  const r = await against((p, _req, res) => (path(p) === "/api/v1/namespaces/ns/pods/web" ? (json(res, 200, { metadata: ESC, spec: ESC }), true) : false), ["diagnostics", "policy", "-n", "ns", "po/web", "8080"]);
  expectClean(r, { code: 1, message: /./, maxMs: 15_000 });
});

// ---- viz stat --prometheus-url ---------------------------------------------------------------

const deployments: Override = (p, _req, res) => (path(p) === "/apis/apps/v1/namespaces/default/deployments" ? (json(res, 200, { items: [{ metadata: { name: "web", namespace: "default" }, spec: { selector: { matchLabels: { app: "web" } } } }] }), true) : false);

async function stat(answer: (res: ServerResponse) => void, extra: string[] = []): Promise<{ r: Timed; queries: number }> {
  const prom = await fakeServer((_req, res) => answer(res));
  try {
    const r = await against(deployments, ["viz", "stat", "deploy", "-n", "default", "--prometheus-url", prom.url, ...extra]);
    return { r, queries: prom.seen.length };
  } finally {
    await prom.close();
  }
}

function hugeBody(res: ServerResponse): void {
  res.writeHead(200, { "content-type": "application/json" });
  res.write('{"status":"success","data":{"resultType":"vector","result":["');
  const chunk = Buffer.alloc(1 << 20, "a");
  let sent = 0;
  const more = () => {
    while (sent++ < 200 && !res.destroyed) if (!res.write(chunk)) return void res.once("drain", more);
    res.end('"]}}');
  };
  more();
}

const prometheus: [name: string, answer: (res: ServerResponse) => void, message: RegExp][] = [
  ["invalid JSON with escapes", (res) => json(res, 200, `{${ESC}`), /^Prometheus at http:\/\/127\.0\.0\.1:\d+ did not answer with the Prometheus API's JSON/],
  ["a result that is a string", (res) => json(res, 200, { status: "success", data: { resultType: "vector", result: ESC } }), /^Prometheus at http:\/\/127\.0\.0\.1:\d+ answered a vector without a result list$/],
  ["an error answer with escapes", (res) => json(res, 400, { status: "error", errorType: `bad_data${ESC}`, error: ESC }), /^Prometheus at http:\/\/127\.0\.0\.1:\d+ rejected a query/],
  ["an HTML error page", (res) => json(res, 502, `<html><title>${ESC}</title>${"<p>x</p>".repeat(10_000)}</html>`), /^Prometheus at http:\/\/127\.0\.0\.1:\d+ answered HTTP 502/],
  ["a 200 MiB answer", hugeBody, /^Prometheus at http:\/\/127\.0\.0\.1:\d+ sent more than 16 MiB for one query$/],
  ["a redirect to elsewhere", (res) => (res.writeHead(302, { location: "http://169.254.169.254/latest/meta-data/" }), res.end()), /^Prometheus at http:\/\/127\.0\.0\.1:\d+ /],
];
for (const [name, answer, message] of prometheus) {
  test(`viz stat --prometheus-url: ${name} is one clean error line`, async () => {
    const { r } = await stat(answer);
    expectClean(r, { code: 1, message, maxMs: 30_000 });
  });
}

test("viz stat --prometheus-url: samples with escapes in their labels and absurd values print nothing raw", async () => {
  const { r } = await stat((res) =>
    json(res, 200, { status: "success", data: { resultType: "vector", result: [{ metric: { deployment: "web", namespace: "default", classification: `success${ESC}` }, value: [1, "NaN"] }, { metric: { deployment: `web${ESC}`, namespace: "default" }, value: [1, "1e400"] }, { metric: { deployment: "web", namespace: "default", le: ESC }, value: [1, "-Inf"] }] } }),
  );
  expectCleanProduct(r);
});

test("viz stat --prometheus-url: a Prometheus that never answers is bounded (30 s per query), one line", async () => {
  const { r } = await stat(() => undefined);
  expectClean(r, { code: 1, message: /^Prometheus at http:\/\/127\.0\.0\.1:\d+ did not answer within 30s$/, maxMs: 90_000 });
});
