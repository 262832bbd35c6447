import { test } from "node:test";
import assert from "node:assert/strict";
import { webcrypto } from "node:crypto";
import { MeshError } from "../../src/errors.js";
import { buildCertificate } from "../../src/tls/build.js";
import { checkWebhookCredentials, webhookHost, type WebhookServer } from "../../src/tls/index.js";
import { decodePrivateKey, ecPrivateKeyPem, pkcs8ToPkcs1, privateKeyToPkcs8 } from "../../src/tls/keys.js";
import { KeyUsage, Oid } from "../../src/tls/oids.js";
import { encodePem } from "../../src/tls/pem.js";
import { certFixture, FIXTURE_NOW, LONG_NOT_AFTER, LONG_NOT_BEFORE } from "../fixtures/certs/fixtures.js";

const INJECTOR = webhookHost("proxy-injector", "linkerd");
const SERVERS: WebhookServer[] = ["linkerd-go", "policy-controller"];

const check = (crtPem: string, keyPem: string, opts: { server?: WebhookServer; host?: string; now?: Date } = {}) =>
  checkWebhookCredentials({
    valuesKey: "proxyInjector",
    crtPem,
    keyPem,
    host: opts.host ?? INJECTOR,
    server: opts.server ?? "linkerd-go",
    now: opts.now ?? FIXTURE_NOW,
  });

const refused = (message: RegExp, hint?: RegExp) => (e: unknown) => {
  assert.ok(e instanceof MeshError, String(e));
  assert.match(e.message, message);
  if (hint) assert.match(e.hint ?? "", hint);
  return true;
};

const rsaCrt = certFixture("webhook-proxy-injector.crt");
const rsaKey = certFixture("webhook-proxy-injector.key");
const ecCrt = certFixture("webhook-ecdsa-proxy-injector.crt");
const ecKey = certFixture("webhook-ecdsa-proxy-injector.key");
const pkcs8Of = (keyPem: string) => encodePem("PRIVATE KEY", privateKeyToPkcs8(decodePrivateKey(keyPem)));

