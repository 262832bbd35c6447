import { test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { certificateToPem, decodeCertificates, serialHex, serialString } from "../../src/tls/index.js";
import { KeyUsage, Oid } from "../../src/tls/oids.js";
import { certFixture } from "../fixtures/certs/fixtures.js";

const one = (name: string) => {
  const { certificates, problem } = decodeCertificates(certFixture(name));
  assert.equal(problem, undefined);
  return certificates[0]!;
};

test("the anchor fixture parses with every field", () => {
  const c = one("ca.crt");
  assert.equal(c.version, 3);
  assert.equal(c.serialNumber, 100n);
  assert.equal(serialString(c), "100");
  assert.equal(serialHex(c), "64");
  assert.equal(c.commonName, "identity.linkerd.cluster.local");
  assert.equal(c.issuerCommonName, "identity.linkerd.cluster.local");
  assert.deepEqual(c.rawIssuer, c.rawSubject);
  assert.equal(c.notBefore.toISOString(), "2025-01-01T00:00:00.000Z");
  assert.equal(c.notAfter.toISOString(), "2125-01-01T00:00:00.000Z");
  assert.equal(c.signatureAlgorithm.name, "ECDSA-SHA256");
  assert.equal(c.publicKey.algorithm, "ECDSA");
  assert.equal(c.publicKey.curve, "P-256");
  assert.equal(c.publicKey.bits, 256);
  assert.equal(c.basicConstraintsValid, true);
  assert.equal(c.isCA, true);
  assert.equal(c.maxPathLen, 1);
  assert.equal(c.keyUsage, KeyUsage.certSign | KeyUsage.crlSign);
  assert.deepEqual(c.extKeyUsage, []);
  assert.equal(c.subjectKeyId?.length, 20);
  assert.equal(c.authorityKeyId, undefined);
  assert.deepEqual(c.unhandledCriticalExtensions, []);
  assert.equal(certificateToPem(c), certFixture("ca.crt"));
});

test("fields agree with Node's own X509Certificate", () => {
  for (const name of ["ca.crt", "issuer.crt", "ca-rsa.crt", "issuer-p384.crt", "webhook-sp-validator.crt"]) {
    const ours = one(name);
    const node = new X509Certificate(certFixture(name));
    assert.equal(serialHex(ours).toUpperCase(), node.serialNumber.replace(/^0+(?=.)/, "").padStart(serialHex(ours).length, "0"));
    assert.equal(`CN=${ours.commonName}`, node.subject.trim());
    assert.equal(ours.notAfter.getTime(), new Date(node.validTo).getTime());
    assert.equal(ours.isCA, node.ca);
  }
});

test("issuer fixture: pathlen 0, AKI is the anchor's SKI", () => {
  const c = one("issuer.crt");
  assert.equal(c.maxPathLen, 0);
  assert.deepEqual(c.authorityKeyId, one("ca.crt").subjectKeyId);
});

test("RSA and P-384 keys, SHA256-RSA signature", () => {
  const rsa = one("ca-rsa.crt");
  assert.equal(rsa.publicKey.algorithm, "RSA");
  assert.equal(rsa.publicKey.bits, 2048);
  assert.equal(rsa.publicKey.exponent, 65537n);
  assert.equal(rsa.signatureAlgorithm.name, "SHA256-RSA");
  assert.equal(one("issuer-under-rsa-ca.crt").signatureAlgorithm.name, "SHA256-RSA");
  assert.equal(one("issuer-p384.crt").publicKey.curve, "P-384");
});

test("webhook fixture: leaf with SAN, EKU and CA:FALSE", () => {
  const c = one("webhook-proxy-injector.crt");
  assert.equal(c.isCA, false);
  assert.equal(c.basicConstraintsValid, true);
  assert.equal(c.maxPathLen, -1);
  assert.deepEqual(c.dnsNames, ["linkerd-proxy-injector.linkerd.svc"]);
  assert.deepEqual(c.extKeyUsage, [Oid.serverAuth, Oid.clientAuth]);
  assert.equal(c.keyUsage, KeyUsage.digitalSignature | KeyUsage.keyEncipherment);
  assert.equal(c.serialNumber, 0x7c1a0000000000000000000000000001n);
});

test("bundles: certificates in order; leading text is ignored", () => {
  const r = decodeCertificates("anchors for prod\n" + certFixture("ca.crt") + certFixture("other-ca.crt"));
  assert.deepEqual(r.certificates.map((c) => c.serialNumber), [100n, 200n]);
  assert.equal(r.problem, undefined);
});

test("bundles: the first non-certificate block ends the list without an error", () => {
  const r = decodeCertificates(certFixture("ca.crt") + certFixture("ca.key") + certFixture("other-ca.crt"));
  assert.equal(r.certificates.length, 1);
  assert.equal(r.stoppedAt, "EC PRIVATE KEY");
  assert.equal(r.problem, undefined);
});

test("bundles: trailing text that is not PEM is an error, even a blank line", () => {
  for (const tail of ["\n", "  ", "junk"]) {
    const r = decodeCertificates(certFixture("ca.crt") + tail);
    assert.equal(r.certificates.length, 1);
    assert.equal(r.problem?.kind, "not-pem");
  }
  assert.equal(decodeCertificates(certFixture("ca.crt").trimEnd()).problem, undefined);
});

test("bundles: a CERTIFICATE block that is not DER", () => {
  const r = decodeCertificates(certFixture("broken-der.pem"));
  assert.equal(r.problem?.kind, "malformed");
});

test("bundles: empty text holds no certificates and no error", () => {
  assert.deepEqual(decodeCertificates(""), { certificates: [] });
});
