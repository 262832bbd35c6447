import { inOrder, type CheckContext } from "../context.js";
import { checkPodsRunning, CONTROL_PLANE_NS_LABEL, proxyContainer } from "../pods.js";
import { fail, type Category } from "../types.js";
import { checkProxyVersionsMatchCli, checkProxyVersionsUpToDate } from "./versions.js";

export const TRUST_ANCHORS_ENV = "LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS";

/** Meshed pods (any control plane) of `targetNs` ("" = all) must carry the current trust bundle; control-plane pods are skipped. */
export async function checkProxiesTrustBundle(ctx: CheckContext, targetNs: string): Promise<void> {
  const [pods, cm] = await inOrder(ctx.pods(targetNs, CONTROL_PLANE_NS_LABEL), ctx.configMap(ctx.cp, "linkerd-identity-trust-roots"));
  if (!cm) fail(`configmaps "linkerd-identity-trust-roots" not found`);
  const bundle = (cm.data?.["ca-bundle.crt"] ?? "").trim();
  const offending: string[] = [];
  for (const pod of pods) {
    if (pod.metadata.namespace === ctx.cp) continue;
    for (const env of proxyContainer(pod)?.env ?? []) {
      if (env.name !== TRUST_ANCHORS_ENV) continue;
      if ((env.value ?? "").trim() !== bundle) offending.push(targetNs ? `* ${pod.metadata.name}` : `* ${pod.metadata.namespace}/${pod.metadata.name}`);
    }
  }
  if (offending.length) fail(`Some pods do not have the current trust bundle and must be restarted:\n\t${offending.join("\n\t")}`);
}

export const linkerdControlPlaneProxy: Category<CheckContext> = {
  id: "linkerd-control-plane-proxy",
  checks: [
    {
      id: "l5d-cp-proxy-healthy",
      description: "control plane proxies are healthy",
      hint: "l5d-cp-proxy-healthy",
      fatal: true,
      retry: true,
      surfaceErrorOnRetry: true,
      run: async (ctx) => {
        const bundleCheck = checkProxiesTrustBundle(ctx, ctx.cp);
        bundleCheck.catch(() => undefined); // started early; its outcome matters only if the pods are running
        checkPodsRunning(await ctx.pods(ctx.cp, CONTROL_PLANE_NS_LABEL), ctx.cp);
        await bundleCheck;
      },
    },
    {
      id: "l5d-cp-proxy-version",
      description: "control plane proxies are up-to-date",
      hint: "l5d-cp-proxy-version",
      severity: "warning",
      run: async (ctx) => checkProxyVersionsUpToDate(await ctx.pods(ctx.cp, CONTROL_PLANE_NS_LABEL), await ctx.latestOrNone()),
    },
    {
      id: "l5d-cp-proxy-cli-version",
      description: "control plane proxies and cli versions match",
      hint: "l5d-cp-proxy-cli-version",
      severity: "warning",
      run: async (ctx) => checkProxyVersionsMatchCli(await ctx.pods(ctx.cp, CONTROL_PLANE_NS_LABEL), ctx.config.cliVersion),
    },
  ],
};

export const linkerdIdentityDataPlane: Category<CheckContext> = {
  id: "linkerd-identity-data-plane",
  checks: [
    {
      id: "l5d-data-plane-trust-bundle",
      description: "data plane proxies certificate match CA",
      hint: "l5d-identity-data-plane-proxies-certs-match-ca",
      severity: "warning",
      run: (ctx) => checkProxiesTrustBundle(ctx, ctx.config.dataPlaneNamespace),
    },
  ],
};
