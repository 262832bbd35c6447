/**
 * Private keys: reading the three PEM forms Linkerd accepts (SEC 1
 * `EC PRIVATE KEY`, PKCS#1 `RSA PRIVATE KEY`, PKCS#8 `PRIVATE KEY`) and
 * writing SEC 1 and PKCS#1 from WebCrypto's PKCS#8 exports.
 */
import { webcrypto } from "node:crypto";
import {
  DerError,
  Tag,
  bigintToBytes,
  bitString,
  bytesToBigint,
  children,
  context,
  decode,
  explicit,
  integer,
  nul,
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

const subtle = webcrypto.subtle;

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
      /** PKCS#1 RSAPrivateKey DER. */
      pkcs1: Uint8Array;
      modulus: bigint;
      exponent: bigint;
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
        return { ...parsePkcs1(block.bytes), format: "RSA PRIVATE KEY" };
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
  const size = Math.ceil(curve.bits / 8);
  let i = 0;
  while (i < scalar.length - size && scalar[i] === 0) i++;
  const trimmed = scalar.subarray(i);
  if (trimmed.length > size) throw new DerError("invalid elliptic curve private key length");
  const d = bigintToBytes(bytesToBigint(trimmed), size);
  if (bytesToBigint(d) === 0n) throw new DerError("invalid elliptic curve private key value");
  const pub = fields.find((f) => f.tag === context(1));
  const embeddedPoint = pub ? readBitString(children(pub)[0]).bytes : undefined;
  return { kind: "ECDSA", curve: curve.name, bits: curve.bits, d, ...(embeddedPoint ? { embeddedPoint } : {}) };
}

function parsePkcs1(der: Uint8Array): Omit<Extract<PrivateKey, { kind: "RSA" }>, "format"> {
  const fields = sequence(decode(der), "RSA private key");
  const version = readInteger(fields[0], "RSA private key version");
  if (version !== 0n && version !== 1n) throw new DerError(`unsupported RSA private key version ${version}`);
  if (fields.length < 9) throw new DerError("RSA private key: missing fields");
  const modulus = readInteger(fields[1], "RSA modulus");
  const exponent = readInteger(fields[2], "RSA public exponent");
  for (let k = 3; k < 9; k++) readInteger(fields[k], "RSA private key field");
  if (modulus <= 0n || exponent <= 0n) throw new DerError("RSA key values must be positive");
  return { kind: "RSA", pkcs1: der, modulus, exponent, bits: modulus.toString(2).length };
}

function parsePkcs8(der: Uint8Array): PrivateKey {
  const fields = sequence(decode(der), "PKCS#8 private key");
  readInteger(fields[0], "PKCS#8 version");
  const [algId, params] = sequence(fields[1], "PKCS#8 algorithm");
  const alg = readOid(algId, "PKCS#8 algorithm");
  const inner = readOctets(fields[2], "PKCS#8 private key");
  if (alg === Oid.ecPublicKey) {
    const curveId = params?.tag === Tag.Oid ? readOid(params, "named curve") : undefined;
    if (!curveId) throw new KeyError("unsupported-curve", "x509: unknown elliptic curve");
    return { ...parseSec1(inner, curveId), format: "PRIVATE KEY" };
  }
  if (alg === Oid.rsaEncryption) return { ...parsePkcs1(inner), format: "PRIVATE KEY" };
  const name = alg === Oid.ed25519 ? "ed25519.PrivateKey" : alg;
  throw new KeyError(
    "unsupported-pkcs8",
    `unsupported PKCS#8 encoded private key type: '${name}', linkerd2 only supports ECDSA and RSA private keys`,
  );
}

/** Minimal PKCS#8 wrapping of an EC scalar (no public key: the importer derives it). */
function ecPkcs8(curve: CurveName, d: Uint8Array): Uint8Array {
  return seq(
    integer(0),
    seq(oid(Oid.ecPublicKey), oid(curveOid(curve))),
    octets(seq(integer(1), octets(d))),
  );
}

/** PKCS#8 DER of a key, for WebCrypto's importKey (EC keys without the public point). */
export function privateKeyToPkcs8(key: PrivateKey): Uint8Array {
  if (key.kind === "ECDSA") return ecPkcs8(key.curve, key.d);
  return seq(integer(0), seq(oid(Oid.rsaEncryption), nul()), octets(key.pkcs1));
}

/**
 * The uncompressed public point (0x04 ‖ X ‖ Y) of an EC private key, derived
 * from the scalar as Go does (an embedded public key is not trusted).
 * Throws `KeyError` for curves WebCrypto cannot use (P-224) or invalid scalars.
 */
