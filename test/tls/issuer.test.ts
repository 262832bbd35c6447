import { test } from "node:test";
import assert from "node:assert/strict";
import { MeshError } from "../../src/errors.js";
import { loadIssuerCredentials } from "../../src/tls/index.js";
import { encodePem } from "../../src/tls/pem.js";
import { FIXTURE_NOW, certFixture } from "../fixtures/certs/fixtures.js";
import { ecKeys, makeCert } from "./helpers.js";

/** Loads fixture files by name, with the names as the `files` labels. */
function load(crt: string, key: string, anchors: string, now = FIXTURE_NOW) {
  return loadIssuerCredentials({
    issuerCrtPem: certFixture(crt),
    issuerKeyPem: certFixture(key),
    trustAnchorsPem: certFixture(anchors),
    now,
    files: { issuerCrt: crt, issuerKey: key, trustAnchors: anchors },
  });
}

async function rejects(p: Promise<unknown>, message: string, hint?: RegExp) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof MeshError, `expected a MeshError, got ${String(e)}`);
    assert.equal(e.message, message);
    if (hint) assert.match(e.hint ?? "", hint);
    assert.equal(e.exitCode, 1);
    return true;
  });
}

const STEP_HINT = /step certificate create/;

test("a valid anchor and issuer load; outputs are normalised", async () => {
  const r = await load("issuer.crt", "issuer.key", "ca.crt");
  assert.equal(r.trustAnchorsPem, certFixture("ca.crt"));
  assert.equal(r.issuerCrtPem, certFixture("issuer.crt"));
  assert.equal(r.issuerKeyPem, certFixture("issuer.key"));
  assert.equal(r.issuer.commonName, "identity.linkerd.cluster.local");
  assert.equal(r.anchors.length, 1);
});

test("a PKCS#8 issuer key is accepted and re-encoded as EC PRIVATE KEY", async () => {
  const r = await load("issuer.crt", "issuer.pkcs8.key", "ca.crt");
  assert.equal(r.issuerKeyPem, certFixture("issuer.key"));
});

test("only the leaf of the issuer file is kept, and anchors are stored verbatim", async () => {
  const anchors = "# my anchors\n" + certFixture("ca.crt") + certFixture("other-ca.crt");
  const r = await loadIssuerCredentials({
    issuerCrtPem: certFixture("issuer.crt") + certFixture("ca.crt"),
    issuerKeyPem: certFixture("issuer.key"),
    trustAnchorsPem: anchors,
    now: FIXTURE_NOW,
  });
  assert.equal(r.issuerCrtPem, certFixture("issuer.crt"));
  assert.equal(r.trustAnchorsPem, anchors);
  assert.equal(r.anchors.length, 2);
});

test("an issuer signed with SHA256-RSA by an RSA anchor is accepted (Linkerd tolerates it)", async () => {
  const r = await load("issuer-under-rsa-ca.crt", "issuer-under-rsa-ca.key", "ca-rsa.crt");
  assert.equal(r.issuerCrtPem, certFixture("issuer-under-rsa-ca.crt"));
  assert.equal(r.trustAnchorsPem, certFixture("ca-rsa.crt"));
  assert.equal(r.issuer.commonName, "identity.linkerd.cluster.local");
  assert.equal(r.anchors.length, 1);
});

test("an issuer expiring soon still loads (only `check` warns)", async () => {
  const r = await load("issuer-expiring-soon.crt", "issuer-expiring-soon.key", "ca.crt");
  assert.equal(r.issuerCrtPem, certFixture("issuer-expiring-soon.crt"));
  assert.equal(r.issuer.commonName, "identity.linkerd.cluster.local");
  assert.equal(r.anchors.length, 1);
});

test("the issuer may be one of several anchors, as in generated credentials", async () => {
  const r = await load("ca.crt", "ca.key", "ca.crt");
  assert.equal(r.issuerCrtPem, certFixture("ca.crt"));
  assert.equal(r.trustAnchorsPem, certFixture("ca.crt"));
  assert.equal(r.anchors.length, 1);
});

