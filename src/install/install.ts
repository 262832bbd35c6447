/**
 * The core of `mesh install`: from flag-derived values, user overrides and (optionally) facts
 * read from the cluster, to the list of objects to print. Pure apart from the certificate
 * source, which is a parameter (tests pass a deterministic one).
 *
 * Order (spec §2.1, with mesh's differences): overrides are merged first, then identity
 * credentials are taken from the merged values (validated, whichever way they came: files,
 * --set-file or -f) or generated, then the merged values are validated, then rendered.
 */
import { MeshError, UsageError } from "../errors.js";
import type { CertificateSource, WebhookCertificate, WebhookServer } from "../tls/index.js";
import { controlPlaneContext, needsGeneratedCertificate, truthy, webhookHost, WEBHOOKS, type WebhookName } from "./context.js";
import { CONTROL_PLANE, CRDS, renderItems, type RenderContext } from "./render.js";
import { loadTemplate } from "./template.js";
import { loadYamlLibrary } from "./yaml-read.js";
import { toYaml } from "./emit.js";
import { unknownKeyWarnings } from "./known-keys.js";
import { validateValues } from "./validate.js";
import { coalesce, defaultValues, diffValues, sortKeys, type Tree, type Values } from "./values.js";

/** Where generated certificates come from (src/tls in production, fixtures in tests). */
export type { CertificateSource };

/** The issuer of `--identity-external-issuer`, read from Secret `<ns>/linkerd-identity-issuer`. */
export interface ExternalIssuer {
  trustAnchorsPem: string;
  issuerCrtPem: string;
  issuerKeyPem: string;
}

/** A credential file given on the command line: its path (for messages) and its contents. */
export interface GivenFile {
  path: string;
  text: string;
}

export interface ControlPlaneRequest {
  namespace: string;
  now: Date;
  /** Defaults with the flags the user set applied (including --ha and cluster-detected ports). */
  values: Values;
  /** Merged `-f`, `--set`, `--set-string`, `--set-file` values. */
  overrides: Tree;
  files: { trustAnchors?: GivenFile; issuerCrt?: GivenFile; issuerKey?: GivenFile };
  /** Whether a cluster was consulted (false with --ignore-cluster). */
  clusterChecked: boolean;
  /** The external issuer's data, when --identity-external-issuer and a cluster was consulted. */
  externalIssuer?: ExternalIssuer;
  certificates: CertificateSource;
  /** Webhook certificates already being generated (see prefetchWebhookCertificates). */
  prefetched?: PrefetchedCertificates;
}

export type PrefetchedCertificates = Partial<Record<WebhookName, Promise<WebhookCertificate>>>;

/**
 * Starts generating the three webhook certificates at once, while the main thread reads values
 * and parses templates (WebCrypto runs on Node's thread pool). Unused ones are dropped.
 */
export function prefetchWebhookCertificates(certificates: CertificateSource, namespace: string, now: Date): PrefetchedCertificates {
  const out: PrefetchedCertificates = {};
  for (const w of Object.keys(WEBHOOKS) as WebhookName[]) {
    const p = certificates.generateWebhookCertificate({ host: webhookHost(w, namespace), now });
    p.catch(() => undefined);
    out[w] = p;
  }
  return out;
}

export interface Rendered {
  objects: Tree[];
  /** Things the user should know (printed to stderr). */
  warnings: string[];
}

const s = (x: unknown): string => (x === undefined || x === null ? "" : String(x));

/** Renders `install --crds`. */
export async function renderCrds(namespace: string, overrides: Tree): Promise<Rendered> {
  // The CRD templates use more of YAML than the fast reader handles.
  await loadYamlLibrary();
  const warnings: string[] = [];
  const values = coalesce(defaultValues(), overrides, warnings);
  return { objects: renderItems(CRDS, { values, release: { namespace } }), warnings };
}

