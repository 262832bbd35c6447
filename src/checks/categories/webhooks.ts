import { checkWebhookCertificate, checkWebhookCertificateNotExpiringSoon, parseCertificateBundle } from "../../tls/index.js";
import { inOrder, type CheckContext } from "../context.js";
import { skip, fail, type Category } from "../types.js";
import { POLICY_VALIDATOR_WEBHOOK, SP_VALIDATOR_WEBHOOK } from "./config.js";
import { proxyInjectorWebhook } from "./ha.js";
import { secretValue } from "./identity.js";

interface TlsPair {
  crtPem: string;
  keyPem: string;
}

/** The serving certificate in `<name>` (keys tls.crt/tls.key), or the legacy secret (crt.pem/key.pem) when the new one does not exist. */
async function webhookCreds(ctx: CheckContext, name: string, legacy?: string): Promise<TlsPair | undefined> {
  const read = async (secretName: string, crtKey: string, keyKey: string): Promise<TlsPair | undefined> => {
    const secret = await ctx.secret(ctx.cp, secretName);
    if (!secret) return undefined;
    const crtPem = secretValue(secret, crtKey);
    if (crtPem === undefined) fail(`key ${crtKey} needs to exist in secret ${secretName}`);
    const keyPem = secretValue(secret, keyKey);
    if (keyPem === undefined) fail(`key ${keyKey} needs to exist in secret ${secretName}`);
    return { crtPem, keyPem };
  };
  const creds = await read(name, "tls.crt", "tls.key");
  if (creds || !legacy) return creds;
  const old = await read(legacy, "crt.pem", "key.pem");
  if (!old) fail(`secrets "${legacy}" not found`);
  return old;
}

const mustCreds = (creds: TlsPair | undefined, name: string): TlsPair => creds ?? fail(`secrets "${name}" not found`);

/** The caBundle (PEM text) of the single webhook of a ValidatingWebhookConfiguration; undefined when it does not exist. */
async function validatingCaBundle(ctx: CheckContext, name: string): Promise<string | undefined> {
  const vwc = await ctx.validatingWebhookConfiguration(name);
  if (!vwc) return undefined;
  const hooks = vwc.webhooks ?? [];
  if (hooks.length !== 1) fail(`expected 1 webhooks, found ${hooks.length}`);
  return decodeBundle(hooks[0].clientConfig.caBundle);
}

function decodeBundle(b64: string | undefined): string {
  const pem = Buffer.from(b64 ?? "", "base64").toString("utf8");
  parseCertificateBundle(pem); // Linkerd decodes the bundle before reading the secret
  return pem;
}

const host = (ctx: CheckContext, name: string) => `linkerd-${name}.${ctx.cp}.svc`;

export const linkerdWebhooksAndApiSvcTls: Category<CheckContext> = {
  id: "linkerd-webhooks-and-apisvc-tls",
  checks: [
    {
      id: "l5d-proxy-injector-cert",
      description: "proxy-injector webhook has valid cert",
      hint: "l5d-proxy-injector-webhook-cert-valid",
      fatal: true,
      run: async (ctx) => {
        const [hook, found] = await inOrder(proxyInjectorWebhook(ctx), webhookCreds(ctx, "linkerd-proxy-injector-k8s-tls", "linkerd-proxy-injector-tls"));
        const caBundlePem = decodeBundle(hook.clientConfig.caBundle);
        const creds = mustCreds(found, "linkerd-proxy-injector-k8s-tls");
        await checkWebhookCertificate({ ...creds, caBundlePem, host: host(ctx, "proxy-injector"), now: ctx.now() });
      },
    },
    {
      id: "l5d-proxy-injector-cert-expiring",
      description: "proxy-injector cert is valid for at least 60 days",
      hint: "l5d-proxy-injector-webhook-cert-not-expiring-soon",
      severity: "warning",
      run: async (ctx) => {
        const creds = mustCreds(await webhookCreds(ctx, "linkerd-proxy-injector-k8s-tls", "linkerd-proxy-injector-tls"), "linkerd-proxy-injector-k8s-tls");
        await checkWebhookCertificateNotExpiringSoon({ ...creds, now: ctx.now() });
      },
    },
    {
      id: "l5d-sp-validator-cert",
      description: "sp-validator webhook has valid cert",
      hint: "l5d-sp-validator-webhook-cert-valid",
      fatal: true,
      run: async (ctx) => {
        const [caBundlePem, found] = await inOrder(validatingCaBundle(ctx, SP_VALIDATOR_WEBHOOK), webhookCreds(ctx, "linkerd-sp-validator-k8s-tls", "linkerd-sp-validator-tls"));
        if (caBundlePem === undefined) fail(`validatingwebhookconfigurations.admissionregistration.k8s.io "${SP_VALIDATOR_WEBHOOK}" not found`);
        const creds = mustCreds(found, "linkerd-sp-validator-k8s-tls");
        await checkWebhookCertificate({ ...creds, caBundlePem, host: host(ctx, "sp-validator"), now: ctx.now() });
      },
    },
    {
      id: "l5d-sp-validator-cert-expiring",
      description: "sp-validator cert is valid for at least 60 days",
      hint: "l5d-sp-validator-webhook-cert-not-expiring-soon",
      severity: "warning",
      run: async (ctx) => {
        const creds = mustCreds(await webhookCreds(ctx, "linkerd-sp-validator-k8s-tls", "linkerd-sp-validator-tls"), "linkerd-sp-validator-k8s-tls");
        await checkWebhookCertificateNotExpiringSoon({ ...creds, now: ctx.now() });
      },
    },
    {
      id: "l5d-policy-validator-cert",
      description: "policy-validator webhook has valid cert",
      hint: "l5d-policy-validator-webhook-cert-valid",
      fatal: true,
      run: async (ctx) => {
        const [caBundlePem, creds] = await inOrder(validatingCaBundle(ctx, POLICY_VALIDATOR_WEBHOOK), webhookCreds(ctx, "linkerd-policy-validator-k8s-tls"));
        if (caBundlePem === undefined) skip("policy-validator not installed");
        if (!creds) skip("policy-validator not installed");
        await checkWebhookCertificate({ ...creds, caBundlePem, host: host(ctx, "policy-validator"), now: ctx.now() });
      },
    },
    {
      id: "l5d-policy-validator-cert-expiring",
      description: "policy-validator cert is valid for at least 60 days",
      hint: "l5d-policy-validator-webhook-cert-not-expiring-soon",
      severity: "warning",
      run: async (ctx) => {
        const creds = await webhookCreds(ctx, "linkerd-policy-validator-k8s-tls");
        if (!creds) skip("policy-validator not installed");
        await checkWebhookCertificateNotExpiringSoon({ ...creds, now: ctx.now() });
      },
    },
  ],
};
