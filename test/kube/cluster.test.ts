import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { connect, RestCluster, type Transport } from "../../src/kube/cluster.js";
import { apiError, describePermission, KubeApiError, requestAttributes } from "../../src/kube/errors.js";
import { matchesSelector, parseSelector } from "../../src/kube/selector.js";
import { MeshError } from "../../src/errors.js";
import { FakeApi } from "./fake-api.js";

const globals = (kubeconfig: string) => ({ kubeconfig, linkerdNamespace: "linkerd", verbose: false, color: false });

function kubeconfig(server: string, extra = ""): string {
  const dir = mkdtempSync(join(tmpdir(), "mesh-kube-"));
  const file = join(dir, "config");
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: ${server}
    insecure-skip-tls-verify: true
users:
- name: u
  user:
    token: secret-token
contexts:
- name: ctx
  context: { cluster: c, user: u }
current-context: ctx
${extra}`,
  );
  return file;
}

/** A kubeconfig like `kubeconfig(server)` whose cluster entry has `proxy-url` instead of insecure-skip-tls-verify. */
function proxiedKubeconfig(server: string, proxyUrl: string): string {
  const file = kubeconfig(server);
  writeFileSync(file, readFileSync(file, "utf8").replace("    insecure-skip-tls-verify: true", `    proxy-url: ${proxyUrl}`));
  return file;
}

async function server(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const s = createServer(handler);
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((r) => (s.closeAllConnections(), s.close(() => r()))) };
}

test("requests carry the token and impersonation headers; 404 gets become undefined", async () => {
  const seen: IncomingMessage["headers"][] = [];
  const s = await server((req, res) => {
    seen.push(req.headers);
    if (req.url === "/version") return res.end(JSON.stringify({ gitVersion: "v1.20.2" }));
    res.statusCode = 404;
    res.end(JSON.stringify({ kind: "Status", message: 'configmaps "x" not found', code: 404 }));
  });
  try {
    const c = await connect({ ...globals(kubeconfig(s.url)), as: "alice", asGroup: ["devs", "ops"] });
    assert.equal((await c.serverVersion()).gitVersion, "v1.20.2");
    assert.equal(await c.getConfigMap("linkerd", "x"), undefined);
    assert.equal(seen[0].authorization, "Bearer secret-token");
    assert.equal(seen[0]["impersonate-user"], "alice");
    assert.equal(seen[0]["impersonate-group"], "devs, ops");
    assert.equal(c.requestCount(), 2);
    c.close();
  } finally {
    await s.close();
  }
});

test("connections are kept alive and reused", async () => {
  const ports = new Set<number>();
  const s = await server((req, res) => {
    ports.add(req.socket.remotePort!);
    res.end('{"items":[]}');
  });
  try {
    const c = await connect(globals(kubeconfig(s.url)));
    for (let i = 0; i < 5; i++) await c.listNodes();
    assert.equal(ports.size, 1);
    c.close();
  } finally {
    await s.close();
  }
});

test("a server that never answers times out per request with a readable error", async () => {
  const s = await server(() => {
    /* hang */
  });
  try {
    const c = (await connect(globals(kubeconfig(s.url)))).withTimeout(150);
    const start = Date.now();
    await assert.rejects(c.listNodes(), (e: unknown) => {
      assert.ok(e instanceof MeshError);
      assert.match(e.message, /^the Kubernetes API at http:\/\/127\.0\.0\.1:\d+ did not answer within 150 ms \(GET \/api\/v1\/nodes\)$/);
      return true;
    });
    // The message names the 150 ms timeout; the bound only says it did not hang (generous for a busy machine).
    assert.ok(Date.now() - start < 20_000, `took ${Date.now() - start} ms`);
    c.close();
  } finally {
    await s.close();
  }
});

test("a reset connection and a refused one are MeshErrors with hints", async () => {
  const s = await server((req) => req.socket.destroy());
  try {
    const c = await connect(globals(kubeconfig(s.url)));
    await assert.rejects(c.listNodes(), /was reset \(GET \/api\/v1\/nodes\)/);
    c.close();
  } finally {
    await s.close();
  }
  const refused = await connect(globals(kubeconfig("http://127.0.0.1:1")));
  await assert.rejects(refused.serverVersion(), (e: unknown) => e instanceof MeshError && /connection refused/.test(e.message) && Boolean(e.hint));
});

test("close() cancels requests still in flight", async () => {
  const s = await server(() => {});
  try {
    const c = await connect(globals(kubeconfig(s.url)));
    const p = c.listNodes();
    await new Promise((r) => setTimeout(r, 50));
    c.close();
    await assert.rejects(p, /cancelled/);
  } finally {
    await s.close();
  }
});

test("a bad kubeconfig or context is a MeshError, not a crash", async () => {
  await assert.rejects(connect(globals("/nonexistent/kubeconfig")), (e: unknown) => e instanceof MeshError && /cannot load kubeconfig/.test(e.message));
  await assert.rejects(connect({ ...globals(kubeconfig("http://127.0.0.1:1")), context: "nope" }), /context "nope" not found in kubeconfig/);
});

test("HTTP errors map to readable messages; 403 names the RBAC permission", () => {
  const denied = apiError(403, "GET", "/api/v1/namespaces/linkerd/pods?labelSelector=x", "");
  assert.ok(denied instanceof KubeApiError);
  assert.equal(denied.message, 'forbidden: missing RBAC permission "list" on pods in namespace "linkerd"');
  assert.match(denied.hint!, /missing RBAC permission "list" on pods in namespace "linkerd"/);
  const k8s = apiError(403, "GET", "/api/v1/nodes", JSON.stringify({ message: 'nodes is forbidden: User "dev" cannot list resource "nodes" in API group "" at the cluster scope' }));
  assert.equal(k8s.message, 'nodes is forbidden: User "dev" cannot list resource "nodes" in API group "" at the cluster scope');
  assert.equal(apiError(401, "GET", "/version", "Unauthorized").message, "unauthorized: the API server rejected the credentials (GET /version)");
  assert.equal(apiError(503, "GET", "/api/v1/nodes", '{"message":"etcd down"}').message, "the API server answered 503 to GET /api/v1/nodes: etcd down");
});

test("request attributes in RBAC terms", () => {
  assert.deepEqual(requestAttributes("GET", "/apis/apps/v1/namespaces/linkerd/deployments/linkerd-identity"), { verb: "get", group: "apps", resource: "deployments", subresource: undefined, namespace: "linkerd", name: "linkerd-identity" });
  assert.equal(describePermission(requestAttributes("GET", "/api/v1/namespaces/linkerd/pods/web:4191/proxy/metrics")!), '"get" on pods/proxy in namespace "linkerd"');
  assert.equal(describePermission(requestAttributes("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles?dryRun=All")!), '"create" on clusterroles.rbac.authorization.k8s.io');
  assert.equal(requestAttributes("GET", "/version"), undefined);
});

test("label selectors: equality, existence and set forms", () => {
  assert.ok(matchesSelector({ "linkerd.io/control-plane-ns": "linkerd" }, "linkerd.io/control-plane-ns,!linkerd.io/cni-resource"));
  assert.ok(!matchesSelector({ "linkerd.io/control-plane-ns": "linkerd", "linkerd.io/cni-resource": "true" }, "linkerd.io/control-plane-ns,!linkerd.io/cni-resource"));
  assert.ok(matchesSelector({ a: "1" }, "a=1,b!=2"));
  assert.ok(matchesSelector({ a: "x" }, "a in (x, y)"));
  assert.ok(!matchesSelector({ a: "z" }, "a in (x,y)"));
  assert.ok(matchesSelector(undefined, ""));
  assert.equal(parseSelector("a notin (b,c)").length, 1);
});

test("typed getters build the API paths mesh's RBAC docs list", async () => {
  const api = new FakeApi([]);
  const c = api.cluster();
  await c.listPods("linkerd", "linkerd.io/control-plane-ns");
  await c.listPods();
  await c.getCustomResourceDefinition("servers.policy.linkerd.io");
  await c.listServiceProfiles();
  await c.selfSubjectAccessReview({ verb: "create", namespace: "linkerd", resource: "secrets" });
  await c.dryRunCreate({ apiVersion: "admissionregistration.k8s.io/v1", kind: "ValidatingWebhookConfiguration", metadata: { name: "v" } });
  await c.podProxyText("emojivoto", "web", 4191, "/metrics").catch(() => undefined);
  assert.deepEqual(api.requests(), [
    "GET /api/v1/namespaces/linkerd/pods?labelSelector=linkerd.io%2Fcontrol-plane-ns",
    "GET /api/v1/pods",
    "GET /apis/apiextensions.k8s.io/v1/customresourcedefinitions/servers.policy.linkerd.io",
    "GET /apis/linkerd.io/v1alpha2/serviceprofiles",
    "POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
    "POST /apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations?dryRun=All",
    "GET /api/v1/namespaces/emojivoto/pods/web:4191/proxy/metrics",
  ]);
  assert.equal(await c.listServiceProfiles(), undefined, "no CRD: undefined");
});

/**
 * An API server whose pod list comes in pages of `limit` (opaque `continue` tokens, here with
 * characters that need encoding); `fail` answers a request instead (by its 1-based number).
 */
function pagedPods(count: number, fail?: (n: number) => { status: number; body: string } | undefined) {
  const paths: string[] = [];
  const names = Array.from({ length: count }, (_, i) => `web-${i}`);
  const transport: Transport = async (req) => {
    paths.push(req.path);
    const failure = fail?.(paths.length);
    if (failure) return failure;
    const q = new URLSearchParams(req.path.split("?")[1] ?? "");
    const from = Number(/^page\/(\d+)=$/.exec(q.get("continue") ?? "")?.[1] ?? 0);
    const to = q.has("limit") ? from + Number(q.get("limit")) : count;
    const items = names.slice(from, to).map((name) => ({ metadata: { name, namespace: "shop", managedFields: [{ manager: "kubelet" }] }, spec: { containers: [{ name: "app" }] } }));
    return { status: 200, body: JSON.stringify({ kind: "PodList", apiVersion: "v1", metadata: { resourceVersion: "42", ...(to < count ? { continue: `page/${to}=` } : {}) }, items }) };
  };
  return { cluster: new RestCluster("https://fake.example:6443", transport), paths };
}

test("a paged list follows the continue tokens and returns every page's items, in order", async () => {
  const { cluster, paths } = pagedPods(5);
  const pods = await cluster.listPods("", "app=web", { pageSize: 2 });
  assert.deepEqual(
    pods.map((p) => p.metadata.name),
    ["web-0", "web-1", "web-2", "web-3", "web-4"],
  );
  assert.deepEqual(paths, [
    "/api/v1/pods?labelSelector=app%3Dweb&limit=2",
    "/api/v1/pods?labelSelector=app%3Dweb&limit=2&continue=page%2F2%3D",
    "/api/v1/pods?labelSelector=app%3Dweb&limit=2&continue=page%2F4%3D",
  ]);
  assert.equal(cluster.requestCount(), 3);
  assert.ok(pods.every((p) => !("managedFields" in p.metadata)), "each page's pods are reduced as they arrive");
});

test("without a page size a list is one request, without limit", async () => {
  const { cluster, paths } = pagedPods(5);
  assert.equal((await cluster.listPods("shop")).length, 5);
  assert.deepEqual(paths, ["/api/v1/namespaces/shop/pods"]);
});

test("a failed page after the first says which page failed; an expired continue token asks to run again", async () => {
  const expired = JSON.stringify({ kind: "Status", code: 410, reason: "Expired", message: "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter." });
  const gone = pagedPods(5, (n) => (n === 2 ? { status: 410, body: expired } : undefined));
  const err = await gone.cluster.listPods("", undefined, { pageSize: 2 }).then(
    () => assert.fail("the list should fail"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof KubeApiError, String(err));
  assert.equal(err.status, 410);
  assert.match(err.message, /^the API server answered 410 to GET \/api\/v1\/pods: The provided continue parameter is too old .* \(page 2 of the list, in pages of 2, after 2 items\)$/);
  assert.match(err.hint ?? "", /changed too much while mesh read it page by page; run the command again/);
  // Another failure keeps its own hint; one on the first page is reported as without pages.
  const failing = pagedPods(5, (n) => (n === 3 ? { status: 500, body: JSON.stringify({ message: "etcd is down" }) } : undefined));
  await assert.rejects(failing.cluster.listPods("", undefined, { pageSize: 2 }), (e: KubeApiError) => e.status === 500 && /etcd is down \(page 3 of the list, in pages of 2, after 4 items\)$/.test(e.message) && /API server is failing/.test(e.hint ?? ""));
  const denied = pagedPods(5, (n) => (n === 1 ? { status: 403, body: JSON.stringify({ message: 'pods is forbidden: User "viewer" cannot list resource "pods"' }) } : undefined));
  await assert.rejects(denied.cluster.listPods("", undefined, { pageSize: 2 }), (e: KubeApiError) => e.status === 403 && e.message === 'pods is forbidden: User "viewer" cannot list resource "pods"');
  // A page that is not a list: the shape error names the page too.
  const broken = pagedPods(5, (n) => (n === 2 ? { status: 200, body: JSON.stringify({ items: "nope" }) } : undefined));
  await assert.rejects(broken.cluster.listPods("", undefined, { pageSize: 2 }), (e: MeshError) => /items is a string, not a list \(page 2 of the list, in pages of 2, after 2 items\)$/.test(e.message));
});

test("a server whose continue tokens never end is stopped, with the reason", async () => {
  const page = (token: string, items: unknown[]) => ({ status: 200, body: JSON.stringify({ kind: "PodList", apiVersion: "v1", metadata: { continue: token }, items }) });
  const pod = { metadata: { name: "p", namespace: "shop" }, spec: { containers: [{ name: "app" }] } };
  // the same token again and again
  let n = 0;
  const same = new RestCluster("https://fake.example:6443", async () => (n++, page("again", [pod])));
  await assert.rejects(same.listPods("", undefined, { pageSize: 2 }), (e: MeshError) => /did not end: the same continue token twice \(page 3, in pages of 2, after 2 items\)$/.test(e.message));
  assert.equal(n, 2);
  // new tokens, no items
  let m = 0;
  const empty = new RestCluster("https://fake.example:6443", async () => page(`t${++m}`, []));
  await assert.rejects(empty.listPods("", undefined, { pageSize: 2 }), (e: MeshError) => /did not end: 101 pages in a row without items/.test(e.message));
  assert.equal(m, 101);
  // new tokens, one item each: bounded by the page count
  let k = 0;
  const endless = new RestCluster("https://fake.example:6443", async () => page(`t${++k}`, [pod]));
  await assert.rejects(endless.listPods("", undefined, { pageSize: 2 }), (e: MeshError) => /did not end: more than 10000 pages/.test(e.message));
  assert.equal(k, 10_000);
});

test("controlPlaneVersion reads linkerdVersion from linkerd-config", async () => {
  const api = new FakeApi([{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "linkerd-config", namespace: "linkerd" }, data: { values: "linkerdVersion: stable-2.14.10\n" } } as never]);
  assert.equal(await api.cluster().controlPlaneVersion("linkerd"), "stable-2.14.10");
  assert.equal(await api.cluster().controlPlaneVersion("other"), undefined);
});

test("controlPlaneVersion reads the YAML: a quoted version, a nested one, and no version at all", async () => {
  const cm = (namespace: string, values: string) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "linkerd-config", namespace }, data: { values } }) as never;
  const api = new FakeApi([
    cm("quoted", 'linkerdVersion: "stable-2.14.10"\n'),
    cm("single", "# comment\nlinkerdVersion: 'stable-2.14.9' # pinned\n"),
    cm("global", "global:\n  linkerdVersion: stable-2.13.0\n"),
    cm("none", "clusterDomain: cluster.local\n"),
  ]);
  assert.equal(await api.cluster().controlPlaneVersion("quoted"), "stable-2.14.10");
  assert.equal(await api.cluster().controlPlaneVersion("single"), "stable-2.14.9");
  assert.equal(await api.cluster().controlPlaneVersion("global"), "stable-2.13.0");
  assert.equal(await api.cluster().controlPlaneVersion("none"), undefined);
});

test("a GET that meets a kept-alive socket the server closed is sent once more on a fresh socket", async () => {
  // The server answers the first request on a connection, then resets that connection when it is
  // reused: the race a server's idle timeout makes with a client's keep-alive.
  const served = new WeakMap<object, number>();
  let resets = 0;
  let answered = 0;
  const srv = createServer((req: IncomingMessage, res: ServerResponse) => {
    const n = (served.get(req.socket) ?? 0) + 1;
    served.set(req.socket, n);
    if (n > 1) {
      resets++;
      req.socket.resetAndDestroy();
      return;
    }
    answered++;
    res.setHeader("Content-Type", "application/json");
    res.end(JSON.stringify({ gitVersion: "v1.37.2" }));
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  try {
    const c = await connect(globals(kubeconfig(`http://127.0.0.1:${(srv.address() as AddressInfo).port}`)));
    for (let i = 0; i < 3; i++) assert.equal((await c.serverVersion()).gitVersion, "v1.37.2");
    assert.equal(answered, 3);
    assert.ok(resets >= 1, "the kept-alive socket was reused, and reset");
  } finally {
    srv.closeAllConnections();
    srv.close();
  }
});

