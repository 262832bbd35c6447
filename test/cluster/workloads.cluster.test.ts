// The kubelet stand-in: a Deployment applied with kubectl becomes Ready pods with
// IPs in the run's pod network, and pod annotations select other pod states.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { connectTestCluster, type Pod, type TestCluster } from "../helpers/cluster.js";

let c: TestCluster;
let ns: string;

before(async () => {
  c = await connectTestCluster();
  ns = await c.newNamespace("workloads");
});
after(async () => {
  await c?.deleteNamespace(ns);
});

function deployment(name: string, annotations: Record<string, string> = {}, extra = ""): string {
  const ann = Object.entries(annotations)
    .map(([k, v]) => `        ${k}: '${v}'`)
    .join("\n");
  return `
apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: 2
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata:
      labels: {app: ${name}, linkerd.io/control-plane-ns: linkerd}
      annotations:
        linkerd.io/inject: enabled
${ann}
    spec:
      initContainers:
      - {name: linkerd-init, image: cr.l5d.io/linkerd/proxy-init:v2.2.3}
      containers:
      - {name: app, image: ghcr.io/example/${name}:1.0}
      - {name: linkerd-proxy, image: cr.l5d.io/linkerd/proxy:stable-2.14.10}
${extra}`;
}

type Status = {
  phase: string;
  podIP?: string;
  hostIP?: string;
  conditions: { type: string; status: string }[];
  containerStatuses: { name: string; ready: boolean; image: string; restartCount: number; state: Record<string, { reason?: string; exitCode?: number }> }[];
  initContainerStatuses?: { name: string; state: Record<string, { reason?: string }> }[];
};
const status = (p: Pod) => p.status as unknown as Status;
const container = (p: Pod, name: string) => status(p).containerStatuses.find((s) => s.name === name)!;

test("a Deployment applied with kubectl becomes Ready pods with IPs in the pod network", async () => {
  await c.apply(deployment("web"), ns);
  const pods = await c.waitForPods(ns, "app=web", { count: 2 });
  const prefix = c.state.hostIp.split(".").slice(0, 2).join(".");
  const ips = pods.map((p) => status(p).podIP!);
  assert.equal(new Set(ips).size, 2);
  for (const p of pods) {
    const s = status(p);
    assert.equal(s.phase, "Running");
    assert.ok(s.podIP!.startsWith(`${prefix}.`), s.podIP);
    assert.equal(s.hostIP, c.state.nodeIp);
    assert.deepEqual(s.containerStatuses.map((x) => [x.name, x.ready]).sort(), [["app", true], ["linkerd-proxy", true]]);
    assert.equal(container(p, "linkerd-proxy").image, "cr.l5d.io/linkerd/proxy:stable-2.14.10");
    assert.equal(s.initContainerStatuses?.[0].state.terminated?.reason, "Completed");
  }
  const wide = await c.kubectl(["get", "pods", "-n", ns, "-l", "app=web", "-o", "wide", "--no-headers"]);
  for (const ip of ips) assert.match(wide.stdout, new RegExp(`2/2\\s+Running.*${ip.replace(/\./g, "\\.")}\\s+${c.state.nodeName}`));
  const node = await c.kubectl(["get", "node", c.state.nodeName, "--no-headers"]);
  assert.match(node.stdout, /\sReady\s.*v1\.20\.2/);
});

