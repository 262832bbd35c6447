/**
 * Validation of user-supplied identity issuer material before `mesh install`
 * renders it (Linkerd: `--identity-issuer-certificate-file`,
 * `--identity-issuer-key-file`, `--identity-trust-anchors-file`, then
 * `VerifyAndBuildCreds`). Accepts exactly what Linkerd accepts; says precisely
 * what is wrong with which file when it does not.
 */
import { MeshError } from "../errors.js";
import {
  certificateToPem,
  decodeCertificates,
  describeTrailing,
  nonCertificateBlock,
  pemTypeForMessage,
  serialString,
  type Certificate,
  type DecodedBundle,
} from "./certificate.js";
import { KeyError, decodePrivateKey, ecPrivateKeyPem, keyMatchesPublicKey, type PrivateKey } from "./keys.js";
import { describeValidity, formatTime } from "./validity.js";
import { verifyCertificate, type VerifyFailure } from "./verify.js";

export interface IssuerFiles {
  /** Names used in messages (usually the paths given on the command line). */
  trustAnchors?: string;
  issuerCrt?: string;
  issuerKey?: string;
}

export interface IssuerCredentials {
  /** The trust anchors exactly as given. */
  trustAnchorsPem: string;
  /** PEM of the first (leaf) certificate of the issuer input only. */
  issuerCrtPem: string;
  /** The issuer key re-encoded as an `EC PRIVATE KEY` (SEC 1) block. */
  issuerKeyPem: string;
  issuer: Certificate;
  anchors: Certificate[];
}

const CREATE_ISSUER_HINT =
  "create an issuer signed by your trust anchor, e.g. `step certificate create identity.linkerd.cluster.local issuer.crt issuer.key " +
  "--profile intermediate-ca --not-after 8760h --no-password --insecure --ca ca.crt --ca-key ca.key`";

interface Labels {
  crt: string;
  key: string;
  anchors: string;
}

function labels(files: IssuerFiles = {}): Labels {
  return {
    crt: files.issuerCrt ? `issuer certificate file "${files.issuerCrt}"` : "issuer certificate",
    key: files.issuerKey ? `issuer key file "${files.issuerKey}"` : "issuer key",
    anchors: files.trustAnchors ? `trust anchors file "${files.trustAnchors}"` : "trust anchor bundle",
  };
}

const describeCert = (c: Certificate): string =>
  `${c.commonName ? `"${c.commonName}"` : "with an empty common name"} (serial ${serialString(c)})`;

/** Turns a bundle decoding problem into a message about `label`. */
export function bundleError(label: string, text: string, bundle: DecodedBundle): MeshError | undefined {
  if (text.trim() === "") return new MeshError(`${label} is empty`);
  const p = bundle.problem;
  if (p?.kind === "malformed") {
    return new MeshError(
      `${label}: certificate ${p.index + 1} is not a valid X.509 certificate (${p.detail})`,
      "check that the file holds PEM-encoded X.509 certificates",
    );
  }
  if (p?.kind === "not-pem") {
    if (bundle.certificates.length === 0 && text.trim() !== "" && p.index === 0) {
      return new MeshError(`${label} holds no PEM data`, "expected blocks starting with -----BEGIN CERTIFICATE-----");
    }
    return new MeshError(
      `${label} has ${describeTrailing(text, p.trailing)}`,
      "remove everything after the last -----END CERTIFICATE----- line (Linkerd rejects it too)",
    );
  }
  return undefined;
}

/**
 * A certificate input (trust anchors, an issuer certificate) may hold CERTIFICATE blocks only:
 * anything else, a private key above all, is refused, naming the input and the block.
 */
export function otherBlockError(label: string, text: string): MeshError | undefined {
  const type = nonCertificateBlock(text);
  if (type === undefined) return undefined;
  return new MeshError(
    `${label} holds a "${type}" PEM block; a certificate file may hold only CERTIFICATE blocks`,
    type.includes("PRIVATE KEY")
      ? "remove the key: it must stay secret, and everything in this file is published (the trust anchors land in ConfigMaps every pod can read)"
      : "remove every block that is not a certificate",
  );
}

/**
 * Checks a trust anchors input on its own (`inject --manual --identity-trust-anchors-file`):
 * not empty, PEM certificates only, each one parsable. Throws a MeshError naming `label`.
 */
export function checkTrustAnchorsPem(text: string, label: string): void {
  const bundle = decodeCertificates(text);
  const problem = bundleError(label, text, bundle);
  if (problem) throw problem;
  if (bundle.certificates.length === 0) throw noCertificateError(label, bundle);
  const other = otherBlockError(label, text);
  if (other) throw other;
}

