// --via: a firewalled control plane (the API server's pod proxy answers 503, injected by the fault
// proxy between mesh and the API server) makes `auto` fall back to port-forward once, saying so
// with the firewall rule; `--via port-forward` never uses the pod proxy; `--via proxy` never
// port-forwards.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "../../src/kube/cluster.js";
import { connectTestCluster, type Pod, type TestCluster, type TestFaultProxy } from "../helpers/cluster.js";

let c: TestCluster;
let fp: TestFaultProxy;
let ns: string;
let pod: Pod;

const POD_PROXY = /\/pods\/[^/]+:4191\/proxy\//;
const PORT_FORWARD = /\/pods\/[^/]+\/portforward$/;
const FIREWALL = { path: POD_PROXY.source, status: 503, message: "error trying to reach service: dial tcp 10.244.9.9:4191: i/o timeout" };

before(async () => {
  c = await connectTestCluster();
  ns = await c.newNamespace("via");
  const model = JSON.stringify({ flows: [{ direction: "inbound", rps: 20, successRate: 0.9, authority: `web.${ns}.svc.cluster.local:80` }] });
  await c.apply(
    `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web, linkerd.io/control-plane-ns: linkerd, linkerd.io/proxy-deployment: web}
      annotations: {mesh.test/traffic: '${model}'}
    spec:
      containers:
      - {name: app, image: example/web:1}
      - name: linkerd-proxy
        image: cr.l5d.io/linkerd/proxy:stable-2.14.10
        ports: [{name: linkerd-admin, containerPort: 4191}]
`,
    ns,
  );
  [pod] = await c.waitForPods(ns, "app=web", { count: 1 });
  fp = await c.startFaultProxy();
});

after(async () => {
  await fp?.close();
  await c?.deleteNamespace(ns);
});

async function mesh(argv: string[]) {
  const [{ run }, { memoryIo }] = await Promise.all([import("../../src/cli.js"), import("../../src/io.js")]);
  const m = memoryIo();
  const code = await run(["--kubeconfig", fp.kubeconfig, ...argv], { io: m.io, now: () => new Date(), env: {}, cluster: (g) => connect(g) });
  return { code, stdout: m.stdout(), stderr: m.stderr() };
}

const warnings = (stderr: string) => stderr.split("\n").filter((l) => /pod proxy cannot reach pod/.test(l));

test("auto: stat behind a firewalled pod proxy falls back to port-forward once and says which rule would help", async () => {
  fp.setFaults([FIREWALL]);
  fp.resetCounts();
  const r = await mesh(["viz", "stat", "deploy/web", "-n", ns, "--interval", "1s", "-o", "json"]);
  assert.equal(r.code, 0, r.stderr);
  const [row] = JSON.parse(r.stdout) as { name: string; success: number; rps: number }[];
  assert.equal(row!.name, "web");
  assert.ok(Math.abs(row!.rps - 20) < 4, `rps ${row!.rps}`);
  assert.ok(Math.abs(row!.success - 0.9) < 0.05, `success ${row!.success}`);
  // One failed pod-proxy attempt, then both scrapes through one port-forward session.
  assert.equal(fp.count(POD_PROXY), 1);
  assert.equal(fp.count(PORT_FORWARD), 1, "one port-forward session per pod carries both scrapes");
  assert.equal(warnings(r.stderr).length, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`pod proxy cannot reach pod ${ns}/${pod.metadata.name} on port 4191 \\(the API server answered 503: error trying to reach service: dial tcp 10\\.244\\.9\\.9:4191: i/o timeout\\)`));
  assert.match(r.stderr, /^hint: allow TCP from the API server to pod IPs on port 4191 /m);
});

test("auto: diagnostics proxy-metrics falls back the same way; without the fault it uses the pod proxy and says nothing", async () => {
  fp.setFaults([FIREWALL]);
  fp.resetCounts();
  const r = await mesh(["diagnostics", "proxy-metrics", "-n", ns, `po/${pod.metadata.name}`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^# POD ${pod.metadata.name} \\(1 of 1\\)$`, "m"));
  assert.match(r.stdout, /^process_start_time_seconds /m);
  assert.equal(warnings(r.stderr).length, 1);
  assert.equal(fp.count(PORT_FORWARD), 1);

  fp.clearFaults();
  fp.resetCounts();
  const fast = await mesh(["diagnostics", "proxy-metrics", "-n", ns, `po/${pod.metadata.name}`]);
  assert.equal(fast.code, 0, fast.stderr);
  assert.match(fast.stdout, /^process_start_time_seconds /m);
  assert.equal(fast.stderr, "");
  assert.equal(fp.count(PORT_FORWARD), 0);
  assert.equal(fp.count(POD_PROXY), 1);
});

test("auto: viz check --proxy finds the admin endpoints answering through port-forward", async () => {
  fp.setFaults([FIREWALL]);
  fp.resetCounts();
  const r = await mesh(["viz", "check", "--proxy", "-n", ns]);
  assert.match(r.stdout, /data plane proxies' admin endpoints answer/, r.stderr);
  assert.match(r.stdout, /√ data plane proxies' admin endpoints answer\n/);
  assert.equal(warnings(r.stderr).length, 1, r.stderr);
  assert.ok(fp.count(PORT_FORWARD) >= 1);
  const direct = await mesh(["viz", "check", "--proxy", "-n", ns, "--via", "proxy"]);
  assert.match(direct.stdout, /‼ data plane proxies' admin endpoints answer\n[\s\S]*answered 503/);
  assert.deepEqual(warnings(direct.stderr), []);
});

test("--via port-forward never touches the pod proxy; --via proxy never port-forwards", async () => {
  fp.setFaults([FIREWALL]);
  fp.resetCounts();
  const pf = await mesh(["viz", "stat", "po", "-n", ns, "--interval", "1s", "--via", "port-forward", "-o", "json"]);
  assert.equal(pf.code, 0, pf.stderr);
  assert.equal(fp.count(POD_PROXY), 0);
  assert.equal(fp.count(PORT_FORWARD), 1, "one port-forward session per pod carries both scrapes");
  assert.deepEqual(warnings(pf.stderr), []);
  assert.equal((JSON.parse(pf.stdout) as { name: string }[])[0]!.name, pod.metadata.name);

  fp.resetCounts();
  const px = await mesh(["diagnostics", "proxy-metrics", "-n", ns, `po/${pod.metadata.name}`, "--via", "proxy"]);
  assert.equal(fp.count(PORT_FORWARD), 0);
  assert.match(px.stdout, /^# ERROR: .*503/m);
  assert.deepEqual(warnings(px.stderr), []);
});

test("--via takes only proxy, port-forward or auto (a usage error, exit 2)", async () => {
  const r = await mesh(["viz", "stat", "deploy", "-n", ns, "--via", "ssh"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--via.*ssh.*(proxy|choices)/);
});
