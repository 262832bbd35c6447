/**
 * Certificate construction: the TBSCertificate is encoded with der.ts, byte
 * for byte as Go's `x509.CreateCertificate` encodes it, and signed with Node's
 * WebCrypto. (An X.509 library is not needed for this, and importing
 * @peculiar/x509 alone costs more CPU than `mesh install` may spend.)
 */
import { webcrypto } from "node:crypto";
import {
  Tag,
  bitString,
  bool,
  decode,
  explicit,
  integer,
  nul,
  octets,
  oid,
  readBitString,
  seq,
  sequence,
  tlv,
} from "./der.js";
import { Oid } from "./oids.js";

const subtle = webcrypto.subtle;

type Key = webcrypto.CryptoKey;
type Hash = "SHA-1" | "SHA-256" | "SHA-384" | "SHA-512";

export interface CertificateTemplate {
  /** A positive serial number. */
  serialNumber: bigint;
  subjectCommonName: string;
  /** The issuer's DER subject; omit for a self-signed certificate. */
  issuerName?: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  publicKey: Key;
  /** ECDSA or RSASSA-PKCS1-v1_5 private key. */
  signingKey: Key;
  /** Digest for ECDSA signatures; SHA-256 by default (SHA-1 only to test that it is refused). RSA keys carry their own. */
  hash?: Hash;
  /** Emit basicConstraints (critical). */
  basicConstraints?: boolean;
  isCA?: boolean;
  /** pathLenConstraint; omitted when undefined. */
  maxPathLen?: number;
  /** Go KeyUsage bits (see `KeyUsage`); the extension is omitted when 0. */
  keyUsage?: number;
  extKeyUsage?: string[];
  dnsNames?: string[];
  /** Add a subjectKeyIdentifier (SHA-1 of the public key, as Go does for CAs). */
  subjectKeyId?: boolean;
  /** authorityKeyIdentifier keyIdentifier to add (the issuer's SKI). */
  authorityKeyId?: Uint8Array;
  /** Further extensions, appended last (as Go appends ExtraExtensions). */
  extraExtensions?: Array<{ oid: string; critical: boolean; value: Uint8Array }>;
}

const ecdsaSignatureOid: Record<Hash, string> = {
  "SHA-1": "1.2.840.10045.4.1",
  "SHA-256": "1.2.840.10045.4.3.2",
  "SHA-384": "1.2.840.10045.4.3.3",
  "SHA-512": "1.2.840.10045.4.3.4",
};
const rsaSignatureOid: Record<Hash, string> = {
  "SHA-1": "1.2.840.113549.1.1.5",
  "SHA-256": "1.2.840.113549.1.1.11",
  "SHA-384": "1.2.840.113549.1.1.12",
  "SHA-512": "1.2.840.113549.1.1.13",
};

/** Characters for which Go's asn1 package writes a PrintableString rather than a UTF8String. */
function goPrintable(s: string): boolean {
  return /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(s);
}

/** A Name holding only a CN, string type chosen the way Go's asn1 package chooses it. */
export function commonNameDer(cn: string): Uint8Array {
  const value = goPrintable(cn)
    ? tlv(Tag.PrintableString, Buffer.from(cn, "latin1"))
    : tlv(Tag.Utf8String, Buffer.from(cn, "utf8"));
  return seq(tlv(Tag.Set, seq(oid(Oid.commonName), value)));
}

/** UTCTime through 2049, GeneralizedTime after, whole seconds (Go truncates). */
function timeDer(d: Date): Uint8Array {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, "") + "Z";
  const year = d.getUTCFullYear();
  return year >= 1950 && year < 2050
    ? tlv(Tag.UtcTime, Buffer.from(digits.slice(2), "latin1"))
    : tlv(Tag.GeneralizedTime, Buffer.from(digits, "latin1"));
}

/** keyUsage BIT STRING with Go's minimal bit length. */
function keyUsageDer(ku: number): Uint8Array {
  let bitLength = 0;
  for (let bit = 0; bit < 9; bit++) if (ku & (1 << bit)) bitLength = bit + 1;
  const bytes = new Uint8Array(Math.max(1, Math.ceil(bitLength / 8)));
  for (let bit = 0; bit < 9; bit++) if (ku & (1 << bit)) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  return bitString(bytes, bytes.length * 8 - bitLength);
}