export function noCertificateError(label: string, bundle: DecodedBundle): MeshError {
  if (bundle.stoppedAt) {
    return new MeshError(
      `${label} holds no certificate: its first PEM block is "${pemTypeForMessage(bundle.stoppedAt)}"`,
      bundle.stoppedAt.includes("PRIVATE KEY")
        ? "the certificate and key files may be swapped"
        : "certificates must come before any other PEM block",
    );
  }
  return new MeshError(`${label} holds no certificate`);
}

function keyError(label: string, e: KeyError): MeshError {
  switch (e.reason) {
    case "not-pem":
      return new MeshError(`${label} holds no PEM data`, "expected a block starting with -----BEGIN EC PRIVATE KEY-----");
    case "unsupported-block": {
      const type = e.blockType;
      const hint =
        type === "EC PARAMETERS"
          ? "remove the EC PARAMETERS block (generate the key with `openssl ecparam -name prime256v1 -genkey -noout`)"
          : type === "CERTIFICATE"
            ? "the certificate and key files may be swapped"
            : type === "ENCRYPTED PRIVATE KEY"
              ? "the key must not be encrypted"
              : undefined;
      return new MeshError(
        `${label} starts with a "${type}" PEM block; expected EC PRIVATE KEY, RSA PRIVATE KEY or PRIVATE KEY`,
        hint,
      );
    }
    case "unsupported-pkcs8":
      return new MeshError(`${label} holds an unsupported key type; the issuer key must be ECDSA P-256`, undefined, undefined, e);
    case "unsupported-curve":
      return new MeshError(`${label} uses an unsupported elliptic curve; the issuer key must be ECDSA P-256`, undefined, undefined, e);
    case "malformed":
      return new MeshError(`${label} cannot be parsed: ${e.message}`, undefined, undefined, e);
  }
}

function keyDescription(k: PrivateKey): string {
  return k.kind === "RSA" ? `an RSA ${k.bits}-bit key` : `an ECDSA ${k.curve} key`;
}

function certKeyDescription(c: Certificate): string {
  const pk = c.publicKey;
  if (pk.algorithm === "ECDSA") return `ECDSA ${pk.curve}`;
  if (pk.algorithm === "RSA") return `RSA ${pk.bits}-bit`;
  return pk.algorithm === "Ed25519" ? "Ed25519" : `an unknown algorithm (${pk.oid})`;
}


function chainError(f: VerifyFailure, l: Labels, issuer: Certificate, anchors: Certificate[]): MeshError {
  const count = anchors.length === 1 ? "the trust anchor" : `any of the ${anchors.length} trust anchors`;
  switch (f.kind) {
    case "unknown-authority": {
      if (!f.hint) {
        return new MeshError(
          `${l.crt} is not signed by ${count} in ${l.anchors}: its issuer is "${issuer.issuerCommonName}" and no anchor has that subject`,
          CREATE_ISSUER_HINT,
        );
      }
      const a = f.hint.cert;
      if (f.hint.cannotSign) {
        const why =
          !a.basicConstraintsValid || !a.isCA
            ? "is not a CA (basicConstraints CA:TRUE is missing)"
            : "may not sign certificates (its keyUsage lacks keyCertSign)";
        return new MeshError(
          `trust anchor ${describeCert(a)} in ${l.anchors} ${why}, so it cannot have issued ${l.crt}`,
          "use a CA certificate as the trust anchor",
        );
      }
      return new MeshError(
        `${l.crt} is not signed by ${count} in ${l.anchors}: its signature does not verify with the key of trust anchor ${describeCert(a)} (${f.hint.error})`,
        CREATE_ISSUER_HINT,
      );
    }
    case "expired":
    case "not-yet-valid": {
      const when =
        f.kind === "expired" ? `expired on ${formatTime(f.cert.notAfter)}` : `is not valid before ${formatTime(f.cert.notBefore)}`;
      return new MeshError(`trust anchor ${describeCert(f.cert)} in ${l.anchors} ${when}`, "issue new trust anchors and a new issuer");
    }
    case "incompatible-usage":
      return new MeshError(
        `${l.crt} does not chain to ${l.anchors} for TLS server use: a certificate on the chain lists extended key usages without serverAuth`,
        "add serverAuth to the extended key usages, or remove that extension",
      );
    case "unhandled-critical-extension": {
      const who = f.cert === issuer ? l.crt : `trust anchor ${describeCert(f.cert)} in ${l.anchors}`;
      return new MeshError(`${who} has a critical extension Linkerd does not understand (${f.oids.join(", ")})`);
    }
    default:
      return new MeshError(`${l.crt} does not verify against ${l.anchors}: ${f.kind.replace(/-/g, " ")}`);
  }
}

