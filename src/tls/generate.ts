/** The certificates `mesh install` makes when the user supplies none. */
import { webcrypto } from "node:crypto";
import { buildCertificate } from "./build.js";
import { bytesToBigint } from "./der.js";
import { pkcs8ToPkcs1, pkcs8ToSec1 } from "./keys.js";
import { KeyUsage, Oid } from "./oids.js";
import { encodePem } from "./pem.js";

const subtle = webcrypto.subtle;
const DAY_MS = 86_400_000;

/** Linkerd's allowance for clock skew around generated identity certificates. */
const CLOCK_SKEW_MS = 10_000;
/** Lifetime of generated identity and webhook certificates. */
const LIFETIME_MS = 365 * DAY_MS;

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
  const pkcs8 = new Uint8Array(await subtle.exportKey("pkcs8", keys.privateKey));
  const crt = encodePem("CERTIFICATE", der);
  return {
    trustAnchorsPem: crt,
    issuerCrtPem: crt,
    issuerKeyPem: encodePem("EC PRIVATE KEY", await pkcs8ToSec1(pkcs8)),
  };
}

export interface WebhookCertificate {
  /** Certificate PEM, ending with a newline (the chart trims it before base64). */
  crtPem: string;
  /** `RSA PRIVATE KEY` (PKCS#1) PEM. */
  keyPem: string;
}

/** Host name a webhook's certificate is made for: `linkerd-<name>.<namespace>.svc`. */
export const webhookHost = (name: "proxy-injector" | "sp-validator" | "policy-validator", namespace: string): string =>
  `linkerd-${name}.${namespace}.svc`;

async function randomSerial(): Promise<bigint> {
  for (;;) {
    const n = bytesToBigint(webcrypto.getRandomValues(new Uint8Array(16)));
    if (n > 0n) return n;
  }
}

/**
 * A self-signed webhook serving certificate, as the chart's Sprig
 * `genSelfSignedCert host (list) (list host) 365` makes it: RSA 2048, random
 * 128-bit serial, CN and the only DNS SAN = `host`, valid from `now` for 365
 * days, keyUsage keyEncipherment + digitalSignature, extKeyUsage serverAuth +
 * clientAuth, basicConstraints CA:FALSE, signed SHA256-RSA.
 */
export async function generateWebhookCertificate(opts: { host: string; now: Date }): Promise<WebhookCertificate> {
  const keys = (await subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: Uint8Array.of(1, 0, 1), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  )) as webcrypto.CryptoKeyPair;
  const der = await buildCertificate({
    serialNumber: await randomSerial(),
    subjectCommonName: opts.host,
    notBefore: opts.now,
    notAfter: new Date(opts.now.getTime() + LIFETIME_MS),
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    basicConstraints: true,
    isCA: false,
    keyUsage: KeyUsage.keyEncipherment | KeyUsage.digitalSignature,
    extKeyUsage: [Oid.serverAuth, Oid.clientAuth],
    dnsNames: [opts.host],
  });
  const pkcs8 = new Uint8Array(await subtle.exportKey("pkcs8", keys.privateKey));
  return { crtPem: encodePem("CERTIFICATE", der), keyPem: encodePem("RSA PRIVATE KEY", pkcs8ToPkcs1(pkcs8)) };
}

/** Several webhook certificates at once; the RSA key generations run concurrently. */
export function generateWebhookCertificates(hosts: readonly string[], now: Date): Promise<WebhookCertificate[]> {
  return Promise.all(hosts.map((host) => generateWebhookCertificate({ host, now })));
}
