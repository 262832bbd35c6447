/**
 * Private keys in the three PEM forms Linkerd accepts (SEC 1 `EC PRIVATE KEY`, PKCS#1
 * `RSA PRIVATE KEY`, PKCS#8 `PRIVATE KEY`), and the key encodings `mesh install` writes.
 *
 * RSA keys are read by Node (OpenSSL). EC keys are not handed to Node's `createPrivateKey`
 * unchecked: OpenSSL takes any scalar, even zero, one beyond the curve order or longer than the
 * curve (and Node 20 then aborts the whole process in `asymmetricKeyDetails` or a JWK export),
 * and trusts the public key stored with it, where Go (Linkerd) refuses such scalars and derives
 * the public key from the scalar. So a small reader takes the scalar, curve and stored point
 * out of the DER, and Node's ECDH checks the scalar and derives the point.
 */
import { createECDH, createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import {
  DerError,
  Tag,
  bitString,
  children,
  context,
  decode,
  explicit,
  integer,
  octets,
  oid,
  readBitString,
  readInteger,
  readOctets,
  readOid,
  seq,
  sequence,
} from "./der.js";
import { Oid, curveByOid, curveOid, type CurveName } from "./oids.js";
import type { PublicKeyInfo } from "./certificate.js";
import { decodePem, encodePem, pemTypeForMessage } from "./pem.js";

export type PrivateKey =
  | {
      kind: "ECDSA";
      /** The PEM block it came from. */
      format: "EC PRIVATE KEY" | "PRIVATE KEY";
      /** Named curve (keys on curves Go does not know are refused when read). */
      curve: CurveName;
      bits: number;
      /** The private scalar, big-endian, padded to the curve size. */
      d: Uint8Array;
      /** The public point stored with the key (`[1] publicKey`), if any; Go ignores it, ring requires it. */
      embeddedPoint?: Uint8Array;
    }
  | {
      kind: "RSA";
      format: "RSA PRIVATE KEY" | "PRIVATE KEY";
      /** Node's key (OpenSSL parsed it). */
      key: KeyObject;
      bits: number;
    };

/** Why a key could not be read; `message` is Go's wording where Linkerd shows it. */
export class KeyError extends Error {
  override name = "KeyError";
  constructor(
    readonly reason: "not-pem" | "unsupported-block" | "unsupported-pkcs8" | "unsupported-curve" | "malformed",
    message: string,
    /** For "unsupported-block": the PEM block's type, as safe to print (pemTypeForMessage). */
    readonly blockType = "",
  ) {
    super(message);
  }
}

/**
 * Reads the first PEM block of `text` as a private key, as Linkerd's
 * `DecodePEMKey` does: later blocks are ignored, and the first block must be
 * one of the three key types.
 */
export function decodePrivateKey(text: string): PrivateKey {
  const { block } = decodePem(text);
  if (!block) throw new KeyError("not-pem", "not PEM-encoded");
  try {
    switch (block.type) {
      case "EC PRIVATE KEY":
        return { ...parseSec1(block.bytes), format: "EC PRIVATE KEY" };
      case "RSA PRIVATE KEY":
        return { ...parseRsa(block.bytes, "pkcs1"), format: "RSA PRIVATE KEY" };
      case "PRIVATE KEY":
        return parsePkcs8(block.bytes);
      default:
        const type = pemTypeForMessage(block.type);
        throw new KeyError("unsupported-block", `unsupported block type: '${type}'`, type);
    }
  } catch (e) {
    if (e instanceof DerError) throw new KeyError("malformed", `malformed ${block.type}: ${e.message}`);
    throw e;
  }
}

/** SEC 1 ECPrivateKey; `outerCurve` is the curve named by an enclosing PKCS#8 structure. */
function parseSec1(der: Uint8Array, outerCurve?: string): Omit<Extract<PrivateKey, { kind: "ECDSA" }>, "format"> {
  const fields = sequence(decode(der), "EC private key");
  const version = readInteger(fields[0], "EC private key version");
  if (version !== 1n) throw new DerError(`unknown EC private key version ${version}`);
  const scalar = readOctets(fields[1], "EC private key value");
  const params = fields.find((f) => f.tag === context(0));
  const curveId = outerCurve ?? (params ? readOid(children(params)[0], "named curve") : undefined);
  const curve = curveId ? curveByOid[curveId] : undefined;
  if (!curve) throw new KeyError("unsupported-curve", `x509: unknown elliptic curve${curveId ? ` ${curveId}` : ""}`);
  // Go pads a short scalar and refuses a long one (leading zeros aside).
  const size = Math.ceil(curve.bits / 8);
  const start = scalar.findIndex((b) => b !== 0);
  const trimmed = start < 0 ? new Uint8Array() : scalar.subarray(start);
  if (trimmed.length > size) throw new DerError("invalid elliptic curve private key length");
  if (trimmed.length === 0) throw new DerError("invalid elliptic curve private key value");
  const d = new Uint8Array(size);
  d.set(trimmed, size - trimmed.length);
  const pub = fields.find((f) => f.tag === context(1));
  const embeddedPoint = pub ? readBitString(children(pub)[0]).bytes : undefined;
  return { kind: "ECDSA", curve: curve.name, bits: curve.bits, d, ...(embeddedPoint ? { embeddedPoint } : {}) };
}

/** An RSA key, parsed by OpenSSL. */
function parseRsa(der: Uint8Array, type: "pkcs1" | "pkcs8"): Omit<Extract<PrivateKey, { kind: "RSA" }>, "format"> {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: Buffer.from(der), format: "der", type });
  } catch {
    throw new DerError("not a valid RSA private key");
  }
  return { kind: "RSA", key, bits: key.asymmetricKeyDetails?.modulusLength ?? 0 };
}

