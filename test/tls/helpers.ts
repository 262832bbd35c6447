/** Helpers for the tls tests: certificates made on the fly, openssl when present. */
import { spawnSync } from "node:child_process";
import { webcrypto } from "node:crypto";
import { buildCertificate, type CertificateTemplate } from "../../src/tls/build.js";
import { parseCertificate, type Certificate } from "../../src/tls/certificate.js";
import { pkcs8ToSec1 } from "../../src/tls/keys.js";
import { KeyUsage } from "../../src/tls/oids.js";
import { encodePem } from "../../src/tls/pem.js";
import { LONG_NOT_AFTER, LONG_NOT_BEFORE } from "../fixtures/certs/fixtures.js";

const subtle = webcrypto.subtle;

/** openssl, when the machine has it (only used for extra comparisons). */
export const hasOpenssl = spawnSync("openssl", ["version"], { encoding: "utf8" }).status === 0;

/** Runs openssl with `input` on stdin; throws on failure. */
export function openssl(args: string[], input: string): string {
  const r = spawnSync("openssl", args, { input, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`openssl ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

export interface Made {
  cert: Certificate;
  pem: string;
  keys: webcrypto.CryptoKeyPair;
  keyPem: () => Promise<string>;
}

export async function ecKeys(curve: "P-256" | "P-384" = "P-256"): Promise<webcrypto.CryptoKeyPair> {
  return (await subtle.generateKey({ name: "ECDSA", namedCurve: curve }, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
}

/**
 * Makes a certificate: a CA by default (pathlen unset, certSign+cRLSign, SKI),
 * self-signed unless `signer` is given. `overrides` go straight into the template.
 */
export async function makeCert(
  cn: string,
  opts: { signer?: Made; keys?: webcrypto.CryptoKeyPair; serial?: bigint } & Partial<CertificateTemplate> = {},
): Promise<Made> {
  const keys = opts.keys ?? (await ecKeys());
  const { signer, serial, ...overrides } = opts;
  const der = await buildCertificate({
    serialNumber: serial ?? 1n,
    subjectCommonName: cn,
    issuerName: signer?.cert.rawSubject,
    notBefore: LONG_NOT_BEFORE,
    notAfter: LONG_NOT_AFTER,
    publicKey: keys.publicKey,
    signingKey: signer ? signer.keys.privateKey : keys.privateKey,
    basicConstraints: true,
    isCA: true,
    keyUsage: KeyUsage.certSign | KeyUsage.crlSign,
    subjectKeyId: true,
    authorityKeyId: signer?.cert.subjectKeyId,
    ...overrides,
  });
  return {
    cert: parseCertificate(der),
    pem: encodePem("CERTIFICATE", der),
    keys,
    keyPem: async () =>
      encodePem("EC PRIVATE KEY", await pkcs8ToSec1(new Uint8Array(await subtle.exportKey("pkcs8", keys.privateKey)))),
  };
}

/** Splits PEM text into its blocks' base64 bodies (for layout assertions). */
export function pemLines(pem: string): string[] {
  return pem.split("\n");
}
