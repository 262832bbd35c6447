import { test } from "node:test";
import assert from "node:assert/strict";
import { MeshError } from "../../src/errors.js";
import {
  checkIssuerAlgorithm,
  checkIssuerIssuedByAnchors,
  checkIssuerNotExpiringSoon,
  checkIssuerValidity,
  checkTrustAnchorsAlgorithm,
  checkTrustAnchorsNotExpiringSoon,
  checkTrustAnchorsValidity,
  checkWebhookCertificate,
  checkWebhookCertificateNotExpiringSoon,
  loadIdentityMaterial,
  parseCertificateBundle,
  type Certificate,
} from "../../src/tls/index.js";
import { FIXTURE_NOW, certFixture } from "../fixtures/certs/fixtures.js";
import { makeCert } from "./helpers.js";

const certs = (...names: string[]): Certificate[] => names.flatMap((n) => parseCertificateBundle(certFixture(n)));
const cert = (name: string): Certificate => certs(name)[0]!;

/** Asserts that `fn` throws (or rejects with) a MeshError with exactly `message`. */
async function fails(fn: () => unknown, message: string) {
  await assert.rejects(
    async () => fn(),
    (e: unknown) => {
      assert.ok(e instanceof MeshError, `expected a MeshError, got ${String(e)}`);
      assert.equal(e.message, message);
      return true;
    },
  );
}

const identity = (crt: string, key: string, anchors: string) =>
  loadIdentityMaterial({ issuerCrtPem: certFixture(crt), issuerKeyPem: certFixture(key), trustAnchorsPem: certFixture(anchors) });

// --- certificate config is valid ---

test("certificate config is valid: good material loads", async () => {
  const m = await identity("issuer.crt", "issuer.key", "ca.crt");
  assert.equal(m.issuer.certificate.commonName, "identity.linkerd.cluster.local");
  assert.deepEqual(m.issuer.chain, []);
  assert.equal(m.anchors.length, 1);
});

test("certificate config is valid: extra certificates in crt.pem become the chain", async () => {
  const m = await loadIdentityMaterial({
    issuerCrtPem: certFixture("issuer.crt") + certFixture("ca.crt"),
    issuerKeyPem: certFixture("issuer.key"),
    trustAnchorsPem: certFixture("ca.crt"),
  });
  assert.equal(m.issuer.chain.length, 1);
});

test("certificate config is valid: an empty anchor list is not an error here", async () => {
  const m = await loadIdentityMaterial({ issuerCrtPem: certFixture("issuer.crt"), issuerKeyPem: certFixture("issuer.key"), trustAnchorsPem: "" });
  assert.deepEqual(m.anchors, []);
});

const configFailures: Array<[string, () => Promise<unknown>, string]> = [
  ["unparsable issuer certificate", () => identity("garbage.pem", "issuer.key", "ca.crt"), "could not parse issuer certificate: not a PEM certificate"],
  ["issuer certificate file holds only a key", () => identity("issuer.key", "issuer.key", "ca.crt"), "could not parse issuer certificate: No certificates found"],
  ["unparsable key", () => identity("issuer.crt", "garbage.pem", "ca.crt"), "not PEM-encoded"],
  ["key of another type", () => identity("issuer.crt", "issuer.crt", "ca.crt"), "unsupported block type: 'CERTIFICATE'"],
  ["key does not match", () => identity("issuer.crt", "mismatched.key", "ca.crt"), "tls: Public and private key do not match"],
  ["unparsable anchors", () => identity("issuer.crt", "issuer.key", "garbage.pem"), "not a PEM certificate"],
  ["broken anchor DER", () => identity("issuer.crt", "issuer.key", "broken-der.pem"), "x509: malformed certificate: truncated element"],
];
for (const [name, fn, message] of configFailures) {
  test(`certificate config is valid fails: ${name}`, () => fails(fn, message));
}

// --- trust anchors ---

test("trust anchors are using supported crypto algorithm: ECDSA P-256 and RSA 2048 pass", () => {
  checkTrustAnchorsAlgorithm(certs("ca.crt", "ca-rsa.crt"));
});

test("trust anchors are using supported crypto algorithm: a P-384 anchor is listed", () =>
  fails(
    () => checkTrustAnchorsAlgorithm(certs("ca.crt", "issuer-p384.crt")),
    "Invalid trustAnchors:\n\t* 105 identity.linkerd.cluster.local must use P-256 curve for public key, instead P-384 was used",
  ));

test("trust anchors are using supported crypto algorithm: an ECDSA anchor signed with SHA-384", async () => {
  const a = await makeCert("root", { hash: "SHA-384", serial: 42n });
  await fails(
    () => checkTrustAnchorsAlgorithm([a.cert]),
    "Invalid trustAnchors:\n\t* 42 root must be signed by an ECDSA P-256 key, instead ECDSA-SHA384 was used",
  );
});

test("trust anchors are within their validity period", () => checkTrustAnchorsValidity(certs("ca.crt", "ca-expiring-soon.crt"), FIXTURE_NOW));

