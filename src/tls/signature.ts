/** Certificate signature checks with Node's X509Certificate.verify (OpenSSL), failing with Go's error texts. */
import type { Certificate, PublicKeyInfo } from "./certificate.js";

const goKeyType: Record<PublicKeyInfo["algorithm"], string> = {
  ECDSA: "*ecdsa.PublicKey",
  RSA: "*rsa.PublicKey",
  Ed25519: "ed25519.PublicKey",
  unknown: "<nil>",
};

const goFailure = { ECDSA: "x509: ECDSA verification failure", RSA: "crypto/rsa: verification error", "RSA-PSS": "crypto/rsa: verification error", Ed25519: "x509: Ed25519 verification failure" };

/**
 * Checks `child`'s signature with `parent`'s key. Resolves to undefined when it verifies, else to
 * Go's error text for the failure (SHA-1 and MD5 are refused as insecure, as Go 1.19 does for
 * certificates, before any signature is computed).
 */
export function checkSignature(child: Certificate, parent: Certificate): string | undefined {
  const alg = child.signatureAlgorithm;
  const key = parent.publicKey;
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
    return key.key && child.x509.verify(key.key) ? undefined : goFailure[alg.key];
  } catch (e) {
    return `x509: cannot verify signature: ${(e as Error).message}`;
  }
}
