/**
 * Certificates for `mesh`: generating Linkerd's identity CA and webhook
 * certificates, validating user-supplied issuer and webhook material, and the checks
 * `mesh check` runs on them. Pure: no I/O, and the time is always a parameter.
 */
export {
  generateIdentityCredentials,
  generateWebhookCertificate,
  generateWebhookCertificates,
  identityIssuerName,
  webhookHost,
  type IdentityCredentials,
  type WebhookCertificate,
  type WebhookKeyAlgorithm,
} from "./generate.js";
export { checkWebhookCredentials, type WebhookCredentialsInput, type WebhookServer } from "./webhook.js";
export type { CertificateSource } from "./source.js";
export { loadIssuerCredentials, type IssuerCredentials, type IssuerFiles } from "./issuer.js";
export {
  certificateToPem,
  decodeCertificates,
  parseCertificate,
  serialHex,
  serialString,
  type Certificate,
  type DecodedBundle,
  type PublicKeyInfo,
} from "./certificate.js";
export { EXPIRY_WARNING_DAYS, describeValidity, expiresWithin, formatTime, type Validity, type ValidityState } from "./validity.js";
export { verifyCertificate, type VerifyFailure, type VerifyOptions, type VerifyResult } from "./verify.js";
export {
  checkIssuerAlgorithm,
  checkIssuerIssuedByAnchors,
  checkIssuerNotExpiringSoon,
  checkIssuerValidity,
  checkTrustAnchorsAlgorithm,
  checkTrustAnchorsNotExpiringSoon,
  checkTrustAnchorsValidity,
  checkWebhookCertificate,
  checkWebhookCertificateNotExpiringSoon,
  issuerAlgorithmProblem,
  loadCredentials,
  loadIdentityMaterial,
  parseCertificateBundle,
  trustAnchorAlgorithmProblem,
  type Credentials,
  type IdentityMaterial,
} from "./checks.js";
export { decodePem, encodePem, type PemBlock } from "./pem.js";
export { decodePrivateKey, type PrivateKey } from "./keys.js";
