import { test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate, webcrypto } from "node:crypto";
import { certificateToPem, decodeCertificates, serialHex, serialString } from "../../src/tls/index.js";
import { KeyUsage, Oid } from "../../src/tls/oids.js";
import { certFixture } from "../fixtures/certs/fixtures.js";
import { parseCertificate } from "../../src/tls/certificate.js";
import { bitString, explicit, integer, octets, oid, seq, tlv, Tag } from "../../src/tls/der.js";
import { makeCert } from "./helpers.js";

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
  assert.equal(rsa.publicKey.key?.asymmetricKeyDetails?.publicExponent, 65537n);
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

// --- what Node's X509Certificate gives, read back exactly (names, times, SANs), and what the DER reader still refuses ---


/** A certificate with the given subject, validity and extensions; the signature is not checked by parsing. */
async function rawCert(o: { subject?: Uint8Array; notBefore?: Uint8Array; notAfter?: Uint8Array; extensions?: Uint8Array[]; spki?: Uint8Array }): Promise<Uint8Array> {
  const keys = (await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const spki = o.spki ?? new Uint8Array(await webcrypto.subtle.exportKey("spki", keys.publicKey));
  const alg = seq(oid("1.2.840.10045.4.3.2"));
  const name = o.subject ?? seq(tlv(Tag.Set, seq(oid(Oid.commonName), tlv(Tag.PrintableString, Buffer.from("x")))));
  const utc = (s: string) => tlv(Tag.UtcTime, Buffer.from(s));
  const tbs = seq(
    explicit(0, integer(2)),
    integer(7),
    alg,
    name,
    seq(o.notBefore ?? utc("250101000000Z"), o.notAfter ?? utc("350101000000Z")),
    name,
    spki,
    ...(o.extensions ? [explicit(3, seq(...o.extensions))] : []),
  );
  return seq(tbs, alg, bitString(Uint8Array.of(0x30, 6, 2, 1, 1, 2, 1, 1)));
}
const cnName = (...rdns: Array<Array<[string, Uint8Array]>>) => seq(...rdns.map((atvs) => tlv(Tag.Set, ...atvs.map(([id, v]) => seq(oid(id), v)))));
const utf8 = (s: string) => tlv(Tag.Utf8String, Buffer.from(s, "utf8"));

test("common names come back exactly, whatever characters Node escapes when it prints them", async () => {
  for (const cn of ["a,b+c\"d\\e<f>;g", "x\nCN=evil", " #lead trail ", "héllo ☃", "\\41", "a + O=b", "=eq=", ""]) {
    const c = parseCertificate(await rawCert({ subject: cnName([[Oid.commonName, utf8(cn)]]) }));
    assert.equal(c.commonName, cn, JSON.stringify(cn));
  }
});

test("the last CN wins (Go's Subject.CommonName); O values are collected; multi-valued RDNs are split", async () => {
  const c = parseCertificate(await rawCert({ subject: cnName([[Oid.commonName, utf8("first")], [Oid.organization, utf8("org, one")]], [[Oid.commonName, utf8("second")]]) }));
  assert.equal(c.commonName, "second");
  assert.deepEqual(c.organization, ["org, one"]);
  const bmp = parseCertificate(await rawCert({ subject: cnName([[Oid.commonName, tlv(0x1e /* BMPString */, Buffer.from([0, 0x68, 0, 0x69]))]]) }));
  assert.equal(bmp.commonName, "hi");
});

test("validity: Node's printed times are read to the second, from 1950 to 9999", async () => {
  const gen = (s: string) => tlv(Tag.GeneralizedTime, Buffer.from(s));
  const c = parseCertificate(await rawCert({ notBefore: tlv(Tag.UtcTime, Buffer.from("500228235959Z")), notAfter: gen("99991231235959Z") }));
  assert.equal(c.notBefore.toISOString(), "1950-02-28T23:59:59.000Z");
  assert.equal(c.notAfter.toISOString(), "9999-12-31T23:59:59.000Z");
  const leap = parseCertificate(await rawCert({ notBefore: gen("20240229120000Z") }));
  assert.equal(leap.notBefore.toISOString(), "2024-02-29T12:00:00.000Z");
});

test("validity: times Go refuses are refused, though OpenSSL would read them", async () => {
  const utc = (s: string) => tlv(Tag.UtcTime, Buffer.from(s));
  for (const bad of [utc("2501010000Z"), utc("250101000000+0100"), tlv(Tag.GeneralizedTime, Buffer.from("20250101000000.5Z")), utc("251301000000Z"), tlv(Tag.Utf8String, Buffer.from("250101000000Z"))]) {
    await assert.rejects(async () => parseCertificate(await rawCert({ notBefore: bad })), /notBefore: invalid time/, Buffer.from(bad).toString("latin1"));
  }
});

test("SANs: DNS names verbatim (commas, quotes), and malformed SAN or EKU extensions are refused as Go refuses them", async () => {
  const san = (names: Uint8Array[]) => seq(oid(Oid.subjectAltName), octets(seq(...names)));
  const c = parseCertificate(await rawCert({ extensions: [san([tlv(0x82, Buffer.from("a.example")), tlv(0x82, Buffer.from("x, DNS:y")), tlv(0x87, Uint8Array.of(10, 0, 0, 1)), tlv(0x82, Buffer.from('q"z'))])] }));
  assert.deepEqual(c.dnsNames, ["a.example", "x, DNS:y", 'q"z']);
  assert.equal(c.hasSanExtension, true);
  // A universal-class element among the names, and an EKU holding something other than OIDs: OpenSSL loads both certificates.
  await assert.rejects(async () => parseCertificate(await rawCert({ extensions: [san([tlv(Tag.PrintableString, Buffer.from("a"))])] })), /invalid subject alternative name/);
  await assert.rejects(async () => parseCertificate(await rawCert({ extensions: [seq(oid(Oid.extKeyUsage), octets(seq(integer(1))))] })), /extended key usage/);
});

test("public keys: a point off the curve, a compressed point and a negative RSA modulus are refused (Go refuses them)", async () => {
  const ecSpki = (point: Uint8Array) => seq(seq(oid(Oid.ecPublicKey), oid(Oid.p256)), bitString(point));
  const good = await makeCert("k");
  const point = new Uint8Array(good.cert.publicKey.key!.export({ format: "der", type: "spki" }).subarray(-65));
  const off = new Uint8Array(point);
  off[64] ^= 1;
  await assert.rejects(async () => parseCertificate(await rawCert({ spki: ecSpki(off) })), /public key/);
  const compressed = Uint8Array.of(2 + (point[64]! & 1), ...point.subarray(1, 33));
  await assert.rejects(async () => parseCertificate(await rawCert({ spki: ecSpki(compressed) })), /elliptic curve point/);
  const rsa = (n: Uint8Array) => seq(seq(oid(Oid.rsaEncryption), tlv(Tag.Null)), bitString(seq(tlv(Tag.Integer, n), integer(65537))));
  const modulus = Uint8Array.of(0x80 | 0x40, ...new Uint8Array(255).fill(0x5a)); // high bit set: negative in DER
  await assert.rejects(async () => parseCertificate(await rawCert({ spki: rsa(modulus) })), /RSA modulus and exponent must be positive/);
});
