// Proxy stand-ins through the real API server: the pod proxy reaches each meshed
// pod's admin server on :4191, whose metrics follow the pod's traffic model, and
// `kubectl logs -f` streams its access log from the kubelet log stand-in.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { gunzipSync } from "node:zlib";
import { connectTestCluster, type Pod, type TestCluster } from "../helpers/cluster.js";

let c: TestCluster;
let ns: string;
let web: Pod;
let emoji: Pod[];

const webModel = {
  flows: [
    {
      direction: "inbound",
      rps: 20,
      successRate: 0.75,
      latencyMs: [{ ms: 3, weight: 1 }, { ms: 40, weight: 1 }],
      authority: "web-svc.NS.svc.cluster.local:80",
      route: "GET /api/list",
      from: { selector: { app: "vote-bot" } },
    },
    { direction: "outbound", rps: 10, grpc: true, to: { service: "emoji-svc", port: 8080, selector: { app: "emoji" } } },
  ],
};

function manifest(namespace: string): string {
  const pod = (name: string, replicas: number, annotations: string) => `
apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata:
      labels: {app: ${name}, linkerd.io/control-plane-ns: linkerd, linkerd.io/proxy-deployment: ${name}}
      annotations: {${annotations}}
    spec:
      serviceAccountName: default
      containers:
      - {name: app, image: example/${name}:1}
      - name: linkerd-proxy
        image: cr.l5d.io/linkerd/proxy:stable-2.14.10
        env:
        - {name: LINKERD2_PROXY_ACCESS_LOG, value: apache}
        - {name: LINKERD2_PROXY_ADMIN_LISTEN_ADDR, value: "0.0.0.0:4191"}
`;
  const model = JSON.stringify(webModel).replace(/NS/g, namespace);
  return [
    pod("emoji", 2, ""),
    pod("vote-bot", 1, ""),
    // web starts after its peers exist, so its outbound flow finds both emoji pods.
    pod("web", 1, `mesh.test/traffic: '${model}'`),
  ].join("\n---\n");
}

before(async () => {
  c = await connectTestCluster();
  ns = await c.newNamespace("proxy");
  const [first, second, third] = manifest(ns).split("\n---\n");
  await c.apply(`${first}\n---\n${second}`, ns);
  emoji = await c.waitForPods(ns, "app=emoji", { count: 2 });
  await c.waitForPods(ns, "app=vote-bot", { count: 1 });
  await c.apply(third, ns);
  [web] = await c.waitForPods(ns, "app=web", { count: 1 });
});
after(async () => {
  await c?.deleteNamespace(ns);
});

function sample(text: string, name: string, ...parts: string[]): number {
  const lines = text.split("\n").filter((l) => l.startsWith(`${name}{`) && parts.every((p) => l.includes(p)));
  assert.equal(lines.length, 1, `${name} ${parts.join(" ")}:\n${lines.join("\n")}`);
  return Number(lines[0].slice(lines[0].lastIndexOf(" ") + 1));
}

