import { test } from "node:test";
import assert from "node:assert/strict";
import { project, projectPod, KEEP } from "../../src/kube/project.js";
import type { ClusterApi } from "../../src/kube/cluster.js";
import type { CronJob, DaemonSet, Deployment, Job, KubeObject, Pod, ReplicaSet, ReplicationController, StatefulSet } from "../../src/kube/types.js";
import { FakeApi } from "./fake-api.js";

/** T with every field required, at every depth: tsc checks that the fixture sets each field of the Pod type. */
type Full<T> = T extends (infer U)[] ? Full<U>[] : T extends object ? { [K in keyof T]-?: Full<NonNullable<T[K]>> } : T;

const state = { running: { startedAt: "2024-06-01T10:00:05Z" }, waiting: { reason: "CrashLoopBackOff", message: "back-off" }, terminated: { exitCode: 137, signal: 9, reason: "OOMKilled", message: "oom", finishedAt: "2024-06-01T10:00:04Z" } };
const status = (name: string) => ({ name, ready: true, started: true, image: `example/${name}:1`, restartCount: 2, state });
const container = (name: string) => ({ name, image: `example/${name}:1`, env: [{ name: "A", value: "1", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } }], ports: [{ name: "admin", containerPort: 4191, protocol: "TCP" }] });

/** Every field mesh reads of a pod. */
const KEPT: Full<Pod> = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name: "web-1",
    namespace: "shop",
    uid: "uid-web-1",
    generateName: "web-",
    labels: { app: "web", "linkerd.io/control-plane-ns": "linkerd", "linkerd.io/proxy-deployment": "web" },
    annotations: { "linkerd.io/proxy-version": "stable-2.14.10" },
    ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-rs", uid: "uid-web-rs", controller: true }],
    creationTimestamp: "2024-06-01T10:00:00Z",
    deletionTimestamp: "2024-06-01T11:00:00Z",
  },
  spec: { containers: [container("web"), container("linkerd-proxy")], initContainers: [container("linkerd-init")], hostNetwork: false, nodeName: "node-1", serviceAccountName: "web" },
  status: {
    phase: "Running",
    reason: "Evicted",
    podIP: "10.42.0.21",
    conditions: [{ type: "Ready", status: "True", reason: "PodReady", message: "ok" }],
    containerStatuses: [status("web"), status("linkerd-proxy")],
    initContainerStatuses: [status("linkerd-init")],
  },
};

/** KEPT as the API server sends it: with the fields mesh never reads. */
function asSent(): Record<string, unknown> {
  const p = structuredClone(KEPT) as unknown as { metadata: Record<string, unknown>; spec: Record<string, unknown> & { containers: Record<string, unknown>[] }; status: Record<string, unknown> & { conditions: Record<string, unknown>[]; containerStatuses: Record<string, unknown>[] } };
  Object.assign(p.metadata, { resourceVersion: "123", generation: 1, managedFields: [{ manager: "kube-controller-manager", operation: "Update", fieldsV1: { "f:metadata": {} } }] });
  Object.assign(p.spec, { volumes: [{ name: "token", projected: { sources: [] } }], tolerations: [{ key: "node.kubernetes.io/not-ready", operator: "Exists" }], dnsPolicy: "ClusterFirst" });
  Object.assign(p.spec.containers[0], { resources: { requests: { cpu: "100m" } }, volumeMounts: [{ name: "token", mountPath: "/var/run" }], imagePullPolicy: "IfNotPresent" });
  Object.assign(p.status, { hostIP: "10.0.0.1", podIPs: [{ ip: "10.42.0.21" }], qosClass: "Burstable", startTime: "2024-06-01T10:00:01Z" });
  Object.assign(p.status.conditions[0], { lastProbeTime: null, lastTransitionTime: "2024-06-01T10:00:06Z" });
  Object.assign(p.status.containerStatuses[0], { containerID: "containerd://abc", imageID: "sha256:def", lastState: {}, allocatedResources: { cpu: "100m" } });
  return p;
}

test("a pod with every field mesh reads keeps them all, and only them", () => {
  assert.deepEqual(projectPod(asSent() as unknown as Pod), KEPT);
});