test("KUBECONFIG=a:b:missing: missing files are skipped and the first definition of a name wins, as with kubectl", async () => {
  const seen: string[] = [];
  const answer = (name: string) =>
    createServer((_req: IncomingMessage, res: ServerResponse) => {
      seen.push(name);
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify({ gitVersion: `v1.37.2-${name}` }));
    });
  const first = answer("first");
  const second = answer("second");
  await Promise.all([first, second].map((s) => new Promise<void>((r) => s.listen(0, "127.0.0.1", r))));
  const saved = process.env.KUBECONFIG;
  try {
    const a = kubeconfig(`http://127.0.0.1:${(first.address() as AddressInfo).port}`);
    const b = kubeconfig(`http://127.0.0.1:${(second.address() as AddressInfo).port}`, "preferences: {}\n");
    // same cluster, user and context names in both: kubectl keeps a's; client-node alone would refuse or take b's
    process.env.KUBECONFIG = [a, b, join(tmpdir(), "mesh-no-such-kubeconfig")].join(":");
    const c = await connect({ linkerdNamespace: "linkerd", verbose: false, color: false });
    assert.equal((await c.serverVersion()).gitVersion, "v1.37.2-first");
    assert.deepEqual(seen, ["first"]);
    // only a missing file and one good file: the good one is read on its own
    process.env.KUBECONFIG = [join(tmpdir(), "mesh-no-such-kubeconfig"), b].join(":");
    const only = await connect({ linkerdNamespace: "linkerd", verbose: false, color: false });
    assert.equal((await only.serverVersion()).gitVersion, "v1.37.2-second");
  } finally {
    if (saved === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = saved;
    first.close();
    second.close();
  }
});

