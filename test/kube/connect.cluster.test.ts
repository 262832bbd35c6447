// How mesh connects, against the real test API server: kubeconfig impersonation (`as`,
// `as-groups`) in the fast path, and HTTP proxies (HTTPS_PROXY, https_proxy, NO_PROXY, the
// cluster's proxy-url) through a CONNECT proxy written here, which counts the tunnels it opens.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, connect as netConnect, type AddressInfo, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "../../src/kube/cluster.js";
import { KubeApiError } from "../../src/kube/errors.js";
import { connectTestCluster, type TestCluster } from "../helpers/cluster.js";

let c: TestCluster;
let apiPort: number;
const dir = mkdtempSync(join(tmpdir(), "mesh-connect-"));
const g = (kubeconfig: string) => ({ kubeconfig, linkerdNamespace: "linkerd", verbose: false, color: false });

before(async () => {
  c = await connectTestCluster();
  apiPort = Number(new URL(c.server).port);
});

/** A kubeconfig for the admin token user, with `server` and extra lines in the cluster and user entries. */
function kubeconfig(name: string, opts: { server?: string; cluster?: string[]; user?: string[] } = {}): string {
  const ca = Buffer.from(readFileSync(c.state.caFile)).toString("base64");
  const text = [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: test",
    "  cluster:",
    `    server: ${opts.server ?? c.server}`,
    `    certificate-authority-data: ${ca}`,
    ...(opts.cluster ?? []).map((l) => `    ${l}`),
    "users:",
    "- name: admin",
    "  user:",
    `    token: ${c.state.users.admin.token}`,
    ...(opts.user ?? []).map((l) => `    ${l}`),
    "contexts:",
    "- name: test",
    "  context: {cluster: test, user: admin}",
    "current-context: test",
    "",
  ].join("\n");
  const file = join(dir, name);
  writeFileSync(file, text, { mode: 0o600 });
  return file;
}

const configMap = (name: string) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "default" }, data: { a: "b" } });

test("kubeconfig `as:` is sent: the admin token acting as the viewer user gets the viewer's permissions", async () => {
  const admin = await connect(g(kubeconfig("admin")));
  const viewer = await connect(g(kubeconfig("as-viewer", { user: [`as: ${c.state.users.viewer.name}`] })));
  try {
    // The admin may write; acting as the viewer, the same token may read but not write.
    await admin.dryRunCreate(configMap("mesh-as-admin"));
    assert.equal((await viewer.getNamespace("default"))?.metadata.name, "default");
    await assert.rejects(viewer.dryRunCreate(configMap("mesh-as-viewer")), (e: unknown) => e instanceof KubeApiError && e.status === 403);
    assert.equal((await viewer.selfSubjectAccessReview({ verb: "create", resource: "configmaps", namespace: "default" })).allowed, false);
    assert.equal((await admin.selfSubjectAccessReview({ verb: "create", resource: "configmaps", namespace: "default" })).allowed, true);
  } finally {
    admin.close();
    viewer.close();
  }
});

test("kubeconfig `as-groups:` is sent too, and --as overrides `as:` as kubectl's flags do", async () => {
  // A user with no RBAC of its own, made a member of system:masters by impersonation.
  const masters = await connect(g(kubeconfig("as-groups", { user: ["as: mesh-nobody-at-all", "as-groups: [system:masters]"] })));
  // --as replaces the kubeconfig's user and keeps its groups: the viewer in system:masters may write.
  const flagged = await connect({ ...g(kubeconfig("as-flag", { user: ["as: mesh-nobody-at-all"] })), as: c.state.users.viewer.name });
  try {
    await masters.dryRunCreate(configMap("mesh-as-groups"));
    assert.equal((await flagged.selfSubjectAccessReview({ verb: "create", resource: "configmaps", namespace: "default" })).allowed, false);
    assert.equal((await flagged.getNamespace("default"))?.metadata.name, "default");
  } finally {
    masters.close();
    flagged.close();
  }
});

