/**
 * Certificate logic behind the `linkerd-identity` and
 * `linkerd-webhooks-and-apisvc-tls` check categories. Each `check*` function
 * is one check: it returns when the check passes and throws a `MeshError`
 * whose message is the error text `linkerd check` prints for that failure.
 * Reading Secrets, ConfigMaps and webhook configurations is the caller's job.
 */
import { MeshError } from "../errors.js";
import {
  decodeCertificates,
  goBundleError,
  serialString,
  type Certificate,
} from "./certificate.js";
import { KeyError, decodePrivateKey, keyMatchesPublicKey, type PrivateKey } from "./keys.js";
import { EXPIRY_WARNING_DAYS, describeValidity, expiresWithin, formatTime, type Validity } from "./validity.js";
import { verifyCertificate } from "./verify.js";

/** A certificate with the extra certificates that followed it in the same PEM, and its key. */
export interface Credentials {
  certificate: Certificate;
  /** The other certificates of the PEM text, in file order. */
  chain: Certificate[];
  key: PrivateKey;
}

/** Parses certificates with Linkerd's rules, throwing Go's error text. Zero certificates is not an error. */
export function parseCertificateBundle(pem: string): Certificate[] {
  const bundle = decodeCertificates(pem);
  if (bundle.problem) throw new MeshError(goBundleError(bundle.problem));
  return bundle.certificates;
}


/**
 * Reads a certificate PEM (leaf first) and its key as Linkerd's
 * `ValidateAndCreateCreds` does: key first, then certificates, then the key
 * must match the leaf.
 */
export async function loadCredentials(crtPem: string, keyPem: string): Promise<Credentials> {
  let key: PrivateKey;
  try {
    key = decodePrivateKey(keyPem);
  } catch (e) {
    if (e instanceof KeyError) throw new MeshError(e.message, undefined, undefined, e);
    throw e;
  }
  const [certificate, ...chain] = parseCertificateBundle(crtPem);
  if (!certificate) throw new MeshError("No certificates found");
  let matches: boolean;
  try {
    matches = keyMatchesPublicKey(key, certificate.publicKey);
  } catch (e) {
    if (e instanceof KeyError) throw new MeshError(e.message, undefined, undefined, e);
    throw e;
  }
  if (!matches) throw new MeshError("tls: Public and private key do not match");
  return { certificate, chain, key };
}

// --- linkerd-identity ---

export interface IdentityMaterial {
  issuer: Credentials;
  anchors: Certificate[];
}

/**
 * `certificate config is valid`: the issuer certificate and key parse and
 * match, and the trust anchors parse (an empty anchor list is accepted here;
 * `issuer cert is issued by the trust anchor` then fails).
 */
export async function loadIdentityMaterial(input: {
  issuerCrtPem: string;
  issuerKeyPem: string;
  trustAnchorsPem: string;
}): Promise<IdentityMaterial> {
  // Linkerd reads the issuer certificate once on its own before pairing it with the key.
  const crt = decodeCertificates(input.issuerCrtPem);
  if (crt.problem) throw new MeshError(`could not parse issuer certificate: ${goBundleError(crt.problem)}`);
  if (crt.certificates.length === 0) throw new MeshError("could not parse issuer certificate: No certificates found");
  const issuer = await loadCredentials(input.issuerCrtPem, input.issuerKeyPem);
  return { issuer, anchors: parseCertificateBundle(input.trustAnchorsPem) };
}

/** Problem with a trust anchor's algorithms, in Linkerd's words, or undefined. */
export function trustAnchorAlgorithmProblem(cert: Certificate): string | undefined {
  const pk = cert.publicKey;
  if (pk.algorithm === "ECDSA") return ecdsaProblem(cert);
  if (pk.algorithm === "RSA") {
    if (pk.bits !== 2048 && pk.bits !== 4096) {
      return `RSA must use at least 2084 bit public key, instead ${pk.bits} bit public key was used`;
    }
    if (cert.signatureAlgorithm.name !== "SHA256-RSA") {
      return `must be signed by an RSA 2048/4096 bit key, instead ${goSigName(cert)} was used`;
    }
    return undefined;
  }
  return `trust anchor must use ECDSA or RSA for public key algorithm, instead ${goKeyAlgName(cert)} was used`;
}

/** Problem with the issuer certificate's algorithms, in Linkerd's words, or undefined. */
export function issuerAlgorithmProblem(cert: Certificate): string | undefined {
  if (cert.publicKey.algorithm !== "ECDSA") {
    return `issuer certificate must use ECDSA for public key algorithm, instead ${goKeyAlgName(cert)} was used`;
  }
  return ecdsaProblem(cert);
}

function ecdsaProblem(cert: Certificate): string | undefined {
  const bits = cert.publicKey.bits;
  if (bits !== 256) return `must use P-256 curve for public key, instead P-${bits} was used`;
  const sig = cert.signatureAlgorithm.name;
  if (sig !== "ECDSA-SHA256" && sig !== "SHA256-RSA") return `must be signed by an ECDSA P-256 key, instead ${goSigName(cert)} was used`;
  return undefined;
}

/** Go prints unknown algorithms as 0. */
const goSigName = (c: Certificate): string => (/^[\d.]+$/.test(c.signatureAlgorithm.name) ? "0" : c.signatureAlgorithm.name);
const goKeyAlgName = (c: Certificate): string => (c.publicKey.algorithm === "unknown" ? "0" : c.publicKey.algorithm);

/** `* <serial> <CN> <problem>` lines joined as Linkerd joins them. */
function anchorList(header: string, items: Array<{ cert: Certificate; problem: string }>): string {
  return `${header}\n\t${items.map(({ cert, problem }) => `* ${serialString(cert)} ${cert.commonName} ${problem}`).join("\n\t")}`;
}

