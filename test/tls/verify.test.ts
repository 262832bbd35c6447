import { test } from "node:test";
import assert from "node:assert/strict";
import { parseCertificateBundle, verifyCertificate, type Certificate } from "../../src/tls/index.js";
import { matchesHostname } from "../../src/tls/verify.js";
import { seq, tlv } from "../../src/tls/der.js";
import { FIXTURE_NOW, certFixture } from "../fixtures/certs/fixtures.js";
import { makeCert } from "./helpers.js";

const cert = (name: string): Certificate => parseCertificateBundle(certFixture(name))[0]!;
const NOW = FIXTURE_NOW;

async function failsWith(leaf: Certificate, roots: Certificate[], kind: string, error: string, intermediates: Certificate[] = []) {
  const r = await verifyCertificate(leaf, { roots, intermediates, now: NOW });
  assert.equal(r.ok, false, "expected verification to fail");
  if (r.ok) return;
  assert.equal(r.failure.kind, kind);
  assert.equal(r.error, error);
}

test("a certificate that is itself a root verifies alone", async () => {
  const r = await verifyCertificate(cert("ca.crt"), { roots: [cert("ca.crt")], now: NOW });
  assert.ok(r.ok);
  assert.equal(r.chains[0]!.length, 1);
});

test("the right anchor is found among anchors with the same name", async () => {
  const r = await verifyCertificate(cert("issuer.crt"), { roots: [cert("other-ca.crt"), cert("ca.crt")], now: NOW });
  assert.ok(r.ok);
  assert.equal(r.chains[0]![1]!.serialNumber, 100n);
});

test("an issuer with a SHA256-RSA signature verifies against its RSA anchor", async () => {
  assert.ok((await verifyCertificate(cert("issuer-under-rsa-ca.crt"), { roots: [cert("ca-rsa.crt")], now: NOW })).ok);
});

test("a chain through an intermediate verifies; path length limits are enforced", async () => {
  const root = await makeCert("root", { maxPathLen: 1, serial: 1n });
  const mid = await makeCert("mid", { signer: root, maxPathLen: 0, serial: 2n });
  const leaf = await makeCert("leaf", { signer: mid, serial: 3n });
  const ok = await verifyCertificate(leaf.cert, { roots: [root.cert], intermediates: [mid.cert], now: NOW });
  assert.ok(ok.ok);
  assert.deepEqual(ok.chains[0]!.map((c) => c.commonName), ["leaf", "mid", "root"]);

  const strictRoot = await makeCert("root0", { maxPathLen: 0, serial: 4n });
  const mid2 = await makeCert("mid2", { signer: strictRoot, serial: 5n });
  const leaf2 = await makeCert("leaf2", { signer: mid2, serial: 6n });
  await failsWith(leaf2.cert, [strictRoot.cert], "too-many-intermediates", "x509: too many intermediates for path length constraint", [mid2.cert]);
});

test("without the intermediate, the chain is incomplete", async () => {
  const root = await makeCert("root");
  const mid = await makeCert("mid", { signer: root });
  const leaf = await makeCert("leaf", { signer: mid });
  await failsWith(leaf.cert, [root.cert], "unknown-authority", "x509: certificate signed by unknown authority");
});

test("an intermediate that is not a CA cannot sign", async () => {
  const root = await makeCert("root");
  const mid = await makeCert("mid", { signer: root, isCA: false, keyUsage: 1, subjectKeyId: false });
  const leaf = await makeCert("leaf", { signer: mid });
  await failsWith(
    leaf.cert,
    [root.cert],
    "unknown-authority",
    'x509: certificate signed by unknown authority (possibly because of "x509: invalid signature: parent certificate cannot sign this kind of certificate" while trying to verify candidate authority certificate "mid")',
    [mid.cert],
  );
});

test("an expired leaf fails before anything else", async () => {
  await failsWith(
    cert("issuer-expired.crt"),
    [cert("ca.crt")],
    "expired",
    "x509: certificate has expired or is not yet valid: current time 2026-01-01T00:00:00Z is after 2021-01-01T00:00:00Z",
  );
  await failsWith(
    cert("issuer-not-yet-valid.crt"),
    [cert("ca.crt")],
    "not-yet-valid",
    "x509: certificate has expired or is not yet valid: current time 2026-01-01T00:00:00Z is before 2100-01-01T00:00:00Z",
  );
});