test("kubectl get --raw …/pods/P:4191/proxy/metrics returns the model's metrics", async () => {
  const path = `/api/v1/namespaces/${ns}/pods/${web.metadata.name}:4191/proxy/metrics`;
  const t0 = Date.now();
  const a = (await c.kubectl(["get", "--raw", path])).stdout;
  await new Promise((r) => setTimeout(r, 2000));
  const b = (await c.kubectl(["get", "--raw", path])).stdout;
  const dt = (Date.now() - t0) / 1000;
  const inbound = `direction="inbound",authority="web-svc.${ns}.svc.cluster.local:80"`;
  const delta = sample(b, "request_total", inbound) - sample(a, "request_total", inbound);
  // 20 rps; the two scrapes are about 2 s apart (each takes some ms).
  assert.ok(delta >= 20 * 1.8 && delta <= 20 * (dt + 0.5), `delta ${delta} over ~${dt}s`);
  const ok = sample(b, "response_total", inbound, 'classification="success"');
  const failed = sample(b, "response_total", inbound, 'classification="failure"');
  // The model fails whole requests: exactly floor(25 % of them), however long the pod has run.
  assert.ok(ok + failed >= 36, `success ${ok}/${ok + failed}`);
  assert.equal(failed, Math.floor((ok + failed) * 0.25 + 1e-9), `success ${ok}/${ok + failed}`);
  // The client identity comes from the vote-bot pod's service account.
  assert.match(b, new RegExp(`client_id="default\\.${ns}\\.serviceaccount\\.identity\\.linkerd\\.cluster\\.local"`));
  assert.match(b, /^route_request_total\{direction="inbound",dst="web-svc\.[^"]+",rt_route="GET \/api\/list"\} \d+$/m);
  // Outbound gRPC split over both emoji endpoints, with the destination controller's labels.
  for (const e of emoji) {
    const ip = (e.status as { podIP?: string }).podIP!;
    const n = sample(b, "request_total", 'direction="outbound"', `target_ip="${ip}"`);
    assert.ok(n > 0);
    assert.match(b, new RegExp(`tcp_open_connections\\{direction="outbound",peer="dst",authority="emoji-svc\\.${ns}\\.svc\\.cluster\\.local:8080",target_addr="${ip.replace(/\./g, "\\.")}:8080"[^}]*dst_deployment="emoji",dst_namespace="${ns}",dst_pod="${e.metadata.name}"[^}]*\\} 1`));
  }
  // Scrapes through the API server are the admin server's own inbound traffic.
  assert.ok(sample(b, "request_total", 'target_port="4191"', 'no_tls_reason="no_tls_from_remote"') >= 1);
  assert.match(b, /^proxy_build_info\{version="2\.210\.4",/m);
});

test("the admin server answers /ready, /live and gzip like the proxy", async () => {
  assert.equal(await c.proxyMetrics(ns, web.metadata.name, "/ready"), "ready\n");
  assert.equal(await c.proxyMetrics(ns, web.metadata.name, "/live"), "live\n");
  const env = JSON.parse(await c.proxyMetrics(ns, web.metadata.name, "/env.json?LINKERD2_PROXY_ACCESS_LOG")) as Record<string, string>;
  assert.deepEqual(env, { LINKERD2_PROXY_ACCESS_LOG: "apache" });
  const res = await c.api.getBytes(`/api/v1/namespaces/${ns}/pods/${web.metadata.name}:4191/proxy/metrics`, { "Accept-Encoding": "gzip" });
  assert.equal(res.status, 200);
  assert.equal(res.headers["content-encoding"], "gzip");
  assert.match(gunzipSync(res.body).toString(), /^# HELP /);
});

test("kubectl logs -f … -c linkerd-proxy streams access-log lines", async () => {
  const child = spawn(c.state.kubectl, ["--kubeconfig", c.kubeconfig, "logs", "-f", "-n", ns, web.metadata.name, "-c", "linkerd-proxy", "--since=2s"]);
  const lines: string[] = [];
  let buf = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    buf += d;
    const parts = buf.split("\n");
    buf = parts.pop()!;
    lines.push(...parts);
  });
  // Collect for about 1.5 s of live streaming.
  await new Promise((r) => setTimeout(r, 1500));
  const before = lines.length;
  await new Promise((r) => setTimeout(r, 1000));
  child.kill();
  const apache = /^(\S+) (\S+) - \[([^\]]+)\] "(\S+) (\S+) (HTTP\/[0-9.]+)"(?: (\d{3}))?$/;
  const access = lines.filter((l) => apache.test(l));
  assert.ok(lines.length > before, "no new lines while following");
  // 20 rps inbound over ~2 s of history plus ~2.5 s of following.
  assert.ok(access.length >= 40, `only ${access.length} access-log lines`);
  const m = access[access.length - 1].match(apache)!;
  const bot = (await c.waitForPods(ns, "app=vote-bot", { count: 1 }))[0];
  assert.equal(m[1].split(":")[0], (bot.status as { podIP?: string }).podIP);
  assert.equal(m[5], `http://web-svc.${ns}.svc.cluster.local:80/api/list`);
  assert.ok(["200", "500"].includes(m[7]));
});

test("pod logs honour timestamps and tailLines through the API server", async () => {
  const res = await c.api.raw("GET", `/api/v1/namespaces/${ns}/pods/${web.metadata.name}/log?container=linkerd-proxy&timestamps=true&tailLines=3`);
  assert.equal(res.status, 200);
  const lines = res.body.trim().split("\n");
  assert.equal(lines.length, 3);
  for (const l of lines) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z \S+ \S+ - \[/);
});

test("unmeshed pods have no admin server", async () => {
  await c.apply(
    `apiVersion: v1
kind: Pod
metadata: {name: plain, labels: {app: plain}}
spec:
  containers: [{name: app, image: example/plain:1}]
`,
    ns,
  );
  await c.waitForPods(ns, "app=plain", { count: 1 });
  const res = await c.api.raw("GET", `/api/v1/namespaces/${ns}/pods/plain:4191/proxy/metrics`);
  assert.notEqual(res.status, 200);
});
