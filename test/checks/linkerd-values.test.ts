import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { parseLinkerdValues } from "../../src/checks/linkerd-values.js";
import { fetchLinkerdConfigMap, loadLinkerdConfig, readValuesText } from "../../src/kube/linkerd-config.js";
import { runMesh } from "../helpers/run.js";

const cm = (values: string) => ({ metadata: { name: "linkerd-config" }, data: { values } });

test("the checks read what a full YAML parse reads from mesh install's linkerd-config", async () => {
  const r = await runMesh(["install", "--ignore-cluster", "-o", "json"]);
  assert.equal(r.code, 0, r.stderr);
  const list = JSON.parse(r.stdout) as { items: { kind: string; metadata: { name: string }; data?: Record<string, string> }[] };
  const values = list.items.find((o) => o.kind === "ConfigMap" && o.metadata.name === "linkerd-config")!.data!.values;
  const full = parse(values) as Record<string, any>;
  assert.deepEqual(parseLinkerdValues(cm(values)), {
    linkerdVersion: full.linkerdVersion,
    clusterNetworks: full.clusterNetworks,
    clusterDomain: full.clusterDomain,
    highAvailability: full.highAvailability,
    disableHeartBeat: full.disableHeartBeat,
    cniEnabled: full.cniEnabled,
    identityTrustAnchorsPEM: full.identityTrustAnchorsPEM,
    identityTrustDomain: full.identityTrustDomain,
    issuerScheme: full.identity.issuer.scheme,
    proxyInitRunAsRoot: full.proxyInit.runAsRoot,
  });
});

// Valid YAML the four former readers disagreed on: each now goes through src/kube/linkerd-config.ts.
const disagreeing: [name: string, values: string, expect: Partial<ReturnType<typeof parseLinkerdValues> & object>][] = [
  ["a flow map", "linkerdVersion: stable-2.14.10\nidentity: {issuer: {scheme: kubernetes.io/tls}}\n", { issuerScheme: "kubernetes.io/tls" }],
  ["a capitalised boolean", "highAvailability: True\ncniEnabled: TRUE\nproxyInit:\n  runAsRoot: True\n", { highAvailability: true, cniEnabled: true, proxyInitRunAsRoot: true }],
  ["YAML 1.1 booleans, as Linkerd's Go reader takes them", "disableHeartBeat: yes\nhighAvailability: on\n", { disableHeartBeat: true, highAvailability: true }],
  ["quoted, chomped and commented values", 'linkerdVersion: "stable-2.14.10"\nidentityTrustAnchorsPEM: |-\n  a\n  b\n\nhighAvailability: true # HA\n', { linkerdVersion: "stable-2.14.10", identityTrustAnchorsPEM: "a\nb", highAvailability: true }],
  ["an anchor and alias", "linkerdVersion: &v stable-2.14.9\nx: *v\n", { linkerdVersion: "stable-2.14.9" }],
  ["a legacy global map", "global:\n  linkerdVersion: stable-2.9.0\n  highAvailability: true\n", { linkerdVersion: "stable-2.9.0", highAvailability: true }],
  ["a flow document", "{linkerdVersion: stable-2.14.1, highAvailability: True}", { linkerdVersion: "stable-2.14.1", highAvailability: true }],
];

for (const [name, values, expect] of disagreeing)
  test(`linkerd-config values with ${name} read the same through the checks and the loader`, async () => {
    const checks = parseLinkerdValues(cm(values))!;
    for (const [k, v] of Object.entries(expect)) assert.deepEqual(checks[k as keyof typeof checks], v, k);
    let gets = 0;
    const cluster = { getJson: async <T>(path: string) => (gets++, path === "/api/v1/namespaces/linkerd/configmaps/linkerd-config" ? (cm(values) as T) : undefined) };
    const [loaded, again] = await Promise.all([loadLinkerdConfig(cluster, "linkerd"), fetchLinkerdConfigMap(cluster, "linkerd")]);
    assert.deepEqual(loaded?.typed, checks);
    assert.equal(again, loaded?.configMap, "callers at the same time share one request");
    assert.equal(await loadLinkerdConfig(cluster, "other"), undefined);
    assert.equal(gets, 2);
    await fetchLinkerdConfigMap(cluster, "linkerd");
    assert.equal(gets, 3, "a later call reads the cluster again");
  });

test("values that are not YAML or not a map are errors that never quote the text", async () => {
  assert.throws(() => parseLinkerdValues(cm("identityTrustAnchorsPEM: [secret-material\n")), (e: Error) => /^the values of linkerd-config are not valid YAML: /.test(e.message) && !e.message.includes("secret-material"));
  assert.throws(() => parseLinkerdValues(cm("- a\n- b\n")), { message: "error unmarshaling JSON: the values of linkerd-config are not a map" });
  await assert.rejects(readValuesText("a: [", "the values in x.yaml"), { message: /^the values in x\.yaml are not valid YAML: / });
});

test("inject --values reads a flow-style values file and a capitalised boolean as the cluster's linkerd-config", async () => {
  const fixture = parse(readFileSync("test/fixtures/inject/linkerd-config-values.yaml", "utf8")) as Record<string, any>;
  fixture.proxy.logLevel = "debug";
  const dir = mkdtempSync(join(tmpdir(), "mesh-values-"));
  // JSON is YAML flow style; `True` is a boolean to Linkerd's reader (and enables the gateway mode here)
  const file = join(dir, "values.yaml");
  writeFileSync(file, JSON.stringify(fixture).replace('"isGateway":false', '"isGateway":True'));
  const input = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: nginx\n";
  const r = await runMesh(["inject", "--manual", "--values", file, "-"], { stdin: input });
  assert.equal(r.code, 0, r.stderr);
  const out = parse(r.stdout) as { spec: { template: { spec: { containers: { name: string; env?: { name: string; value?: string }[] }[] } } } };
  const env = out.spec.template.spec.containers.find((c) => c.name === "linkerd-proxy")!.env!;
  assert.equal(env.find((e) => e.name === "LINKERD2_PROXY_LOG")?.value, "debug");
  assert.equal(env.find((e) => e.name === "LINKERD2_PROXY_INBOUND_GATEWAY_SUFFIXES")?.value, "svc.example.org.");
});
