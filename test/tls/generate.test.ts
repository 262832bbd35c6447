import "./reflect-shim.js";
import { test } from "node:test";
import assert from "node:assert/strict";
import { createPrivateKey, createPublicKey, sign, verify } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  SubjectAlternativeNameExtension,
  SubjectKeyIdentifierExtension,
  X509Certificate,
} from "@peculiar/x509";
import {
  checkWebhookCredentials,
  generateIdentityCredentials,
  generateWebhookCertificate,
  generateWebhookCertificates,
  loadIssuerCredentials,
  verifyCertificate,
  webhookHost,
} from "../../src/tls/index.js";
import { parseCertificate } from "../../src/tls/certificate.js";
import { decodePrivateKey, keyMatchesPublicKey } from "../../src/tls/keys.js";
import { children, decode, readInteger, readOctets, readOid, readBitString, sequence, context } from "../../src/tls/der.js";
import { Oid } from "../../src/tls/oids.js";
import { decodePem } from "../../src/tls/pem.js";
import { hasOpenssl, openssl } from "./helpers.js";

const NOW = new Date("2025-06-01T12:00:00.750Z");
const DAY = 86_400_000;
/** Certificates store whole seconds; Go and we both truncate. */
const seconds = (ms: number) => new Date(Math.floor(ms / 1000) * 1000);

/** The uncompressed EC point of a certificate's key, from Node's SPKI export (the point ends the SPKI). */
const spkiPoint = (crtPem: string): Uint8Array => new Uint8Array(createPublicKey(crtPem).export({ format: "der", type: "spki" }).subarray(-65));

function onlyBlock(pem: string) {
  const { block, rest } = decodePem(pem);
  assert.ok(block, "expected a PEM block");
  assert.equal(rest, "", "expected exactly one PEM block and nothing after it");
  return block;
}

/** Go's pem.Encode layout: BEGIN line, 64-column base64, END line, final newline. */
function assertGoPemLayout(pem: string, type: string) {
  const lines = pem.split("\n");
  assert.equal(lines[0], `-----BEGIN ${type}-----`);
  assert.equal(lines.at(-2), `-----END ${type}-----`);
  assert.equal(lines.at(-1), "", "PEM must end with a newline");
  const body = lines.slice(1, -2);
  body.slice(0, -1).forEach((l) => assert.equal(l.length, 64));
  assert.ok(body.at(-1)!.length > 0 && body.at(-1)!.length <= 64);
}

test("identity credentials: one self-signed CA used as anchor and issuer, as Linkerd generates it", async () => {
  const creds = await generateIdentityCredentials({ namespace: "linkerd", trustDomain: "", now: NOW });
  assert.equal(creds.trustAnchorsPem, creds.issuerCrtPem);
  assertGoPemLayout(creds.issuerCrtPem, "CERTIFICATE");
  assertGoPemLayout(creds.issuerKeyPem, "EC PRIVATE KEY");

  const cert = new X509Certificate(creds.issuerCrtPem);
  assert.equal(cert.serialNumber, "01");
  assert.equal(cert.subject, "CN=identity.linkerd.");
  assert.equal(cert.issuer, "CN=identity.linkerd.");
  assert.deepEqual(cert.notBefore, seconds(NOW.getTime() - 10_000));
  assert.deepEqual(cert.notAfter, seconds(NOW.getTime() + 365 * DAY + 10_000));
  assert.equal((cert.signatureAlgorithm as unknown as { name: string }).name, "ECDSA");
  assert.equal((cert.signatureAlgorithm as unknown as { hash: { name: string } }).hash.name, "SHA-256");
  assert.deepEqual(cert.publicKey.algorithm, { name: "ECDSA", namedCurve: "P-256" });
  assert.ok(await cert.verify({ signatureOnly: true }), "self-signature must verify");

  // Extensions, in Go's order.
  assert.deepEqual(
    Array.from(cert.extensions, (e) => e.type),
    [Oid.keyUsage, Oid.extKeyUsage, Oid.basicConstraints, Oid.subjectKeyIdentifier],
  );
  const ku = cert.getExtension(KeyUsagesExtension)!;
  assert.equal(ku.critical, true);
  assert.equal(ku.usages, KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign);
  const eku = cert.getExtension(ExtendedKeyUsageExtension)!;
  assert.equal(eku.critical, false);
  assert.deepEqual([...eku.usages], [ExtendedKeyUsage.serverAuth, ExtendedKeyUsage.clientAuth]);
  const bc = cert.getExtension(BasicConstraintsExtension)!;
  assert.equal(bc.critical, true);
  assert.equal(bc.ca, true);
  assert.equal(bc.pathLength, undefined, "no pathLen constraint");
  const ski = cert.getExtension(SubjectKeyIdentifierExtension)!;
  assert.equal(ski.critical, false);
  assert.equal(ski.keyId, Buffer.from(await cert.publicKey.getKeyIdentifier("SHA-1")).toString("hex"));
  assert.equal(cert.getExtension(AuthorityKeyIdentifierExtension), null);
  assert.equal(cert.getExtension(SubjectAlternativeNameExtension), null);

  // Our own parser agrees, and the CA verifies as its own anchor.
  const parsed = parseCertificate(new Uint8Array(cert.rawData));
  assert.equal(parsed.version, 3);
  assert.equal(parsed.maxPathLen, -1);
  const result = await verifyCertificate(parsed, { roots: [parsed], now: NOW });
  assert.ok(result.ok);
});