test("validity bounds are inclusive", async () => {
  const leaf = cert("issuer.crt");
  for (const now of [leaf.notBefore, leaf.notAfter]) {
    assert.ok((await verifyCertificate(leaf, { roots: [cert("ca.crt")], now })).ok);
  }
});

test("SHA-1 signatures are refused as insecure, as Go 1.19 does", async () => {
  const root = await makeCert("root");
  const leaf = await makeCert("leaf", { signer: root, hash: "SHA-1" });
  await failsWith(
    leaf.cert,
    [root.cert],
    "unknown-authority",
    'x509: certificate signed by unknown authority (possibly because of "x509: cannot verify signature: insecure algorithm ECDSA-SHA1 (temporarily override with GODEBUG=x509sha1=1)" while trying to verify candidate authority certificate "root")',
  );
});

test("a critical extension Go does not know makes a certificate unusable", async () => {
  const root = await makeCert("root");
  const leaf = await makeCert("leaf", {
    signer: root,
    extraExtensions: [{ oid: "1.3.6.1.4.1.99999.1", critical: true, value: seq() }],
  });
  assert.deepEqual(leaf.cert.unhandledCriticalExtensions, ["1.3.6.1.4.1.99999.1"]);
  await failsWith(leaf.cert, [root.cert], "unhandled-critical-extension", "x509: unhandled critical extension");
  // Non-critical unknown extensions are fine.
  const ok = await makeCert("leaf", { signer: root, extraExtensions: [{ oid: "1.3.6.1.4.1.99999.1", critical: false, value: seq() }] });
  assert.ok((await verifyCertificate(ok.cert, { roots: [root.cert], now: NOW })).ok);
});

test("extended key usages must allow serverAuth on every certificate that lists them", async () => {
  const root = await makeCert("root", { extKeyUsage: ["1.3.6.1.5.5.7.3.1"] });
  const anyRoot = await makeCert("any", { extKeyUsage: ["2.5.29.37.0"] });
  const clientOnly = await makeCert("client", { extKeyUsage: ["1.3.6.1.5.5.7.3.2"] });
  for (const r of [root, anyRoot]) {
    const leaf = await makeCert("leaf", { signer: r, extKeyUsage: ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"] });
    assert.ok((await verifyCertificate(leaf.cert, { roots: [r.cert], now: NOW })).ok);
  }
  const leaf = await makeCert("leaf", { signer: clientOnly });
  await failsWith(leaf.cert, [clientOnly.cert], "incompatible-usage", "x509: certificate specifies an incompatible key usage");
});

test("host names: SAN match, case and trailing dot ignored, left-most wildcard", async () => {
  const exact = cert("webhook-proxy-injector.crt");
  assert.ok(matchesHostname(exact, "linkerd-proxy-injector.linkerd.svc"));
  assert.ok(matchesHostname(exact, "Linkerd-Proxy-Injector.linkerd.svc."));
  assert.ok(!matchesHostname(exact, "linkerd-proxy-injector.linkerd"));
  const wild = await makeCert("x", { dnsNames: ["*.linkerd.svc"], isCA: false });
  assert.ok(matchesHostname(wild.cert, "linkerd-sp-validator.linkerd.svc"));
  assert.ok(!matchesHostname(wild.cert, "a.b.linkerd.svc"));
});

test("host names: a certificate with only a CN is refused for that name", async () => {
  const cnOnly = await makeCert("linkerd-proxy-injector.linkerd.svc", { isCA: false });
  const r = await verifyCertificate(cnOnly.cert, { roots: [cnOnly.cert], dnsName: "linkerd-proxy-injector.linkerd.svc", now: NOW });
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(r.error, "x509: certificate relies on legacy Common Name field, use SANs instead");
  const other = await verifyCertificate(cert("webhook-sp-validator.crt"), {
    roots: [cert("webhook-sp-validator.crt")],
    dnsName: "linkerd-proxy-injector.linkerd.svc",
    now: NOW,
  });
  assert.equal(other.ok, false);
  if (!other.ok) {
    assert.equal(other.error, "x509: certificate is valid for linkerd-sp-validator.linkerd.svc, not linkerd-proxy-injector.linkerd.svc");
  }
});

test("a SAN holding only an otherName is treated as not understood when critical", async () => {
  const root = await makeCert("root");
  const leaf = await makeCert("", {
    signer: root,
    isCA: false,
    extraExtensions: [{ oid: "2.5.29.17", critical: true, value: seq(tlv(0xa0, seq())) }],
  });
  assert.deepEqual(leaf.cert.unhandledCriticalExtensions, ["2.5.29.17"]);
});