test("an SEC 1 key with a leading EC PARAMETERS block is refused, like Linkerd does", async () => {
  const ecParams = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n";
  await rejects(
    loadIssuerCredentials({
      issuerCrtPem: certFixture("issuer.crt"),
      issuerKeyPem: ecParams + certFixture("issuer.key"),
      trustAnchorsPem: certFixture("ca.crt"),
      now: FIXTURE_NOW,
      files: { issuerKey: "issuer.key" },
    }),
    'issuer key file "issuer.key" starts with a "EC PARAMETERS" PEM block; expected EC PRIVATE KEY, RSA PRIVATE KEY or PRIVATE KEY',
    /EC PARAMETERS/,
  );
});

test("without file names, messages name the inputs", async () => {
  await rejects(
    loadIssuerCredentials({
      issuerCrtPem: certFixture("issuer-expired.crt"),
      issuerKeyPem: certFixture("issuer-expired.key"),
      trustAnchorsPem: certFixture("ca.crt"),
      now: FIXTURE_NOW,
    }),
    "issuer certificate expired on 2021-01-01T00:00:00Z",
  );
});

// One row per failure: [name, crt, key, anchors, message, hint].
const failures: Array<[string, string, string, string, string, RegExp?]> = [
  [
    "issuer certificate is not PEM",
    "garbage.pem", "issuer.key", "ca.crt",
    'issuer certificate file "garbage.pem" holds no PEM data',
    /BEGIN CERTIFICATE/,
  ],
  [
    "issuer certificate block is not DER",
    "broken-der.pem", "issuer.key", "ca.crt",
    'issuer certificate file "broken-der.pem": certificate 1 is not a valid X.509 certificate (truncated element)',
  ],
  [
    "issuer certificate file holds a key",
    "issuer.key", "issuer.key", "ca.crt",
    'issuer certificate file "issuer.key" holds no certificate: its first PEM block is "EC PRIVATE KEY"',
    /swapped/,
  ],
  [
    "issuer key is not PEM",
    "issuer.crt", "garbage.pem", "ca.crt",
    'issuer key file "garbage.pem" holds no PEM data',
  ],
  [
    "issuer key file holds a certificate",
    "issuer.crt", "issuer.crt", "ca.crt",
    'issuer key file "issuer.crt" starts with a "CERTIFICATE" PEM block; expected EC PRIVATE KEY, RSA PRIVATE KEY or PRIVATE KEY',
    /swapped/,
  ],
  [
    "trust anchors are not PEM",
    "issuer.crt", "issuer.key", "garbage.pem",
    'trust anchors file "garbage.pem" holds no PEM data',
  ],
  [
    "trust anchors block is not DER",
    "issuer.crt", "issuer.key", "broken-der.pem",
    'trust anchors file "broken-der.pem": certificate 1 is not a valid X.509 certificate (truncated element)',
  ],
  [
    "trust anchors contain no certificate",
    "issuer.crt", "issuer.key", "issuer.key",
    'trust anchors file "issuer.key" holds no certificate: its first PEM block is "EC PRIVATE KEY"',
  ],
  [
    "issuer key is RSA",
    "issuer-rsa.crt", "issuer-rsa.key", "ca.crt",
    'issuer key file "issuer-rsa.key" holds an RSA 2048-bit key; the issuer key must be ECDSA P-256',
    STEP_HINT,
  ],
  [
    "issuer key is P-384",
    "issuer-p384.crt", "issuer-p384.key", "ca.crt",
    'issuer key file "issuer-p384.key" holds an ECDSA P-384 key; the issuer key must be ECDSA P-256',
    STEP_HINT,
  ],
  [
    "issuer key does not match the certificate",
    "issuer.crt", "mismatched.key", "ca.crt",
    'issuer key file "mismatched.key" does not match issuer certificate file "issuer.crt": the certificate\'s public key (ECDSA P-256) belongs to another private key',
    /generated together/,
  ],
  [
    "issuer key belongs to a P-384 certificate",
    "issuer-p384.crt", "issuer.key", "ca.crt",
    'issuer key file "issuer.key" does not match issuer certificate file "issuer-p384.crt": the certificate\'s public key (ECDSA P-384) belongs to another private key',
  ],
  [
    "issuer expired",
    "issuer-expired.crt", "issuer-expired.key", "ca.crt",
    'issuer certificate file "issuer-expired.crt" expired on 2021-01-01T00:00:00Z',
    STEP_HINT,
  ],
  [
    "issuer not yet valid",
    "issuer-not-yet-valid.crt", "issuer-not-yet-valid.key", "ca.crt",
    'issuer certificate file "issuer-not-yet-valid.crt" is not valid yet: not valid before 2100-01-01T00:00:00Z (now is 2026-01-01T00:00:00Z)',
    /clock/,
  ],
  [
    "issuer is not a CA",
    "issuer-not-ca.crt", "issuer-not-ca.key", "ca.crt",
    'issuer certificate file "issuer-not-ca.crt" is not a CA certificate (basicConstraints CA:TRUE is missing); the issuer signs workload certificates',
    STEP_HINT,
  ],
  [
    "issuer signed by a different anchor with the same name (signature check)",
    "issuer-other-ca.crt", "issuer-other-ca.key", "ca.crt",
    'issuer certificate file "issuer-other-ca.crt" is not signed by the trust anchor in trust anchors file "ca.crt": its signature does not verify with the key of trust anchor "identity.linkerd.cluster.local" (serial 100) (x509: ECDSA verification failure)',
    STEP_HINT,
  ],
  [
    "no anchor has the issuer's issuer name",
    "issuer.crt", "issuer.key", "foreign-ca.crt",
    'issuer certificate file "issuer.crt" is not signed by the trust anchor in trust anchors file "foreign-ca.crt": its issuer is "identity.linkerd.cluster.local" and no anchor has that subject',
  ],
  [
    "anchor is not a CA",
    "issuer-under-non-ca.crt", "issuer-under-non-ca.key", "ca-not-ca.crt",
    'trust anchor "not-a-ca.linkerd.cluster.local" (serial 400) in trust anchors file "ca-not-ca.crt" is not a CA (basicConstraints CA:TRUE is missing), so it cannot have issued issuer certificate file "issuer-under-non-ca.crt"',
    /CA certificate/,
  ],
  [
    "the anchor that signed the issuer has expired",
    "issuer-under-expired-ca.crt", "issuer-under-expired-ca.key", "ca-expired.crt",
    'trust anchor "identity.linkerd.cluster.local" (serial 501) in trust anchors file "ca-expired.crt" expired on 2021-01-01T00:00:00Z',
  ],
];