test("identity credentials: the key is SEC 1 as Go writes it and belongs to the certificate", async () => {
  const creds = await generateIdentityCredentials({ namespace: "linkerd", trustDomain: "", now: NOW });
  const block = onlyBlock(creds.issuerKeyPem);
  assert.equal(block.type, "EC PRIVATE KEY");
  const [version, d, params, pub, ...rest] = sequence(decode(block.bytes), "EC private key");
  assert.equal(rest.length, 0);
  assert.equal(readInteger(version), 1n);
  assert.equal(readOctets(d).length, 32);
  assert.equal(params!.tag, context(0));
  assert.equal(readOid(children(params!)[0]), Oid.p256);
  assert.equal(pub!.tag, context(1));
  const point = readBitString(children(pub!)[0]).bytes;
  assert.deepEqual(point, spkiPoint(creds.issuerCrtPem));

  // Node reads it, and a signature made with it verifies with the certificate's key.
  const key = createPrivateKey(creds.issuerKeyPem);
  const data = Buffer.from("mesh");
  assert.ok(verify("sha256", data, createPublicKey(creds.issuerCrtPem), sign("sha256", data, key)));
});

test("identity credentials: CN is identity.<namespace>.<trust domain flag>", async () => {
  const creds = await generateIdentityCredentials({ namespace: "mesh-system", trustDomain: "cluster.local", now: NOW });
  assert.equal(new X509Certificate(creds.issuerCrtPem).subject, "CN=identity.mesh-system.cluster.local");
});

test("identity credentials pass mesh's own issuer validation", async () => {
  const creds = await generateIdentityCredentials({ namespace: "linkerd", trustDomain: "", now: NOW });
  const loaded = await loadIssuerCredentials({ ...creds, now: NOW });
  assert.equal(loaded.issuerCrtPem, creds.issuerCrtPem);
  assert.equal(loaded.issuerKeyPem, creds.issuerKeyPem);
  assert.equal(loaded.trustAnchorsPem, creds.trustAnchorsPem);
});

test("identity credentials: openssl agrees", { skip: !hasOpenssl && "openssl is not installed" }, async () => {
  const creds = await generateIdentityCredentials({ namespace: "linkerd", trustDomain: "", now: NOW });
  const text = openssl(["x509", "-noout", "-text"], creds.issuerCrtPem);
  assert.match(text, /Version: 3 \(0x2\)/);
  assert.match(text, /Serial Number: 1 \(0x1\)/);
  assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
  assert.match(text, /Issuer: CN ?= ?identity\.linkerd\.\n/);
  assert.match(text, /Subject: CN ?= ?identity\.linkerd\.\n/);
  assert.match(text, /Not Before: Jun  1 11:59:50 2025 GMT/);
  assert.match(text, /Not After : Jun  1 12:00:10 2026 GMT/);
  assert.match(text, /NIST CURVE: P-256/);
  assert.match(text, /X509v3 Key Usage: critical\n\s+Certificate Sign, CRL Sign\n/);
  assert.match(text, /X509v3 Extended Key Usage: ?\n\s+TLS Web Server Authentication, TLS Web Client Authentication\n/);
  assert.match(text, /X509v3 Basic Constraints: critical\n\s+CA:TRUE\n/);
  assert.match(text, /X509v3 Subject Key Identifier/);
  assert.doesNotMatch(text, /Authority Key Identifier|Subject Alternative Name/);
  assert.match(openssl(["ec", "-check", "-noout"], creds.issuerKeyPem) + "ok", /ok/);
  const modulusOfKey = openssl(["ec", "-pubout"], creds.issuerKeyPem);
  assert.equal(modulusOfKey, openssl(["x509", "-noout", "-pubkey"], creds.issuerCrtPem));
});

