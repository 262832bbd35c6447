import { test } from "node:test";
import assert from "node:assert/strict";
import { parse } from "yaml";
import { parseLinkerdValues, scanValues } from "../../src/checks/linkerd-values.js";
import { runMesh } from "../helpers/run.js";

const cm = (values: string) => ({ metadata: { name: "linkerd-config" }, data: { values } });

test("the quick scan reads what a full YAML parse reads from mesh install's linkerd-config", async () => {
  const r = await runMesh(["install", "--ignore-cluster", "-o", "json"]);
  assert.equal(r.code, 0, r.stderr);
  const list = JSON.parse(r.stdout) as { items: { kind: string; metadata: { name: string }; data?: Record<string, string> }[] };
  const values = list.items.find((o) => o.kind === "ConfigMap" && o.metadata.name === "linkerd-config")!.data!.values;
  const scanned = scanValues(values);
  assert.ok(scanned, "scan succeeded");
  const full = parse(values) as Record<string, any>;
  assert.equal(scanned.identityTrustAnchorsPEM, full.identityTrustAnchorsPEM);
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

test("quoted, chomped and nested values; anything unusual falls back to the YAML parser", () => {
  const v = 'linkerdVersion: "stable-2.14.10"\nidentity:\n  issuer:\n    scheme: \'kubernetes.io/tls\'\n    tls:\n      crtPEM: |\n        x\nidentityTrustAnchorsPEM: |-\n  a\n  b\n\nhighAvailability: true # HA\nproxyInit:\n  runAsRoot: true\n';
  assert.deepEqual(scanValues(v), { linkerdVersion: "stable-2.14.10", identity: { issuer: { scheme: "kubernetes.io/tls" } }, identityTrustAnchorsPEM: "a\nb", highAvailability: true, proxyInit: { runAsRoot: true } });
  assert.equal(scanValues("global:\n  linkerdVersion: x\n"), undefined);
  assert.equal(scanValues("linkerdVersion: &v stable\n"), undefined);
  assert.equal(parseLinkerdValues(cm("global:\n  linkerdVersion: stable-2.9.0\n  highAvailability: true\n"))?.linkerdVersion, "stable-2.9.0");
  assert.equal(parseLinkerdValues(cm("{linkerdVersion: stable-2.14.1, highAvailability: true}"))?.highAvailability, true);
});
