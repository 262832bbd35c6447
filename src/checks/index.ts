import type { CheckContext, CheckMode } from "./context.js";
import type { Category } from "./types.js";
import { linkerdCniPlugin, linkerdConfig } from "./categories/config.js";
import { linkerdCrd } from "./categories/crds.js";
import { linkerdDataPlane } from "./categories/data-plane.js";
import { linkerdExistence } from "./categories/existence.js";
import { linkerdHaChecks } from "./categories/ha.js";
import { linkerdIdentity } from "./categories/identity.js";
import { kubernetesApi, kubernetesVersion } from "./categories/kubernetes.js";
import { preKubernetesSetup } from "./categories/pre-kubernetes-setup.js";
import { meshProduction } from "./categories/production.js";
import { meshConfig } from "./categories/mesh-config.js";
import { linkerdControlPlaneProxy, linkerdIdentityDataPlane } from "./categories/proxies.js";
import { controlPlaneVersion, linkerdVersion } from "./categories/versions.js";
import { linkerdWebhooksAndApiSvcTls } from "./categories/webhooks.js";
import { hintBaseUrl } from "./versions.js";

/** Linkerd's global category order: a run always follows it, whatever the mode. */
export const CORE_CATEGORIES: readonly Category<CheckContext>[] = [
  kubernetesApi,
  kubernetesVersion,
  preKubernetesSetup,
  linkerdCrd,
  linkerdExistence,
  linkerdConfig,
  linkerdCniPlugin,
  linkerdIdentity,
  linkerdWebhooksAndApiSvcTls,
  linkerdIdentityDataPlane,
  linkerdVersion,
  controlPlaneVersion,
  linkerdControlPlaneProxy,
  linkerdDataPlane,
  linkerdHaChecks,
];

/** Which of Linkerd's categories each mode enables (`linkerd check` builds the same sets). */
export const MODE_CATEGORIES: Record<CheckMode, readonly string[]> = {
  pre: ["kubernetes-api", "kubernetes-version", "pre-kubernetes-setup", "linkerd-cni-plugin", "linkerd-version"],
  crds: ["kubernetes-api", "kubernetes-version", "linkerd-crd", "linkerd-version"],
  default: [
    "kubernetes-api",
    "kubernetes-version",
    "linkerd-existence",
    "linkerd-config",
    "linkerd-cni-plugin",
    "linkerd-identity",
    "linkerd-webhooks-and-apisvc-tls",
    "linkerd-version",
    "control-plane-version",
    "linkerd-control-plane-proxy",
    "linkerd-ha-checks",
  ],
  proxy: [
    "kubernetes-api",
    "kubernetes-version",
    "linkerd-existence",
    "linkerd-config",
    "linkerd-cni-plugin",
    "linkerd-identity",
    "linkerd-webhooks-and-apisvc-tls",
    "linkerd-identity-data-plane",
    "linkerd-version",
    "linkerd-control-plane-proxy",
    "linkerd-data-plane",
    "linkerd-ha-checks",
  ],
};

/**
 * The categories of a run, in order: Linkerd's for the mode, then (default and --proxy) mesh's
 * own `mesh-production` and `mesh-config` categories. With --pre, CNI checks run only with --linkerd-cni-enabled
 * (they skip themselves otherwise, as in every mode).
 */
export function selectCategories(mode: CheckMode, cliVersion: string): Category<CheckContext>[] {
  const enabled = new Set(MODE_CATEGORIES[mode]);
  const core = CORE_CATEGORIES.filter((c) => enabled.has(c.id));
  if (mode === "default" || mode === "proxy") core.push(meshProduction(docsBaseUrl(cliVersion)), meshConfig(docsBaseUrl(cliVersion)));
  return core;
}

/** `https://linkerd.io/2.14/` for stable releases (the docs of the release mesh targets). */
export function docsBaseUrl(cliVersion: string): string {
  return hintBaseUrl(cliVersion).replace(/checks\/#$/, "");
}

export { hintBaseUrl };
