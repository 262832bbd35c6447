/**
 * Validation of webhook serving credentials the user supplies through the values
 * `<webhook>.crtPEM` and `<webhook>.keyPEM` (the chart writes them to the webhook's Secret and
 * uses the certificate as the caBundle; Linkerd's install checks none of it). mesh refuses, before
 * printing anything, a pair the webhook server would fail to load or the API server would refuse
 * to call: the rules are those of the program that serves each webhook.
 *
 * - proxy injector and sp-validator: Linkerd's Go servers (`pkg/tls` ReadPEMCreds): the first PEM
 *   block of the key, as `EC PRIVATE KEY`, `RSA PRIVATE KEY` or `PRIVATE KEY` (ECDSA or RSA).
 * - policy validator: the policy controller (kubert 0.18, rustls 0.21 with ring) reads every
 *   `PRIVATE KEY` block, or if there is none every `RSA PRIVATE KEY` block, and wants exactly one;
 *   ring signs with RSA keys of 2048–8192 bits and ECDSA P-256/P-384 keys whose PKCS#8 form
 *   carries the public key.
 * - all: the key belongs to the first certificate, which the API server must accept for
 *   `linkerd-<webhook>.<namespace>.svc` with the certificates themselves as the caBundle, now.
 */
import { MeshError } from "../errors.js";
import { bytesEqual, decodeCertificates, type Certificate } from "./certificate.js";
import { bundleError, noCertificateError } from "./issuer.js";
import { KeyError, decodePrivateKey, ecPublicPoint, keyMatchesPublicKey, type PrivateKey } from "./keys.js";
import { decodePem, encodePem, type PemBlock } from "./pem.js";
import { EXPIRY_WARNING_DAYS, describeValidity, formatTime } from "./validity.js";
import { verifyCertificate } from "./verify.js";

/** The program that serves a webhook with the pair. */
export type WebhookServer = "linkerd-go" | "policy-controller";

export interface WebhookCredentialsInput {
  /** The values key, for messages: `proxyInjector`, `profileValidator` or `policyValidator`. */
  valuesKey: string;
  crtPem: string;
  keyPem: string;
  /** The name the API server calls the webhook by: `linkerd-<webhook>.<namespace>.svc`. */
  host: string;
  server: WebhookServer;
  now: Date;
}

const TO_PKCS8 = "convert it with `openssl pkcs8 -topk8 -nocrypt -in key.pem`";

function blocks(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  for (let rest = text; ; ) {
    const r = decodePem(rest);
    if (!r.block) return out;
    out.push(r.block);
    rest = r.rest;
  }
}

function keyProblem(label: string, e: KeyError): MeshError {
  switch (e.reason) {
    case "not-pem":
      return new MeshError(`${label} holds no PEM data`, "expected a block starting with -----BEGIN PRIVATE KEY-----");
    case "unsupported-block": {
      const type = e.blockType;
      return new MeshError(
        `${label} starts with a "${type}" PEM block; expected PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY`,
        type === "CERTIFICATE" ? "crtPEM and keyPEM may be swapped" : type === "ENCRYPTED PRIVATE KEY" ? "the key must not be encrypted" : undefined,
      );
    }
    case "unsupported-pkcs8":
    case "unsupported-curve":
      return new MeshError(`${label}: ${e.message}`, "use an ECDSA P-256 or RSA 2048 key", undefined, e);
    case "malformed":
      return new MeshError(`${label} cannot be parsed: ${e.message}`, undefined, undefined, e);
  }
}

function decodeKey(label: string, pem: string): PrivateKey {
  try {
    return decodePrivateKey(pem);
  } catch (e) {
    if (e instanceof KeyError) throw keyProblem(label, e);
    throw e;
  }
}

