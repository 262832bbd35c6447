/** Certificate signature checks with WebCrypto, failing with Go's error texts. */
import { webcrypto } from "node:crypto";
import type { Certificate, PublicKeyInfo } from "./certificate.js";
import { DerError, bigintToBytes, decode, readUnsigned, sequence } from "./der.js";
import type { SignatureAlgorithm } from "./oids.js";

const subtle = webcrypto.subtle;

/** ECDSA-Sig-Value (DER) to the fixed-width r ‖ s WebCrypto expects. */
function ecdsaRawSignature(der: Uint8Array, size: number): Uint8Array | undefined {
  try {
    const [r, s, ...rest] = sequence(decode(der), "ECDSA signature");
    if (rest.length) return undefined;
    const rb = readUnsigned(r);
    const sb = readUnsigned(s);
    if (rb.length > size || sb.length > size) return undefined;
    const out = new Uint8Array(2 * size);
    out.set(bigintToBytes(BigInt("0x" + (Buffer.from(rb).toString("hex") || "0")), size), 0);
    out.set(bigintToBytes(BigInt("0x" + (Buffer.from(sb).toString("hex") || "0")), size), size);
    return out;
  } catch (e) {
    if (e instanceof DerError) return undefined;
    throw e;
  }
}

const goKeyType: Record<PublicKeyInfo["algorithm"], string> = {
  ECDSA: "*ecdsa.PublicKey",
  RSA: "*rsa.PublicKey",
  Ed25519: "ed25519.PublicKey",
  unknown: "<nil>",
};

/**
 * Checks `signature` over `signed` with `key`. Resolves to undefined when it
 * verifies, else to Go's error text for the failure (SHA-1 and MD5 are refused
 * as insecure, as Go 1.19 does for certificates).
 */
export async function checkSignature(
  alg: SignatureAlgorithm,
  signed: Uint8Array,
  signature: Uint8Array,
  key: PublicKeyInfo,
): Promise<string | undefined> {
  if (!alg.key) return "x509: cannot verify signature: algorithm unimplemented";
  if (alg.hash === "SHA-1" || alg.hash === "MD5") {
    const override = alg.hash === "SHA-1" ? " (temporarily override with GODEBUG=x509sha1=1)" : "";
    return `x509: cannot verify signature: insecure algorithm ${alg.name}${override}`;
  }
  const wanted = alg.key === "RSA-PSS" ? "RSA" : alg.key;
  if (key.algorithm !== wanted) {
    return `x509: signature algorithm specifies an ${wanted} public key, but have public key of type ${goKeyType[key.algorithm]}`;
  }
  try {
    switch (alg.key) {
      case "ECDSA": {
        const raw = ecdsaRawSignature(signature, Math.ceil(key.bits / 8));
        if (!raw || key.curve === "P-224") return "x509: ECDSA verification failure";
        const k = await subtle.importKey("spki", key.spki, { name: "ECDSA", namedCurve: key.curve! }, false, ["verify"]);
        const ok = await subtle.verify({ name: "ECDSA", hash: alg.hash! }, k, raw, signed);
        return ok ? undefined : "x509: ECDSA verification failure";
      }
      case "RSA":
      case "RSA-PSS": {
        const name = alg.key === "RSA" ? "RSASSA-PKCS1-v1_5" : "RSA-PSS";
        const k = await subtle.importKey("spki", key.spki, { name, hash: alg.hash! }, false, ["verify"]);
        const params =
          name === "RSA-PSS" ? { name, saltLength: { "SHA-256": 32, "SHA-384": 48, "SHA-512": 64 }[alg.hash as string] } : { name };
        const ok = await subtle.verify(params as webcrypto.RsaPssParams, k, signature, signed);
        return ok ? undefined : "crypto/rsa: verification error";
      }
      case "Ed25519": {
        const k = await subtle.importKey("spki", key.spki, { name: "Ed25519" }, false, ["verify"]);
        const ok = await subtle.verify({ name: "Ed25519" }, k, signature, signed);
        return ok ? undefined : "x509: Ed25519 verification failure";
      }
    }
  } catch (e) {
    return `x509: cannot verify signature: ${(e as Error).message}`;
  }
}

/** Whether `child` carries a valid signature made with `parent`'s key (signature only, no CA rules). */
export async function isSignedBy(child: Certificate, parent: Certificate): Promise<boolean> {
  return (await checkSignature(child.signatureAlgorithm, child.rawTbs, child.signature, parent.publicKey)) === undefined;
}
