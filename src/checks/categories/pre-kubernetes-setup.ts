import { KubeApiError } from "../../kube/errors.js";
import type { CheckContext } from "../context.js";
import { fail, type Category, type Check } from "../types.js";

/** Node heartbeats may lag by the kubelet's interval (5 min) plus TLS's usual skew allowance (10 s). */
export const ALLOWED_CLOCK_SKEW_MS = 5 * 60_000 + 10_000;

/** The text Linkerd shows for a failed request: the API server's own message when there is one. */
export function apiMessage(err: unknown): string {
  if (err instanceof KubeApiError && err.serverMessage && err.status !== 401) return err.serverMessage;
  return err instanceof Error ? err.message : String(err);
}

/** SelfSubjectAccessReview for one verb on one resource in the control-plane namespace. */
async function checkCan(ctx: CheckContext, verb: string, group: string, version: string, resource: string): Promise<void> {
  const status = await ctx.accessReview({ namespace: ctx.cp, verb, group, version, resource });
  if (status.allowed) return;
  const gk = group ? `${resource}.${group}` : resource;
  fail(status.reason ? `not authorized to access ${gk}: ${status.reason}` : `not authorized to access ${gk}`);
}

const can = (id: string, description: string, verb: string, group: string, version: string, resource: string): Check<CheckContext> => ({
  id,
  description,
  hint: "pre-k8s",
  run: (ctx) => checkCan(ctx, verb, group, version, resource),
});

export const preKubernetesSetup: Category<CheckContext> = {
  id: "pre-kubernetes-setup",
  checks: [
    {
      id: "pre-ns",
      description: "control plane namespace does not already exist",
      hint: "pre-ns",
      run: async (ctx) => {
        if (await ctx.namespace(ctx.cp)) fail(`The "${ctx.cp}" namespace already exists`);
      },
    },
    {
      id: "pre-cluster-scoped",
      description: "can create non-namespaced resources",
      hint: "pre-k8s-cluster-k8s",
      run: async (ctx) => {
        const objects = (await ctx.installObjects()).filter((o) => !o.metadata.namespace);
        const outcomes = await Promise.all(
          objects.map((o) =>
            ctx.dryRunCreate(o).then(
              () => undefined,
              (e: unknown) => `cannot create ${o.kind}/${o.metadata.name}: ${apiMessage(e)}`,
            ),
          ),
        );
        const errors = outcomes.filter((e): e is string => e !== undefined);
        if (errors.length) fail(errors.join("\n    "));
      },
    },
    can("pre-sa", "can create ServiceAccounts", "create", "", "v1", "serviceaccounts"),
    can("pre-svc", "can create Services", "create", "", "v1", "services"),
    can("pre-deploy", "can create Deployments", "create", "apps", "v1", "deployments"),
    can("pre-cronjob", "can create CronJobs", "create", "batch", "v1beta1", "cronjobs"),
    can("pre-cm", "can create ConfigMaps", "create", "", "v1", "configmaps"),
    can("pre-secret", "can create Secrets", "create", "", "v1", "secrets"),
    can("pre-secret-read", "can read Secrets", "get", "", "v1", "secrets"),
    {
      id: "pre-extension-apiserver-authentication",
      description: "can read extension-apiserver-authentication configmap",
      hint: "pre-k8s",
      run: async (ctx) => {
        const cm = await ctx.configMap("kube-system", "extension-apiserver-authentication");
        if (!cm) fail(`configmaps "extension-apiserver-authentication" not found`);
        if (!cm.data?.["requestheader-client-ca-file"]) fail("--requestheader-client-ca-file is not configured");
      },
    },
    {
      id: "pre-clock-skew",
      description: "no clock skew detected",
      hint: "pre-k8s-clock-skew",
      severity: "warning",
      run: async (ctx) => {
        const now = ctx.now().getTime();
        const skewed = (await ctx.nodes())
          .filter((n) =>
            (n.status?.conditions ?? []).some((c) => {
              if (c.type !== "Ready" || c.status !== "True" || !c.lastHeartbeatTime) return false;
              const since = now - Date.parse(c.lastHeartbeatTime);
              return Math.abs(since) > ALLOWED_CLOCK_SKEW_MS;
            }),
          )
          .map((n) => n.metadata.name);
        if (skewed.length) fail(`clock skew detected for node(s): ${skewed.join(", ")}`);
      },
    },
  ],
};
