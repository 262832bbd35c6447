// planStatus: the pod status the kubelet stand-in writes for each annotation (pure).
import { test } from "node:test";
import assert from "node:assert/strict";
import { planStatus, type Pod } from "./kubelet.js";

const startedAt = "2026-01-01T00:00:00Z";
function pod(annotations: Record<string, string> = {}): Pod {
  return {
    metadata: { name: "web-1", namespace: "ns", uid: "u1", annotations },
    spec: {
      initContainers: [{ name: "linkerd-init", image: "cr.l5d.io/linkerd/proxy-init:v2.2.3" }],
      containers: [
        { name: "app", image: "example/app:1" },
        { name: "linkerd-proxy", image: "cr.l5d.io/linkerd/proxy:stable-2.14.10" },
      ],
    },
  };
}
type S = {
  phase: string;
  conditions: { type: string; status: string; message?: string }[];
  containerStatuses: { name: string; ready: boolean; image: string; restartCount: number; state: Record<string, { reason?: string; exitCode?: number }> }[];
};
const st = (a?: Record<string, string>) => planStatus(pod(a), startedAt).status as unknown as S;
const cond = (s: S, t: string) => s.conditions.find((c) => c.type === t)!.status;
const cs = (s: S, n: string) => s.containerStatuses.find((c) => c.name === n)!;

test("default: Running and Ready, init containers completed, cert valid 24 h", () => {
  const plan = planStatus(pod(), startedAt);
  const s = plan.status as unknown as S;
  assert.equal(s.phase, "Running");
  assert.equal(cond(s, "Ready"), "True");
  assert.equal(cs(s, "linkerd-proxy").image, "cr.l5d.io/linkerd/proxy:stable-2.14.10");
  assert.equal(plan.certExpiry, Date.parse(startedAt) / 1000 + 86_400);
  assert.deepEqual(plan.containers.map((c) => c.state), ["running", "running"]);
});

test("ready=false: nothing ready, with the kubelet's message", () => {
  const s = st({ "mesh.test/ready": "false" });
  assert.equal(cond(s, "Ready"), "False");
  assert.equal(s.conditions.find((c) => c.type === "Ready")!.message, "containers with unready status: [app linkerd-proxy]");
});

test("unready-containers names containers", () => {
  const s = st({ "mesh.test/unready-containers": "linkerd-proxy" });
  assert.deepEqual([cs(s, "app").ready, cs(s, "linkerd-proxy").ready], [true, false]);
});

test("crashloop", () => {
  const s = st({ "mesh.test/crashloop": "true" });
  assert.equal(cs(s, "linkerd-proxy").state.waiting.reason, "CrashLoopBackOff");
  assert.equal(cs(s, "app").restartCount, 3);
  assert.equal(s.phase, "Running");
});

test("terminated app vs all", () => {
  const app = st({ "mesh.test/terminated": "app" });
  assert.equal(cs(app, "app").state.terminated.exitCode, 0);
  assert.ok(cs(app, "linkerd-proxy").state.running);
  assert.equal(app.phase, "Running");
  assert.equal(st({ "mesh.test/terminated": "all" }).phase, "Succeeded");
});

test("pending, proxy image, cert expiry, invalid traffic", () => {
  assert.equal(st({ "mesh.test/pending": "true" }).phase, "Pending");
  assert.equal(cs(st({ "mesh.test/proxy-image": "cr.l5d.io/linkerd/proxy:stable-2.13.0" }), "linkerd-proxy").image, "cr.l5d.io/linkerd/proxy:stable-2.13.0");
  assert.equal(planStatus(pod({ "mesh.test/proxy-cert-expiry": "0" }), startedAt).certExpiry, 0);
  const bad = planStatus(pod({ "mesh.test/traffic": "[{}]" }), startedAt);
  assert.match(bad.trafficError!, /direction/);
  assert.equal(cs(bad.status as unknown as S, "linkerd-proxy").state.waiting.reason, "CreateContainerConfigError");
});

test("mesh.test/proxy-restarts: linkerd-proxy restarted n times, running since the restart; other containers untouched", () => {
  const restartedAt = "2026-01-01T00:05:00Z";
  const s = planStatus(pod({ "mesh.test/proxy-restarts": "2" }), startedAt, restartedAt).status as unknown as {
    containerStatuses: { name: string; restartCount: number; state: { running?: { startedAt: string } }; lastState?: { terminated?: { finishedAt: string } } }[];
  };
  const proxy = s.containerStatuses.find((c) => c.name === "linkerd-proxy")!;
  const app = s.containerStatuses.find((c) => c.name === "app")!;
  assert.equal(proxy.restartCount, 2);
  assert.equal(proxy.state.running?.startedAt, restartedAt);
  assert.equal(proxy.lastState?.terminated?.finishedAt, restartedAt);
  assert.equal(app.restartCount, 0);
  assert.equal(app.state.running?.startedAt, startedAt);
});