test("trust anchors are within their validity period fails for an expired anchor", () =>
  fails(
    () => checkTrustAnchorsValidity(certs("ca.crt", "ca-expired.crt"), FIXTURE_NOW),
    "Invalid anchors:\n\t* 501 identity.linkerd.cluster.local not valid anymore. Expired on 2021-01-01T00:00:00Z",
  ));

test("trust anchors are within their validity period fails for a future anchor", () =>
  fails(
    () => checkTrustAnchorsValidity(certs("ca.crt"), new Date("2024-06-01T00:00:00Z")),
    "Invalid anchors:\n\t* 100 identity.linkerd.cluster.local not valid before: 2025-01-01T00:00:00Z",
  ));

test("trust anchors are valid for at least 60 days", () => checkTrustAnchorsNotExpiringSoon(certs("ca.crt"), FIXTURE_NOW));

test("trust anchors are valid for at least 60 days warns, one line per anchor", () =>
  fails(
    () => checkTrustAnchorsNotExpiringSoon(certs("ca-expiring-soon.crt", "ca.crt", "ca-expired.crt"), FIXTURE_NOW),
    "Anchors expiring soon:\n\t* 500 identity.linkerd.cluster.local will expire on 2026-01-31T00:00:00Z" +
      "\n\t* 501 identity.linkerd.cluster.local will expire on 2021-01-01T00:00:00Z",
  ));

// --- issuer ---

test("issuer cert is using supported crypto algorithm", () => checkIssuerAlgorithm(cert("issuer.crt")));
test("issuer cert signed SHA256-RSA passes the algorithm check", () => checkIssuerAlgorithm(cert("issuer-under-rsa-ca.crt")));

test("issuer cert is using supported crypto algorithm fails for RSA", () =>
  fails(
    () => checkIssuerAlgorithm(cert("issuer-rsa.crt")),
    // sic: Linkerd says "issuer certificate" twice here
    "issuer certificate issuer certificate must use ECDSA for public key algorithm, instead RSA was used",
  ));

test("issuer cert is using supported crypto algorithm fails for P-384", () =>
  fails(() => checkIssuerAlgorithm(cert("issuer-p384.crt")), "issuer certificate must use P-256 curve for public key, instead P-384 was used"));

test("issuer cert is within its validity period", () => checkIssuerValidity(cert("issuer.crt"), FIXTURE_NOW));

test("issuer cert is within its validity period fails when expired", () =>
  fails(
    () => checkIssuerValidity(cert("issuer-expired.crt"), FIXTURE_NOW),
    "issuer certificate is not valid anymore. Expired on 2021-01-01T00:00:00Z",
  ));

test("issuer cert is within its validity period fails when not yet valid", () =>
  fails(() => checkIssuerValidity(cert("issuer-not-yet-valid.crt"), FIXTURE_NOW), "issuer certificate is not valid before: 2100-01-01T00:00:00Z"));

test("issuer cert is valid for at least 60 days", () => checkIssuerNotExpiringSoon(cert("issuer.crt"), FIXTURE_NOW));

test("issuer cert is valid for at least 60 days warns", () =>
  fails(
    () => checkIssuerNotExpiringSoon(cert("issuer-expiring-soon.crt"), FIXTURE_NOW),
    "issuer certificate will expire on 2026-01-31T00:00:00Z",
  ));

test("issuer cert is issued by the trust anchor", async () => {
  await checkIssuerIssuedByAnchors(await identity("issuer.crt", "issuer.key", "ca.crt"), FIXTURE_NOW);
  await checkIssuerIssuedByAnchors(await identity("issuer.crt", "issuer.key", "other-ca.crt"), FIXTURE_NOW).then(
    () => assert.fail("expected a failure"),
    () => undefined,
  );
});

test("issuer cert is issued by the trust anchor, through an intermediate in crt.pem", async () => {
  const root = await makeCert("root", { serial: 1n });
  const mid = await makeCert("intermediate", { signer: root, serial: 2n });
  const issuer = await makeCert("identity.linkerd.cluster.local", { signer: mid, serial: 3n });
  const m = await loadIdentityMaterial({ issuerCrtPem: issuer.pem + mid.pem, issuerKeyPem: await issuer.keyPem(), trustAnchorsPem: root.pem });
  await checkIssuerIssuedByAnchors(m, FIXTURE_NOW);
});

