/**
 * What `mesh upgrade` reads back from an installed control plane, and the values it renders
 * with. Linkerd stable-2.14 keeps what a user changed in Secret `linkerd-config-overrides`
 * (every value that differs from the chart's defaults, the issuer's private key included):
 * the built-in defaults of this release with those overrides merged over them are the installed
 * values, upgraded. mesh also reads the certificates the cluster runs with (Secret
 * `linkerd-identity-issuer`, ConfigMap `linkerd-identity-trust-roots`) and keeps those when
 * they were changed in place (an issuer rotated with kubectl), and reads the installed version
 * from `linkerd-config` to refuse a downgrade.
 *
 * Pure apart from the `InstalledSource`, which is the cluster or a saved `mesh install` output.
 */
import { MeshError } from "../errors.js";
import { readValuesText, typedValues } from "../kube/linkerd-config.js";
import type { ConfigMap, KubeObject, Pod, Secret } from "../kube/types.js";
import { compareVersions } from "../checks/versions.js";
import { coalesce, defaultValues, isTree, type Tree, type Values } from "./values.js";

/** Where the installed objects come from: the cluster, or the objects of a saved manifest. */
export interface InstalledSource {
  /** Names the source in messages (`the cluster`, `manifests linkerd.yaml`). */
  readonly description: string;
  secret(namespace: string, name: string): Promise<Secret | undefined>;
  configMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
}

/** The source of a manifest stream's objects (`--from-manifests`): objects are looked up by kind, namespace and name. */
export function manifestSource(objects: KubeObject[], description: string): InstalledSource {
  const find = (kind: string, namespace: string, name: string) =>
    objects.find((o) => o.kind === kind && o.metadata?.name === name && (o.metadata.namespace ?? namespace) === namespace);
  return {
    description,
    secret: async (ns, name) => {
      const s = find("Secret", ns, name) as (Secret & { stringData?: Record<string, string> }) | undefined;
      if (!s?.stringData) return s;
      // a hand-written manifest may use stringData: fold it into data, as the API server does
      const data = { ...(s.data ?? {}) };
      for (const [k, v] of Object.entries(s.stringData)) data[k] = Buffer.from(String(v), "utf8").toString("base64");
      return { ...s, data };
    },
    configMap: async (ns, name) => find("ConfigMap", ns, name) as ConfigMap | undefined,
  };
}

/** What an installed control plane holds. */
export interface Installed {
  /** `linkerdVersion` of linkerd-config. */
  version: string;
  /** The overrides recorded in Secret linkerd-config-overrides. */
  stored: Tree;
  /** The issuer the cluster runs with (`crt.pem`/`key.pem` of Secret linkerd-identity-issuer), when present. */
  issuer?: { crtPem: string; keyPem: string };
  /** `ca-bundle.crt` of ConfigMap linkerd-identity-trust-roots, when present. */
  trustRoots?: string;
}

const decode = (b64: string | undefined): string | undefined => (typeof b64 === "string" ? Buffer.from(b64, "base64").toString("utf8") : undefined);

/** Reads the installed state; fails with a clear message when there is no CLI-installed control plane. */
export async function readInstalled(src: InstalledSource, namespace: string): Promise<Installed> {
  const [config, overrides, issuer, roots] = await Promise.all([
    src.configMap(namespace, "linkerd-config"),
    src.secret(namespace, "linkerd-config-overrides"),
    src.secret(namespace, "linkerd-identity-issuer"),
    src.configMap(namespace, "linkerd-identity-trust-roots"),
  ]);
  if (!config)
    throw new MeshError(`no control plane is installed in namespace "${namespace}": configmap/linkerd-config not found in ${src.description}`, "install one with `mesh install | kubectl apply -f -`, or pass -L for another namespace");
  const values = typeof config.data?.values === "string" ? await readValuesText(config.data.values) : {};
  if (!overrides)
    throw new MeshError(
      `secret ${namespace}/linkerd-config-overrides not found in ${src.description}: it records the values the control plane was installed with`,
      "a control plane installed with Helm is upgraded with Helm",
    );
  const text = decode(overrides.data?.["linkerd-config-overrides"]);
  if (text === undefined) throw new MeshError(`secret ${namespace}/linkerd-config-overrides has no key linkerd-config-overrides`);
  const stored = await readValuesText(text, `the values of secret ${namespace}/linkerd-config-overrides`);
  const crt = decode(issuer?.data?.["crt.pem"]);
  const key = decode(issuer?.data?.["key.pem"]);
  return {
    version: typedValues(values).linkerdVersion,
    stored,
    issuer: crt !== undefined && key !== undefined ? { crtPem: crt, keyPem: key } : undefined,
    trustRoots: roots?.data?.["ca-bundle.crt"],
  };
}