function extension(id: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value));
}

/** SHA-1 of the subjectPublicKey bits: the key identifier Go uses (RFC 5280 method 1). */
export async function keyIdentifier(spki: Uint8Array): Promise<Uint8Array> {
  const [, keyBits] = sequence(decode(spki), "subject public key info");
  return new Uint8Array(await subtle.digest("SHA-1", readBitString(keyBits).bytes));
}

/** WebCrypto's r ‖ s to the DER ECDSA-Sig-Value certificates carry. */
function ecdsaDerSignature(raw: Uint8Array): Uint8Array {
  const half = raw.length / 2;
  return seq(integer(raw.subarray(0, half)), integer(raw.subarray(half)));
}

/** Signs a certificate built from `t`; returns its DER. Extension order follows Go. */
export async function buildCertificate(t: CertificateTemplate): Promise<Uint8Array> {
  if (t.serialNumber <= 0n) throw new Error("serial number must be positive");
  const spki = new Uint8Array(await subtle.exportKey("spki", t.publicKey));

  const extensions: Uint8Array[] = [];
  if (t.keyUsage) extensions.push(extension(Oid.keyUsage, true, keyUsageDer(t.keyUsage)));
  if (t.extKeyUsage?.length) extensions.push(extension(Oid.extKeyUsage, false, seq(...t.extKeyUsage.map(oid))));
  if (t.basicConstraints) {
    const fields: Uint8Array[] = [];
    if (t.isCA) fields.push(bool(true));
    if (t.maxPathLen !== undefined) fields.push(integer(t.maxPathLen));
    extensions.push(extension(Oid.basicConstraints, true, seq(...fields)));
  }
  if (t.subjectKeyId) extensions.push(extension(Oid.subjectKeyIdentifier, false, octets(await keyIdentifier(spki))));
  if (t.authorityKeyId) extensions.push(extension(Oid.authorityKeyIdentifier, false, seq(tlv(0x80, t.authorityKeyId))));
  if (t.dnsNames?.length) {
    // Go marks the SAN critical only when the subject is empty.
    const names = seq(...t.dnsNames.map((n) => tlv(0x82, Buffer.from(n, "latin1"))));
    extensions.push(extension(Oid.subjectAltName, t.subjectCommonName === "", names));
  }
  for (const e of t.extraExtensions ?? []) extensions.push(extension(e.oid, e.critical, e.value));

  const keyAlg = t.signingKey.algorithm as { name: string; hash?: { name: Hash } };
  let algorithmId: Uint8Array;
  let sign: (data: Uint8Array) => Promise<Uint8Array>;
  if (keyAlg.name === "ECDSA") {
    const hash = t.hash ?? "SHA-256";
    algorithmId = seq(oid(ecdsaSignatureOid[hash]));
    sign = async (data) =>
      ecdsaDerSignature(new Uint8Array(await subtle.sign({ name: "ECDSA", hash }, t.signingKey, data)));
  } else if (keyAlg.name === "RSASSA-PKCS1-v1_5" && keyAlg.hash) {
    algorithmId = seq(oid(rsaSignatureOid[keyAlg.hash.name]), nul());
    sign = async (data) => new Uint8Array(await subtle.sign({ name: keyAlg.name }, t.signingKey, data));
  } else {
    throw new Error(`cannot sign certificates with a ${keyAlg.name} key`);
  }

  const subject = commonNameDer(t.subjectCommonName);
  const tbs = seq(
    explicit(0, integer(2)),
    integer(t.serialNumber),
    algorithmId,
    t.issuerName ?? subject,
    seq(timeDer(t.notBefore), timeDer(t.notAfter)),
    subject,
    spki,
    ...(extensions.length ? [explicit(3, seq(...extensions))] : []),
  );
  return seq(tbs, algorithmId, bitString(await sign(tbs)));
}