for (const [name, crt, key, anchors, message, hint] of failures) {
  test(`refused: ${name}`, () => rejects(load(crt, key, anchors), message, hint));
}

test("refused: several anchors, none of which signed the issuer", async () => {
  await rejects(
    loadIssuerCredentials({
      issuerCrtPem: certFixture("issuer.crt"),
      issuerKeyPem: certFixture("issuer.key"),
      trustAnchorsPem: certFixture("foreign-ca.crt") + certFixture("ca-rsa.crt"),
      now: FIXTURE_NOW,
      files: { trustAnchors: "bundle.crt" },
    }),
    'issuer certificate is not signed by any of the 2 trust anchors in trust anchors file "bundle.crt": its issuer is "identity.linkerd.cluster.local" and no anchor has that subject',
  );
});

test("refused: a blank line after the last anchor (Linkerd's PEM reader rejects it too)", async () => {
  await rejects(
    loadIssuerCredentials({
      issuerCrtPem: certFixture("issuer.crt"),
      issuerKeyPem: certFixture("issuer.key"),
      trustAnchorsPem: certFixture("ca.crt") + "\n",
      now: FIXTURE_NOW,
      files: { trustAnchors: "ca.crt" },
    }),
    'trust anchors file "ca.crt" has blank text after the last PEM block (line 12)',
    /END CERTIFICATE/,
  );
});