/** Chooses, checks or generates the identity trust anchors and issuer; updates `v`. */
async function settleIdentity(v: Values, req: ControlPlaneRequest): Promise<void> {
  const tls = v.identity.issuer.tls;
  if (v.identity.issuer.scheme === "kubernetes.io/tls") {
    const external = `with --identity-external-issuer the issuer comes from secret ${req.namespace}/linkerd-identity-issuer`;
    if (req.files.issuerCrt || s(tls?.crtPEM)) throw new UsageError(`an issuer certificate was given, but ${external}`, "drop --identity-issuer-certificate-file");
    if (req.files.issuerKey || s(tls?.keyPEM)) throw new UsageError(`an issuer key was given, but ${external}`, "drop --identity-issuer-key-file");
    if (!req.clusterChecked) throw new UsageError(`--ignore-cluster cannot be used with --identity-external-issuer: ${external}, which mesh must read`, "drop --ignore-cluster");
    const ext = req.externalIssuer;
    if (!ext) throw new MeshError(`secret ${req.namespace}/linkerd-identity-issuer was not read`);
    await req.certificates.loadIssuerCredentials({
      trustAnchorsPem: ext.trustAnchorsPem,
      issuerCrtPem: ext.issuerCrtPem,
      issuerKeyPem: ext.issuerKeyPem,
      now: req.now,
      files: { trustAnchors: "ca.crt of the issuer secret", issuerCrt: "tls.crt of the issuer secret", issuerKey: "tls.key of the issuer secret" },
    });
    if (!("identityTrustAnchorsPEM" in req.overrides)) v.identityTrustAnchorsPEM = ext.trustAnchorsPem;
    return;
  }
  const anchors = s(v.identityTrustAnchorsPEM);
  const crt = s(tls?.crtPEM);
  const key = s(tls?.keyPEM);
  // A file given but empty is "empty", not "missing" (and never a reason to generate new credentials).
  const given: [GivenFile | undefined, string, string][] = [
    [req.files.trustAnchors, "trust anchors file", anchors],
    [req.files.issuerCrt, "issuer certificate file", crt],
    [req.files.issuerKey, "issuer key file", key],
  ];
  for (const [f, what, value] of given)
    if (f && f.text.trim() === "" && value.trim() === "") throw new UsageError(`${what} "${f.path}" is empty`, "pass the file that holds the PEM data");
  if (anchors || crt || key) {
    const hint = "give --identity-trust-anchors-file, --identity-issuer-certificate-file and --identity-issuer-key-file together, or none of them to generate new ones";
    const missing = (what: string) => new UsageError(`identity credentials are incomplete: the ${what} is missing`, hint);
    if (!anchors) throw missing("trust anchors file");
    if (!crt) throw missing("issuer certificate file");
    if (!key) throw missing("issuer key file");
    // Files given by flag are named in messages, unless -f/--set replaced their contents.
    const fromFile = (f: GivenFile | undefined, value: string) => (f && f.text === value ? f.path : undefined);
    const loaded = await req.certificates.loadIssuerCredentials({
      trustAnchorsPem: anchors,
      issuerCrtPem: crt,
      issuerKeyPem: key,
      now: req.now,
      files: { trustAnchors: fromFile(req.files.trustAnchors, anchors), issuerCrt: fromFile(req.files.issuerCrt, crt), issuerKey: fromFile(req.files.issuerKey, key) },
    });
    v.identityTrustAnchorsPEM = loaded.trustAnchorsPem;
    v.identity.issuer.tls = { ...tls, crtPEM: loaded.issuerCrtPem, keyPEM: loaded.issuerKeyPem };
    return;
  }
  const generated = await req.certificates.generateIdentityCredentials({ namespace: req.namespace, trustDomain: s(v.identityTrustDomain), now: req.now });
  v.identityTrustAnchorsPEM = generated.trustAnchorsPem;
  v.identity.issuer.tls = { ...tls, crtPEM: generated.issuerCrtPem, keyPEM: generated.issuerKeyPem };
}