export async function ecPublicPoint(key: Extract<PrivateKey, { kind: "ECDSA" }>): Promise<Uint8Array> {
  if (key.curve === "P-224") throw new KeyError("unsupported-curve", "the P-224 curve is not supported");
  let jwk: webcrypto.JsonWebKey;
  try {
    const k = await subtle.importKey("pkcs8", ecPkcs8(key.curve, key.d), { name: "ECDSA", namedCurve: key.curve }, true, [
      "sign",
    ]);
    jwk = await subtle.exportKey("jwk", k);
  } catch (e) {
    throw new KeyError("malformed", `invalid EC private key: ${(e as Error).message}`);
  }
  const size = Math.ceil(key.bits / 8);
  const x = bigintToBytes(bytesToBigint(Buffer.from(jwk.x!, "base64url")), size);
  const y = bigintToBytes(bytesToBigint(Buffer.from(jwk.y!, "base64url")), size);
  return Uint8Array.of(0x04, ...x, ...y);
}

/**
 * SEC 1 DER exactly as Go's `x509.MarshalECPrivateKey` writes it: version 1,
 * the padded scalar, the named curve `[0]` and the public point `[1]`.
 */
export function encodeSec1(curve: CurveName, d: Uint8Array, point: Uint8Array): Uint8Array {
  return seq(integer(1), octets(d), explicit(0, oid(curveOid(curve))), explicit(1, bitString(point)));
}

/** `EC PRIVATE KEY` PEM of an EC key (public point derived from the scalar). */
export async function ecPrivateKeyPem(key: Extract<PrivateKey, { kind: "ECDSA" }>): Promise<string> {
  return encodePem("EC PRIVATE KEY", encodeSec1(key.curve, key.d, await ecPublicPoint(key)));
}

/** Converts a WebCrypto PKCS#8 export of an EC key to SEC 1 DER. */
export async function pkcs8ToSec1(pkcs8: Uint8Array): Promise<Uint8Array> {
  const key = parsePkcs8(pkcs8);
  if (key.kind !== "ECDSA") throw new KeyError("malformed", "not an EC private key");
  return encodeSec1(key.curve, key.d, await ecPublicPoint(key));
}

/**
 * PKCS#8 DER of an EC key exactly as Go's `x509.MarshalPKCS8PrivateKey` writes it: version 0,
 * algorithm id-ecPublicKey with the named curve, and inside the SEC 1 structure without its
 * own curve parameters but with the public point (RFC 5915 §2, RFC 5958).
 */
export function encodeEcPkcs8(curve: CurveName, d: Uint8Array, point: Uint8Array): Uint8Array {
  return seq(
    integer(0),
    seq(oid(Oid.ecPublicKey), oid(curveOid(curve))),
    octets(seq(integer(1), octets(d), explicit(1, bitString(point)))),
  );
}

/**
 * Re-encodes a WebCrypto PKCS#8 export of an EC key in Go's PKCS#8 layout (see
 * `encodeEcPkcs8`); `point` is the key's uncompressed public point (its "raw" export), so no
 * second key import is needed to derive it.
 */
export function ecPkcs8ToGo(pkcs8: Uint8Array, point: Uint8Array): Uint8Array {
  const key = parsePkcs8(pkcs8);
  if (key.kind !== "ECDSA") throw new KeyError("malformed", "not an EC private key");
  return encodeEcPkcs8(key.curve, key.d, point);
}

/** Converts a WebCrypto PKCS#8 export of an RSA key to PKCS#1 DER (the inner RSAPrivateKey). */
export function pkcs8ToPkcs1(pkcs8: Uint8Array): Uint8Array {
  const key = parsePkcs8(pkcs8);
  if (key.kind !== "RSA") throw new KeyError("malformed", "not an RSA private key");
  return key.pkcs1;
}

/** The public point stored inside SEC 1 DER, if any (for tests and diagnostics). */
export function sec1EmbeddedPoint(der: Uint8Array): Uint8Array | undefined {
  const f = sequence(decode(der), "EC private key").find((n) => n.tag === context(1));
  return f ? readBitString(children(f)[0]).bytes : undefined;
}

/**
 * Whether `key` is the private half of `publicKey` (same RSA modulus and
 * exponent, or same curve and point). Throws `KeyError` for an EC scalar that
 * is not a valid private key.
 */
export async function keyMatchesPublicKey(key: PrivateKey, publicKey: PublicKeyInfo): Promise<boolean> {
  if (key.kind === "RSA") {
    return publicKey.algorithm === "RSA" && publicKey.modulus === key.modulus && publicKey.exponent === key.exponent;
  }
  if (publicKey.algorithm !== "ECDSA" || publicKey.curve !== key.curve || !publicKey.point) return false;
  const point = await ecPublicPoint(key);
  return point.length === publicKey.point.length && point.every((b, i) => b === publicKey.point![i]);
}