test("pod annotations select not-ready, crash-looping, old-proxy and finished-app states", async () => {
  await c.apply(
    [
      deployment("unready", { "mesh.test/ready": "false" }),
      deployment("crashy", { "mesh.test/crashloop": "app" }),
      deployment("oldproxy", { "mesh.test/proxy-image": "cr.l5d.io/linkerd/proxy:stable-2.13.0" }),
      deployment("done", { "mesh.test/terminated": "app" }),
      deployment("stuck", { "mesh.test/pending": "true" }),
    ].join("\n---\n"),
    ns,
  );
  const unready = await c.waitForPods(ns, "app=unready", { count: 2, until: "running" });
  for (const p of unready) {
    assert.equal(status(p).conditions.find((x) => x.type === "Ready")?.status, "False");
    assert.equal(container(p, "linkerd-proxy").ready, false);
  }
  const crashy = await c.waitForPods(ns, "app=crashy", { count: 2, until: "running" });
  assert.equal(container(crashy[0], "app").state.waiting?.reason, "CrashLoopBackOff");
  assert.equal(container(crashy[0], "app").restartCount, 3);
  assert.equal(container(crashy[0], "linkerd-proxy").ready, true);
  const [old] = await c.waitForPods(ns, "app=oldproxy", { count: 2 });
  assert.equal(container(old, "linkerd-proxy").image, "cr.l5d.io/linkerd/proxy:stable-2.13.0");
  const [done] = await c.waitForPods(ns, "app=done", { count: 2, until: "running" });
  assert.equal(container(done, "app").state.terminated?.exitCode, 0);
  assert.ok(container(done, "linkerd-proxy").state.running);
  const [stuck] = await c.waitForPods(ns, "app=stuck", { count: 2, until: "scheduled" });
  await new Promise((r) => setTimeout(r, 300));
  const again = await c.api.get<Pod>(`/api/v1/namespaces/${ns}/pods/${stuck.metadata.name}`);
  assert.equal(status(again).phase, "Pending");
  assert.equal(status(again).podIP, undefined);
  const crashOut = await c.kubectl(["get", "pods", "-n", ns, "-l", "app=crashy", "--no-headers"]);
  assert.match(crashOut.stdout, /1\/2\s+CrashLoopBackOff\s+3/);
});

test("a Job whose app exits keeps running while linkerd-proxy runs; terminated=all completes it", async () => {
  const job = (name: string, term: string) => `
apiVersion: batch/v1
kind: Job
metadata: {name: ${name}}
spec:
  template:
    metadata:
      labels: {job: ${name}}
      annotations: {mesh.test/terminated: "${term}"}
    spec:
      restartPolicy: Never
      containers:
      - {name: app, image: busybox}
      - {name: linkerd-proxy, image: cr.l5d.io/linkerd/proxy:stable-2.14.10}
`;
  await c.apply(`${job("hangs", "app")}\n---\n${job("finishes", "all")}`, ns);
  const [hangs] = await c.waitForPods(ns, "job=hangs", { count: 1, until: "running" });
  assert.equal(container(hangs, "app").state.terminated?.reason, "Completed");
  const deadline = Date.now() + 20_000;
  for (;;) {
    const j = await c.api.get<{ status: { succeeded?: number } }>(`/apis/batch/v1/namespaces/${ns}/jobs/finishes`);
    if (j.status.succeeded === 1) break;
    assert.ok(Date.now() < deadline, "job finishes never succeeded");
    await new Promise((r) => setTimeout(r, 200));
  }
  const hangsJob = await c.api.get<{ status: { succeeded?: number; active?: number } }>(`/apis/batch/v1/namespaces/${ns}/jobs/hangs`);
  assert.equal(hangsJob.status.succeeded ?? 0, 0);
  assert.equal(hangsJob.status.active, 1);
});

test("deleting pods and scaling down honours deletes", async () => {
  await c.apply(deployment("gone"), ns);
  const pods = await c.waitForPods(ns, "app=gone", { count: 2 });
  await c.kubectl(["delete", "pod", "-n", ns, pods[0].metadata.name, "--wait=true", "--timeout=20s"]);
  const after1 = await c.waitForPods(ns, "app=gone", { count: 2 });
  assert.ok(!after1.some((p) => p.metadata.uid === pods[0].metadata.uid));
  await c.kubectl(["scale", "deploy/gone", "-n", ns, "--replicas=0"]);
  const deadline = Date.now() + 20_000;
  for (;;) {
    const list = await c.api.get<{ items: Pod[] }>(`/api/v1/namespaces/${ns}/pods?labelSelector=app%3Dgone`);
    if (list.items.length === 0) break;
    assert.ok(Date.now() < deadline, "pods were not deleted");
    await new Promise((r) => setTimeout(r, 150));
  }
});

test("an invalid traffic model surfaces as a container config error", async () => {
  await c.apply(deployment("badmodel", { "mesh.test/traffic": "{not json" }), ns);
  const [p] = await c.waitForPods(ns, "app=badmodel", { count: 2, until: "running" });
  const proxy = container(p, "linkerd-proxy");
  assert.equal(proxy.state.waiting?.reason, "CreateContainerConfigError");
});
