/**
 * What `mesh install` takes from this module, as one interface: production passes the module
 * itself (`import("./index.js")`), tests pass fixtures that make "generated" certificates
 * deterministic (see `Deps.certificates`).
 */
import type { IdentityCredentials, WebhookCertificate } from "./generate.js";
import type { IssuerFiles } from "./issuer.js";
import type { WebhookCredentialsInput } from "./webhook.js";

export interface CertificateSource {
  generateIdentityCredentials(opts: { namespace: string; trustDomain: string; now: Date }): Promise<IdentityCredentials>;
  /** A webhook serving certificate for `host` (ECDSA P-256 in production). */
  generateWebhookCertificate(opts: { host: string; now: Date }): Promise<WebhookCertificate>;
  loadIssuerCredentials(input: { trustAnchorsPem: string; issuerCrtPem: string; issuerKeyPem: string; now: Date; files?: IssuerFiles }): Promise<{
    trustAnchorsPem: string;
    issuerCrtPem: string;
    issuerKeyPem: string;
  }>;
  /** Validates a user-supplied webhook pair; resolves to warnings. */
  checkWebhookCredentials(input: WebhookCredentialsInput): Promise<string[]>;
}
