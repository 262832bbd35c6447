import { test } from "node:test";
import assert from "node:assert/strict";
import { RestCluster, podProxyPath, type ClusterApi, type Transport } from "../../src/kube/cluster.js";
import { KubeApiError } from "../../src/kube/errors.js";
import { MeshError } from "../../src/errors.js";
import { fallbackMessage, looksFirewalled, withVia } from "../../src/viz/via.js";

test("what looks like a firewall between the API server and the pods: its proxy's 502/503/504, or no answer in time", () => {
  for (const s of [502, 503, 504]) assert.equal(looksFirewalled(new KubeApiError(s, "GET", "/x", "m")), true);
  for (const s of [403, 404, 500]) assert.equal(looksFirewalled(new KubeApiError(s, "GET", "/x", "m")), false);
  assert.equal(looksFirewalled(new MeshError("slow", undefined, 1, Object.assign(new Error("t"), { code: "MESH_TIMEOUT" }))), true);
  assert.equal(looksFirewalled(new MeshError("refused", undefined, 1, Object.assign(new Error("r"), { code: "ECONNREFUSED" }))), false);
  assert.equal(looksFirewalled(new Error("other")), false);
});

test("the fallback message names the pod, the API server's answer and the firewall rule; hostile text is sanitised", () => {
  const m = fallbackMessage("shop", "web-1", 4191, new KubeApiError(503, "GET", "/x", "r", undefined, "dial tcp 10.1.2.3:4191: i/o timeout\x1b[2J"));
  const lines = m.split("\n");
  assert.equal(lines.length, 3);
  assert.equal(lines[2], "");
  assert.match(lines[0]!, /^warning: the API server's pod proxy cannot reach pod shop\/web-1 on port 4191 \(the API server answered 503: dial tcp 10\.1\.2\.3:4191: i\/o timeout/);
  assert.match(lines[1]!, /^hint: allow TCP from the API server to pod IPs on port 4191 /);
  assert.doesNotMatch(m, /\x1b/);
});

/** A cluster whose pod proxy answers `status`, and which cannot upgrade (port-forward fails with 403). */
function fakeCluster(status: number): { cluster: ClusterApi; paths: string[] } {
  const paths: string[] = [];
  const transport: Transport = async (req) => {
    paths.push(`${req.method} ${req.path}`);
    return { status, body: JSON.stringify({ message: status === 200 ? "" : "dial tcp: i/o timeout" }) };
  };
  transport.upgrade = async (req) => {
    paths.push(`UPGRADE ${req.path}`);
    return { status: 403, body: JSON.stringify({ message: 'pods "web-1" is forbidden: User "u" cannot create resource "pods/portforward"' }) };
  };
  return { cluster: new RestCluster("https://k", transport), paths };
}

test("proxy: the pod proxy only, its error as is", async () => {
  const { cluster, paths } = fakeCluster(503);
  const err: string[] = [];
  const c = withVia(cluster, "proxy", { write: (s: string) => err.push(s) });
  await assert.rejects(c.podProxyText("shop", "web-1", 4191, "/metrics"), (e: unknown) => e instanceof KubeApiError && e.status === 503);
  assert.deepEqual(paths, [`GET ${podProxyPath("shop", "web-1", 4191, "/metrics")}`]);
  assert.deepEqual(err, []);
});

test("auto: a 503 switches to port-forward for this and every later read (of every view), said once", async () => {
  const { cluster, paths } = fakeCluster(503);
  const err: string[] = [];
  const c = withVia(cluster, "auto", { write: (s: string) => err.push(s) });
  const forbidden = (e: unknown) => e instanceof KubeApiError && e.status === 403 && /pods\/portforward/.test(e.message);
  await assert.rejects(c.podProxyText("shop", "web-1", 4191, "/metrics"), forbidden);
  await assert.rejects(c.withTimeout(5000).podProxyText("shop", "web-2", 4191, "/metrics"), forbidden);
  const stream = c.withTimeout(5000).getStream(podProxyPath("shop", "web-3", 4191, "/metrics"));
  await assert.rejects(stream.next(), forbidden);
  assert.deepEqual(paths, [
    `GET ${podProxyPath("shop", "web-1", 4191, "/metrics")}`,
    "UPGRADE /api/v1/namespaces/shop/pods/web-1/portforward",
    "UPGRADE /api/v1/namespaces/shop/pods/web-2/portforward",
    "UPGRADE /api/v1/namespaces/shop/pods/web-3/portforward",
  ]);
  assert.equal(err.length, 1);
  assert.match(err[0]!, /pod shop\/web-1 on port 4191/);
});

test("auto: other failures and other paths are left alone", async () => {
  const { cluster, paths } = fakeCluster(404);
  const err: string[] = [];
  const c = withVia(cluster, "auto", { write: (s: string) => err.push(s) });
  await assert.rejects(c.podProxyText("shop", "gone", 4191, "/metrics"), (e: unknown) => e instanceof KubeApiError && e.status === 404);
  assert.equal(await c.getJson("/api/v1/namespaces/shop/pods/x"), undefined);
  assert.deepEqual(paths, [`GET ${podProxyPath("shop", "gone", 4191, "/metrics")}`, "GET /api/v1/namespaces/shop/pods/x"]);
  assert.deepEqual(err, []);
});

test("port-forward: never the pod proxy", async () => {
  const { cluster, paths } = fakeCluster(200);
  const c = withVia(cluster, "port-forward", { write: () => undefined });
  await assert.rejects(c.podProxyText("shop", "web-1", 4191, "/metrics"));
  assert.deepEqual(paths, ["UPGRADE /api/v1/namespaces/shop/pods/web-1/portforward"]);
});