test("mergeKubeconfigs: relative file paths stay relative to the file that names them", async () => {
  const { mergeKubeconfigs } = await import("../../src/kube/kubeconfig.js");
  const a = kubeconfig("https://a.example:6443", "");
  const dirB = mkdtempSync(join(tmpdir(), "mesh-kube-"));
  const b = join(dirB, "config");
  writeFileSync(b, "apiVersion: v1\nkind: Config\nclusters:\n- name: other\n  cluster: {server: 'https://b.example', certificate-authority: ca.crt}\nusers:\n- name: them\n  user: {client-certificate: certs/u.crt, client-key: /abs/u.key, exec: {command: ./bin/creds, apiVersion: client.authentication.k8s.io/v1}}\ncontexts:\n- name: ctx\n  context: {cluster: other, user: them}\n");
  const m = mergeKubeconfigs([a, b]) as { clusters: { name: string; cluster: Record<string, unknown> }[]; users: { name: string; user: Record<string, unknown> }[]; contexts: { name: string; context: { cluster: string } }[]; "current-context": string };
  assert.equal(m["current-context"], "ctx");
  assert.deepEqual(m.contexts.map((x) => [x.name, x.context.cluster]), [["ctx", "c"]], "a's ctx wins over b's");
  assert.deepEqual(m.clusters.map((x) => x.name), ["c", "other"]);
  assert.equal(m.clusters[1].cluster["certificate-authority"], join(dirB, "ca.crt"));
  const them = m.users.find((u) => u.name === "them")!.user;
  assert.equal(them["client-certificate"], join(dirB, "certs/u.crt"));
  assert.equal(them["client-key"], "/abs/u.key");
  assert.equal((them.exec as { command: string }).command, join(dirB, "bin/creds"));
});

