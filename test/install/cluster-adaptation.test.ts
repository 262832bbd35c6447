// The 1.20 adaptation test/checks/install-on-cluster.ts applies before installing mesh's Linkerd on
// the test cluster (for the check e2e tests and bench/check.mjs) changes exactly what it says.
import { test } from "node:test";
import assert from "node:assert/strict";
import { adaptFor120, for120 } from "../checks/install-on-cluster.js";
import { runInstall } from "./run-install.js";

const render = async (args: string[]) => {
  const r = await runInstall(["install", "--ignore-cluster", "-L", "l5d-test", ...args]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
};

test("install --crds: nothing left out, only the HTTPRoute group defaults removed", async () => {
  const yaml = await render(["--crds"]);
  const a = adaptFor120(yaml);
  assert.equal(a.count, 8);
  assert.deepEqual(a.dropped, []);
  assert.deepEqual([...new Set(a.removedDefaults.map((p) => p.split(":")[0]))].sort(), ["httproutes.gateway.networking.k8s.io", "httproutes.policy.linkerd.io"]);
  assert.equal(for120(yaml, "crds"), a.yaml);
  assert.doesNotMatch(a.yaml, /default: ""/);
});

test("install: only the batch/v1 heartbeat CronJob is left out, nothing else changes", async () => {
  const yaml = await render(["--enable-endpoint-slices=false"]);
  const a = adaptFor120(yaml);
  assert.equal(a.count, 42);
  assert.deepEqual(a.dropped, ["batch/v1 CronJob/linkerd-heartbeat"]);
  assert.deepEqual(a.removedDefaults, []);
  assert.equal(for120(yaml, "control-plane"), a.yaml);
  assert.doesNotMatch(a.yaml, /kind: CronJob/);
});

test("for120 fails on anything else it would have to change", async () => {
  const cp = await render([]);
  const extraJob = `${cp}---\napiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: another\nspec: {}\n`;
  assert.throws(() => for120(extraJob, "control-plane"), /only the heartbeat CronJob is left out/);
  const crds = await render(["--crds"]);
  assert.throws(() => for120(crds.replace(/^(\s+)type: string$/m, '$1type: string\n$1default: ""'), "crds"), /match|accounted/);
  assert.throws(() => for120(cp, "crds"), /no CRD is left out/);
  assert.throws(() => for120(`${crds}---\napiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: x\n`, "crds"), /no CRD is left out/);
});