test("absent fields stay absent and null ones null; the values kept are the server's", () => {
  const sent = { metadata: { name: "bare", labels: null, managedFields: [] }, spec: { containers: [{ name: "app", resources: {} }], initContainers: null } } as unknown as Pod;
  const slim = projectPod(sent);
  assert.deepEqual(slim, { metadata: { name: "bare", labels: null }, spec: { containers: [{ name: "app" }], initContainers: null } });
  assert.ok(!("status" in slim) && !("namespace" in slim.metadata), "no keys for absent fields");
  const full = asSent() as unknown as Pod;
  assert.equal(projectPod(full).metadata.labels, full.metadata.labels, "maps are carried over as sent, not copied");
  assert.deepEqual(
    project({ a: 1, b: { c: 2, d: 3 } } as { a: number; b: { c: number } }, { a: KEEP, b: (b) => project(b, { c: KEEP }) }),
    { a: 1, b: { c: 2 } },
  );
});

test("listed pods come reduced to the Pod type; other lists as sent", async () => {
  const sent = asSent();
  const api = new FakeApi([sent as never, { apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: "shop", managedFields: [{ manager: "kubectl" }] } } as never]);
  const c = api.cluster();
  assert.deepEqual(await c.listPods("shop"), [KEPT]);
  assert.deepEqual(await c.listPods("shop", undefined, { pageSize: 100 }), [KEPT]);
  assert.ok("managedFields" in (await c.listServices("shop"))[0].metadata);
});

const selector = { matchLabels: { app: "web" }, matchExpressions: [{ key: "tier", operator: "In", values: ["web"] }] };
const workload = (apiVersion: string, kind: string) => ({ apiVersion, kind, metadata: { ...KEPT.metadata, name: `${kind.toLowerCase()}-web` } });
const DEPLOYMENT: Full<Deployment> = { ...workload("apps/v1", "Deployment"), spec: { replicas: 3, selector }, status: { replicas: 3, availableReplicas: 2, readyReplicas: 2 } };
const REPLICA_SET: Full<ReplicaSet> = {
  ...workload("apps/v1", "ReplicaSet"),
  spec: { selector },
  status: { replicas: 3, readyReplicas: 2, conditions: [{ type: "ReplicaFailure", status: "True", reason: "FailedCreate", message: "quota", lastHeartbeatTime: "2024-06-01T10:00:00Z" }] },
};
const DAEMON_SET: Full<DaemonSet> = { ...workload("apps/v1", "DaemonSet"), spec: { selector }, status: { desiredNumberScheduled: 2, numberReady: 1 } };
const STATEFUL_SET: Full<StatefulSet> = { ...workload("apps/v1", "StatefulSet"), spec: { selector } };
const JOB: Full<Job> = { ...workload("batch/v1", "Job"), spec: { selector } };
const RC: Full<ReplicationController> = { ...workload("v1", "ReplicationController"), spec: { selector: { app: "web" } } };
const CRON_JOB: Full<CronJob> = workload("batch/v1", "CronJob");

for (const [getter, kept, list] of [
  ["listDeployments", DEPLOYMENT, (c) => c.listDeployments()],
  ["listReplicaSetsIn", REPLICA_SET, (c) => c.listReplicaSetsIn()],
  ["listReplicaSets", REPLICA_SET, (c) => c.listReplicaSets("shop")],
  ["listDaemonSets", DAEMON_SET, (c) => c.listDaemonSets()],
  ["listStatefulSets", STATEFUL_SET, (c) => c.listStatefulSets()],
  ["listJobs", JOB, (c) => c.listJobs()],
  ["listReplicationControllers", RC, (c) => c.listReplicationControllers()],
  ["listCronJobs", CRON_JOB, (c) => c.listCronJobs()],
] as [string, KubeObject, (c: ClusterApi) => Promise<KubeObject[]>][])
  test(`${getter}: each ${kept.kind} keeps the fields of its type, without managedFields, the pod template or the rest of the status`, async () => {
    const sent = structuredClone(kept) as KubeObject & { spec?: object; status?: object };
    Object.assign(sent.metadata, { managedFields: [{ manager: "kube-controller-manager" }], resourceVersion: "9" });
    sent.spec = { ...sent.spec, template: { metadata: { annotations: { big: "x".repeat(1000) } }, spec: { containers: [{ name: "web" }] } }, schedule: "* * * * *" };
    if (kept.kind !== "CronJob") sent.status = { ...sent.status, observedGeneration: 4 };
    assert.deepEqual(await list(new FakeApi([sent]).cluster()), [kept]);
  });