/**
 * Refuses to render an older release over a newer one (or over one whose order cannot be told),
 * unless forced.
 */
export function checkUpgradeVersion(installed: string, target: string, force: boolean): void {
  if (force || !installed || installed === target) return;
  const order = compareVersions(installed, target);
  if (order !== undefined && order <= 0) return;
  const why = order === undefined ? `mesh cannot tell whether it is older than ${target}, the release mesh renders` : `it is newer than ${target}, the release mesh renders`;
  throw new MeshError(`the installed control plane runs ${installed}: ${why}`, "to render it anyway, pass --force");
}

const trimmed = (s: unknown) => (typeof s === "string" ? s.trim() : "");

/**
 * The installed values, upgraded: this release's defaults with the stored overrides merged over
 * them, and the certificates the cluster runs with where they differ from the recorded ones.
 * Returns notes for stderr.
 */
export function upgradedValues(installed: Installed, namespace: string): { values: Values; notes: string[] } {
  const notes: string[] = [];
  const values = coalesce(defaultValues(), installed.stored, notes);
  const tls = values.identity?.issuer?.tls;
  if (installed.issuer && values.identity?.issuer?.scheme === "linkerd.io/tls" && isTree(tls)) {
    const live = installed.issuer;
    if (trimmed(live.crtPem) !== trimmed(tls.crtPEM) || trimmed(live.keyPem) !== trimmed(tls.keyPEM)) {
      tls.crtPEM = live.crtPem;
      tls.keyPEM = live.keyPem;
      notes.push(`secret ${namespace}/linkerd-identity-issuer differs from the issuer recorded in linkerd-config-overrides: keeping the cluster's`);
    }
  }
  if (installed.trustRoots !== undefined && trimmed(installed.trustRoots) && trimmed(installed.trustRoots) !== trimmed(values.identityTrustAnchorsPEM)) {
    values.identityTrustAnchorsPEM = installed.trustRoots;
    notes.push(`configmap ${namespace}/linkerd-identity-trust-roots differs from the trust anchors recorded in linkerd-config-overrides: keeping the cluster's`);
  }
  return { values, notes };
}

/**
 * The meshed pods (outside the control plane's namespace, whose proxies read the trust roots
 * ConfigMap) whose trust anchors do not verify the issuer certificate `crtPem`: after the
 * upgrade their proxies could not validate certificates the new issuer signs. As `ns/name`.
 */
export async function podsRejectingIssuer(pods: Pod[], crtPem: string, namespace: string, now: Date): Promise<string[]> {
  const { decodeCertificates, verifyCertificate } = await import("../tls/index.js");
  const [leaf, ...intermediates] = decodeCertificates(crtPem).certificates;
  if (!leaf) return [];
  const verdicts = new Map<string, boolean>();
  const bad: string[] = [];
  for (const pod of pods) {
    if (pod.metadata.namespace === namespace) continue;
    const proxy = pod.spec.containers.find((c) => c.name === "linkerd-proxy");
    const anchors = proxy?.env?.find((e) => e.name === "LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS")?.value;
    if (anchors === undefined) continue;
    let ok = verdicts.get(anchors);
    if (ok === undefined) {
      const roots = decodeCertificates(anchors).certificates;
      ok = roots.length > 0 && (await verifyCertificate(leaf, { roots, intermediates, now })).ok;
      verdicts.set(anchors, ok);
    }
    if (!ok) bad.push(`${pod.metadata.namespace}/${pod.metadata.name}`);
  }
  return bad.sort();
}
