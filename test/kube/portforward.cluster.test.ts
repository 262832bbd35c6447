// mesh's own port-forward client (src/kube/portforward.ts) against the real API server and the
// kubelet stand-in (whose SPDY side kubectl validates in test/cluster/portforward.cluster.test.ts).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { connect, type ClusterApi } from "../../src/kube/cluster.js";
import { KubeApiError } from "../../src/kube/errors.js";
import { openPortForward, portForwardGet } from "../../src/kube/portforward.js";
import { MeshError } from "../../src/errors.js";
import { connectTestCluster, type Pod, type TestCluster } from "../helpers/cluster.js";

let c: TestCluster;
let ns: string;
let pod: Pod;
let cluster: ClusterApi;

const globals = (kubeconfig: string) => ({ kubeconfig, linkerdNamespace: "linkerd", verbose: false, color: false });

before(async () => {
  c = await connectTestCluster();
  ns = await c.newNamespace("pfc");
  const flows = ["a", "b", "c", "d"].map((x) => ({ direction: "inbound", rps: 5, authority: `${x}.example:80`, route: `GET /${x}` }));
  await c.apply(
    `
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web, linkerd.io/control-plane-ns: linkerd}
  annotations:
    mesh.test/traffic: '${JSON.stringify({ flows })}'
spec:
  containers:
  - {name: app, image: example/web:1}
  - {name: linkerd-proxy, image: cr.l5d.io/linkerd/proxy:stable-2.14.10}
`,
    ns,
  );
  [pod] = await c.waitForPods(ns, "app=web", { count: 1 });
  cluster = await connect(globals(c.kubeconfig));
});

after(async () => {
  cluster?.close();
  await c?.deleteNamespace(ns);
});

const startTime = (text: string) => /^process_start_time_seconds (\S+)$/m.exec(text)?.[1];

test("portForwardGet reads the proxy's /metrics, gzip-compressed on the wire, and the same pod answers as through the pod proxy", async () => {
  let wire = 0;
  const res = await portForwardGet(cluster, ns, pod.metadata.name, 4191, "/metrics", { timeoutMs: 15_000, onWireBytes: (n) => (wire += n) });
  assert.equal(res.status, 200);
  assert.equal(res.headers["content-encoding"], "gzip");
  const text = res.body.toString("utf8");
  assert.ok(text.length > 70_000, `the whole page (${text.length} bytes)`);
  assert.ok(wire > 0 && wire < text.length / 3, `compressed on the wire (${wire} of ${text.length} bytes)`);
  assert.ok(startTime(text));
  assert.equal(startTime(text), startTime(await c.proxyMetrics(ns, pod.metadata.name)));
});

test("one session carries several connections, one after the other and at once", async () => {
  const pf = await openPortForward(cluster, ns, pod.metadata.name, { timeoutMs: 15_000 });
  try {
    const ask = async (path: string) => {
      const conn = await pf.dial(4191);
      conn.end(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      const chunks: Buffer[] = [];
      for await (const ch of conn) chunks.push(ch as Buffer);
      return Buffer.concat(chunks).toString("utf8");
    };
    assert.match(await ask("/ready"), /^HTTP\/1\.1 200 OK[\s\S]*\r\n\r\nready\n$/);
    const [live, notFound] = await Promise.all([ask("/live"), ask("/nope")]);
    assert.match(live, /\r\n\r\nlive\n$/);
    assert.match(notFound, /^HTTP\/1\.1 404 /);
  } finally {
    pf.close();
  }
});

test("a closed port fails with the kubelet's message", async () => {
  await assert.rejects(portForwardGet(cluster, ns, pod.metadata.name, 4999, "/", { timeoutMs: 15_000 }), (e: unknown) => {
    assert.ok(e instanceof MeshError);
    assert.match(e.message, /port-forward to port 4999 of pod .*\/web failed: error forwarding port 4999 to pod .*: connect ECONNREFUSED/);
    return true;
  });
});

test("a missing pod is the API server's 404, and a user without RBAC gets a 403 naming create pods/portforward", async () => {
  await assert.rejects(portForwardGet(cluster, ns, "nope", 4191, "/metrics", { timeoutMs: 15_000 }), (e: unknown) => e instanceof KubeApiError && e.status === 404);
  const nobody = await connect(globals(c.kubeconfigs.nobody));
  try {
    await assert.rejects(portForwardGet(nobody, ns, pod.metadata.name, 4191, "/metrics", { timeoutMs: 15_000 }), (e: unknown) => {
      assert.ok(e instanceof KubeApiError && e.status === 403);
      assert.match(e.hint ?? "", /"create" on pods\/portforward/);
      return true;
    });
  } finally {
    nobody.close();
  }
});