/** A CONNECT proxy that tunnels every target to the test API server and records what it was asked for. */
async function connectProxy(): Promise<{ url: string; targets: string[]; close(): Promise<void> }> {
  const targets: string[] = [];
  const server: Server = createServer((client) => {
    let head = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      head = Buffer.concat([head, d]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      client.off("data", onData);
      const m = /^CONNECT (\S+) HTTP\/1\.1\r\n/.exec(head.toString("latin1"));
      if (!m) return void client.end("HTTP/1.1 405 Method Not Allowed\r\n\r\n");
      targets.push(m[1]);
      const upstream = netConnect(apiPort, "127.0.0.1", () => {
        client.write("HTTP/1.1 200 Connection established\r\n\r\n");
        const rest = head.subarray(end + 4);
        if (rest.length) upstream.write(rest);
        client.pipe(upstream).pipe(client);
      });
      upstream.on("error", () => client.destroy());
      client.on("error", () => upstream.destroy());
    };
    client.on("data", onData);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    targets,
    close: () => new Promise<void>((r) => (server.close(() => r()), server.unref())),
  };
}

/** Runs `f` with these proxy variables set (and every other proxy variable unset), then restores them. */
async function withEnv<T>(vars: Record<string, string>, f: () => Promise<T>): Promise<T> {
  const names = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"];
  const saved = Object.fromEntries(names.map((n) => [n, process.env[n]]));
  for (const n of names) delete process.env[n];
  Object.assign(process.env, vars);
  try {
    return await f();
  } finally {
    for (const n of names) {
      if (saved[n] === undefined) delete process.env[n];
      else process.env[n] = saved[n];
    }
  }
}

let proxy: Awaited<ReturnType<typeof connectProxy>>;
before(async () => {
  proxy = await connectProxy();
});
after(async () => {
  await proxy?.close();
});

/** Three requests through a fresh connection; returns the CONNECTs the proxy saw meanwhile. */
async function threeRequests(kubeconfigFile: string): Promise<string[]> {
  const before = proxy.targets.length;
  const api = await connect(g(kubeconfigFile));
  try {
    assert.match((await api.serverVersion()).gitVersion, /^v1\./);
    assert.equal((await api.getNamespace("default"))?.metadata.name, "default");
    assert.equal((await api.getNamespace("kube-system"))?.metadata.name, "kube-system");
  } finally {
    api.close();
  }
  return proxy.targets.slice(before);
}

// The API server's certificate names kubernetes.default.svc, which does not resolve here: only
// the proxy can reach it, so a request that succeeds went through the proxy.
const viaName = () => kubeconfig("via-name", { server: `https://kubernetes.default.svc:${apiPort}` });

test("HTTPS_PROXY: requests tunnel through the proxy with CONNECT (kept alive: one tunnel for three requests)", async () => {
  const seen = await withEnv({ HTTPS_PROXY: proxy.url }, () => threeRequests(viaName()));
  assert.deepEqual(seen, [`kubernetes.default.svc:${apiPort}`]);
});

test("https_proxy (lower case) works alone", async () => {
  const seen = await withEnv({ https_proxy: proxy.url }, () => threeRequests(viaName()));
  assert.deepEqual(seen, [`kubernetes.default.svc:${apiPort}`]);
});

// 0.0.0.0 is not a loopback address to Go (so the environment's proxy applies to it), yet
// connecting to it reaches the API server listening on 127.0.0.1: a direct request succeeds.
const viaZero = () => kubeconfig("via-zero", { server: `https://0.0.0.0:${apiPort}`, cluster: ["tls-server-name: kubernetes.default.svc"] });

test("NO_PROXY: a matching host, CIDR or host:port goes direct, the others through the proxy", async () => {
  assert.deepEqual(await withEnv({ HTTPS_PROXY: proxy.url, NO_PROXY: "example.com" }, () => threeRequests(viaZero())), [`0.0.0.0:${apiPort}`]);
  for (const noProxy of ["0.0.0.0", "0.0.0.0/8", `example.com, 0.0.0.0:${apiPort}`, "*"])
    assert.deepEqual(await withEnv({ HTTPS_PROXY: proxy.url, NO_PROXY: noProxy }, () => threeRequests(viaZero())), [], `NO_PROXY=${noProxy}`);
  assert.deepEqual(await withEnv({ HTTPS_PROXY: proxy.url, no_proxy: "0.0.0.0" }, () => threeRequests(viaZero())), [], "no_proxy");
  // a port that is not the server's exempts nothing
  assert.deepEqual(await withEnv({ HTTPS_PROXY: proxy.url, NO_PROXY: "0.0.0.0:1" }, () => threeRequests(viaZero())), [`0.0.0.0:${apiPort}`]);
});

test("the cluster's proxy-url takes precedence over HTTPS_PROXY and NO_PROXY, even for a loopback server", async () => {
  const file = kubeconfig("proxy-url", { cluster: [`proxy-url: ${proxy.url}`] });
  // HTTPS_PROXY points nowhere: used, it would fail.
  const seen = await withEnv({ HTTPS_PROXY: "http://127.0.0.1:1", NO_PROXY: "*" }, () => threeRequests(file));
  assert.deepEqual(seen, [`127.0.0.1:${apiPort}`]);
});

test("an unreachable proxy is one error naming the proxy and where it was set", async () => {
  const api = await withEnv({ HTTPS_PROXY: "http://127.0.0.1:1" }, () => connect(g(viaName())));
  try {
    await assert.rejects(api.serverVersion(), (e: unknown) => {
      assert.equal((e as Error).message, `cannot reach kubernetes.default.svc:${apiPort} through the proxy http://127.0.0.1:1 (HTTPS_PROXY): connection refused`);
      return true;
    });
  } finally {
    api.close();
  }
});
