/** The certificates `mesh install` makes when the user supplies none. */
import { KeyObject, webcrypto } from "node:crypto";
import { buildCertificate } from "./build.js";
import { bytesToBigint } from "./der.js";
import { KeyUsage, Oid } from "./oids.js";
import { encodePem } from "./pem.js";

const subtle = webcrypto.subtle;
const DAY_MS = 86_400_000;

/** Linkerd's allowance for clock skew around generated identity certificates. */
const CLOCK_SKEW_MS = 10_000;
/** Lifetime of generated identity and webhook certificates. */
const LIFETIME_MS = 365 * DAY_MS;

/**
 * DER of a generated private key. OpenSSL writes SEC 1, PKCS#1 and EC PKCS#8 exactly as Go's
 * `x509.MarshalECPrivateKey`, `MarshalPKCS1PrivateKey` and `MarshalPKCS8PrivateKey` do (SEC 1 inside
 * PKCS#8 without the curve, with the public point, which ring requires); generate.test.ts checks.
 */
const exportKey = (key: webcrypto.CryptoKey, type: "sec1" | "pkcs1" | "pkcs8"): Uint8Array => KeyObject.from(key).export({ type, format: "der" });

export interface IdentityCredentials {
  /** PEM of the generated CA, ending with a newline (also the issuer certificate). */
  trustAnchorsPem: string;
  issuerCrtPem: string;
  /** `EC PRIVATE KEY` (SEC 1) PEM. */
  issuerKeyPem: string;
}

/**
 * The CN Linkerd gives the generated CA: `identity.<namespace>.<trust domain>`,
 * built from the raw `--identity-trust-domain` flag, so the default (empty)
 * gives `identity.linkerd.` with a trailing dot.
 */
export const identityIssuerName = (namespace: string, trustDomain: string): string =>
  `identity.${namespace}.${trustDomain}`;

/**
 * Generates the identity trust anchor and issuer as Linkerd's CLI does: one
 * self-signed ECDSA P-256 CA used as both, serial 1, signed ECDSA-SHA256,
 * valid from `now` − 10 s to `now` + 365 days + 10 s, CA without a path length
 * limit, keyUsage certSign + cRLSign, extKeyUsage serverAuth + clientAuth,
 * with a subject key identifier and no authority key identifier.
 */
export async function generateIdentityCredentials(opts: {
  namespace: string;
  trustDomain: string;
  now: Date;
}): Promise<IdentityCredentials> {
  const keys = (await subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ])) as webcrypto.CryptoKeyPair;
  const der = await buildCertificate({
    serialNumber: 1n,
    subjectCommonName: identityIssuerName(opts.namespace, opts.trustDomain),
    notBefore: new Date(opts.now.getTime() - CLOCK_SKEW_MS),
    notAfter: new Date(opts.now.getTime() + LIFETIME_MS + CLOCK_SKEW_MS),
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    basicConstraints: true,
    isCA: true,
    keyUsage: KeyUsage.certSign | KeyUsage.crlSign,
    extKeyUsage: [Oid.serverAuth, Oid.clientAuth],
    subjectKeyId: true,
  });
  const crt = encodePem("CERTIFICATE", der);
  return {
    trustAnchorsPem: crt,
    issuerCrtPem: crt,
    issuerKeyPem: encodePem("EC PRIVATE KEY", exportKey(keys.privateKey, "sec1")),
  };
}

export interface WebhookCertificate {
  /** Certificate PEM, ending with a newline (the chart trims it before base64). */
  crtPem: string;
  /**
   * Key PEM: `PRIVATE KEY` (PKCS#8, Go's layout) for ECDSA, `RSA PRIVATE KEY` (PKCS#1, as
   * Sprig writes it) for RSA.
   */
  keyPem: string;
}

/** Key algorithm of a generated webhook certificate. */
export type WebhookKeyAlgorithm = "ECDSA-P256" | "RSA-2048";