/**
 * Validates issuer material as Linkerd's install does and returns it
 * normalised: anchors verbatim, only the leaf of the issuer certificate
 * input, the key as `EC PRIVATE KEY`. Throws a `MeshError` naming the file for
 * the first problem found: unparsable input, issuer key not ECDSA P-256, key
 * not matching the certificate, issuer outside its validity window, wrong
 * signature algorithm, issuer not a CA, no anchors, or issuer not signed by
 * any anchor (signature, CA flag, key usage, anchor validity).
 */
export async function loadIssuerCredentials(input: {
  trustAnchorsPem: string;
  issuerCrtPem: string;
  issuerKeyPem: string;
  now: Date;
  files?: IssuerFiles;
}): Promise<IssuerCredentials> {
  const l = labels(input.files);
  const { now } = input;

  // Parse all three inputs first.
  const crtBundle = decodeCertificates(input.issuerCrtPem);
  const crtProblem = bundleError(l.crt, input.issuerCrtPem, crtBundle) ?? (crtBundle.certificates.length ? otherBlockError(l.crt, input.issuerCrtPem) : undefined);
  if (crtProblem) throw crtProblem;
  const issuer = crtBundle.certificates[0];
  if (!issuer) throw noCertificateError(l.crt, crtBundle);

  if (input.issuerKeyPem.trim() === "") throw new MeshError(`${l.key} is empty`);
  let key: PrivateKey;
  try {
    key = decodePrivateKey(input.issuerKeyPem);
  } catch (e) {
    if (e instanceof KeyError) throw keyError(l.key, e);
    throw e;
  }

  const anchorBundle = decodeCertificates(input.trustAnchorsPem);
  const anchorProblem = bundleError(l.anchors, input.trustAnchorsPem, anchorBundle) ?? (anchorBundle.certificates.length ? otherBlockError(l.anchors, input.trustAnchorsPem) : undefined);
  if (anchorProblem) throw anchorProblem;
  const anchors = anchorBundle.certificates;
  if (anchors.length === 0) throw noCertificateError(l.anchors, anchorBundle);

  // The key.
  if (key.kind !== "ECDSA" || key.curve !== "P-256") {
    throw new MeshError(`${l.key} holds ${keyDescription(key)}; the issuer key must be ECDSA P-256`, CREATE_ISSUER_HINT);
  }
  let matches: boolean;
  try {
    matches = keyMatchesPublicKey(key, issuer.publicKey);
  } catch (e) {
    if (e instanceof KeyError) throw keyError(l.key, e);
    throw e;
  }
  if (!matches) {
    throw new MeshError(
      `${l.key} does not match ${l.crt}: the certificate's public key (${certKeyDescription(issuer)}) belongs to another private key`,
      "pass the key that was generated together with the issuer certificate",
    );
  }

  // The issuer certificate.
  const validity = describeValidity(issuer, now);
  if (validity.state === "not-yet-valid") {
    throw new MeshError(
      `${l.crt} is not valid yet: not valid before ${formatTime(issuer.notBefore)} (now is ${formatTime(now)})`,
      "check the clock, or issue a certificate whose validity has started",
    );
  }
  if (validity.state === "expired") {
    throw new MeshError(`${l.crt} expired on ${formatTime(issuer.notAfter)}`, CREATE_ISSUER_HINT);
  }
  const pk = issuer.publicKey;
  if (pk.algorithm !== "ECDSA" || pk.curve !== "P-256") {
    throw new MeshError(`${l.crt} has a ${certKeyDescription(issuer)} public key; the issuer must use ECDSA P-256`, CREATE_ISSUER_HINT);
  }
  const sig = issuer.signatureAlgorithm.name;
  if (sig !== "ECDSA-SHA256" && sig !== "SHA256-RSA") {
    throw new MeshError(
      `${l.crt} is signed with ${sig}; Linkerd accepts only ECDSA-SHA256 (or SHA256-RSA from an RSA trust anchor)`,
      CREATE_ISSUER_HINT,
    );
  }
  if (!issuer.isCA) {
    throw new MeshError(
      `${l.crt} is not a CA certificate (basicConstraints CA:TRUE is missing); the issuer signs workload certificates`,
      CREATE_ISSUER_HINT,
    );
  }

  // The chain: only the leaf is kept, so it must be signed directly by an anchor.
  const result = await verifyCertificate(issuer, { roots: anchors, now });
  if (!result.ok) throw chainError(result.failure, l, issuer, anchors);

  return {
    trustAnchorsPem: input.trustAnchorsPem,
    issuerCrtPem: certificateToPem(issuer),
    issuerKeyPem: ecPrivateKeyPem(key),
    issuer,
    anchors,
  };
}
