// The control plane's analyzers reuse mesh check's checks (src/checks, src/tls): here they run on a
// check context seeded with what `analyze --cluster` read, as the command seeds it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { analyze } from "../../src/analyze/index.js";
import type { ClusterState } from "../../src/analyze/cluster.js";
import { DEFAULT_SETTINGS } from "../../src/analyze/context.js";
import { checkEnv } from "../../src/checks/context.js";
import { Memo } from "../../src/checks/memo.js";
import { pickInjectValues } from "../../src/inject/overrides.js";
import { injectDefaults } from "../../src/commands/inject.js";
import type { ConfigMap, Secret } from "../../src/kube/types.js";
import { certFixture, FIXTURE_NOW } from "../fixtures/certs/fixtures.js";
import { linkerdValues, pod } from "../checks/fixtures.js";
import type { JsObj, Obj } from "../../src/analyze/model.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");

async function run(opts: { anchors: string; issuer: string; proxy: string }) {
  const cm: ConfigMap = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "linkerd-config", namespace: "linkerd" }, data: { values: linkerdValues({ identityTrustAnchorsPEM: certFixture(opts.anchors) }) } };
  const secret: Secret = { apiVersion: "v1", kind: "Secret", metadata: { name: "linkerd-identity-issuer", namespace: "linkerd" }, data: { "crt.pem": b64(certFixture(`${opts.issuer}.crt`)), "key.pem": b64(certFixture(`${opts.issuer}.key`)) } };
  const p = pod({ name: "web-1", namespace: "app", labels: { "linkerd.io/control-plane-ns": "linkerd" }, owner: { kind: "ReplicaSet", name: "web-5f8" }, proxyImage: `cr.l5d.io/linkerd/proxy:${opts.proxy}` });
  const podObj: Obj = { kind: "Pod", apiVersion: "v1", group: "", name: "web-1", namespace: "app", value: p as unknown as JsObj };
  const state: ClusterState = { objects: [podObj], pods: [podObj], linkerdConfig: cm, settings: { ...DEFAULT_SETTINGS } };
  const memo = new Memo();
  void memo.get("pods:*", async () => [p]);
  void memo.get("cm:linkerd", async () => [cm]);
  void memo.get("secret:linkerd/linkerd-identity-issuer", async () => secret);
  const world = { connect: async () => { throw new Error("no request expected: everything was read"); }, now: () => FIXTURE_NOW, fetchLatestVersions: async () => ({}), installObjects: async () => [] };
  const ctx = checkEnv({ mode: "default", controlPlaneNamespace: "linkerd", cniNamespace: "linkerd-cni", dataPlaneNamespace: "", cniEnabled: false, cliVersion: "stable-2.14.10" }, world, memo).attempt().ctx;
  const inject = { values: pickInjectValues(await injectDefaults()), overrides: {}, manual: false, enableDebugSidecar: false, namespace: "linkerd", createdBy: "test" };
  return (await analyze({ cluster: state, now: FIXTURE_NOW, controlPlane: ctx, inject })).findings;
}

test("control plane: trust anchor and issuer expiring within 60 days, proxies older than the control plane", async () => {
  const f = await run({ anchors: "ca-expiring-soon.crt", issuer: "issuer-expiring-soon", proxy: "stable-2.14.9" });
  assert.deepEqual(f.map((x) => [x.code, x.object]), [
    ["MESH401", "ConfigMap/linkerd/linkerd-config"],
    ["MESH402", "Secret/linkerd/linkerd-identity-issuer"],
    ["MESH403", "ConfigMap/linkerd/linkerd-config"],
  ]);
  assert.match(f[0].message, /^Anchors expiring soon: \* 500 identity\.linkerd\.cluster\.local will expire on 2026-01-31/);
  assert.match(f[1].message, /^issuer certificate will expire on 2026-01-31/);
  assert.match(f[2].message, /some proxies are older than the control plane \(stable-2\.14\.10\): \* app replicaset\/web-5f8 \(stable-2\.14\.9, 1 pod\)/);
});

test("control plane: valid certificates and current proxies give no finding", async () => {
  assert.deepEqual(await run({ anchors: "ca.crt", issuer: "issuer", proxy: "stable-2.14.10" }), []);
});
