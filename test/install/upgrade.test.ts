/**
 * `mesh upgrade` offline (--from-manifests, as from a saved `mesh install` output) and against a
 * fake cluster: the stored overrides, certificates and flags; the version and proxy guards.
 * The real-cluster pipelines are in test/e2e/upgrade.test.ts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { checkUpgradeVersion, manifestSource, readInstalled, upgradedValues } from "../../src/install/upgrade.js";
import type { KubeObject } from "../../src/kube/types.js";
import { certFixture, fakeCluster, runInstall } from "./run-install.js";

type Obj = KubeObject & { data?: Record<string, string> };
const docs = (yaml: string) => parseAllDocuments(yaml).map((d) => d.toJS() as Obj).filter(Boolean);
const find = (objs: Obj[], kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name === name)!;
const b64 = (s: string) => Buffer.from(s, "base64").toString("utf8");
const overridesOf = (objs: Obj[]) => parseAllDocuments(b64(find(objs, "Secret", "linkerd-config-overrides").data!["linkerd-config-overrides"]))[0].toJS() as Record<string, any>;
const configOf = (objs: Obj[]) => parseAllDocuments(find(objs, "ConfigMap", "linkerd-config").data!.values)[0].toJS() as Record<string, any>;
const dir = mkdtempSync(join(tmpdir(), "mesh-upgrade-"));
const save = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

async function installed(...flags: string[]) {
  const r = await runInstall(["install", "--ignore-cluster", ...flags]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

test("upgrade --from-manifests keeps every installed value and the certificates, and applies the new flags on top", async () => {
  const before = await installed("--set", "proxy.logLevel=debug", "--controller-replicas", "2", "--set", "podLabels.team=a", "--set", "proxyInit.ignoreInboundPorts=null");
  const file = save("installed.yaml", before);
  const r = await runInstall(["upgrade", "--from-manifests", file, "--proxy-cpu-request", "150m", "--set", "controllerLogLevel=debug"]);
  assert.equal(r.code, 0, r.stderr);
  const a = docs(before);
  const b = docs(r.stdout);
  for (const [kind, name] of [["Secret", "linkerd-identity-issuer"], ["ConfigMap", "linkerd-identity-trust-roots"]]) assert.deepEqual(find(b, kind, name).data, find(a, kind, name).data, `${kind}/${name}`);
  const va = configOf(a);
  const vb = configOf(b);
  assert.equal(vb.proxy.logLevel, "debug");
  assert.equal(vb.controllerReplicas, 2);
  assert.deepEqual(vb.podLabels, { team: "a" });
  assert.equal("ignoreInboundPorts" in vb.proxyInit, false, "a deleted key stays deleted");
  assert.equal(vb.identityTrustAnchorsPEM, va.identityTrustAnchorsPEM);
  assert.equal(vb.proxy.resources.cpu.request, "150m");
  assert.equal(vb.controllerLogLevel, "debug");
  const ob = overridesOf(b);
  assert.equal(ob.identity.issuer.tls.keyPEM, overridesOf(a).identity.issuer.tls.keyPEM, "the issuer key is kept in the overrides");
  assert.equal(ob.proxy.resources.cpu.request, "150m");
  // only the new flag and value changed linkerd-config
  const changed = Object.keys(vb).filter((k) => JSON.stringify(vb[k]) !== JSON.stringify(va[k])).sort();
  assert.deepEqual(changed, ["controllerLogLevel", "proxy"]);
});

test("upgrade reads the same from the manifests on stdin, and from a JSON List", async () => {
  const before = await installed("--set", "proxy.logLevel=debug");
  const fromStdin = await runInstall(["upgrade", "--from-manifests", "-"], { stdin: before });
  assert.equal(fromStdin.code, 0, fromStdin.stderr);
  const json = await runInstall(["install", "--ignore-cluster", "--set", "proxy.logLevel=debug", "-o", "json"]);
  const fromJson = await runInstall(["upgrade", "--from-manifests", save("installed.json", json.stdout)]);
  assert.equal(fromJson.code, 0, fromJson.stderr);
  assert.deepEqual(configOf(docs(fromJson.stdout)).proxy.logLevel, "debug");
  assert.deepEqual(configOf(docs(fromStdin.stdout)), configOf(docs(before)));
});

test("an issuer rotated in place (secret linkerd-identity-issuer) is kept over the recorded one, with a note", async () => {
  const before = await installed();
  const objs = docs(before);
  const issuer = find(objs, "Secret", "linkerd-identity-issuer");
  const live = { crt: certFixture("issuer.crt"), key: certFixture("issuer.key") };
  issuer.data = { "crt.pem": Buffer.from(live.crt.trim()).toString("base64"), "key.pem": Buffer.from(live.key.trim()).toString("base64") };
  const src = manifestSource(objs, "test manifests");
  const state = await readInstalled(src, "linkerd");
  const { values, notes } = upgradedValues(state, "linkerd");
  assert.equal(values.identity.issuer.tls.crtPEM.trim(), live.crt.trim());
  assert.equal(values.identity.issuer.tls.keyPEM.trim(), live.key.trim());
  assert.match(notes.join("\n"), /secret linkerd\/linkerd-identity-issuer differs from the issuer recorded in linkerd-config-overrides: keeping the cluster's/);
});

test("upgrade refuses a newer or unrelated installed release unless --force, and a control plane without its overrides secret", async () => {
  assert.throws(() => checkUpgradeVersion("stable-2.15.1", "stable-2.14.10", false), { message: "the installed control plane runs stable-2.15.1: it is newer than stable-2.14.10, the release mesh renders" });
  assert.throws(() => checkUpgradeVersion("edge-24.2.1", "stable-2.14.10", false), /cannot tell whether it is older than stable-2.14.10/);
  checkUpgradeVersion("stable-2.14.1", "stable-2.14.10", false);
  checkUpgradeVersion("stable-2.15.1", "stable-2.14.10", true);

  const before = await installed();
  const newer = before.replace(/^(\s+linkerdVersion: )stable-2\.14\.10$/m, "$1stable-2.15.1");
  assert.notEqual(newer, before);
  const file = save("newer.yaml", newer);
  const refused = await runInstall(["upgrade", "--from-manifests", file]);
  assert.equal(refused.code, 1);
  assert.equal(refused.stdout, "");
  assert.match(refused.stderr, /^error: the installed control plane runs stable-2\.15\.1: it is newer than stable-2\.14\.10, the release mesh renders\nhint: to render it anyway, pass --force\n$/);
  const forced = await runInstall(["upgrade", "--from-manifests", file, "--force"]);
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(configOf(docs(forced.stdout)).linkerdVersion, "stable-2.14.10");

  const helm = save("helm.yaml", docs(before).filter((o) => o.metadata.name !== "linkerd-config-overrides").map((o) => `---\n${JSON.stringify(o)}\n`).join(""));
  const noOverrides = await runInstall(["upgrade", "--from-manifests", helm]);
  assert.equal(noOverrides.code, 1);
  assert.match(noOverrides.stderr, /^error: secret linkerd\/linkerd-config-overrides not found in manifests .*helm\.yaml: it records the values the control plane was installed with\nhint: a control plane installed with Helm is upgraded with Helm\n$/);
});

test("upgrade against a cluster: needs the CRDs first, and refuses an issuer that meshed pods' trust anchors reject", async () => {
  const before = docs(await installed());
  const crds = docs((await runInstall(["install", "--crds", "--ignore-cluster"])).stdout);
  const objects: Record<string, unknown> = {};
  for (const o of before) if (o.metadata.namespace && /^(Secret|ConfigMap)$/.test(o.kind!)) objects[`/api/v1/namespaces/linkerd/${o.kind!.toLowerCase()}s/${o.metadata.name}`] = o;
  const noCrds = await runInstall(["upgrade"], { cluster: fakeCluster(objects) });
  assert.equal(noCrds.code, 1);
  assert.match(noCrds.stderr, /^error: the Linkerd CRDs are not installed: .*\nhint: run `mesh upgrade --crds \| kubectl apply -f -` first\n$/);

  for (const crd of crds) objects[`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`] = crd;
  objects["/api/v1/nodes"] = { items: [] };
  const pod = (name: string, anchors: string) => ({ metadata: { name, namespace: "app" }, spec: { containers: [{ name: "linkerd-proxy", env: [{ name: "LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS", value: anchors }] }] } });
  const anchors = configOf(before).identityTrustAnchorsPEM as string;
  const podsPath = `/api/v1/pods?labelSelector=linkerd.io%2Fcontrol-plane-ns%3Dlinkerd&limit=500`;
  objects[podsPath] = { items: [pod("good", anchors), pod("stale", certFixture("foreign-ca.crt"))] };
  const refused = await runInstall(["upgrade"], { cluster: fakeCluster(objects) });
  assert.equal(refused.code, 1, refused.stderr);
  assert.equal(refused.stdout, "");
  assert.match(refused.stderr, /^error: the issuer certificate does not validate against the trust anchors of 1 meshed pod: app\/stale\nhint: restart those pods/);
  const forced = await runInstall(["upgrade", "--force"], { cluster: fakeCluster(objects) });
  assert.equal(forced.code, 0, forced.stderr);
  objects[podsPath] = { items: [pod("good", anchors)] };
  const ok = await runInstall(["upgrade"], { cluster: fakeCluster(objects) });
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(find(docs(ok.stdout), "Secret", "linkerd-identity-issuer").data, find(before, "Secret", "linkerd-identity-issuer").data);
});

test("upgrade --crds renders the CRDs without reading anything installed", async () => {
  const r = await runInstall(["upgrade", "--crds"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(docs(r.stdout).filter((o) => o.kind === "CustomResourceDefinition").length, 8);
  assert.match(r.stderr, /mesh upgrade \| kubectl apply -f -/);
});
