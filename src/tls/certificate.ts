/**
 * X.509 certificates as plain data: the fields Linkerd's checks look at, and PEM bundles decoded
 * with Go's rules. Node's `X509Certificate` (OpenSSL) parses each certificate and gives the names,
 * validity, extended key usages, serial and public key, and verifies signatures (signature.ts).
 * A small reader walks the DER for what Node does not expose: the raw names Go matches issuers
 * by, the signature algorithm, key usage bits, basic constraints, key identifiers, which
 * extensions are critical, and the SANs (Node prints them as escaped text). It also refuses what
 * Go (Linkerd) refuses and OpenSSL takes: non-DER, times without seconds or not in UTC,
 * malformed SAN and extended key usage extensions, compressed EC points, negative RSA moduli.
 */
import { X509Certificate, type KeyObject } from "node:crypto";
import {
  DerError,
  Tag,
  children,
  context,
  decode,
  expect,
  readBitString,
  readBoolean,
  readInteger,
  readOctets,
  readOid,
  sequence,
  type DerNode,
} from "./der.js";
import { Oid, signatureAlgorithm, type CurveName, type SignatureAlgorithm } from "./oids.js";
import { decodePem, encodePem, pemTypeForMessage } from "./pem.js";

export interface PublicKeyInfo {
  /** Go's name of the algorithm (`ECDSA`, `RSA`, `Ed25519`), `unknown` otherwise. */
  algorithm: "ECDSA" | "RSA" | "Ed25519" | "unknown";
  /** The SubjectPublicKeyInfo algorithm OID. */
  oid: string;
  curve?: CurveName;
  /** Curve size or modulus length in bits (0 when unknown). */
  bits: number;
  /** Node's key, for `verify` and `equals`; absent when OpenSSL does not know the algorithm. */
  key?: KeyObject;
}

export interface Certificate {
  /** The DER encoding. */
  readonly raw: Uint8Array;
  /** Node's certificate, for signature checks. */
  readonly x509: X509Certificate;
  /** 1, 2 or 3. */
  readonly version: number;
  readonly serialNumber: bigint;
  readonly signatureAlgorithm: SignatureAlgorithm;
  readonly rawIssuer: Uint8Array;
  readonly rawSubject: Uint8Array;
  /** The last CN of the subject, "" when absent (Go's `Subject.CommonName`). */
  readonly commonName: string;
  readonly issuerCommonName: string;
  readonly organization: string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly publicKey: PublicKeyInfo;
  /** A basicConstraints extension is present. */
  readonly basicConstraintsValid: boolean;
  readonly isCA: boolean;
  /** pathLenConstraint, -1 when absent. */
  readonly maxPathLen: number;
  /** Go's KeyUsage bit set (see `KeyUsage`); 0 when the extension is absent. */
  readonly keyUsage: number;
  /** Extended key usage OIDs, in order; empty when the extension is absent. */
  readonly extKeyUsage: string[];
  readonly dnsNames: string[];
  readonly hasSanExtension: boolean;
  readonly rawSan?: Uint8Array;
  readonly subjectKeyId?: Uint8Array;
  readonly authorityKeyId?: Uint8Array;
  /** OIDs of critical extensions Go does not process (Go refuses such certificates in chains). */
  readonly unhandledCriticalExtensions: string[];
}

/** What the reader takes from the DER: everything Node's X509Certificate does not expose. */
type DerFields = { -readonly [K in keyof Pick<
  Certificate,
  "version" | "signatureAlgorithm" | "rawIssuer" | "rawSubject" | "basicConstraintsValid" | "isCA" | "maxPathLen" | "keyUsage" | "dnsNames" | "rawSan" | "subjectKeyId" | "authorityKeyId"
>]: Certificate[K] } & { spkiOid: string; spkiKey: Uint8Array; criticalExtensions: string[]; sanUnderstood: boolean };

/** Parses one DER certificate; throws `DerError` describing what is malformed. */
export function parseCertificate(der: Uint8Array): Certificate {
  const { spkiOid, spkiKey, criticalExtensions, sanUnderstood, ...fields } = readDerFields(der);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(der);
  } catch {
    // Node retries failed DER as PEM, so its message ("no start line") would mislead.
    throw new DerError("OpenSSL cannot parse it");
  }
  const serial = x509.serialNumber;
  return {
    ...fields,
    raw: der,
    x509,
    serialNumber: serial.startsWith("-") ? -BigInt(`0x${serial.slice(1)}`) : BigInt(`0x${serial}`),
    commonName: nameValues(x509.subject, "CN").pop() ?? "",
    issuerCommonName: nameValues(x509.issuer, "CN").pop() ?? "",
    organization: nameValues(x509.subject, "O"),
    notBefore: opensslTime(x509.validFrom, "notBefore"),
    notAfter: opensslTime(x509.validTo, "notAfter"),
    publicKey: publicKeyInfo(x509, spkiOid, spkiKey),
    extKeyUsage: x509.keyUsage ?? [],
    hasSanExtension: fields.rawSan !== undefined,
    // Go ignores a critical SAN only if it holds a name type Go parses.
    unhandledCriticalExtensions: criticalExtensions.filter((id) => !HANDLED_EXTENSIONS.has(id) && !(id === Oid.subjectAltName && sanUnderstood)),
  };
}