/** The key the policy controller loads, with ring's limits; throws what it would refuse. */
async function policyControllerKey(label: string, text: string): Promise<PrivateKey> {
  const all = blocks(text);
  const pkcs8 = all.filter((b) => b.type === "PRIVATE KEY");
  const chosen = pkcs8.length ? pkcs8 : all.filter((b) => b.type === "RSA PRIVATE KEY");
  if (chosen.length === 0) {
    const ec = all.some((b) => b.type === "EC PRIVATE KEY");
    throw new MeshError(
      ec
        ? `${label} is an EC PRIVATE KEY (SEC 1) block, which the policy controller cannot read: it reads PKCS#8 (PRIVATE KEY) and PKCS#1 (RSA PRIVATE KEY) keys`
        : all.length
          ? `${label} holds no PRIVATE KEY or RSA PRIVATE KEY block`
          : `${label} holds no PEM data`,
      ec ? TO_PKCS8 : "expected a block starting with -----BEGIN PRIVATE KEY-----",
    );
  }
  if (chosen.length > 1) throw new MeshError(`${label} holds ${chosen.length} ${chosen[0]!.type} blocks; the policy controller loads exactly one key`, "keep only the webhook's key");
  const key = decodeKey(label, encodePem(chosen[0]!.type, chosen[0]!.bytes));
  if (key.kind === "RSA") {
    if (key.bits < 2048 || key.bits > 8192) throw new MeshError(`${label} is a ${key.bits}-bit RSA key; the policy controller signs with RSA keys of 2048 to 8192 bits`, "use an ECDSA P-256 or RSA 2048 key");
    return key;
  }
  if (key.curve !== "P-256" && key.curve !== "P-384") throw new MeshError(`${label} is an ECDSA ${key.curve} key; the policy controller signs with P-256 and P-384 keys only`, "use an ECDSA P-256 key");
  if (!key.embeddedPoint) throw new MeshError(`${label} does not carry its public key, which the policy controller requires of EC keys`, TO_PKCS8);
  let derived: Uint8Array;
  try {
    derived = ecPublicPoint(key);
  } catch (e) {
    if (e instanceof KeyError) throw keyProblem(label, e);
    throw e;
  }
  if (!bytesEqual(derived, key.embeddedPoint)) throw new MeshError(`${label}: the public key stored with the private key does not belong to it`, TO_PKCS8);
  return key;
}

function describeKey(k: PrivateKey): string {
  return k.kind === "RSA" ? `an RSA ${k.bits}-bit key` : `an ECDSA ${k.curve} key`;
}

function describeCertKey(c: Certificate): string {
  const pk = c.publicKey;
  return pk.algorithm === "ECDSA" ? `an ECDSA ${pk.curve} key` : pk.algorithm === "RSA" ? `an RSA ${pk.bits}-bit key` : `a ${pk.algorithm} key`;
}

/**
 * Checks a user-supplied webhook certificate and key (see the module comment). Returns warnings
 * (a certificate that expires within 60 days, which `mesh check` flags); throws a `MeshError`
 * naming the value for the first problem.
 */
export async function checkWebhookCredentials(input: WebhookCredentialsInput): Promise<string[]> {
  const crtLabel = `${input.valuesKey}.crtPEM`;
  const keyLabel = `${input.valuesKey}.keyPEM`;
  // The chart writes both trimmed; the Secret's tls.crt is also the caBundle.
  const crtText = input.crtPem.trim();
  const bundle = decodeCertificates(crtText);
  const bad = bundleError(crtLabel, crtText, bundle);
  if (bad) throw bad;
  const [leaf, ...rest] = bundle.certificates;
  if (!leaf) throw noCertificateError(crtLabel, bundle);

  const key = input.server === "policy-controller" ? await policyControllerKey(keyLabel, input.keyPem.trim()) : decodeKey(keyLabel, input.keyPem.trim());
  let matches: boolean;
  try {
    matches = keyMatchesPublicKey(key, leaf.publicKey);
  } catch (e) {
    if (e instanceof KeyError) throw keyProblem(keyLabel, e);
    throw e;
  }
  if (!matches) {
    const what = describeKey(key) === describeCertKey(leaf) ? `another ${describeKey(key).replace(/^an? /, "")}` : describeKey(key);
    throw new MeshError(`${keyLabel} does not belong to the certificate in ${crtLabel}: the certificate has ${describeCertKey(leaf)}, the key is ${what}`, "give the key the certificate was made for");
  }

  const result = await verifyCertificate(leaf, { roots: bundle.certificates, intermediates: rest, dnsName: input.host, now: input.now });
  if (!result.ok) {
    const f = result.failure;
    const hint = `the API server calls the webhook at ${input.host} and trusts the certificates of ${crtLabel} (its caBundle)`;
    switch (f.kind) {
      case "expired":
      case "not-yet-valid": {
        const who = f.cert === leaf ? "the certificate" : `certificate "${f.cert.commonName}"`;
        const when = f.kind === "expired" ? `expired on ${formatTime(f.cert.notAfter)}` : `is not valid before ${formatTime(f.cert.notBefore)}`;
        throw new MeshError(`${crtLabel}: ${who} ${when}`, "give a certificate that is valid now");
      }
      case "hostname":
        throw new MeshError(`${crtLabel}: the certificate is not valid for ${input.host} (${result.error})`, `${hint}: add ${input.host} to its DNS names`);
      default:
        throw new MeshError(`${crtLabel} does not verify for ${input.host}: ${result.error}`, hint);
    }
  }
  const validity = describeValidity(leaf, input.now);
  return validity.state === "expiring-soon"
    ? [`${crtLabel}: the certificate expires on ${formatTime(leaf.notAfter)}, within ${EXPIRY_WARNING_DAYS} days (mesh check will warn)`]
    : [];
}
