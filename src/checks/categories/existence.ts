import { matchesSelector } from "../../kube/selector.js";
import type { KubeObject, Pod } from "../../kube/types.js";
import { cidrContainsCidr, cidrContainsIp, parseCidr } from "../cidr.js";
import { inOrder, type CheckContext } from "../context.js";
import { parseLinkerdValues } from "../linkerd-values.js";
import { CONTROL_PLANE_COMPONENT_LABEL, CONTROL_PLANE_SELECTOR } from "../pods.js";
import { fail, skip, type Category } from "../types.js";

/** `missing ServiceAccounts: a, b` when some expected names are not among the objects. */
export function checkResources(kind: string, objects: readonly KubeObject[], expected: readonly string[]): void {
  const names = new Set(objects.map((o) => o.metadata.name));
  const missing = expected.filter((n) => !names.has(n)).sort();
  if (missing.length) fail(`missing ${kind}: ${missing.join(", ")}`);
}

export async function controlPlaneServiceAccounts(ctx: CheckContext): Promise<KubeObject[]> {
  return (await ctx.serviceAccounts(ctx.cp)).filter((sa) => matchesSelector(sa.metadata.labels, CONTROL_PLANE_SELECTOR));
}

/** Linkerd's control-plane pod rule: destination, identity and proxy-injector each have a running pod whose containers are all ready. */
export function validateControlPlanePods(pods: readonly Pod[]): void {
  const byComponent = new Map<string, Pod[]>();
  for (const pod of pods) {
    const name = pod.metadata.name;
    if (pod.status?.phase !== "Running" || !name.startsWith("linkerd-")) continue;
    const parts = name.split("-");
    if (parts.length < 4) continue;
    const component = parts.slice(1, -2).join("-");
    byComponent.set(component, [...(byComponent.get(component) ?? []), pod]);
  }
  for (const component of ["destination", "identity", "proxy-injector"]) {
    const candidates = byComponent.get(component);
    if (!candidates) fail(`No running pods for "linkerd-${component}"`);
    let error = "";
    let ready = false;
    for (const pod of candidates) {
      let allReady = true;
      for (const c of pod.status?.containerStatuses ?? []) {
        if (!c.ready) {
          error = `pod/${pod.metadata.name} container ${c.name} is not ready`;
          allReady = false;
        }
      }
      if (allReady) {
        ready = true;
        break;
      }
    }
    if (!ready) fail(error);
  }
}

async function clusterNetworks(ctx: CheckContext) {
  const values = await ctx.values();
  return { text: values.clusterNetworks, nets: values.clusterNetworks.split(",").map(parseCidr) };
}

export const linkerdExistence: Category<CheckContext> = {
  id: "linkerd-existence",
  checks: [
    {
      id: "l5d-config-exists",
      description: "'linkerd-config' config map exists",
      hint: "l5d-existence-linkerd-config",
      fatal: true,
      run: async (ctx) => {
        parseLinkerdValues(await ctx.linkerdConfigMap());
      },
    },
    {
      id: "l5d-heartbeat-sa",
      description: "heartbeat ServiceAccount exist",
      hint: "l5d-existence-sa",
      fatal: true,
      run: async (ctx) => {
        const values = parseLinkerdValues(await ctx.linkerdConfigMap());
        if (values?.disableHeartBeat) return;
        checkResources("ServiceAccounts", await controlPlaneServiceAccounts(ctx), ["linkerd-heartbeat"]);
      },
    },
    {
      id: "l5d-replicasets-ready",
      description: "control plane replica sets are ready",
      hint: "l5d-existence-replicasets",
      fatal: true,
      retry: true,
      run: async (ctx) => {
        const errors: string[] = [];
        for (const rs of await ctx.replicaSets(ctx.cp))
          for (const c of rs.status?.conditions ?? []) if (c.type === "ReplicaFailure" && c.status === "True") errors.push(`${c.reason ?? ""}: ${c.message ?? ""}`);
        if (errors.length) fail(errors.join("\n   "));
      },
    },
    {
      id: "l5d-unschedulable-pods",
      description: "no unschedulable pods",
      hint: "l5d-existence-unschedulable-pods",
      severity: "warning",
      retry: true,
      surfaceErrorOnRetry: true,
      run: async (ctx) => {
        for (const pod of await ctx.pods(ctx.cp))
          for (const c of pod.status?.conditions ?? []) if (c.reason === "Unschedulable") fail(`${pod.metadata.name}: ${c.message ?? ""}`);
      },
    },
    {
      id: "l5d-cp-pods-ready",
      description: "control plane pods are ready",
      hint: "l5d-api-control-ready",
      fatal: true,
      retry: true,
      surfaceErrorOnRetry: true,
      run: async (ctx) => validateControlPlanePods(await ctx.pods(ctx.cp, CONTROL_PLANE_COMPONENT_LABEL)),
    },
    {
      id: "l5d-cluster-networks-cidr",
      description: "cluster networks contains all node podCIDRs",
      hint: "l5d-cluster-networks-cidr",
      run: async (ctx) => {
        const [nodes, { nets }] = await inOrder(ctx.nodes(), clusterNetworks(ctx));
        const bad: string[] = [];
        let any = false;
        for (const node of nodes) {
          const podCIDR = node.spec?.podCIDR;
          if (!podCIDR) continue;
          any = true;
          parseCidr(podCIDR);
          if (!nets.some((n) => cidrContainsCidr(n, podCIDR))) bad.push(podCIDR);
        }
        if (!any) skip("skipping check because the nodes aren't exposing podCIDR");
        if (bad.length) {
          bad.sort();
          fail(`node has podCIDR(s) [${bad.join(" ")}] which are not contained in the Linkerd clusterNetworks.\n\tTry installing linkerd via --set clusterNetworks="${bad.join("\\,")}"`);
        }
      },
    },
    {
      id: "l5d-cluster-networks-pods",
      description: "cluster networks contains all pods",
      hint: "l5d-cluster-networks-pods",
      run: async (ctx) => {
        const [{ text, nets }, pods] = await inOrder(clusterNetworks(ctx), ctx.pods(""));
        for (const pod of pods) {
          const ip = pod.status?.podIP;
          if (pod.spec.hostNetwork || !ip) continue;
          if (!nets.some((n) => cidrContainsIp(n, ip))) fail(`the Linkerd clusterNetworks [${JSON.stringify(text)}] do not include pod ${pod.metadata.namespace}/${pod.metadata.name} (${ip})`);
        }
      },
    },
    {
      id: "l5d-cluster-networks-services",
      description: "cluster networks contains all services",
      hint: "l5d-cluster-networks-pods",
      run: async (ctx) => {
        const [{ text, nets }, services] = await inOrder(clusterNetworks(ctx), ctx.services(""));
        for (const svc of services) {
          const ip = svc.spec?.clusterIP ?? "";
          if (ip === "" || ip === "None") continue;
          if (!nets.some((n) => cidrContainsIp(n, ip))) fail(`the Linkerd clusterNetworks [${JSON.stringify(text)}] do not include svc ${svc.metadata.namespace}/${svc.metadata.name} (${ip})`);
        }
      },
    },
  ],
};