function parsePkcs8(der: Uint8Array): PrivateKey {
  const fields = sequence(decode(der), "PKCS#8 private key");
  readInteger(fields[0], "PKCS#8 version");
  const [algId, params] = sequence(fields[1], "PKCS#8 algorithm");
  const alg = readOid(algId, "PKCS#8 algorithm");
  if (alg === Oid.ecPublicKey) {
    const curveId = params?.tag === Tag.Oid ? readOid(params, "named curve") : undefined;
    if (!curveId) throw new KeyError("unsupported-curve", "x509: unknown elliptic curve");
    return { ...parseSec1(readOctets(fields[2], "PKCS#8 private key"), curveId), format: "PRIVATE KEY" };
  }
  if (alg === Oid.rsaEncryption) return { ...parseRsa(der, "pkcs8"), format: "PRIVATE KEY" };
  const name = alg === Oid.ed25519 ? "ed25519.PrivateKey" : alg;
  throw new KeyError(
    "unsupported-pkcs8",
    `unsupported PKCS#8 encoded private key type: '${name}', linkerd2 only supports ECDSA and RSA private keys`,
  );
}

/** Minimal PKCS#8 wrapping of an EC scalar (no public key). */
function ecPkcs8(curve: CurveName, d: Uint8Array): Uint8Array {
  return seq(integer(0), seq(oid(Oid.ecPublicKey), oid(curveOid(curve))), octets(seq(integer(1), octets(d))));
}

/** PKCS#8 DER of a key (EC keys without the public point). */
export function privateKeyToPkcs8(key: PrivateKey): Uint8Array {
  if (key.kind === "ECDSA") return ecPkcs8(key.curve, key.d);
  return new Uint8Array(key.key.export({ type: "pkcs8", format: "der" }));
}

const ecdhCurve: Record<CurveName, string> = { "P-224": "secp224r1", "P-256": "prime256v1", "P-384": "secp384r1", "P-521": "secp521r1" };

/**
 * The uncompressed public point (0x04 ‖ X ‖ Y) of an EC private key, derived
 * from the scalar as Go does (an embedded public key is not trusted).
 * Throws `KeyError` for P-224 (which Linkerd's TLS stacks cannot use) and for a
 * scalar that is not below the curve order.
 */
export function ecPublicPoint(key: Extract<PrivateKey, { kind: "ECDSA" }>): Uint8Array {
  if (key.curve === "P-224") throw new KeyError("unsupported-curve", "the P-224 curve is not supported");
  const ecdh = createECDH(ecdhCurve[key.curve]);
  try {
    ecdh.setPrivateKey(key.d);
  } catch {
    throw new KeyError("malformed", "x509: invalid elliptic curve private key value"); // Go's words: not below the order
  }
  return new Uint8Array(ecdh.getPublicKey());
}

/** The public key of an EC private key as Node's KeyObject (point derived from the scalar). */
function ecPublicKey(key: Extract<PrivateKey, { kind: "ECDSA" }>): KeyObject {
  const point = ecPublicPoint(key);
  const size = (point.length - 1) / 2;
  const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64url");
  return createPublicKey({ key: { kty: "EC", crv: key.curve, x: b64(point.subarray(1, 1 + size)), y: b64(point.subarray(1 + size)) }, format: "jwk" });
}

/**
 * SEC 1 DER exactly as Go's `x509.MarshalECPrivateKey` writes it: version 1,
 * the padded scalar, the named curve `[0]` and the public point `[1]`.
 */
export function encodeSec1(curve: CurveName, d: Uint8Array, point: Uint8Array): Uint8Array {
  return seq(integer(1), octets(d), explicit(0, oid(curveOid(curve))), explicit(1, bitString(point)));
}

/** `EC PRIVATE KEY` PEM of an EC key (public point derived from the scalar). */
export function ecPrivateKeyPem(key: Extract<PrivateKey, { kind: "ECDSA" }>): string {
  return encodePem("EC PRIVATE KEY", encodeSec1(key.curve, key.d, ecPublicPoint(key)));
}

const exportAs = (pkcs8: Uint8Array, type: "sec1" | "pkcs1"): Uint8Array =>
  new Uint8Array(createPrivateKey({ key: Buffer.from(pkcs8), format: "der", type: "pkcs8" }).export({ type, format: "der" }));

/** SEC 1 DER (Go's `MarshalECPrivateKey` layout: OpenSSL writes the same) of a PKCS#8 EC key mesh made. */
export const pkcs8ToSec1 = (pkcs8: Uint8Array): Uint8Array => exportAs(pkcs8, "sec1");

/** PKCS#1 DER (the inner RSAPrivateKey) of a PKCS#8 RSA key mesh made. */
export const pkcs8ToPkcs1 = (pkcs8: Uint8Array): Uint8Array => exportAs(pkcs8, "pkcs1");

/** The public point stored inside SEC 1 DER, if any (for tests and diagnostics). */
export function sec1EmbeddedPoint(der: Uint8Array): Uint8Array | undefined {
  return parseSec1(der).embeddedPoint;
}

/**
 * Whether `key` is the private half of `publicKey` (`KeyObject.equals` of the public keys; an EC
 * key's is derived from its scalar). Throws `KeyError` for an EC scalar that is not a valid
 * private key.
 */
export function keyMatchesPublicKey(key: PrivateKey, publicKey: PublicKeyInfo): boolean {
  if (!publicKey.key) return false;
  if (key.kind === "RSA") return publicKey.algorithm === "RSA" && createPublicKey(key.key).equals(publicKey.key);
  if (publicKey.algorithm !== "ECDSA" || publicKey.curve !== key.curve) return false;
  return ecPublicKey(key).equals(publicKey.key);
}
