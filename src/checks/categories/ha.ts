import type { CheckContext } from "../context.js";
import { fail, skip, type Category } from "../types.js";
import { PROXY_INJECTOR_WEBHOOK } from "./config.js";

/** The single webhook of the proxy injector's MutatingWebhookConfiguration. */
export async function proxyInjectorWebhook(ctx: CheckContext) {
  const mwc = await ctx.mutatingWebhookConfiguration(PROXY_INJECTOR_WEBHOOK);
  if (!mwc) fail(`mutatingwebhookconfigurations.admissionregistration.k8s.io "${PROXY_INJECTOR_WEBHOOK}" not found`);
  const hooks = mwc.webhooks ?? [];
  if (hooks.length !== 1) fail(`expected 1 webhooks, found ${hooks.length}`);
  return hooks[0];
}

const HA_COMPONENTS = ["linkerd-destination", "linkerd-identity", "linkerd-proxy-injector"];

export const linkerdHaChecks: Category<CheckContext> = {
  id: "linkerd-ha-checks",
  checks: [
    {
      id: "l5d-injection-disabled",
      description: "pod injection disabled on kube-system",
      hint: "l5d-injection-disabled",
      severity: "warning",
      run: async (ctx) => {
        const hook = await proxyInjectorWebhook(ctx);
        if (hook.failurePolicy !== "Fail") skip("not run for non HA installs");
        const ns = await ctx.namespace("kube-system");
        if (!ns) fail(`namespaces "kube-system" not found`);
        if (ns.metadata.labels?.["config.linkerd.io/admission-webhooks"] !== "disabled")
          fail("kube-system namespace needs to have the label config.linkerd.io/admission-webhooks: disabled if injector webhook failure policy is Fail");
      },
    },
    {
      id: "l5d-control-plane-replicas",
      description: "multiple replicas of control plane pods",
      hint: "l5d-control-plane-replicas",
      severity: "warning",
      retry: true,
      run: async (ctx) => {
        if (!(await ctx.values()).highAvailability) skip("not run for non HA installs");
        const faulty: string[] = [];
        const deployments = await Promise.all(HA_COMPONENTS.map((name) => ctx.deployment(ctx.cp, name)));
        for (const [i, name] of HA_COMPONENTS.entries()) {
          const d = deployments[i];
          if (!d) fail(`deployments.apps "${name}" not found`);
          if ((d.status?.availableReplicas ?? 0) <= 1) faulty.push(name);
        }
        if (faulty.length) fail(`not enough replicas available for [${faulty.join(" ")}]`);
      },
    },
  ],
};