const chainFailures: Array<[string, string, string, string, string]> = [
  [
    "signature by another key with the same name",
    "issuer-other-ca.crt", "issuer-other-ca.key", "ca.crt",
    'x509: certificate signed by unknown authority (possibly because of "x509: ECDSA verification failure" while trying to verify candidate authority certificate "identity.linkerd.cluster.local")',
  ],
  ["no anchor with that name", "issuer.crt", "issuer.key", "foreign-ca.crt", "x509: certificate signed by unknown authority"],
  ["no anchors at all", "issuer.crt", "issuer.key", "issuer.key", "x509: certificate signed by unknown authority"],
  [
    "anchor not a CA",
    "issuer-under-non-ca.crt", "issuer-under-non-ca.key", "ca-not-ca.crt",
    'x509: certificate signed by unknown authority (possibly because of "x509: invalid signature: parent certificate cannot sign this kind of certificate" while trying to verify candidate authority certificate "not-a-ca.linkerd.cluster.local")',
  ],
  [
    "signing anchor expired",
    "issuer-under-expired-ca.crt", "issuer-under-expired-ca.key", "ca-expired.crt",
    "x509: certificate has expired or is not yet valid: current time 2026-01-01T00:00:00Z is after 2021-01-01T00:00:00Z" +
      " - Current Time : 2026-01-01 00:00:00 +0000 UTC - Invalid before 2025-01-01 00:00:00 +0000 UTC - Invalid After 2125-01-01 00:00:00 +0000 UTC",
  ],
];
for (const [name, crt, key, anchors, message] of chainFailures) {
  test(`issuer cert is issued by the trust anchor fails: ${name}`, async () => {
    const m = await identity(crt, key, anchors);
    await fails(() => checkIssuerIssuedByAnchors(m, FIXTURE_NOW), message);
  });
}

// --- webhooks ---

const webhook = (name: string, extra: Partial<{ caBundle: string; host: string; now: Date }> = {}) => ({
  crtPem: certFixture(`${name}.crt`),
  keyPem: certFixture(`${name}.key`),
  caBundlePem: extra.caBundle ?? certFixture(`${name}.crt`),
  host: extra.host ?? "linkerd-proxy-injector.linkerd.svc",
  now: extra.now ?? FIXTURE_NOW,
});

test("webhook has valid cert: each fixture verifies for its host against itself", async () => {
  await checkWebhookCertificate(webhook("webhook-proxy-injector"));
  await checkWebhookCertificate(webhook("webhook-sp-validator", { host: "linkerd-sp-validator.linkerd.svc" }));
  await checkWebhookCertificate(webhook("webhook-policy-validator", { host: "LINKERD-policy-validator.linkerd.svc." }));
});

const webhookFailures: Array<[string, ReturnType<typeof webhook>, string]> = [
  [
    "wrong host",
    webhook("webhook-sp-validator"),
    "cert is not issued by the trust anchor: x509: certificate is valid for linkerd-sp-validator.linkerd.svc, not linkerd-proxy-injector.linkerd.svc",
  ],
  [
    "caBundle holds another certificate",
    webhook("webhook-proxy-injector", { caBundle: certFixture("webhook-sp-validator.crt") }),
    "cert is not issued by the trust anchor: x509: certificate signed by unknown authority",
  ],
  [
    "caBundle certificate expired",
    webhook("webhook-proxy-injector", { caBundle: certFixture("webhook-proxy-injector.crt") + certFixture("ca-expired.crt") }),
    "anchors not within their validity period:\n\t* 501 identity.linkerd.cluster.local not valid anymore. Expired on 2021-01-01T00:00:00Z",
  ],
  [
    "serving certificate expired (and so is the caBundle, which is reported first)",
    webhook("webhook-expiring-soon", { now: new Date("2026-03-01T00:00:00Z") }),
    // Go prints serials in decimal.
    `anchors not within their validity period:\n\t* ${0x7c1a0000000000000000000000000004n} linkerd-proxy-injector.linkerd.svc not valid anymore. Expired on 2026-01-31T00:00:00Z`,
  ],
  [
    "serving certificate expired, caBundle fine",
    webhook("webhook-expiring-soon", { caBundle: certFixture("webhook-proxy-injector.crt"), now: new Date("2026-03-01T00:00:00Z") }),
    "certificate is not valid anymore. Expired on 2026-01-31T00:00:00Z",
  ],
  ["unparsable caBundle", webhook("webhook-proxy-injector", { caBundle: "junk" }), "not a PEM certificate"],
  [
    "key of another certificate",
    { ...webhook("webhook-proxy-injector"), keyPem: certFixture("webhook-sp-validator.key") },
    "tls: Public and private key do not match",
  ],
];
for (const [name, input, message] of webhookFailures) {
  test(`webhook has valid cert fails: ${name}`, () => fails(() => checkWebhookCertificate(input), message));
}

test("webhook cert is valid for at least 60 days", async () => {
  await checkWebhookCertificateNotExpiringSoon(webhook("webhook-proxy-injector"));
  await fails(
    () => checkWebhookCertificateNotExpiringSoon(webhook("webhook-expiring-soon")),
    "certificate will expire on 2026-01-31T00:00:00Z",
  );
});

test("webhook cert is valid for at least 60 days looks at the extra certificates of tls.crt first", () =>
  fails(
    () =>
      checkWebhookCertificateNotExpiringSoon({
        crtPem: certFixture("webhook-proxy-injector.crt") + certFixture("ca-expiring-soon.crt"),
        keyPem: certFixture("webhook-proxy-injector.key"),
        now: FIXTURE_NOW,
      }),
    "Anchors expiring soon:\n\t* 500 identity.linkerd.cluster.local will expire on 2026-01-31T00:00:00Z",
  ));