/** Extensions Go processes (a critical one it does not is an error in a chain). */
const HANDLED_EXTENSIONS = new Set<string>([Oid.basicConstraints, Oid.keyUsage, Oid.extKeyUsage, Oid.subjectKeyIdentifier, Oid.authorityKeyIdentifier, Oid.nameConstraints, Oid.crlDistributionPoints, Oid.certificatePolicies, Oid.authorityInfoAccess]);

/** Walks the certificate's DER (strictly, as Go does) for the fields Node does not give. */
function readDerFields(der: Uint8Array): DerFields {
  const [tbsNode, sigAlgNode, sigNode, ...extra] = sequence(decode(der), "certificate");
  if (extra.length) throw new DerError("certificate: unexpected trailing fields");
  const tbs = sequence(tbsNode, "tbsCertificate");
  let i = 0;
  let version = 1;
  if (tbs[0]?.tag === context(0)) {
    const n = readInteger(children(tbs[0])[0], "version");
    if (n < 0n || n > 2n) throw new DerError("invalid version");
    version = Number(n) + 1;
    i++;
  }
  readInteger(tbs[i++], "serial number");
  const innerAlg = expect(tbs[i++], Tag.Sequence, "signature algorithm");
  const issuer = expect(tbs[i++], Tag.Sequence, "issuer");
  const [notBefore, notAfter] = sequence(tbs[i++], "validity");
  checkTimeForm(notBefore, "notBefore");
  checkTimeForm(notAfter, "notAfter");
  const subject = expect(tbs[i++], Tag.Sequence, "subject");
  const [spkiAlg, spkiKey] = sequence(tbs[i++], "subject public key info");
  const spkiOid = readOid(sequence(spkiAlg, "public key algorithm")[0], "public key algorithm");
  while (tbs[i] && (tbs[i]!.tag === context(1, false) || tbs[i]!.tag === context(2, false))) i++;
  const extensions = tbs[i]?.tag === context(3) ? sequence(children(tbs[i++]!)[0], "extensions") : [];
  if (i !== tbs.length) throw new DerError("tbsCertificate: unexpected fields");
  if (!bytesEqual(innerAlg.bytes, expect(sigAlgNode, Tag.Sequence, "signature algorithm").bytes)) {
    throw new DerError("inner and outer signature algorithm identifiers don't match");
  }
  readBitString(sigNode, "signature");

  const out: DerFields = {
    version,
    signatureAlgorithm: parseSignatureAlgorithm(innerAlg),
    rawIssuer: issuer.bytes,
    rawSubject: subject.bytes,
    spkiOid,
    spkiKey: readBitString(spkiKey, "public key").bytes,
    basicConstraintsValid: false,
    isCA: false,
    maxPathLen: -1,
    keyUsage: 0,
    dnsNames: [],
    sanUnderstood: false,
    criticalExtensions: [],
  };
  for (const ext of extensions) {
    const parts = sequence(ext, "extension");
    const id = readOid(parts[0], "extension id");
    const critical = parts[1]?.tag === Tag.Boolean && readBoolean(parts[1], "extension critical flag");
    const value = readOctets(parts[parts[1]?.tag === Tag.Boolean ? 2 : 1], `extension ${id}`);
    if (critical) out.criticalExtensions.push(id);
    switch (id) {
      case Oid.basicConstraints: {
        const bc = sequence(decode(value), "basic constraints");
        let j = 0;
        if (bc[j]?.tag === Tag.Boolean) out.isCA = readBoolean(bc[j++], "basic constraints cA");
        if (bc[j]?.tag === Tag.Integer) {
          const n = readInteger(bc[j++], "basic constraints pathLen");
          if (n < 0n || n > 0x7fffffffn) throw new DerError("invalid basic constraints pathLen");
          out.maxPathLen = Number(n);
        }
        out.basicConstraintsValid = true;
        break;
      }
      case Oid.keyUsage: {
        const { bytes } = readBitString(decode(value), "key usage");
        for (let bit = 0; bit < 9; bit++) if ((bytes[bit >> 3] ?? 0) & (0x80 >> (bit & 7))) out.keyUsage |= 1 << bit;
        break;
      }
      case Oid.extKeyUsage: // Node gives the OIDs, but drops a malformed extension that Go refuses
        for (const n of sequence(decode(value), "extended key usage")) readOid(n, "extended key usage");
        break;
      case Oid.subjectAltName: // Node's text form is escaped and lossy, and takes malformed names Go refuses
        out.rawSan = value;
        for (const n of sequence(decode(value), "subject alternative name")) {
          if ((n.tag & 0xc0) !== 0x80) throw new DerError("invalid subject alternative name");
          if ((n.tag & 0x1f) === 2) out.dnsNames.push(Buffer.from(n.value).toString("latin1"));
          if ([1, 2, 6, 7].includes(n.tag & 0x1f)) out.sanUnderstood = true;
        }
        break;
      case Oid.subjectKeyIdentifier:
        out.subjectKeyId = readOctets(decode(value), "subject key identifier");
        break;
      case Oid.authorityKeyIdentifier: {
        const keyId = sequence(decode(value), "authority key identifier").find((n) => n.tag === context(0, false));
        if (keyId) out.authorityKeyId = keyId.value;
        break;
      }
    }
  }
  return out;
}