test("refused: text after the issuer certificate", async () => {
  await rejects(
    loadIssuerCredentials({
      issuerCrtPem: certFixture("issuer.crt") + "subject=CN = x\n",
      issuerKeyPem: certFixture("issuer.key"),
      trustAnchorsPem: certFixture("ca.crt"),
      now: FIXTURE_NOW,
      files: { issuerCrt: "issuer.crt" },
    }),
    'issuer certificate file "issuer.crt" has text that is not PEM at line 12',
  );
});

test("refused: empty trust anchors", async () => {
  await rejects(
    loadIssuerCredentials({
      issuerCrtPem: certFixture("issuer.crt"),
      issuerKeyPem: certFixture("issuer.key"),
      trustAnchorsPem: "",
      now: FIXTURE_NOW,
    }),
    "trust anchor bundle is empty",
  );
});

test("refused: an Ed25519 PKCS#8 key", async () => {
  const ed = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n-----END PRIVATE KEY-----\n";
  await rejects(
    loadIssuerCredentials({
      issuerCrtPem: certFixture("issuer.crt"),
      issuerKeyPem: ed,
      trustAnchorsPem: certFixture("ca.crt"),
      now: FIXTURE_NOW,
    }),
    "issuer key holds an unsupported key type; the issuer key must be ECDSA P-256",
  );
});

test("refused: issuer signed with ECDSA-SHA384", async () => {
  const anchor = await makeCert("root");
  const keys = await ecKeys();
  const issuer = await makeCert("issuer", { signer: anchor, keys, hash: "SHA-384", serial: 7n });
  await rejects(
    loadIssuerCredentials({
      issuerCrtPem: issuer.pem,
      issuerKeyPem: await issuer.keyPem(),
      trustAnchorsPem: anchor.pem,
      now: FIXTURE_NOW,
    }),
    "issuer certificate is signed with ECDSA-SHA384; Linkerd accepts only ECDSA-SHA256 (or SHA256-RSA from an RSA trust anchor)",
  );
});

test("refused: an anchor whose key usage forbids certificate signing", async () => {
  const anchor = await makeCert("root", { keyUsage: 1 /* digitalSignature */, serial: 9n });
  const issuer = await makeCert("issuer", { signer: anchor });
  await rejects(
    loadIssuerCredentials({
      issuerCrtPem: issuer.pem,
      issuerKeyPem: await issuer.keyPem(),
      trustAnchorsPem: anchor.pem,
      now: FIXTURE_NOW,
    }),
    'trust anchor "root" (serial 9) in trust anchor bundle may not sign certificates (its keyUsage lacks keyCertSign), so it cannot have issued issuer certificate',
  );
});

test("refused: an anchor restricted to clientAuth (Go requires serverAuth along the chain)", async () => {
  const anchor = await makeCert("root", { extKeyUsage: ["1.3.6.1.5.5.7.3.2"] });
  const issuer = await makeCert("issuer", { signer: anchor });
  await rejects(
    loadIssuerCredentials({
      issuerCrtPem: issuer.pem,
      issuerKeyPem: await issuer.keyPem(),
      trustAnchorsPem: anchor.pem,
      now: FIXTURE_NOW,
    }),
    "issuer certificate does not chain to trust anchor bundle for TLS server use: a certificate on the chain lists extended key usages without serverAuth",
  );
});

test("an issuer key without the public key inside is completed from the scalar", async () => {
  // SEC 1 with only version and scalar: Go derives the public key; so do we.
  const { bytes } = (await import("../../src/tls/pem.js")).decodePem(certFixture("issuer.key")).block!;
  const der = await import("../../src/tls/der.js");
  const [version, scalar] = der.sequence(der.decode(bytes), "key");
  const params = der.explicit(0, der.oid("1.2.840.10045.3.1.7"));
  const bare = encodePem("EC PRIVATE KEY", der.seq(version!.bytes, scalar!.bytes, params));
  const r = await loadIssuerCredentials({
    issuerCrtPem: certFixture("issuer.crt"),
    issuerKeyPem: bare,
    trustAnchorsPem: certFixture("ca.crt"),
    now: FIXTURE_NOW,
  });
  assert.equal(r.issuerKeyPem, certFixture("issuer.key"));
});