/** The program serving each webhook, whose rules a given key must meet. */
const WEBHOOK_SERVER: Record<WebhookName, WebhookServer> = {
  proxyInjector: "linkerd-go",
  spValidator: "linkerd-go",
  policyValidator: "policy-controller",
};

/** Does the webhook's Secret get the user's `crtPEM`/`keyPEM` (see webhookContext)? */
function usesGivenCertificate(v: Values, name: WebhookName): boolean {
  const w = v[WEBHOOKS[name].values];
  return !truthy(w.externalSecret) && truthy(w.crtPEM) && truthy(w.keyPEM);
}

/** Validates a user-supplied webhook pair (any algorithm the webhook's server reads); returns warnings. */
function checkGivenCertificate(v: Values, name: WebhookName, req: ControlPlaneRequest): Promise<string[]> {
  const w = v[WEBHOOKS[name].values];
  return req.certificates.checkWebhookCredentials({
    valuesKey: WEBHOOKS[name].values,
    crtPem: s(w.crtPEM),
    keyPem: s(w.keyPEM),
    host: webhookHost(name, req.namespace),
    server: WEBHOOK_SERVER[name],
    now: req.now,
  });
}

/** Secret `linkerd-config-overrides`: what differs from the defaults, for `mesh upgrade` (and `linkerd upgrade`). */
export function overridesSecret(namespace: string, values: Values): Tree {
  const diff = diffValues(defaultValues() as unknown as Tree, values as unknown as Tree);
  const text = toYaml(sortKeys(diff));
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "linkerd-config-overrides", namespace, labels: { "linkerd.io/control-plane-ns": namespace } },
    data: { "linkerd-config-overrides": Buffer.from(text, "utf8").toString("base64") },
  };
}

/** Renders `install`: the control plane and Secret linkerd-config-overrides. */
export async function renderControlPlane(req: ControlPlaneRequest): Promise<Rendered> {
  const warnings: string[] = [];
  const withFiles = structuredClone(req.values);
  if (req.files.trustAnchors) withFiles.identityTrustAnchorsPEM = req.files.trustAnchors.text;
  if (req.files.issuerCrt) withFiles.identity.issuer.tls.crtPEM = req.files.issuerCrt.text;
  if (req.files.issuerKey) withFiles.identity.issuer.tls.keyPEM = req.files.issuerKey.text;
  const values = coalesce(withFiles, req.overrides, warnings);
  warnings.push(...unknownKeyWarnings(req.overrides, defaultValues() as unknown as Tree));

  validateValues(values);
  const needed = (Object.keys(WEBHOOKS) as WebhookName[]).filter((w) => needsGeneratedCertificate(values, w));
  const given = (Object.keys(WEBHOOKS) as WebhookName[]).filter((w) => usesGivenCertificate(values, w));
  // Key generation runs on the thread pool: start all of it, parse templates meanwhile.
  const pending = Promise.all([
    settleIdentity(values, req),
    Promise.all(given.map((w) => checkGivenCertificate(values, w, req))),
    ...needed.map((w) => req.prefetched?.[w] ?? req.certificates.generateWebhookCertificate({ host: webhookHost(w, req.namespace), now: req.now })),
  ]);
  pending.catch(() => undefined);
  // A user's podMonitor namespace selector may need the full YAML reader.
  if (values.podMonitor?.enabled) await loadYamlLibrary();
  for (const item of CONTROL_PLANE) loadTemplate(item.file);
  const [, givenWarnings, ...certs] = await pending;
  warnings.push(...givenWarnings.flat());
  const webhookCertificates: Partial<Record<WebhookName, { certPem: string; keyPem: string }>> = {};
  needed.forEach((w, i) => {
    const c = certs[i] as WebhookCertificate;
    webhookCertificates[w] = { certPem: c.crtPem, keyPem: c.keyPem };
  });

  const ctx = controlPlaneContext({ values, namespace: req.namespace, now: req.now, webhookCertificates }) as RenderContext;
  const objects = renderItems(CONTROL_PLANE, ctx);
  objects.push(overridesSecret(req.namespace, values));
  return { objects, warnings };
}