/** X.509's profile of time (RFC 5280 4.1.2.5), which Go enforces: whole seconds, in UTC (`Z`). */
function checkTimeForm(node: DerNode | undefined, what: string): void {
  const text = node ? Buffer.from(node.value).toString("latin1") : "";
  if (node?.tag === Tag.UtcTime ? !/^\d{12}Z$/.test(text) : node?.tag !== Tag.GeneralizedTime || !/^\d{14}Z$/.test(text)) {
    throw new DerError(`${what}: invalid time`);
  }
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * A validity time as Node prints it (OpenSSL's `Jan  1 00:00:00 2025 GMT`; Node 20 has no
 * `validFromDate`). The DER was checked to hold whole seconds in UTC, so this form loses nothing.
 */
function opensslTime(text: string, what: string): Date {
  const m = /^([A-Z][a-z]{2}) ([ \d]\d) (\d\d):(\d\d):(\d\d) (\d{1,4}) GMT$/.exec(text);
  const month = m ? MONTHS.indexOf(m[1]!) : -1;
  if (!m || month < 0) throw new DerError(`${what}: invalid time`);
  const [day, h, mi, s, year] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number];
  const date = new Date(Date.UTC(year, month, day, h, mi, s));
  if (year < 100) date.setUTCFullYear(year);
  return date;
}

/**
 * The values of attribute `attr` (`CN`, `O`) of a name as Node prints it: one RDN a line,
 * ` + ` between the attributes of one RDN, RFC 2253 escapes (`\,`) and `\XX` for control bytes.
 */
function nameValues(text: string, attr: string): string[] {
  const out: string[] = [];
  for (const rdn of text.split("\n")) {
    for (const atv of rdn.split(" + ")) {
      const eq = atv.indexOf("=");
      if (atv.slice(0, eq) !== attr) continue;
      out.push(atv.slice(eq + 1).replace(/\\(?:([0-9A-Fa-f]{2})|([\s\S]))/g, (_, hex?: string, c?: string) => (hex ? String.fromCharCode(parseInt(hex, 16)) : c!)));
    }
  }
  return out;
}

const curveNames: Readonly<Record<string, CurveName>> = { secp224r1: "P-224", prime256v1: "P-256", secp384r1: "P-384", secp521r1: "P-521" };
const curveBits: Readonly<Record<CurveName, number>> = { "P-224": 224, "P-256": 256, "P-384": 384, "P-521": 521 };

/** The public key as Go classifies it; Go refuses EC keys on curves it does not know, or compressed. */
function publicKeyInfo(x509: X509Certificate, oid: string, keyBits: Uint8Array): PublicKeyInfo {
  if (oid !== Oid.ecPublicKey && oid !== Oid.rsaEncryption && oid !== Oid.ed25519) {
    return { algorithm: "unknown", oid, bits: 0 };
  }
  let key: KeyObject;
  try {
    key = x509.publicKey;
  } catch {
    throw new DerError("invalid public key");
  }
  const details = key.asymmetricKeyDetails ?? {};
  if (oid === Oid.ecPublicKey) {
    const curve = curveNames[details.namedCurve ?? ""];
    if (!curve) throw new DerError("unsupported elliptic curve");
    if (keyBits[0] !== 0x04 || keyBits.length !== 1 + 2 * Math.ceil(curveBits[curve] / 8)) throw new DerError("failed to unmarshal elliptic curve point");
    return { algorithm: "ECDSA", oid, curve, bits: curveBits[curve], key };
  }
  if (oid === Oid.rsaEncryption) {
    // OpenSSL reads a negative modulus or exponent as its magnitude; Go refuses them.
    const [n, e] = sequence(decode(keyBits), "RSA public key").map((x) => readInteger(x, "RSA public key"));
    if (!(n! > 0n && e! > 0n)) throw new DerError("RSA modulus and exponent must be positive");
    return { algorithm: "RSA", oid, bits: details.modulusLength ?? 0, key };
  }
  return { algorithm: "Ed25519", oid, bits: 256, key };
}

