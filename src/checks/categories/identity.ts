import type { Secret } from "../../kube/types.js";
import {
  checkIssuerAlgorithm,
  checkIssuerIssuedByAnchors,
  checkIssuerNotExpiringSoon,
  checkIssuerValidity,
  checkTrustAnchorsAlgorithm,
  checkTrustAnchorsNotExpiringSoon,
  checkTrustAnchorsValidity,
  loadIdentityMaterial,
  type IdentityMaterial,
} from "../../tls/index.js";
import { inOrder, type CheckContext } from "../context.js";
import { fail, type Category } from "../types.js";

export const ISSUER_SECRET = "linkerd-identity-issuer";

export const secretValue = (secret: Secret, key: string): string | undefined => {
  const v = secret.data?.[key];
  return v === undefined ? undefined : Buffer.from(v, "base64").toString("utf8");
};

const loaded = new WeakMap<Secret, Map<string, Promise<IdentityMaterial>>>();

/** Parses (once per secret object and anchors) the issuer material; certificate parsing and key matching are not free. */
function load(secret: Secret, input: { issuerCrtPem: string; issuerKeyPem: string; trustAnchorsPem: string }): Promise<IdentityMaterial> {
  let bySecret = loaded.get(secret);
  if (!bySecret) loaded.set(secret, (bySecret = new Map()));
  const key = JSON.stringify(input);
  let p = bySecret.get(key);
  if (!p) bySecret.set(key, (p = loadIdentityMaterial(input)));
  return p;
}

/** The issuer certificate, its key and the trust anchors, read the way Linkerd's `checkCertificatesConfig` reads them. */
export async function identityMaterial(ctx: CheckContext): Promise<IdentityMaterial> {
  const [values, secret] = await inOrder(ctx.values(), ctx.secret(ctx.cp, ISSUER_SECRET));
  if (!secret) fail(`secrets "${ISSUER_SECRET}" not found`);
  const missing = (key: string, what: string, external: boolean): never =>
    fail(`key ${key} containing the ${what} needs to exist in secret ${ISSUER_SECRET} if --identity-external-issuer=${external}`);
  if (values.issuerScheme === "" || values.issuerScheme === "linkerd.io/tls") {
    const crt = secretValue(secret, "crt.pem") ?? missing("crt.pem", "issuer certificate", false);
    // Linkerd's own message says "=true" for the key here.
    const key = secretValue(secret, "key.pem") ?? missing("key.pem", "issuer key", true);
    return load(secret, { issuerCrtPem: crt, issuerKeyPem: key, trustAnchorsPem: values.identityTrustAnchorsPEM });
  }
  const anchors = secretValue(secret, "ca.crt") ?? missing("ca.crt", "trust anchors", true);
  const crt = secretValue(secret, "tls.crt") ?? missing("tls.crt", "issuer certificate", true);
  const key = secretValue(secret, "tls.key") ?? missing("tls.key", "issuer key", true);
  return load(secret, { issuerCrtPem: crt, issuerKeyPem: key, trustAnchorsPem: anchors });
}

export const linkerdIdentity: Category<CheckContext> = {
  id: "linkerd-identity",
  checks: [
    {
      id: "l5d-identity-cert-config",
      description: "certificate config is valid",
      hint: "l5d-identity-cert-config-valid",
      fatal: true,
      run: async (ctx) => {
        await identityMaterial(ctx);
      },
    },
    {
      id: "l5d-identity-anchors-crypto",
      description: "trust anchors are using supported crypto algorithm",
      hint: "l5d-identity-trustAnchors-use-supported-crypto",
      fatal: true,
      run: async (ctx) => checkTrustAnchorsAlgorithm((await identityMaterial(ctx)).anchors),
    },
    {
      id: "l5d-identity-anchors-valid",
      description: "trust anchors are within their validity period",
      hint: "l5d-identity-trustAnchors-are-time-valid",
      fatal: true,
      run: async (ctx) => checkTrustAnchorsValidity((await identityMaterial(ctx)).anchors, ctx.now()),
    },
    {
      id: "l5d-identity-anchors-expiring",
      description: "trust anchors are valid for at least 60 days",
      hint: "l5d-identity-trustAnchors-not-expiring-soon",
      severity: "warning",
      run: async (ctx) => checkTrustAnchorsNotExpiringSoon((await identityMaterial(ctx)).anchors, ctx.now()),
    },
    {
      id: "l5d-identity-issuer-crypto",
      description: "issuer cert is using supported crypto algorithm",
      hint: "l5d-identity-issuer-cert-uses-supported-crypto",
      fatal: true,
      run: async (ctx) => checkIssuerAlgorithm((await identityMaterial(ctx)).issuer.certificate),
    },
    {
      id: "l5d-identity-issuer-valid",
      description: "issuer cert is within its validity period",
      hint: "l5d-identity-issuer-cert-is-time-valid",
      fatal: true,
      run: async (ctx) => checkIssuerValidity((await identityMaterial(ctx)).issuer.certificate, ctx.now()),
    },
    {
      id: "l5d-identity-issuer-expiring",
      description: "issuer cert is valid for at least 60 days",
      hint: "l5d-identity-issuer-cert-not-expiring-soon",
      severity: "warning",
      run: async (ctx) => checkIssuerNotExpiringSoon((await identityMaterial(ctx)).issuer.certificate, ctx.now()),
    },
    {
      id: "l5d-identity-issuer-signed",
      description: "issuer cert is issued by the trust anchor",
      hint: "l5d-identity-issuer-cert-issued-by-trust-anchor",
      run: async (ctx) => checkIssuerIssuedByAnchors(await identityMaterial(ctx), ctx.now()),
    },
  ],
};
