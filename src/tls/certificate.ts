/**
 * X.509 certificates as plain data: the fields Linkerd's checks look at,
 * parsed from DER with the codec in der.ts, and PEM bundles decoded with Go's
 * rules.
 */
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
  readString,
  readTime,
  sequence,
  type DerNode,
} from "./der.js";
import { Oid, curveByOid, signatureAlgorithm, type CurveName, type SignatureAlgorithm } from "./oids.js";
import { decodePem, encodePem, pemTypeForMessage } from "./pem.js";

export interface PublicKeyInfo {
  /** Go's name of the algorithm (`ECDSA`, `RSA`, `Ed25519`), `unknown` otherwise. */
  algorithm: "ECDSA" | "RSA" | "Ed25519" | "unknown";
  oid: string;
  curve?: CurveName;
  /** ECDSA: the uncompressed point; Ed25519: the raw key. */
  point?: Uint8Array;
  modulus?: bigint;
  exponent?: bigint;
  /** Curve size or modulus length in bits (0 when unknown). */
  bits: number;
  /** The DER SubjectPublicKeyInfo. */
  spki: Uint8Array;
}

export interface Certificate {
  /** The DER encoding. */
  readonly raw: Uint8Array;
  readonly rawTbs: Uint8Array;
  /** 1, 2 or 3. */
  readonly version: number;
  readonly serialNumber: bigint;
  readonly signatureAlgorithm: SignatureAlgorithm;
  readonly signature: Uint8Array;
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

/** Parses one DER certificate; throws `DerError` describing what is malformed. */
export function parseCertificate(der: Uint8Array): Certificate {
  const [tbsNode, sigAlgNode, sigNode, ...extra] = sequence(decode(der), "certificate");
  if (extra.length) throw new DerError("certificate: unexpected trailing fields");
  const tbs = sequence(tbsNode, "tbsCertificate");
  let i = 0;
  let version = 1;
  if (tbs[0]?.tag === context(0)) {
    const [v] = children(tbs[0]);
    const n = readInteger(v, "version");
    if (n < 0n || n > 2n) throw new DerError("invalid version");
    version = Number(n) + 1;
    i++;
  }
  const serialNumber = readInteger(tbs[i++], "serial number");
  const innerAlg = expect(tbs[i++], Tag.Sequence, "signature algorithm");
  const issuer = expect(tbs[i++], Tag.Sequence, "issuer");
  const [nb, na] = sequence(tbs[i++], "validity");
  const subject = expect(tbs[i++], Tag.Sequence, "subject");
  const spki = expect(tbs[i++], Tag.Sequence, "subject public key info");
  while (tbs[i] && (tbs[i]!.tag === context(1, false) || tbs[i]!.tag === context(2, false))) i++;
  const extensions: DerNode[] = [];
  if (tbs[i]?.tag === context(3)) {
    const [list] = children(tbs[i]!);
    extensions.push(...sequence(list, "extensions"));
    i++;
  }
  if (i !== tbs.length) throw new DerError("tbsCertificate: unexpected fields");

  if (!bytesEqual(innerAlg.bytes, expect(sigAlgNode, Tag.Sequence, "signature algorithm").bytes)) {
    throw new DerError("inner and outer signature algorithm identifiers don't match");
  }
  const sig = readBitString(sigNode, "signature");

  const subjectAttrs = nameAttributes(subject);
  const cert: {
    -readonly [K in keyof Certificate]: Certificate[K];
  } = {
    raw: der,
    rawTbs: tbsNode!.bytes,
    version,
    serialNumber,
    signatureAlgorithm: parseSignatureAlgorithm(innerAlg),
    signature: sig.bytes,
    rawIssuer: issuer.bytes,
    rawSubject: subject.bytes,
    commonName: lastValue(subjectAttrs, Oid.commonName),
    issuerCommonName: lastValue(nameAttributes(issuer), Oid.commonName),
    organization: subjectAttrs.filter((a) => a.oid === Oid.organization).map((a) => a.value),
    notBefore: readTime(nb, "notBefore"),
    notAfter: readTime(na, "notAfter"),
    publicKey: parsePublicKey(spki),
    basicConstraintsValid: false,
    isCA: false,
    maxPathLen: -1,
    keyUsage: 0,
    extKeyUsage: [],
    dnsNames: [],
    hasSanExtension: false,
    unhandledCriticalExtensions: [],
  };

  for (const ext of extensions) {
    const parts = sequence(ext, "extension");
    const id = readOid(parts[0], "extension id");
    let critical = false;
    let valueNode = parts[1];
    if (valueNode?.tag === Tag.Boolean) {
      critical = readBoolean(valueNode, "extension critical flag");
      valueNode = parts[2];
    }
    const value = readOctets(valueNode, `extension ${id}`);
    let handled = true;
    switch (id) {
      case Oid.basicConstraints: {
        const bc = sequence(decode(value), "basic constraints");
        let j = 0;
        if (bc[j]?.tag === Tag.Boolean) cert.isCA = readBoolean(bc[j++], "basic constraints cA");
        if (bc[j]?.tag === Tag.Integer) {
          const n = readInteger(bc[j++], "basic constraints pathLen");
          if (n < 0n || n > 0x7fffffffn) throw new DerError("invalid basic constraints pathLen");
          cert.maxPathLen = Number(n);
        }
        cert.basicConstraintsValid = true;
        break;
      }
      case Oid.keyUsage: {
        const { bytes } = readBitString(decode(value), "key usage");
        let ku = 0;
        for (let bit = 0; bit < 9; bit++) {
          const byte = bytes[bit >> 3];
          if (byte !== undefined && byte & (0x80 >> (bit & 7))) ku |= 1 << bit;
        }
        cert.keyUsage = ku;
        break;
      }
      case Oid.extKeyUsage:
        cert.extKeyUsage = sequence(decode(value), "extended key usage").map((n) => readOid(n, "extended key usage"));
        break;
      case Oid.subjectAltName: {
        cert.hasSanExtension = true;
        cert.rawSan = value;
        const names = sequence(decode(value), "subject alternative name");
        let understood = 0;
        for (const n of names) {
          const tagNumber = n.tag & 0x1f;
          if ((n.tag & 0xc0) !== 0x80) throw new DerError("invalid subject alternative name");
          if (tagNumber === 2) cert.dnsNames.push(Buffer.from(n.value).toString("latin1"));
          if ([1, 2, 6, 7].includes(tagNumber)) understood++;
        }
        // Go treats a critical SAN holding none of the names it parses as unhandled.
        handled = understood > 0;
        break;
      }
      case Oid.subjectKeyIdentifier:
        cert.subjectKeyId = readOctets(decode(value), "subject key identifier");
        break;
      case Oid.authorityKeyIdentifier: {
        const aki = sequence(decode(value), "authority key identifier");
        const keyId = aki.find((n) => n.tag === context(0, false));
        if (keyId) cert.authorityKeyId = keyId.value;
        break;
      }
      case Oid.nameConstraints:
      case Oid.crlDistributionPoints:
      case Oid.certificatePolicies:
      case Oid.authorityInfoAccess:
        break;
      default:
        handled = false;
    }
    if (critical && !handled) cert.unhandledCriticalExtensions.push(id);
  }
  return cert;
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

function parsePublicKey(spki: DerNode): PublicKeyInfo {
  const [algNode, keyNode] = sequence(spki, "subject public key info");
  const [algOidNode, params] = sequence(algNode, "public key algorithm");
  const oid = readOid(algOidNode, "public key algorithm");
  const key = readBitString(keyNode, "public key");
  if (oid === Oid.ecPublicKey) {
    const curve = curveByOid[params ? readOid(params, "named curve") : ""];
    if (!curve) throw new DerError("unsupported elliptic curve");
    const size = Math.ceil(curve.bits / 8);
    if (key.bytes.length !== 1 + 2 * size || key.bytes[0] !== 0x04) {
      throw new DerError("failed to unmarshal elliptic curve point");
    }
    return { algorithm: "ECDSA", oid, curve: curve.name, point: key.bytes, bits: curve.bits, spki: spki.bytes };
  }
  if (oid === Oid.rsaEncryption) {
    const [n, e] = sequence(decode(key.bytes), "RSA public key");
    const modulus = readInteger(n, "RSA modulus");
    const exponent = readInteger(e, "RSA exponent");
    if (modulus <= 0n) throw new DerError("RSA modulus is not a positive number");
    if (exponent <= 0n) throw new DerError("RSA public exponent is not a positive number");
    return { algorithm: "RSA", oid, modulus, exponent, bits: modulus.toString(2).length, spki: spki.bytes };
  }
  if (oid === Oid.ed25519) {
    if (key.bytes.length !== 32) throw new DerError("invalid Ed25519 public key");
    return { algorithm: "Ed25519", oid, point: key.bytes, bits: 256, spki: spki.bytes };
  }
  return { algorithm: "unknown", oid, bits: 0, spki: spki.bytes };
}

interface NameAttribute {
  oid: string;
  value: string;
}

function nameAttributes(name: DerNode): NameAttribute[] {
  const out: NameAttribute[] = [];
  for (const rdn of children(name)) {
    for (const atv of children(expect(rdn, Tag.Set, "relative distinguished name"))) {
      const [type, value] = sequence(atv, "attribute");
      const oid = readOid(type, "attribute type");
      let text = "";
      try {
        text = readString(value!);
      } catch {
        // Attributes that are not strings don't matter here.
      }
      out.push({ oid, value: text });
    }
  }
  return out;
}

function lastValue(attrs: NameAttribute[], oid: string): string {
  let v = "";
  for (const a of attrs) if (a.oid === oid) v = a.value;
  return v;
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