function parseSignatureAlgorithm(node: DerNode): SignatureAlgorithm {
  const [idNode, params] = sequence(node, "signature algorithm");
  const id = readOid(idNode, "signature algorithm");
  if (id !== Oid.rsassaPss || !params) return signatureAlgorithm(id);
  // RSASSA-PSS-params: [0] hashAlgorithm (default SHA-1, which Go does not accept).
  const hashField = children(params).find((n) => n.tag === context(0));
  const hashOid = hashField ? readOid(sequence(children(hashField)[0], "hash algorithm")[0]) : undefined;
  return signatureAlgorithm(id, hashOid);
}

export function bytesEqual(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (!a || !b) return a === b;
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** PEM text of one certificate, as Go writes it. */
export const certificateToPem = (cert: Certificate): string => encodePem("CERTIFICATE", cert.raw);

/** The serial number as Go prints it (`%v` of a big.Int: decimal). */
export const serialString = (cert: Certificate): string => cert.serialNumber.toString(10);

/** The serial number in hex, as openssl prints it. */
export const serialHex = (cert: Certificate): string => {
  const h = cert.serialNumber.toString(16);
  return h.length % 2 ? "0" + h : h;
};

export type BundleProblem =
  /** Text remains that holds no PEM block (Go: `not a PEM certificate`). */
  | { kind: "not-pem"; index: number; trailing: string }
  /** A CERTIFICATE block does not hold a parsable certificate. */
  | { kind: "malformed"; index: number; detail: string };

export interface DecodedBundle {
  certificates: Certificate[];
  /** Set when decoding stopped on an error (`certificates` holds those read before it). */
  problem?: BundleProblem;
  /** Type of the first non-CERTIFICATE block, where decoding stopped without error. */
  stoppedAt?: string;
}

/**
 * Decodes PEM certificates the way Linkerd does (`DecodePEMCertificates`):
 * blocks are read in order; text that holds no further PEM block is an error
 * (so is a blank line after the last block); the first block that is not a
 * CERTIFICATE ends the list silently.
 */
export function decodeCertificates(text: string): DecodedBundle {
  const certificates: Certificate[] = [];
  let rest = text;
  while (rest.length > 0) {
    const { block, rest: next } = decodePem(rest);
    if (!block) return { certificates, problem: { kind: "not-pem", index: certificates.length, trailing: rest } };
    if (block.type !== "CERTIFICATE") return { certificates, stoppedAt: block.type };
    try {
      certificates.push(parseCertificate(block.bytes));
    } catch (e) {
      const detail = e instanceof DerError ? e.message : String(e);
      return { certificates, problem: { kind: "malformed", index: certificates.length, detail } };
    }
    rest = next;
  }
  return { certificates };
}

/**
 * The type of the first PEM block of `text` that is not a CERTIFICATE (e.g. `PRIVATE KEY`), if
 * any. Linkerd stops reading a bundle at such a block and keeps the text verbatim, so a CA key
 * pasted into a trust anchors file would be published in ConfigMaps: mesh refuses it.
 */
export { pemTypeForMessage };

export function nonCertificateBlock(text: string): string | undefined {
  let rest = text;
  for (;;) {
    const { block, rest: next } = decodePem(rest);
    if (!block) return undefined;
    if (block.type !== "CERTIFICATE") return pemTypeForMessage(block.type);
    rest = next;
  }
}

/** Go's wording of a bundle problem (`linkerd check` prints it). */
export function goBundleError(problem: BundleProblem): string {
  return problem.kind === "not-pem" ? "not a PEM certificate" : `x509: malformed certificate: ${problem.detail}`;
}

/**
 * Describes trailing text for messages by its line number only: the text itself is never quoted,
 * since the file may hold key material (issue 9: name the file and line, never the content).
 */
export function describeTrailing(text: string, trailing: string): string {
  const line = text.slice(0, text.length - trailing.length).split("\n").length;
  if (trailing.trim() === "") return `blank text after the last PEM block (line ${line})`;
  return `text that is not PEM at line ${line}`;
}