const HOST = webhookHost("proxy-injector", "linkerd");

test("webhook host names are linkerd-<name>.<namespace>.svc", () => {
  assert.equal(HOST, "linkerd-proxy-injector.linkerd.svc");
  assert.equal(webhookHost("sp-validator", "mesh"), "linkerd-sp-validator.mesh.svc");
  assert.equal(webhookHost("policy-validator", "linkerd"), "linkerd-policy-validator.linkerd.svc");
});

/** The fields every webhook certificate shares, whatever its key: Sprig's genSelfSignedCert shape. */
async function assertWebhookShape(cert: X509Certificate, usages: number) {
  assert.equal(cert.subject, `CN=${HOST}`);
  assert.equal(cert.issuer, `CN=${HOST}`);
  assert.deepEqual(cert.notBefore, seconds(NOW.getTime()));
  assert.deepEqual(cert.notAfter, seconds(NOW.getTime() + 365 * DAY));
  assert.ok(await cert.verify({ signatureOnly: true }), "self-signature must verify");
  // Random positive serial below 2^128.
  const serial = BigInt("0x" + cert.serialNumber);
  assert.ok(serial > 0n && serial < 1n << 128n);
  assert.deepEqual(
    Array.from(cert.extensions, (e) => e.type),
    [Oid.keyUsage, Oid.extKeyUsage, Oid.basicConstraints, Oid.subjectAltName],
  );
  const ku = cert.getExtension(KeyUsagesExtension)!;
  assert.equal(ku.critical, true);
  assert.equal(ku.usages, usages);
  const eku = cert.getExtension(ExtendedKeyUsageExtension)!;
  assert.equal(eku.critical, false);
  assert.deepEqual([...eku.usages], [ExtendedKeyUsage.serverAuth, ExtendedKeyUsage.clientAuth]);
  const bc = cert.getExtension(BasicConstraintsExtension)!;
  assert.equal(bc.critical, true);
  assert.equal(bc.ca, false);
  assert.equal(bc.pathLength, undefined);
  const san = cert.getExtension(SubjectAlternativeNameExtension)!;
  assert.equal(san.critical, false);
  assert.deepEqual(san.names.toJSON(), [{ type: "dns", value: HOST }]);
  assert.equal(cert.getExtension(SubjectKeyIdentifierExtension), null);
  assert.equal(cert.getExtension(AuthorityKeyIdentifierExtension), null);

  // It verifies for its host with itself as the caBundle, as the API server and `linkerd check` require.
  const parsed = parseCertificate(new Uint8Array(cert.rawData));
  assert.ok((await verifyCertificate(parsed, { roots: [parsed], dnsName: HOST, now: NOW })).ok);
  const other = await verifyCertificate(parsed, { roots: [parsed], dnsName: "linkerd-proxy-injector.other.svc", now: NOW });
  assert.equal(other.ok, false);
}

test("webhook certificate: self-signed ECDSA P-256 leaf, keyUsage digitalSignature, otherwise as Sprig's genSelfSignedCert", async () => {
  const { crtPem, keyPem } = await generateWebhookCertificate({ host: HOST, now: NOW });
  assertGoPemLayout(crtPem, "CERTIFICATE");
  assertGoPemLayout(keyPem, "PRIVATE KEY");

  const cert = new X509Certificate(crtPem);
  assert.equal((cert.signatureAlgorithm as unknown as { name: string }).name, "ECDSA");
  assert.equal((cert.signatureAlgorithm as unknown as { hash: { name: string } }).hash.name, "SHA-256");
  assert.deepEqual(cert.publicKey.algorithm, { name: "ECDSA", namedCurve: "P-256" });
  // RFC 5480 §3: no keyEncipherment (nor dataEncipherment) for an id-ecPublicKey key.
  await assertWebhookShape(cert, KeyUsageFlags.digitalSignature);
  const parsed = parseCertificate(new Uint8Array(cert.rawData));
  assert.equal(parsed.signatureAlgorithm.name, "ECDSA-SHA256");
  assert.equal(parsed.publicKey.curve, "P-256");
});