function windowProblem(v: Validity): string | undefined {
  return v.state === "not-yet-valid" || v.state === "expired" ? v.text : undefined;
}

/** Linkerd's 60-day rule; it also flags certificates that have already expired. */
function soonProblem(c: Certificate, now: Date): string | undefined {
  return expiresWithin(c, now, EXPIRY_WARNING_DAYS) ? `will expire on ${formatTime(c.notAfter)}` : undefined;
}

function collect(anchors: Certificate[], problem: (c: Certificate) => string | undefined) {
  return anchors.flatMap((cert) => {
    const p = problem(cert);
    return p ? [{ cert, problem: p }] : [];
  });
}

/** `trust anchors are using supported crypto algorithm` */
export function checkTrustAnchorsAlgorithm(anchors: Certificate[]): void {
  const bad = collect(anchors, trustAnchorAlgorithmProblem);
  if (bad.length) throw new MeshError(anchorList("Invalid trustAnchors:", bad));
}

/** `trust anchors are within their validity period` */
export function checkTrustAnchorsValidity(anchors: Certificate[], now: Date): void {
  const bad = collect(anchors, (c) => windowProblem(describeValidity(c, now)));
  if (bad.length) throw new MeshError(anchorList("Invalid anchors:", bad));
}

/** `trust anchors are valid for at least 60 days` */
export function checkTrustAnchorsNotExpiringSoon(anchors: Certificate[], now: Date): void {
  const bad = collect(anchors, (c) => soonProblem(c, now));
  if (bad.length) throw new MeshError(anchorList("Anchors expiring soon:", bad));
}

/** `issuer cert is using supported crypto algorithm` */
export function checkIssuerAlgorithm(issuer: Certificate): void {
  const p = issuerAlgorithmProblem(issuer);
  // Linkerd prefixes every problem with "issuer certificate", even the one that already starts with it.
  if (p) throw new MeshError(`issuer certificate ${p}`);
}

/** `issuer cert is within its validity period` */
export function checkIssuerValidity(issuer: Certificate, now: Date): void {
  const p = windowProblem(describeValidity(issuer, now));
  if (p) throw new MeshError(`issuer certificate is ${p}`);
}

/** `issuer cert is valid for at least 60 days` */
export function checkIssuerNotExpiringSoon(issuer: Certificate, now: Date): void {
  const p = soonProblem(issuer, now);
  if (p) throw new MeshError(`issuer certificate ${p}`);
}

/** Go's `time.Time.String()` for a UTC time. */
const goTimeString = (d: Date): string => d.toISOString().replace("T", " ").replace(/\.\d{3}Z$/, " +0000 UTC");

async function verifyCredentials(creds: Credentials, roots: Certificate[], dnsName: string, now: Date): Promise<string | undefined> {
  const result = await verifyCertificate(creds.certificate, { roots, intermediates: creds.chain, dnsName, now });
  if (result.ok) return undefined;
  const f = result.failure;
  if (f.kind === "expired" || f.kind === "not-yet-valid") {
    const c = creds.certificate;
    return `${result.error} - Current Time : ${goTimeString(now)} - Invalid before ${goTimeString(c.notBefore)} - Invalid After ${goTimeString(c.notAfter)}`;
  }
  return result.error;
}

/**
 * `issuer cert is issued by the trust anchor`: path validation of the issuer
 * with the anchors as roots and the issuer PEM's extra certificates as
 * intermediates.
 */
export async function checkIssuerIssuedByAnchors(material: IdentityMaterial, now: Date): Promise<void> {
  const err = await verifyCredentials(material.issuer, material.anchors, "", now);
  if (err) throw new MeshError(err);
}

// --- linkerd-webhooks-and-apisvc-tls ---

/**
 * `<webhook> webhook has valid cert`: every caBundle certificate is within its
 * validity period, so is the serving certificate, and the serving certificate
 * verifies against the caBundle for `host` (`linkerd-<webhook>.<ns>.svc`).
 * `crtPem`/`keyPem` are the Secret's `tls.crt`/`tls.key`.
 */
export async function checkWebhookCertificate(input: {
  crtPem: string;
  keyPem: string;
  caBundlePem: string;
  host: string;
  now: Date;
}): Promise<void> {
  const anchors = parseCertificateBundle(input.caBundlePem);
  const creds = await loadCredentials(input.crtPem, input.keyPem);
  const bad = collect(anchors, (c) => windowProblem(describeValidity(c, input.now)));
  if (bad.length) throw new MeshError(anchorList("anchors not within their validity period:", bad));
  const own = windowProblem(describeValidity(creds.certificate, input.now));
  if (own) throw new MeshError(`certificate is ${own}`);
  const err = await verifyCredentials(creds, anchors, input.host, input.now);
  if (err) throw new MeshError(`cert is not issued by the trust anchor: ${err}`);
}

/**
 * `<webhook> cert is valid for at least 60 days`: the extra certificates in
 * the Secret's `tls.crt`, then the serving certificate itself.
 */
export async function checkWebhookCertificateNotExpiringSoon(input: { crtPem: string; keyPem: string; now: Date }): Promise<void> {
  const creds = await loadCredentials(input.crtPem, input.keyPem);
  // Linkerd keeps the extra certificates root first.
  const bad = collect([...creds.chain].reverse(), (c) => soonProblem(c, input.now));
  if (bad.length) throw new MeshError(anchorList("Anchors expiring soon:", bad));
  const own = soonProblem(creds.certificate, input.now);
  if (own) throw new MeshError(`certificate ${own}`);
}
