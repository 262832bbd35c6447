// The kubelet stand-in's port-forward endpoint, proven with an independent client: the kubectl
// built with the cluster runs `kubectl port-forward` through the real API server (which speaks
// SPDY to the kubelet, whatever kubectl speaks to it), and a plain HTTP GET goes through the
// forwarded local port to the proxy stand-in's admin server.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { get } from "node:http";
import { connectTestCluster, type Pod, type TestCluster } from "../helpers/cluster.js";

let c: TestCluster;
let ns: string;
let pod: Pod;
const children: ChildProcess[] = [];

before(async () => {
  c = await connectTestCluster();
  ns = await c.newNamespace("pf");
  await c.apply(
    `
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web, linkerd.io/control-plane-ns: linkerd}
  annotations:
    mesh.test/traffic: '{"flows": [{"direction": "inbound", "rps": 5, "authority": "web.example:80", "route": "GET /"}, {"direction": "inbound", "rps": 5, "authority": "api.example:80"}, {"direction": "inbound", "rps": 5, "authority": "a.example:80", "route": "GET /a"}, {"direction": "inbound", "rps": 5, "authority": "b.example:80", "route": "GET /b"}]}'
spec:
  containers:
  - {name: app, image: example/web:1}
  - {name: linkerd-proxy, image: cr.l5d.io/linkerd/proxy:stable-2.14.10}
`,
    ns,
  );
  [pod] = await c.waitForPods(ns, "app=web", { count: 1 });
});

after(async () => {
  for (const ch of children) ch.kill("SIGTERM");
  await c?.deleteNamespace(ns);
});

/** Starts `kubectl port-forward`, resolves with the local port it printed and what it has written to stderr so far. */
function portForward(args: string[]): Promise<{ port: number; stderr: () => string }> {
  const ch = spawn(c.state.kubectl, ["--kubeconfig", c.kubeconfig, "port-forward", "-n", ns, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  children.push(ch);
  let out = "";
  let err = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kubectl port-forward printed no port within 20s: ${out} ${err}`)), 20_000);
    ch.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ port: Number(m[1]), stderr: () => err });
      }
    });
    ch.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    ch.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`kubectl port-forward exited ${code}: ${err}`));
    });
  });
}

function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get({ host: "127.0.0.1", port, path, timeout: 15_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
  });
}

test("kubectl port-forward reaches the proxy stand-in's admin port through the kubelet stand-in", async () => {
  const { port } = await portForward([`pod/${pod.metadata.name}`, ":4191"]);
  const metrics = await httpGet(port, "/metrics");
  assert.equal(metrics.status, 200);
  // The same proxy start time as the API server's pod proxy reads: this pod's admin server answered.
  const start = (text: string) => /^process_start_time_seconds (\S+)$/m.exec(text)?.[1];
  assert.ok(start(metrics.body));
  assert.equal(start(metrics.body), start(await c.proxyMetrics(ns, pod.metadata.name)));
  // Larger than one SPDY data frame and than SPDY's default window: every frame arrived.
  assert.ok(metrics.body.length > 70_000, `a whole /metrics page (got ${metrics.body.length} bytes)`);
  assert.match(metrics.body, /# EOF\n$|\n$/);
  assert.match(metrics.body, /authority="api\.example:80"/);
  // A second connection over the same port-forward session (a new request id).
  const ready = await httpGet(port, "/ready");
  assert.equal(ready.status, 200);
  assert.equal(ready.body, "ready\n");
});

test("kubectl port-forward to a closed port reports the kubelet's error", async () => {
  const { port, stderr } = await portForward([`pod/${pod.metadata.name}`, ":4999"]);
  await assert.rejects(httpGet(port, "/"));
  for (let i = 0; i < 50 && !/ECONNREFUSED/.test(stderr()); i++) await new Promise((r) => setTimeout(r, 100));
  assert.match(stderr(), new RegExp(`error forwarding port 4999 to pod ${ns}/web: connect ECONNREFUSED`));
});