/** A self-signed webhook certificate for `host` with a key made by `params`; returns PEMs (PKCS#8 key). */
async function selfSigned(params: webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams, host = INJECTOR) {
  const keys = (await webcrypto.subtle.generateKey(params, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const der = await buildCertificate({
    serialNumber: 7n,
    subjectCommonName: host,
    notBefore: LONG_NOT_BEFORE,
    notAfter: LONG_NOT_AFTER,
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    basicConstraints: true,
    isCA: false,
    keyUsage: KeyUsage.digitalSignature,
    extKeyUsage: [Oid.serverAuth, Oid.clientAuth],
    dnsNames: [host],
  });
  return { crtPem: encodePem("CERTIFICATE", der), keyPem: encodePem("PRIVATE KEY", new Uint8Array(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey))) };
}

test("accepted: the RSA pairs users supply (PKCS#1 or PKCS#8) and ECDSA pairs as mesh generates them, by every webhook server", async () => {
  for (const server of SERVERS) {
    assert.deepEqual(await check(rsaCrt, rsaKey, { server }), [], server);
    assert.deepEqual(await check(rsaCrt, pkcs8Of(rsaKey), { server }), [], server);
    assert.deepEqual(await check(ecCrt, ecKey, { server }), [], server);
    assert.deepEqual(await check(`${rsaCrt}\n\n`, `\n${rsaKey}`, { server }), [], "surrounding whitespace is trimmed, as the chart does");
  }
  for (const name of ["sp-validator", "policy-validator"] as const) {
    const host = webhookHost(name, "linkerd");
    assert.deepEqual(await check(certFixture(`webhook-${name}.crt`), certFixture(`webhook-${name}.key`), { host }), []);
    assert.deepEqual(await check(certFixture(`webhook-ecdsa-${name}.crt`), certFixture(`webhook-ecdsa-${name}.key`), { host }), []);
  }
});

test("SEC 1 `EC PRIVATE KEY`: Linkerd's Go webhooks read it, the policy controller cannot", async () => {
  const sec1 = await ecPrivateKeyPem(decodePrivateKey(ecKey) as Extract<ReturnType<typeof decodePrivateKey>, { kind: "ECDSA" }>);
  assert.match(sec1, /^-----BEGIN EC PRIVATE KEY-----/);
  assert.deepEqual(await check(ecCrt, sec1), []);
  await assert.rejects(
    check(ecCrt, sec1, { server: "policy-controller" }),
    refused(/^proxyInjector\.keyPEM is an EC PRIVATE KEY \(SEC 1\) block, which the policy controller cannot read/, /openssl pkcs8 -topk8 -nocrypt/),
  );
});

test("policy controller: an EC PKCS#8 key must carry its public key (ring requires it), and only one key is loaded", async () => {
  const bare = pkcs8Of(ecKey); // mesh's minimal PKCS#8: no public point
  assert.deepEqual(await check(ecCrt, bare), [], "Go derives the public key");
  await assert.rejects(check(ecCrt, bare, { server: "policy-controller" }), refused(/does not carry its public key/, /openssl pkcs8/));
  await assert.rejects(check(ecCrt, `${ecKey}${ecKey}`, { server: "policy-controller" }), refused(/holds 2 PRIVATE KEY blocks; the policy controller loads exactly one key/));
  // Go reads the first block only, so two keys are fine there.
  assert.deepEqual(await check(ecCrt, `${ecKey}${ecKey}`), []);
  // The policy controller prefers PKCS#8 blocks over a PKCS#1 block before them; Go takes the first block.
  await assert.rejects(check(rsaCrt, `${rsaKey}${ecKey}`, { server: "policy-controller" }), refused(/does not belong to the certificate/));
  assert.deepEqual(await check(rsaCrt, `${rsaKey}${ecKey}`), []);
});

test("policy controller: ring's key sizes (RSA 2048+, ECDSA P-256/P-384)", async () => {
  const rsa1024 = await selfSigned({ name: "RSASSA-PKCS1-v1_5", modulusLength: 1024, publicExponent: Uint8Array.of(1, 0, 1), hash: "SHA-256" });
  assert.deepEqual(await check(rsa1024.crtPem, rsa1024.keyPem), [], "Go serves with it");
  await assert.rejects(check(rsa1024.crtPem, rsa1024.keyPem, { server: "policy-controller" }), refused(/is a 1024-bit RSA key; the policy controller signs with RSA keys of 2048 to 8192 bits/));
  const p384 = await selfSigned({ name: "ECDSA", namedCurve: "P-384" });
  assert.deepEqual(await check(p384.crtPem, p384.keyPem, { server: "policy-controller" }), []);
  const p521 = await selfSigned({ name: "ECDSA", namedCurve: "P-521" });
  assert.deepEqual(await check(p521.crtPem, p521.keyPem), []);
  await assert.rejects(check(p521.crtPem, p521.keyPem, { server: "policy-controller" }), refused(/is an ECDSA P-521 key; the policy controller signs with P-256 and P-384 keys only/));
});

test("refused: a key that does not belong to the certificate", async () => {
  await assert.rejects(
    check(rsaCrt, certFixture("webhook-sp-validator.key")),
    refused(/^proxyInjector\.keyPEM does not belong to the certificate in proxyInjector\.crtPEM: the certificate has an RSA 2048-bit key, the key is another RSA 2048-bit key$/),
  );
  await assert.rejects(check(ecCrt, rsaKey), refused(/the certificate has an ECDSA P-256 key, the key is an RSA 2048-bit key$/));
  await assert.rejects(check(ecCrt, certFixture("mismatched.key")), refused(/the key is another ECDSA P-256 key$/));
});

test("refused: a certificate the API server would not accept for the webhook's host, now", async () => {
  await assert.rejects(
    check(certFixture("webhook-sp-validator.crt"), certFixture("webhook-sp-validator.key")),
    refused(
      /^proxyInjector\.crtPEM: the certificate is not valid for linkerd-proxy-injector\.linkerd\.svc \(x509: certificate is valid for linkerd-sp-validator\.linkerd\.svc, not linkerd-proxy-injector\.linkerd\.svc\)$/,
      /add linkerd-proxy-injector\.linkerd\.svc to its DNS names/,
    ),
  );
  await assert.rejects(check(ecCrt, ecKey, { host: webhookHost("proxy-injector", "mesh") }), refused(/not valid for linkerd-proxy-injector\.mesh\.svc/));
  await assert.rejects(check(ecCrt, ecKey, { now: new Date("2200-01-01T00:00:00Z") }), refused(/^proxyInjector\.crtPEM: the certificate expired on 2125-01-01T00:00:00Z$/));
  await assert.rejects(check(ecCrt, ecKey, { now: new Date("2024-01-01T00:00:00Z") }), refused(/^proxyInjector\.crtPEM: the certificate is not valid before 2025-01-01T00:00:00Z$/));
});

test("warned: a certificate that expires within 60 days", async () => {
  assert.deepEqual(await check(certFixture("webhook-expiring-soon.crt"), certFixture("webhook-expiring-soon.key")), [
    "proxyInjector.crtPEM: the certificate expires on 2026-01-31T00:00:00Z, within 60 days (mesh check will warn)",
  ]);
});

test("refused: unreadable certificates and keys, named by their values key", async () => {
  await assert.rejects(check(certFixture("garbage.pem"), rsaKey), refused(/^proxyInjector\.crtPEM holds no PEM data$/));
  await assert.rejects(check(certFixture("broken-der.pem"), rsaKey), refused(/^proxyInjector\.crtPEM: certificate 1 is not a valid X\.509 certificate/));
  await assert.rejects(check(rsaKey, rsaCrt), refused(/^proxyInjector\.crtPEM holds no certificate: its first PEM block is "RSA PRIVATE KEY"$/, /swapped/));
  await assert.rejects(check(rsaCrt, certFixture("garbage.pem")), refused(/^proxyInjector\.keyPEM holds no PEM data$/));
  await assert.rejects(check(rsaCrt, rsaCrt), refused(/^proxyInjector\.keyPEM starts with a "CERTIFICATE" PEM block/, /swapped/));
  const ed = encodePem("PRIVATE KEY", new Uint8Array(await webcrypto.subtle.exportKey("pkcs8", ((await webcrypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair).privateKey)));
  await assert.rejects(check(rsaCrt, ed), refused(/^proxyInjector\.keyPEM: unsupported PKCS#8 encoded private key type: 'ed25519\.PrivateKey'/));
  await assert.rejects(check(rsaCrt, encodePem("RSA PRIVATE KEY", pkcs8ToPkcs1(privateKeyToPkcs8(decodePrivateKey(rsaKey))).subarray(0, 40))), refused(/^proxyInjector\.keyPEM cannot be parsed/));
});