test("webhook certificate: the key is PKCS#8 exactly as Go's MarshalPKCS8PrivateKey writes it, and belongs to the certificate", async () => {
  const { crtPem, keyPem } = await generateWebhookCertificate({ host: HOST, now: NOW });
  const block = onlyBlock(keyPem);
  assert.equal(block.type, "PRIVATE KEY");
  // PrivateKeyInfo: version 0, id-ecPublicKey with the P-256 OID, no attributes.
  const [version, algId, inner, ...attrs] = sequence(decode(block.bytes), "PKCS#8");
  assert.equal(attrs.length, 0);
  assert.equal(readInteger(version), 0n);
  assert.deepEqual(sequence(algId, "PKCS#8 algorithm").map((n) => readOid(n)), [Oid.ecPublicKey, Oid.p256]);
  // ECPrivateKey inside: version 1, 32-byte scalar, no [0] parameters, [1] the public point.
  const [v1, d, pub, ...more] = sequence(decode(readOctets(inner)), "EC private key");
  assert.equal(more.length, 0);
  assert.equal(readInteger(v1), 1n);
  assert.equal(readOctets(d).length, 32);
  assert.equal(pub!.tag, context(1), "public key present (ring, hence the policy controller, requires it)");
  const point = readBitString(children(pub!)[0]).bytes;
  assert.deepEqual(point, spkiPoint(crtPem));

  // Linkerd's DecodePEMKey port reads it, and it matches the certificate.
  const key = decodePrivateKey(keyPem);
  assert.equal(key.kind, "ECDSA");
  assert.equal(key.format, "PRIVATE KEY");
  assert.ok(key.kind === "ECDSA" && key.curve === "P-256");
  assert.ok(await keyMatchesPublicKey(key, parseCertificate(onlyBlock(crtPem).bytes).publicKey));

  // Node reads it, and a signature made with it verifies with the certificate's key.
  const nodeKey = createPrivateKey(keyPem);
  assert.equal(nodeKey.asymmetricKeyType, "ec");
  assert.equal(nodeKey.asymmetricKeyDetails?.namedCurve, "prime256v1");
  const data = Buffer.from("mesh");
  assert.ok(verify("sha256", data, createPublicKey(crtPem), sign("sha256", data, nodeKey)));
  // And mesh's own validation of webhook pairs accepts it for every webhook server.
  for (const server of ["linkerd-go", "policy-controller"] as const)
    assert.deepEqual(await checkWebhookCredentials({ valuesKey: "proxyInjector", crtPem, keyPem, host: HOST, server, now: NOW }), []);
});

