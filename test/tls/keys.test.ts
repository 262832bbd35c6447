import { test } from "node:test";
import assert from "node:assert/strict";
import { createPrivateKey, createPublicKey } from "node:crypto";
import { KeyError, decodePrivateKey, ecPrivateKeyPem, keyMatchesPublicKey, pkcs8ToPkcs1, sec1EmbeddedPoint } from "../../src/tls/keys.js";
import { decodeCertificates } from "../../src/tls/certificate.js";
import { bitString, explicit, integer, octets, oid, seq } from "../../src/tls/der.js";
import { Oid } from "../../src/tls/oids.js";
import { decodePem, encodePem } from "../../src/tls/pem.js";
import { certFixture } from "../fixtures/certs/fixtures.js";
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
  assert.ok(fromP8.kind === "RSA" && rsa.kind === "RSA" && fromP8.key.equals(rsa.key));
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
  assert.deepEqual(point, new Uint8Array(createPublicKey(certFixture("issuer.crt")).export({ format: "der", type: "spki" }).subarray(-65)));
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

// EC scalars are checked before OpenSSL sees them: OpenSSL takes any scalar (Node 20 even aborts
// the process reading back a key whose scalar is longer than the curve) and trusts the stored point.
const P256_ORDER = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
const sec1 = (scalar: Uint8Array, point?: Uint8Array) =>
  encodePem("EC PRIVATE KEY", seq(integer(1), octets(scalar), explicit(0, oid(Oid.p256)), ...(point ? [explicit(1, bitString(point))] : [])));
const issuerPublicKey = () => decodeCertificates(certFixture("issuer.crt")).certificates[0]!.publicKey;
const issuerPoint = () => new Uint8Array(createPublicKey(certFixture("issuer.crt")).export({ format: "der", type: "spki" }).subarray(-65));

test("EC scalars Go refuses are refused without handing them to OpenSSL: too long, zero, not below the order", () => {
  assert.throws(() => decodePrivateKey(sec1(new Uint8Array(33).fill(1))), keyError("malformed", "malformed EC PRIVATE KEY: invalid elliptic curve private key length"));
  assert.throws(() => decodePrivateKey(sec1(new Uint8Array(32))), keyError("malformed", "malformed EC PRIVATE KEY: invalid elliptic curve private key value"));
  for (const d of [Buffer.from(P256_ORDER, "hex"), new Uint8Array(32).fill(0xff)]) {
    const k = decodePrivateKey(sec1(d));
    assert.throws(() => keyMatchesPublicKey(k, issuerPublicKey()), keyError("malformed", "x509: invalid elliptic curve private key value"));
  }
});

test("the public key stored with an EC key is not trusted: the scalar decides, as in Go", () => {
  const d = new Uint8Array(Buffer.from(createPrivateKey(certFixture("issuer.key")).export({ format: "jwk" }).d!, "base64url"));
  const otherPoint = new Uint8Array(createPublicKey(certFixture("ca.crt")).export({ format: "der", type: "spki" }).subarray(-65));
  // The right scalar with another point stored: it is the issuer's key.
  assert.equal(keyMatchesPublicKey(decodePrivateKey(sec1(d, otherPoint)), issuerPublicKey()), true);
  // Another scalar with the issuer's point stored: it is not (OpenSSL's KeyObject would say it is).
  const other = new Uint8Array(Buffer.from(createPrivateKey(certFixture("ca.key")).export({ format: "jwk" }).d!, "base64url"));
  assert.ok(createPublicKey(createPrivateKey(sec1(other, issuerPoint()))).equals(createPublicKey(certFixture("issuer.crt"))), "OpenSSL trusts the stored point");
  assert.equal(keyMatchesPublicKey(decodePrivateKey(sec1(other, issuerPoint())), issuerPublicKey()), false);
  // Re-encoded for install, the stored point is the derived one.
  const k = decodePrivateKey(sec1(d, otherPoint));
  assert.ok(k.kind === "ECDSA");
  assert.equal(ecPrivateKeyPem(k), certFixture("issuer.key"));
});
