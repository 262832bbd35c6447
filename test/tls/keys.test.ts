import { test } from "node:test";
import assert from "node:assert/strict";
import { createPrivateKey } from "node:crypto";
import { KeyError, decodePrivateKey, ecPrivateKeyPem, pkcs8ToPkcs1, sec1EmbeddedPoint } from "../../src/tls/keys.js";
import { decodePem, encodePem } from "../../src/tls/pem.js";
import { certFixture } from "../fixtures/certs/fixtures.js";
import { decodeCertificates } from "../../src/tls/certificate.js";
import { hasOpenssl, openssl } from "./helpers.js";

const keyError = (reason: string, message: string) => (e: unknown) => {
  assert.ok(e instanceof KeyError);
  assert.equal(e.reason, reason);
  assert.equal(e.message, message);
  return true;
};

test("SEC 1, PKCS#8 and PKCS#1 keys are read", () => {
  const ec = decodePrivateKey(certFixture("issuer.key"));
  assert.equal(ec.kind, "ECDSA");
  assert.equal(ec.format, "EC PRIVATE KEY");
  const p8 = decodePrivateKey(certFixture("issuer.pkcs8.key"));
  assert.equal(p8.format, "PRIVATE KEY");
  assert.deepEqual(p8.kind === "ECDSA" && p8.d, ec.kind === "ECDSA" && ec.d);
  const rsa = decodePrivateKey(certFixture("issuer-rsa.key"));
  assert.equal(rsa.kind, "RSA");
  assert.equal(rsa.kind === "RSA" && rsa.bits, 2048);
  const rsa8 = createPrivateKey(certFixture("issuer-rsa.key")).export({ type: "pkcs8", format: "pem" }) as string;
  const fromP8 = decodePrivateKey(rsa8);
  assert.equal(fromP8.format, "PRIVATE KEY");
  assert.equal(fromP8.kind === "RSA" && fromP8.modulus, rsa.kind === "RSA" && rsa.modulus);
  const p384 = decodePrivateKey(certFixture("issuer-p384.key"));
  assert.ok(p384.kind === "ECDSA" && p384.curve === "P-384" && p384.d.length === 48);
});

test("an EC key is re-encoded exactly as the fixture (Go's SEC 1 layout) from either form", async () => {
  for (const name of ["issuer.key", "issuer.pkcs8.key"]) {
    const k = decodePrivateKey(certFixture(name));
    assert.ok(k.kind === "ECDSA");
    assert.equal(await ecPrivateKeyPem(k), certFixture("issuer.key"));
  }
});

test("the SEC 1 public key is the certificate's", () => {
  const point = sec1EmbeddedPoint(decodePem(certFixture("issuer.key")).block!.bytes);
  assert.deepEqual(point, decodeCertificates(certFixture("issuer.crt")).certificates[0]!.publicKey.point);
});

test("SEC 1 output is what openssl writes for the same key", { skip: !hasOpenssl && "openssl is not installed" }, () => {
  assert.equal(openssl(["ec"], certFixture("issuer.pkcs8.key")), certFixture("issuer.key"));
});

test("PKCS#1 from PKCS#8 is what openssl writes as a traditional RSA key", { skip: !hasOpenssl && "openssl is not installed" }, () => {
  const pkcs8 = createPrivateKey(certFixture("issuer-rsa.key")).export({ type: "pkcs8", format: "der" });
  const ours = encodePem("RSA PRIVATE KEY", pkcs8ToPkcs1(new Uint8Array(pkcs8)));
  assert.equal(ours, openssl(["rsa", "-traditional"], certFixture("issuer-rsa.key")));
  assert.equal(ours, certFixture("issuer-rsa.key"));
});

test("only the first PEM block counts", () => {
  assert.throws(() => decodePrivateKey(certFixture("issuer.crt") + certFixture("issuer.key")), keyError("unsupported-block", "unsupported block type: 'CERTIFICATE'"));
});

test("errors use Linkerd's wording", () => {
  assert.throws(() => decodePrivateKey("nothing"), keyError("not-pem", "not PEM-encoded"));
  const ed = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n-----END PRIVATE KEY-----\n";
  assert.throws(
    () => decodePrivateKey(ed),
    keyError("unsupported-pkcs8", "unsupported PKCS#8 encoded private key type: 'ed25519.PrivateKey', linkerd2 only supports ECDSA and RSA private keys"),
  );
  assert.throws(() => decodePrivateKey(encodePem("EC PRIVATE KEY", Uint8Array.of(0x30, 0x00))), (e: unknown) => e instanceof KeyError && e.reason === "malformed");
});

test("an SEC 1 key must name its curve", () => {
  // version 1, a 32-byte scalar, no parameters
  const der = Uint8Array.of(0x30, 0x25, 0x02, 0x01, 0x01, 0x04, 0x20, ...new Uint8Array(32).fill(7));
  assert.throws(() => decodePrivateKey(encodePem("EC PRIVATE KEY", der)), keyError("unsupported-curve", "x509: unknown elliptic curve"));
});
