/**
 * `mesh upgrade` against the test cluster, through the pipelines users run, verbatim: a control
 * plane installed with non-default values (`mesh install --crds | kubectl apply -f -`, then
 * `mesh install --set … | kubectl apply -f -`), upgraded with another flag
 * (`mesh upgrade … | kubectl apply -f -`). The old values, the trust anchor and the issuer
 * survive byte for byte (as kubectl reads them back) and the new flag takes effect;
 * `--from-manifests` gives the same configuration offline, from the saved install output.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { connectTestCluster, testClusterSkipReason, type TestCluster } from "../helpers/cluster.js";
import { pipeline } from "../helpers/pipeline.js";
import { uninstallLinkerd } from "../checks/install-on-cluster.js";

const skip = testClusterSkipReason();

let c: TestCluster;
const cp = `l5d-${randomBytes(3).toString("hex")}`;
const dir = mkdtempSync(join(tmpdir(), "mesh-upgrade-e2e-"));
const saved = join(dir, "install.yaml");

/** The data of an object as kubectl prints it (base64 for Secrets: the stored bytes). */
async function data(kind: string, name: string): Promise<Record<string, string>> {
  const r = await c.kubectl(["get", kind, name, "-n", cp, "-o", "json"]);
  return (JSON.parse(r.stdout) as { data: Record<string, string> }).data;
}

const valuesOf = (d: Record<string, string>) => parseAllDocuments(d.values)[0].toJS() as Record<string, any>;
const overridesOf = (d: Record<string, string>) => parseAllDocuments(Buffer.from(d["linkerd-config-overrides"], "base64").toString("utf8"))[0].toJS() as Record<string, any>;

before(async () => {
  if (skip) return;
  c = await connectTestCluster();
});

after(async () => {
  if (!skip && c) await uninstallLinkerd(c, cp);
});

test("mesh upgrade keeps the installed values, trust anchor and issuer, and applies the new flag; --from-manifests gives the same offline", { skip }, async () => {
  const crds = `mesh install --crds -L ${cp} | kubectl apply -f -`;
  const first = await pipeline(c, crds, { allowFail: true });
  if (first.code !== 0 && /the object has been modified/.test(first.stderr)) await pipeline(c, crds);
  else assert.equal(first.code, 0, first.stderr);
  await pipeline(c, `mesh install -L ${cp} --set proxy.logLevel=debug --controller-replicas 2 --set podLabels.team=payments | tee ${saved} | kubectl apply -f -`);

  const issuer = await data("secret", "linkerd-identity-issuer");
  const roots = await data("configmap", "linkerd-identity-trust-roots");
  const config = valuesOf(await data("configmap", "linkerd-config"));
  assert.equal(config.proxy.logLevel, "debug");

  const r = await pipeline(c, `mesh upgrade -L ${cp} --controller-log-level debug | kubectl apply -f -`);
  assert.match(r.stdout, /deployment.apps\/linkerd-destination configured/);

  // the certificates, byte for byte
  assert.deepEqual(await data("secret", "linkerd-identity-issuer"), issuer);
  assert.deepEqual(await data("configmap", "linkerd-identity-trust-roots"), roots);
  // every value set at install time, and the new flag
  const upgraded = valuesOf(await data("configmap", "linkerd-config"));
  assert.equal(upgraded.proxy.logLevel, "debug");
  assert.equal(upgraded.controllerReplicas, 2);
  assert.deepEqual(upgraded.podLabels, { team: "payments" });
  assert.equal(upgraded.identityTrustAnchorsPEM, config.identityTrustAnchorsPEM);
  assert.equal(upgraded.controllerLogLevel, "debug");
  const changed = Object.keys(upgraded).filter((k) => JSON.stringify(upgraded[k]) !== JSON.stringify(config[k]));
  assert.deepEqual(changed, ["controllerLogLevel"]);
  const overrides = overridesOf(await data("secret", "linkerd-config-overrides"));
  assert.equal(overrides.controllerLogLevel, "debug");
  assert.equal(overrides.proxy.logLevel, "debug");
  // the new flag reached the controllers, the old ones stayed
  const dst = await c.api.get<{ spec: { replicas: number; template: { metadata: { labels: Record<string, string> }; spec: { containers: { name: string; args?: string[] }[] } } } }>(
    `/apis/apps/v1/namespaces/${cp}/deployments/linkerd-destination`,
  );
  assert.equal(dst.spec.replicas, 2);
  assert.equal(dst.spec.template.metadata.labels.team, "payments");
  assert.ok(dst.spec.template.spec.containers.find((x) => x.name === "destination")!.args!.includes("-log-level=debug"));
  const proxyEnv = (dst.spec.template.spec.containers.find((x) => x.name === "linkerd-proxy") as unknown as { env: { name: string; value?: string }[] }).env;
  assert.equal(proxyEnv.find((e) => e.name === "LINKERD2_PROXY_LOG")?.value, "debug");

  // offline, from the saved install output: no cluster at all (a kubeconfig that does not exist)
  const offline = await pipeline(c, `mesh upgrade -L ${cp} --from-manifests ${saved} --controller-log-level debug`, { kubeconfig: join(dir, "no-such-kubeconfig") });
  const online = await pipeline(c, `mesh upgrade -L ${cp} --controller-log-level debug`);
  const pick = (yaml: string) => {
    const objs = parseAllDocuments(yaml).map((d) => d.toJS() as { kind: string; metadata: { name: string }; data?: Record<string, string> });
    const get = (kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name === name)!.data!;
    return {
      config: get("ConfigMap", "linkerd-config"),
      overrides: overridesOf(get("Secret", "linkerd-config-overrides")),
      issuer: get("Secret", "linkerd-identity-issuer"),
      roots: get("ConfigMap", "linkerd-identity-trust-roots"),
    };
  };
  assert.deepEqual(pick(offline.stdout), pick(online.stdout));
  assert.deepEqual(pick(offline.stdout).issuer, issuer);
  assert.ok(readFileSync(saved, "utf8").includes("linkerd-config-overrides"));
});

test("mesh upgrade refuses a control plane newer than mesh's release unless --force", { skip }, async () => {
  await c.kubectl(["patch", "configmap", "linkerd-config", "-n", cp, "--type", "merge", "-p", JSON.stringify({ data: { values: (await data("configmap", "linkerd-config")).values.replace(/^linkerdVersion: .*$/m, "linkerdVersion: stable-2.15.1") } })]);
  const refused = await pipeline(c, `mesh upgrade -L ${cp}`, { allowFail: true });
  assert.equal(refused.code, 1);
  assert.equal(refused.stdout, "");
  assert.match(refused.stderr, /^error: the installed control plane runs stable-2\.15\.1: it is newer than stable-2\.14\.10, the release mesh renders\nhint: to render it anyway, pass --force\n$/);
  const forced = await pipeline(c, `mesh upgrade -L ${cp} --force | kubectl apply -f -`);
  assert.match(forced.stdout, /configmap\/linkerd-config configured/);
  assert.equal(valuesOf(await data("configmap", "linkerd-config")).linkerdVersion, "stable-2.14.10");
});