test("no kubeconfig at all: one line saying so and where mesh looked", async () => {
  const saved = { KUBECONFIG: process.env.KUBECONFIG, HOME: process.env.HOME, KUBERNETES_SERVICE_HOST: process.env.KUBERNETES_SERVICE_HOST };
  try {
    process.env.HOME = mkdtempSync(join(tmpdir(), "mesh-home-"));
    delete process.env.KUBERNETES_SERVICE_HOST;
    process.env.KUBECONFIG = join(tmpdir(), "mesh-no-such-kubeconfig");
    await assert.rejects(connect({ linkerdNamespace: "linkerd", verbose: false, color: false }), (e: unknown) => {
      assert.ok(e instanceof MeshError);
      assert.match(e.message, /^no kubeconfig found: mesh looked at KUBECONFIG=.*mesh-no-such-kubeconfig \(no file of it exists\)$/);
      return true;
    });
    delete process.env.KUBECONFIG;
    await assert.rejects(connect({ linkerdNamespace: "linkerd", verbose: false, color: false }), /no kubeconfig found: mesh looked at .*\.kube\/config \(KUBECONFIG is not set\)/);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
});

test("a merged KUBECONFIG list (client-node's path) still sends the kubeconfig's as, as-groups and as-user-extra", async () => {
  const seen: IncomingMessage["headers"][] = [];
  const s = await server((req, res) => {
    seen.push(req.headers);
    res.end(JSON.stringify({ gitVersion: "v1.30.0" }));
  });
  const saved = process.env.KUBECONFIG;
  try {
    const first = kubeconfig(s.url).replace(/config$/, "first");
    writeFileSync(first, `apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n    token: secret-token\n    as: viewer\n    as-groups: [devs]\n    as-user-extra: {"example.com/team": [blue]}\n`);
    process.env.KUBECONFIG = `${first}:${kubeconfig(s.url)}`;
    const c = await connect({ linkerdNamespace: "linkerd", verbose: false, color: false });
    await c.serverVersion();
    assert.deepEqual([seen[0]["impersonate-user"], seen[0]["impersonate-group"], seen[0]["impersonate-extra-example.com%2fteam"]], ["viewer", "devs", "blue"]);
    c.close();
  } finally {
    if (saved === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = saved;
    await s.close();
  }
});

test("a merged KUBECONFIG list (client-node's path) with a CA and insecure-skip-tls-verify is refused too", async () => {
  const saved = process.env.KUBECONFIG;
  try {
    const file = kubeconfig("https://127.0.0.1:1").replace(/config$/, "ca");
    writeFileSync(file, `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\n    certificate-authority-data: Q0E=\n    insecure-skip-tls-verify: true\n`);
    process.env.KUBECONFIG = `${file}:${kubeconfig("https://127.0.0.1:1")}`;
    await assert.rejects(connect({ linkerdNamespace: "linkerd", verbose: false, color: false }), /^MeshError: insecure-skip-tls-verify of cluster "c" in kubeconfig .* is true while the entry also names a certificate authority/);
  } finally {
    if (saved === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = saved;
  }
});

test("proxy-url: a plain-HTTP server is reached through the proxy with the absolute URL and the proxy's credentials", async () => {
  const seen: { url?: string; host?: string; auth?: string }[] = [];
  const proxy = await server((req, res) => {
    seen.push({ url: req.url, host: req.headers.host, auth: req.headers["proxy-authorization"] });
    res.end(JSON.stringify({ gitVersion: "v1.30.0" }));
  });
  try {
    const proxyUrl = proxy.url.replace("http://", "http://me:s3cret@");
    const file = proxiedKubeconfig("http://api.mesh.invalid:8080", proxyUrl);
    const c = await connect(globals(file));
    assert.equal((await c.serverVersion()).gitVersion, "v1.30.0");
    assert.deepEqual(seen, [{ url: "http://api.mesh.invalid:8080/version", host: "api.mesh.invalid:8080", auth: `Basic ${Buffer.from("me:s3cret").toString("base64")}` }]);
    c.close();
  } finally {
    await proxy.close();
  }
});

test("proxy-url: a proxy refusing CONNECT is one error naming the proxy (without its credentials) and the kubeconfig", async () => {
  const { createServer: createTcp } = await import("node:net");
  let connectLine = "";
  const proxy = createTcp((sock) =>
    sock.once("data", (d) => {
      connectLine = d.toString("latin1");
      sock.end("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n");
    }),
  );
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  try {
    const port = (proxy.address() as AddressInfo).port;
    const file = proxiedKubeconfig("https://api.mesh.invalid:6443", `http://me:s3cret@127.0.0.1:${port}`);
    const c = await connect(globals(file));
    await assert.rejects(c.serverVersion(), (e: unknown) => {
      assert.ok(e instanceof MeshError);
      assert.match(e.message, /^cannot reach api\.mesh\.invalid:6443 through the proxy http:\/\/127\.0\.0\.1:\d+ \(proxy-url of cluster "c" in kubeconfig \S+\): it answered CONNECT with 407 Proxy Authentication Required$/);
      assert.doesNotMatch(`${e.message} ${e.hint}`, /s3cret/);
      return true;
    });
    assert.match(connectLine, /^CONNECT api\.mesh\.invalid:6443 HTTP\/1\.1\r\nHost: api\.mesh\.invalid:6443\r\nProxy-Authorization: Basic bWU6czNjcmV0\r\n/);
    c.close();
  } finally {
    proxy.close();
  }
});

test("proxy-url: a proxy that never answers CONNECT costs the request's timeout, and close() drops the connection to it", async () => {
  const { createServer: createTcp } = await import("node:net");
  let closed!: () => void;
  const proxySocketClosed = new Promise<void>((r) => (closed = r));
  const proxy = createTcp((sock) => {
    sock.on("close", () => closed());
    sock.on("error", () => undefined);
    sock.resume(); // read (and drop) the CONNECT, so that the client's end of the connection is seen
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  try {
    const file = proxiedKubeconfig("https://api.mesh.invalid:6443", `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`);
    const c = (await connect(globals(file))).withTimeout(300);
    await assert.rejects(c.serverVersion(), /^MeshError: the Kubernetes API at https:\/\/api\.mesh\.invalid:6443 did not answer within 300 ms \(GET \/version\)$/);
    c.close();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([proxySocketClosed, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error("the connection to the proxy is still open")), 20_000)))]).finally(() => clearTimeout(timer));
  } finally {
    proxy.close();
  }
});

test("disable-compression in the kubeconfig cluster entry: no request asks for gzip (fast path and client-node's)", async () => {
  const seen: (string | undefined)[] = [];
  const s = await server((req, res) => {
    seen.push(req.headers["accept-encoding"]);
    res.end(JSON.stringify({ gitVersion: "v1.30.0", items: [] }));
  });
  const saved = process.env.KUBECONFIG;
  try {
    const plain = kubeconfig(s.url);
    const off = kubeconfig(s.url);
    writeFileSync(off, readFileSync(off, "utf8").replace("    insecure-skip-tls-verify: true", "    disable-compression: true"));
    for (const [file, expected] of [
      [plain, "gzip"],
      [off, undefined],
    ] as const) {
      seen.length = 0;
      const c = await connect(globals(file));
      await c.listNodes();
      c.close();
      assert.deepEqual(seen, [expected], file);
    }
    // a merged KUBECONFIG list goes through client-node, which ignores the key: mesh reads it itself
    const other = kubeconfig(s.url).replace(/config$/, "other");
    writeFileSync(other, "apiVersion: v1\nkind: Config\n");
    process.env.KUBECONFIG = `${off}:${other}`;
    seen.length = 0;
    const c = await connect({ linkerdNamespace: "linkerd", verbose: false, color: false });
    await c.listNodes();
    c.close();
    assert.deepEqual(seen, [undefined]);
  } finally {
    if (saved === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = saved;
    await s.close();
  }
});
