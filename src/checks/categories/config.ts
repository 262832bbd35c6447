import type { CheckContext } from "../context.js";
import { parseLinkerdValues } from "../linkerd-values.js";
import { CONTROL_PLANE_SELECTOR } from "../pods.js";
import { fail, skip, type Category } from "../types.js";
import { checkCustomResourceDefinitions } from "./crds.js";
import { checkResources, controlPlaneServiceAccounts } from "./existence.js";

export const PROXY_INJECTOR_WEBHOOK = "linkerd-proxy-injector-webhook-config";
export const SP_VALIDATOR_WEBHOOK = "linkerd-sp-validator-webhook-config";
export const POLICY_VALIDATOR_WEBHOOK = "linkerd-policy-validator-webhook-config";

const rbacNames = (cp: string) => [`linkerd-${cp}-identity`, `linkerd-${cp}-proxy-injector`];

export const linkerdConfig: Category<CheckContext> = {
  id: "linkerd-config",
  checks: [
    {
      id: "l5d-ns-exists",
      description: "control plane Namespace exists",
      hint: "l5d-existence-ns",
      fatal: true,
      run: async (ctx) => {
        if (!(await ctx.namespace(ctx.cp))) fail(`The "${ctx.cp}" namespace does not exist`);
      },
    },
    {
      id: "l5d-cluster-roles",
      description: "control plane ClusterRoles exist",
      hint: "l5d-existence-cr",
      fatal: true,
      run: async (ctx) => checkResources("ClusterRoles", await ctx.clusterRoles(CONTROL_PLANE_SELECTOR), rbacNames(ctx.cp)),
    },
    {
      id: "l5d-cluster-role-bindings",
      description: "control plane ClusterRoleBindings exist",
      hint: "l5d-existence-crb",
      fatal: true,
      run: async (ctx) => checkResources("ClusterRoleBindings", await ctx.clusterRoleBindings(CONTROL_PLANE_SELECTOR), rbacNames(ctx.cp)),
    },
    {
      id: "l5d-service-accounts",
      description: "control plane ServiceAccounts exist",
      hint: "l5d-existence-sa",
      fatal: true,
      run: async (ctx) => checkResources("ServiceAccounts", await controlPlaneServiceAccounts(ctx), ["linkerd-destination", "linkerd-identity", "linkerd-proxy-injector"]),
    },
    {
      id: "l5d-crds",
      description: "control plane CustomResourceDefinitions exist",
      hint: "l5d-existence-crd",
      fatal: true,
      run: checkCustomResourceDefinitions,
    },
    {
      id: "l5d-mutating-webhooks",
      description: "control plane MutatingWebhookConfigurations exist",
      hint: "l5d-existence-mwc",
      fatal: true,
      run: async (ctx) => checkResources("MutatingWebhookConfigurations", await ctx.mutatingWebhookConfigurations(CONTROL_PLANE_SELECTOR), [PROXY_INJECTOR_WEBHOOK]),
    },
    {
      id: "l5d-validating-webhooks",
      description: "control plane ValidatingWebhookConfigurations exist",
      hint: "l5d-existence-vwc",
      fatal: true,
      run: async (ctx) => checkResources("ValidatingWebhookConfigurations", await ctx.validatingWebhookConfigurations(CONTROL_PLANE_SELECTOR), [SP_VALIDATOR_WEBHOOK]),
    },
    {
      id: "l5d-proxy-init-run-as-root",
      description: "proxy-init container runs as root user if docker container runtime is used",
      hint: "l5d-proxy-init-run-as-root",
      run: async (ctx) => {
        const cm = await ctx.configMap(ctx.cp, "linkerd-config");
        if (!cm) skip("skipping check because ConigMap does not exist");
        if (parseLinkerdValues(cm)?.proxyInitRunAsRoot) return;
        if ((await ctx.nodes()).some((n) => n.status?.nodeInfo?.containerRuntimeVersion?.startsWith("docker:")))
          fail("there are nodes using the docker container runtime and proxy-init container must run as root user.\ntry installing linkerd via --set proxyInit.runAsRoot=true");
      },
    },
  ],
};

const CNI_SKIP = "skipping check because CNI is not enabled";

export const linkerdCniPlugin: Category<CheckContext> = {
  id: "linkerd-cni-plugin",
  checks: [
    {
      id: "cni-config-map",
      description: "cni plugin ConfigMap exists",
      hint: "cni-plugin-cm-exists",
      fatal: true,
      run: async (ctx) => {
        if (!(await ctx.cniEnabled())) skip(CNI_SKIP);
        if (!(await ctx.configMap(ctx.config.cniNamespace, "linkerd-cni-config"))) fail(`configmaps "linkerd-cni-config" not found`);
      },
    },
    {
      id: "cni-cluster-role",
      description: "cni plugin ClusterRole exists",
      hint: "cni-plugin-cr-exists",
      fatal: true,
      run: async (ctx) => {
        if (!(await ctx.cniEnabled())) skip(CNI_SKIP);
        if (!(await ctx.clusterRole("linkerd-cni"))) fail("missing ClusterRole: linkerd-cni");
      },
    },
    {
      id: "cni-cluster-role-binding",
      description: "cni plugin ClusterRoleBinding exists",
      hint: "cni-plugin-crb-exists",
      fatal: true,
      run: async (ctx) => {
        if (!(await ctx.cniEnabled())) skip(CNI_SKIP);
        if (!(await ctx.clusterRoleBinding("linkerd-cni"))) fail("missing ClusterRoleBinding: linkerd-cni");
      },
    },
    {
      id: "cni-service-account",
      description: "cni plugin ServiceAccount exists",
      hint: "cni-plugin-sa-exists",
      fatal: true,
      run: async (ctx) => {
        if (!(await ctx.cniEnabled())) skip(CNI_SKIP);
        if (!(await ctx.serviceAccount(ctx.config.cniNamespace, "linkerd-cni"))) fail("missing ServiceAccount: linkerd-cni");
      },
    },
    {
      id: "cni-daemon-set",
      description: "cni plugin DaemonSet exists",
      hint: "cni-plugin-ds-exists",
      fatal: true,
      run: async (ctx) => {
        if (!(await ctx.cniEnabled())) skip(CNI_SKIP);
        if (!(await ctx.daemonSet(ctx.config.cniNamespace, "linkerd-cni"))) fail("missing DaemonSet: linkerd-cni");
      },
    },
    {
      id: "cni-ready",
      description: "cni plugin pod is running on all nodes",
      hint: "cni-plugin-ready",
      fatal: true,
      retry: true,
      surfaceErrorOnRetry: true,
      run: async (ctx) => {
        if (!(await ctx.cniEnabled())) skip(CNI_SKIP);
        const ds = await ctx.daemonSet(ctx.config.cniNamespace, "linkerd-cni");
        if (!ds) fail("missing DaemonSet: linkerd-cni");
        const scheduled = ds.status?.desiredNumberScheduled ?? 0;
        const ready = ds.status?.numberReady ?? 0;
        if (scheduled !== ready) fail(`number ready: ${ready}, number scheduled: ${scheduled}`);
      },
    },
  ],
};