/** Host name a webhook's certificate is made for: `linkerd-<name>.<namespace>.svc`. */
export const webhookHost = (name: "proxy-injector" | "sp-validator" | "policy-validator", namespace: string): string =>
  `linkerd-${name}.${namespace}.svc`;

async function randomSerial(): Promise<bigint> {
  for (;;) {
    const n = bytesToBigint(webcrypto.getRandomValues(new Uint8Array(16)));
    if (n > 0n) return n;
  }
}

const RSA_2048 = { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: Uint8Array.of(1, 0, 1), hash: "SHA-256" };
const P_256 = { name: "ECDSA", namedCurve: "P-256" };

/**
 * A self-signed webhook serving certificate, shaped like the chart's Sprig
 * `genSelfSignedCert host (list) (list host) 365`: random serial below 2^128,
 * CN and the only DNS SAN = `host`, valid from `now` for 365 days, extKeyUsage
 * serverAuth + clientAuth, basicConstraints CA:FALSE, self-signed; it is also
 * the webhook's caBundle.
 *
 * The key is ECDSA P-256 by default (signed ECDSA-SHA256, key PEM `PRIVATE KEY`,
 * PKCS#8), where Sprig makes RSA 2048: generating three RSA keys costs about a
 * second of CPU, an EC key well under a millisecond. Every consumer accepts it:
 * Linkerd's Go webhook servers read PKCS#8 (pkg/tls DecodePEMKey), the policy
 * controller (kubert 0.18, rustls) reads only PKCS#8 and PKCS#1 (hence not
 * SEC 1 `EC PRIVATE KEY`), and the API server's Go TLS client takes ECDSA.
 * keyUsage is digitalSignature alone: RFC 5480 §3 forbids keyEncipherment for
 * id-ecPublicKey keys, and an ECDSA key in TLS only signs (ECDHE_ECDSA, TLS
 * 1.3), which is the one bit OpenSSL-based clients look for; Go's TLS stack
 * checks no keyUsage bits of a server certificate (crypto/tls generate_cert.go
 * sets exactly this for ECDSA). `algorithm: "RSA-2048"` makes Sprig's exact
 * shape instead: `RSA PRIVATE KEY` (PKCS#1), keyUsage keyEncipherment +
 * digitalSignature, SHA256-RSA.
 */
export async function generateWebhookCertificate(opts: {
  host: string;
  now: Date;
  algorithm?: WebhookKeyAlgorithm;
}): Promise<WebhookCertificate> {
  const rsa = opts.algorithm === "RSA-2048";
  const keys = (await subtle.generateKey(rsa ? RSA_2048 : P_256, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const der = await buildCertificate({
    serialNumber: await randomSerial(),
    subjectCommonName: opts.host,
    notBefore: opts.now,
    notAfter: new Date(opts.now.getTime() + LIFETIME_MS),
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    basicConstraints: true,
    isCA: false,
    keyUsage: rsa ? KeyUsage.keyEncipherment | KeyUsage.digitalSignature : KeyUsage.digitalSignature,
    extKeyUsage: [Oid.serverAuth, Oid.clientAuth],
    dnsNames: [opts.host],
  });
  const keyPem = rsa
    ? encodePem("RSA PRIVATE KEY", exportKey(keys.privateKey, "pkcs1"))
    : encodePem("PRIVATE KEY", exportKey(keys.privateKey, "pkcs8"));
  return { crtPem: encodePem("CERTIFICATE", der), keyPem };
}

/** Several webhook certificates at once (ECDSA P-256 unless `algorithm` says otherwise). */
export function generateWebhookCertificates(
  hosts: readonly string[],
  now: Date,
  algorithm?: WebhookKeyAlgorithm,
): Promise<WebhookCertificate[]> {
  return Promise.all(hosts.map((host) => generateWebhookCertificate({ host, now, algorithm })));
}
