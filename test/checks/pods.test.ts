import { test } from "node:test";
import assert from "node:assert/strict";
import { checkPodsRunning, shouldBeRunning } from "../../src/checks/pods.js";
import type { Pod } from "../../src/kube/types.js";
import { pod } from "./fixtures.js";

const evicted = (): Pod => {
  const p = pod({ name: "web-evicted", namespace: "app", phase: "Failed", ready: false });
  p.status!.reason = "Evicted";
  p.status!.containerStatuses = [];
  return p;
};

test("finished pods are not expected to run: Evicted, Succeeded, Failed, and Jobs whose work is done", () => {
  const finishedJob = pod({ name: "migrate-x", namespace: "app", owner: { kind: "Job", name: "migrate" }, terminated: ["app"] });
  const succeeded = pod({ name: "once", namespace: "app", phase: "Succeeded", ready: false, terminated: ["app", "linkerd-proxy"] });
  const runningJob = pod({ name: "migrate-y", namespace: "app", owner: { kind: "Job", name: "migrate" } });
  assert.equal(shouldBeRunning(evicted()), false);
  assert.equal(shouldBeRunning(succeeded), false);
  assert.equal(shouldBeRunning(finishedJob), false);
  assert.equal(shouldBeRunning(runningJob), true);
  assert.equal(shouldBeRunning(pod({ name: "web", namespace: "app" })), true);
  // A Deployment's pod whose app container exited is not "done": it should be running.
  assert.equal(shouldBeRunning(pod({ name: "web-2", namespace: "app", owner: { kind: "ReplicaSet", name: "web-abc" }, terminated: ["app"] })), true);
});

test("the pods-running rule passes beside Evicted and finished-Job pods, and still fails on a live pod whose proxy is not ready", () => {
  const healthy = pod({ name: "web", namespace: "app" });
  const finishedJob = pod({ name: "migrate-x", namespace: "app", owner: { kind: "Job", name: "migrate" }, ready: false, terminated: ["app"] });
  assert.doesNotThrow(() => checkPodsRunning([healthy, evicted(), finishedJob], "app"));
  const notReady = pod({ name: "web-2", namespace: "app", ready: false });
  assert.throws(() => checkPodsRunning([healthy, evicted(), notReady], "app"), { message: 'container "linkerd-proxy" in pod "web-2" is not ready' });
  const pending = pod({ name: "web-3", namespace: "app", phase: "Pending" });
  assert.throws(() => checkPodsRunning([pending], "app"), { message: 'pod "web-3" status is Pending' });
  assert.throws(() => checkPodsRunning([], "app"), { message: 'no "linkerd-proxy" containers found in the "app" namespace' });
});