test("webhook certificate: openssl agrees (certificate, key, key matches, verifies for its host as an SSL server)", { skip: !hasOpenssl && "openssl is not installed" }, async () => {
  const { crtPem, keyPem } = await generateWebhookCertificate({ host: HOST, now: NOW });
  const text = openssl(["x509", "-noout", "-text"], crtPem);
  assert.match(text, /Version: 3 \(0x2\)/);
  assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
  assert.match(text, /Public Key Algorithm: id-ecPublicKey/);
  assert.match(text, /NIST CURVE: P-256/);
  assert.match(text, new RegExp(`Issuer: CN ?= ?${HOST.replace(/\./g, "\\.")}\\n`));
  assert.match(text, new RegExp(`Subject: CN ?= ?${HOST.replace(/\./g, "\\.")}\\n`));
  assert.match(text, /Not Before: Jun  1 12:00:00 2025 GMT/);
  assert.match(text, /Not After : Jun  1 12:00:00 2026 GMT/);
  assert.match(text, /X509v3 Key Usage: critical\n\s+Digital Signature\n/);
  assert.match(text, /X509v3 Extended Key Usage: ?\n\s+TLS Web Server Authentication, TLS Web Client Authentication\n/);
  assert.match(text, /X509v3 Basic Constraints: critical\n\s+CA:FALSE\n/);
  assert.match(text, new RegExp(`X509v3 Subject Alternative Name: ?\\n\\s+DNS:${HOST.replace(/\./g, "\\.")}\\n`));
  assert.doesNotMatch(text, /Key Identifier|IP Address|Key Encipherment/);
  // The key: a valid P-256 key, PKCS#8, whose public half is the certificate's.
  assert.match(openssl(["pkey", "-check", "-noout"], keyPem), /Key is valid/);
  assert.match(openssl(["asn1parse"], keyPem), /id-ecPublicKey[\s\S]*prime256v1/);
  assert.equal(openssl(["pkey", "-pubout"], keyPem), openssl(["x509", "-noout", "-pubkey"], crtPem));
  // As the API server will: the certificate itself as the CA bundle, for the service name, for TLS servers.
  const dir = mkdtempSync(join(tmpdir(), "mesh-webhook-"));
  try {
    const crt = join(dir, "tls.crt");
    writeFileSync(crt, crtPem);
    const at = String(Math.floor(NOW.getTime() / 1000) + 60);
    const ok = openssl(["verify", "-CAfile", crt, "-purpose", "sslserver", "-verify_hostname", HOST, "-attime", at, crt], "");
    assert.match(ok, /: OK\n/);
    assert.throws(() => openssl(["verify", "-CAfile", crt, "-purpose", "sslserver", "-verify_hostname", "linkerd-proxy-injector.other.svc", "-attime", at, crt], ""), /hostname mismatch/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("webhook certificate with algorithm RSA-2048: Sprig's exact shape (PKCS#1 key, keyEncipherment)", async () => {
  const { crtPem, keyPem } = await generateWebhookCertificate({ host: HOST, now: NOW, algorithm: "RSA-2048" });
  assertGoPemLayout(crtPem, "CERTIFICATE");
  assertGoPemLayout(keyPem, "RSA PRIVATE KEY");

  const cert = new X509Certificate(crtPem);
  assert.equal((cert.signatureAlgorithm as unknown as { name: string }).name, "RSASSA-PKCS1-v1_5");
  assert.equal((cert.signatureAlgorithm as unknown as { hash: { name: string } }).hash.name, "SHA-256");
  const alg = cert.publicKey.algorithm as { name: string; modulusLength: number; publicExponent: Uint8Array };
  assert.equal(alg.name, "RSASSA-PKCS1-v1_5");
  assert.equal(alg.modulusLength, 2048);
  assert.deepEqual([...alg.publicExponent], [1, 0, 1]);
  await assertWebhookShape(cert, KeyUsageFlags.keyEncipherment | KeyUsageFlags.digitalSignature);

  // PKCS#1 key: version 0 and the eight integers, matching the certificate.
  const [version, n, e, ...others] = sequence(decode(onlyBlock(keyPem).bytes), "RSA private key");
  assert.equal(readInteger(version), 0n);
  assert.equal(others.length, 6);
  const jwk = createPublicKey(crtPem).export({ format: "jwk" });
  assert.equal(readInteger(n), BigInt("0x" + Buffer.from(jwk.n!, "base64url").toString("hex")));
  assert.equal(readInteger(e), 65537n);
  const key = createPrivateKey(keyPem);
  assert.equal(key.asymmetricKeyDetails?.modulusLength, 2048);
  const data = Buffer.from("mesh");
  assert.ok(verify("sha256", data, createPublicKey(crtPem), sign("sha256", data, key)));

  if (hasOpenssl) {
    const text = openssl(["x509", "-noout", "-text"], crtPem);
    assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
    assert.match(text, /Public-Key: \(2048 bit\)/);
    assert.match(text, /X509v3 Key Usage: critical\n\s+Digital Signature, Key Encipherment\n/);
    openssl(["rsa", "-check", "-noout"], keyPem);
    assert.equal(openssl(["rsa", "-pubout"], keyPem), openssl(["x509", "-noout", "-pubkey"], crtPem));
  }
});

test("three webhook certificates are generated concurrently, each with its own key and serial", async (t) => {
  const hosts = (["proxy-injector", "sp-validator", "policy-validator"] as const).map((n) => webhookHost(n, "linkerd"));
  const start = performance.now();
  const certs = await generateWebhookCertificates(hosts, NOW);
  assert.ok(certs.every((c) => c.keyPem.startsWith("-----BEGIN PRIVATE KEY-----\n")));
  t.diagnostic(`3 webhook certificates in ${(performance.now() - start).toFixed(0)} ms`);
  assert.deepEqual(
    certs.map((c) => new X509Certificate(c.crtPem).subject),
    hosts.map((h) => `CN=${h}`),
  );
  assert.equal(new Set(certs.map((c) => c.keyPem)).size, 3);
  assert.equal(new Set(certs.map((c) => new X509Certificate(c.crtPem).serialNumber)).size, 3);
});
