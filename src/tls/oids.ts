/** Object identifiers and the names Go gives them (Linkerd's messages print Go's names). */

export const Oid = {
  // public key algorithms
  ecPublicKey: "1.2.840.10045.2.1",
  rsaEncryption: "1.2.840.113549.1.1.1",
  ed25519: "1.3.101.112",
  // named curves
  p224: "1.3.132.0.33",
  p256: "1.2.840.10045.3.1.7",
  p384: "1.3.132.0.34",
  p521: "1.3.132.0.35",
  // name attributes
  commonName: "2.5.4.3",
  organization: "2.5.4.10",
  // extensions
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  nameConstraints: "2.5.29.30",
  crlDistributionPoints: "2.5.29.31",
  certificatePolicies: "2.5.29.32",
  authorityKeyIdentifier: "2.5.29.35",
  extKeyUsage: "2.5.29.37",
  authorityInfoAccess: "1.3.6.1.5.5.7.1.1",
  // extended key usages
  anyExtendedKeyUsage: "2.5.29.37.0",
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
  // digests (RSASSA-PSS parameters)
  sha256: "2.16.840.1.101.3.4.2.1",
  sha384: "2.16.840.1.101.3.4.2.2",
  sha512: "2.16.840.1.101.3.4.2.3",
  rsassaPss: "1.2.840.113549.1.1.10",
} as const;

export type CurveName = "P-224" | "P-256" | "P-384" | "P-521";

export const curveByOid: Readonly<Record<string, { name: CurveName; bits: number }>> = {
  [Oid.p224]: { name: "P-224", bits: 224 },
  [Oid.p256]: { name: "P-256", bits: 256 },
  [Oid.p384]: { name: "P-384", bits: 384 },
  [Oid.p521]: { name: "P-521", bits: 521 },
};

export const curveOid = (name: CurveName): string =>
  Object.entries(curveByOid).find(([, c]) => c.name === name)![0];

export type Hash = "SHA-1" | "SHA-256" | "SHA-384" | "SHA-512" | "MD5";

export interface SignatureAlgorithm {
  /** Go's name, e.g. `ECDSA-SHA256`, `SHA256-RSA`; the OID when Go has none. */
  name: string;
  oid: string;
  /** Which public key kind can verify it. */
  key?: "ECDSA" | "RSA" | "RSA-PSS" | "Ed25519";
  hash?: Hash;
}

const signatureAlgorithms: Record<string, Omit<SignatureAlgorithm, "oid">> = {
  "1.2.840.113549.1.1.4": { name: "MD5-RSA", key: "RSA", hash: "MD5" },
  "1.2.840.113549.1.1.5": { name: "SHA1-RSA", key: "RSA", hash: "SHA-1" },
  "1.2.840.113549.1.1.11": { name: "SHA256-RSA", key: "RSA", hash: "SHA-256" },
  "1.2.840.113549.1.1.12": { name: "SHA384-RSA", key: "RSA", hash: "SHA-384" },
  "1.2.840.113549.1.1.13": { name: "SHA512-RSA", key: "RSA", hash: "SHA-512" },
  "1.2.840.10045.4.1": { name: "ECDSA-SHA1", key: "ECDSA", hash: "SHA-1" },
  "1.2.840.10045.4.3.2": { name: "ECDSA-SHA256", key: "ECDSA", hash: "SHA-256" },
  "1.2.840.10045.4.3.3": { name: "ECDSA-SHA384", key: "ECDSA", hash: "SHA-384" },
  "1.2.840.10045.4.3.4": { name: "ECDSA-SHA512", key: "ECDSA", hash: "SHA-512" },
  "1.3.101.112": { name: "Ed25519", key: "Ed25519" },
  "1.2.840.10040.4.3": { name: "DSA-SHA1" },
  "2.16.840.1.101.3.4.3.2": { name: "DSA-SHA256" },
};

const pssHashes: Record<string, Hash> = { [Oid.sha256]: "SHA-256", [Oid.sha384]: "SHA-384", [Oid.sha512]: "SHA-512" };

/** Names a signature algorithm; `pssHashOid` is the digest from RSASSA-PSS parameters. */
export function signatureAlgorithm(oid: string, pssHashOid?: string): SignatureAlgorithm {
  if (oid === Oid.rsassaPss) {
    const hash = pssHashOid ? pssHashes[pssHashOid] : undefined;
    return hash
      ? { oid, name: `${hash.replace("-", "")}-RSAPSS`, key: "RSA-PSS", hash }
      : { oid, name: oid };
  }
  const known = signatureAlgorithms[oid];
  return known ? { oid, ...known } : { oid, name: oid };
}

/** Go's x509.KeyUsage bits. */
export const KeyUsage = {
  digitalSignature: 1 << 0,
  contentCommitment: 1 << 1,
  keyEncipherment: 1 << 2,
  dataEncipherment: 1 << 3,
  keyAgreement: 1 << 4,
  certSign: 1 << 5,
  crlSign: 1 << 6,
  encipherOnly: 1 << 7,
  decipherOnly: 1 << 8,
} as const;
