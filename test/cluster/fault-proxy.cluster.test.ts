// The fault proxy in front of the API server: each fault, per path, changeable
// at runtime, and a count of the requests that went through it.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { connectTestCluster, KubeRest, type TestCluster, type TestFaultProxy } from "../helpers/cluster.js";
import { readFileSync } from "node:fs";

let c: TestCluster;
let fp: TestFaultProxy;
let client: KubeRest;

before(async () => {
  c = await connectTestCluster();
  fp = await c.startFaultProxy();
  client = new KubeRest(fp.url, c.state.users.admin.token, readFileSync(c.state.caFile, "utf8"));
});
after(async () => {
  client?.close();
  await fp?.close();
});

test("without faults it forwards everything and counts requests", async () => {
  fp.clearFaults();
  fp.resetCounts();
  const r = await c.kubectl(["get", "namespaces", "-o", "name"], { kubeconfig: fp.kubeconfig });
  assert.match(r.stdout, /namespace\/default/);
  assert.ok(fp.count() >= 1);
  assert.ok(fp.count(/^\/api\/v1\/namespaces/) >= 1);
  assert.ok(fp.requests.every((q) => q.status === undefined || q.status < 500));
});

for (const status of [403, 404, 500]) {
  test(`answers ${status} with a Kubernetes Status for matching paths only`, async () => {
    fp.setFaults([{ path: /^\/api\/v1\/namespaces\/default\/pods/, status }]);
    const r = await c.kubectl(["get", "pods", "-n", "default"], { kubeconfig: fp.kubeconfig, allowFail: true });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /injected fault/);
    const res = await client.raw("GET", "/api/v1/namespaces/default/pods");
    assert.equal(res.status, status);
    const body = JSON.parse(res.body) as { kind: string; code: number; reason: string };
    assert.deepEqual([body.kind, body.code], ["Status", status]);
    // Other paths pass.
    assert.equal((await client.raw("GET", "/api/v1/namespaces/default")).status, 200);
    fp.clearFaults();
  });
}

test("adds latency to the matching path only", async () => {
  fp.setFaults([{ path: "^/version", latencyMs: 3000 }]);
  const order: string[] = [];
  const t0 = Date.now();
  const delayed = client.raw("GET", "/version").then((r) => (order.push("/version"), r));
  // Sent after the delayed one, answered before it: only /version waits.
  const direct = client.raw("GET", "/api").then((r) => (order.push("/api"), r));
  const [v, a] = await Promise.all([delayed, direct]);
  assert.deepEqual([v.status, a.status], [200, 200]);
  assert.deepEqual(order, ["/api", "/version"]);
  // A timer never fires early; a few ms of slack for clock granularity.
  assert.ok(Date.now() - t0 >= 2990, `took ${Date.now() - t0} ms`);
  fp.clearFaults();
});

test("resets connections", async () => {
  fp.setFaults([{ path: "^/version", reset: true }]);
  await assert.rejects(client.raw("GET", "/version"), (e: NodeJS.ErrnoException) => /ECONNRESET|socket hang up/.test(`${e.code} ${e.message}`));
  fp.clearFaults();
});

test("hangs until the client gives up", async () => {
  fp.setFaults([{ path: "^/version", hang: true }]);
  const t0 = Date.now();
  await assert.rejects(client.raw("GET", "/version", undefined, undefined, 500), /timed out/);
  assert.ok(Date.now() - t0 >= 490, `gave up after ${Date.now() - t0} ms`);
  const r = await c.kubectl(["version", "--request-timeout=1s"], { kubeconfig: fp.kubeconfig, allowFail: true });
  assert.notEqual(r.code, 0);
  fp.clearFaults();
});

test("`times` limits a fault to the next N requests, and faults change at runtime", async () => {
  fp.setFaults([{ path: "^/version", status: 500, times: 2 }]);
  const codes = [];
  for (let i = 0; i < 3; i++) codes.push((await client.raw("GET", "/version")).status);
  assert.deepEqual(codes, [500, 500, 200]);
  fp.setFaults([{ method: "POST", status: 403 }]);
  assert.equal((await client.raw("GET", "/version")).status, 200);
  assert.equal((await client.raw("POST", "/api/v1/namespaces", { metadata: { name: "x" } })).status, 403);
  fp.clearFaults();
});

test("watches stream through the proxy", async () => {
  fp.clearFaults();
  const ns = await c.newNamespace("fp");
  const ac = new AbortController();
  const seen: string[] = [];
  const watching = client.watch<{ metadata: { name: string } }>(
    `/api/v1/namespaces/${ns}/configmaps?watch=1`,
    (e) => {
      seen.push(`${e.type} ${e.object.metadata.name}`);
      if (seen.some((s) => s === "ADDED probe")) ac.abort();
    },
    ac.signal,
  );
  await new Promise((r) => setTimeout(r, 200));
  await c.api.json("POST", `/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: "probe" } });
  await Promise.race([watching, new Promise((_, rej) => setTimeout(() => rej(new Error("no watch event")), 10_000))]);
  assert.ok(seen.includes("ADDED probe"), seen.join(","));
  await c.deleteNamespace(ns);
});
