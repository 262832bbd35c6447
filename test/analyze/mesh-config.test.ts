// `mesh check`'s mesh-config category: the analyzers over the cluster, one summary line with the
// command that shows the details; the lists other checks read are not requested again.
import { test } from "node:test";
import assert from "node:assert/strict";
import { healthyCluster, problems, runAgainst } from "../checks/fixtures.js";
import type { KubeObject } from "../../src/kube/types.js";

const G = "policy.linkerd.io";
const mistakes: KubeObject[] = [
  { apiVersion: `${G}/v1beta1`, kind: "Server", metadata: { name: "web-http", namespace: "emojivoto" }, spec: { podSelector: { matchLabels: { app: "wbe" } }, port: "http" } } as KubeObject,
  { apiVersion: `${G}/v1beta1`, kind: "ServerAuthorization", metadata: { name: "web", namespace: "emojivoto" }, spec: { server: { name: "web-https" }, client: { unauthenticated: true } } } as KubeObject,
];

test("mesh-config: findings in the cluster fail the check (as a warning) with their count and the command", async () => {
  const { results } = await runAgainst({ objects: [...healthyCluster(), ...mistakes] });
  const p = problems(results).filter((x) => x.startsWith("mesh-config"));
  assert.deepEqual(p, ["mesh-config Linkerd resources and annotations have no known mistakes: 2 findings: 1 error, 1 warning in the cluster's Linkerd configuration: see them with `mesh analyze --cluster`"]);
  assert.equal(results.find((r) => r.category === "mesh-config" && !r.retry)?.status, "warning");
});

test("mesh-config --proxy -n: the namespace's findings, and the command names it", async () => {
  const { results } = await runAgainst({ mode: "proxy", objects: [...healthyCluster(), ...mistakes], config: { dataPlaneNamespace: "emojivoto" } });
  const p = problems(results).filter((x) => x.startsWith("mesh-config"));
  assert.equal(p.length, 1);
  assert.match(p[0], /2 findings: 1 error, 1 warning in the cluster's Linkerd configuration: see them with `mesh analyze --cluster -n emojivoto`$/);
});

test("mesh-config: a healthy cluster passes, and lists read by other checks are not requested twice", async () => {
  const { results, api } = await runAgainst();
  assert.equal(results.find((r) => r.category === "mesh-config" && !r.retry)?.status, "ok");
  const seen = api.log.map((r) => `${r.method} ${r.path}`);
  assert.deepEqual(seen.filter((r, i) => seen.indexOf(r) !== i), []);
  assert.ok(seen.includes("GET /apis/policy.linkerd.io/v1beta1/servers"), seen.join("\n"));
});
