import type { CheckContext } from "../context.js";
import type { Category } from "../types.js";
import { apiMessage } from "./pre-kubernetes-setup.js";

/**
 * The CRDs of `mesh install --crds` (Linkerd's linkerd-crds chart 1.8.0, HTTPRoutes enabled) and
 * the last version each lists: an installed CRD must serve that version. Kept in step with
 * templates/crds/ by test/checks/crds.test.ts.
 */
export const LINKERD_CRDS: readonly { name: string; version: string }[] = [
  { name: "authorizationpolicies.policy.linkerd.io", version: "v1alpha1" },
  { name: "httproutes.policy.linkerd.io", version: "v1beta3" },
  { name: "meshtlsauthentications.policy.linkerd.io", version: "v1alpha1" },
  { name: "networkauthentications.policy.linkerd.io", version: "v1alpha1" },
  { name: "serverauthorizations.policy.linkerd.io", version: "v1beta1" },
  { name: "servers.policy.linkerd.io", version: "v1beta1" },
  { name: "serviceprofiles.linkerd.io", version: "v1alpha2" },
  { name: "httproutes.gateway.networking.k8s.io", version: "v1beta1" },
];

/** Every CRD must exist and list its expected version; failures are joined with ", " as Linkerd does. */
export async function checkCustomResourceDefinitions(ctx: CheckContext): Promise<void> {
  const found = await Promise.all(LINKERD_CRDS.map((c) => ctx.crd(c.name).then((crd) => ({ crd }), (error: unknown) => ({ error }))));
  const problems: string[] = [];
  for (let i = 0; i < LINKERD_CRDS.length; i++) {
    const { name, version } = LINKERD_CRDS[i];
    const r = found[i];
    if ("error" in r) throw new Error(apiMessage(r.error));
    if (!r.crd) problems.push(`missing ${name}`);
    else if (!r.crd.spec?.versions?.some((v) => v.name === version)) problems.push(`CRD ${name} is missing version ${version}`);
  }
  if (problems.length) throw new Error(problems.join(", "));
}

export const linkerdCrd: Category<CheckContext> = {
  id: "linkerd-crd",
  checks: [
    {
      id: "crds-exist",
      description: "control plane CustomResourceDefinitions exist",
      hint: "l5d-existence-crd",
      fatal: true,
      retry: true,
      run: checkCustomResourceDefinitions,
    },
  ],
};
