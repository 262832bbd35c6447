import type { KubeObject, Pod, Service } from "../../kube/types.js";
import type { CheckContext } from "../context.js";
import { checkPodsRunning, CONTROL_PLANE_NS_LABEL } from "../pods.js";
import { fail, type Category } from "../types.js";
import { checkProxyVersionsMatchCli, checkProxyVersionsUpToDate } from "./versions.js";

export const OPAQUE_PORTS_ANNOTATION = "config.linkerd.io/opaque-ports";

export const dataPlanePods = (ctx: CheckContext) => ctx.pods(ctx.config.dataPlaneNamespace, `${CONTROL_PLANE_NS_LABEL}=${ctx.cp}`);

const annotationOnlyPrefixes = ["config.linkerd.io", "config.alpha.linkerd.io"];
const annotationOnly = ["linkerd.io/inject"];
const labelOnly = ["mirror.linkerd.io/exported"];

const misconfiguredLabels = (o: KubeObject) => Object.keys(o.metadata.labels ?? {}).filter((l) => annotationOnlyPrefixes.some((p) => l.startsWith(p)) || annotationOnly.includes(l)).sort();
const misconfiguredAnnotations = (o: KubeObject) => Object.keys(o.metadata.annotations ?? {}).filter((a) => labelOnly.includes(a)).sort();

function report(objects: readonly KubeObject[], pick: (o: KubeObject) => string[], title: string): void {
  const invalid = objects.flatMap((o) => {
    const keys = pick(o);
    return keys.length ? [`\t* ${o.metadata.namespace}/${o.metadata.name}\n\t\t${keys.join("\n\t\t")}`] : [];
  });
  if (invalid.length) fail(`${title}:\n${invalid.join("\n")}`);
}

// -- opaque ports: Linkerd's rule, including its reading of int-or-string target ports ----------

interface Target {
  isInt: boolean;
  int: number;
  str: string;
}
const target = (t: number | string | undefined): Target => (typeof t === "string" ? { isInt: false, int: 0, str: t } : { isInt: true, int: t ?? 0, str: "" });

function atoi(p: string, pod: Pod): number {
  if (!/^[+-]?\d+$/.test(p)) throw new Error(`failed to convert ${p} to port number for pod ${pod.metadata.name}`);
  return Number(p);
}

const containerPorts = (pod: Pod) => pod.spec.containers.flatMap((c) => c.ports ?? []);

function checkPodPorts(svc: Service, pod: Pod, podPorts: string[], port: number): void {
  for (const sp of svc.spec?.ports ?? []) {
    if (sp.port !== port) continue;
    const t = target(sp.targetPort);
    for (const cp of containerPorts(pod)) {
      if (cp.containerPort === t.int || (cp.name ?? "") === t.str) {
        const strPort = String(t.isInt ? t.int : cp.containerPort);
        if (podPorts.includes(strPort)) return;
        throw new Error(`service ${svc.metadata.name} expects target port ${strPort} to be opaque; add it to pod ${pod.metadata.name} ${OPAQUE_PORTS_ANNOTATION} annotation`);
      }
    }
  }
}

function checkServiceIntPorts(svc: Service, svcPorts: string[], port: number): boolean {
  for (const p of svc.spec?.ports ?? []) {
    const t = target(p.targetPort);
    if (t.isInt && t.int === 0 && p.port === port) throw new Error(`service ${svc.metadata.name} targets the opaque port ${port}; add it to its ${OPAQUE_PORTS_ANNOTATION} annotation`);
    if (t.int === port) {
      if (svcPorts.includes(String(p.port))) return true;
      throw new Error(`service ${svc.metadata.name} targets the opaque port ${port} through ${p.port}; add ${p.port} to its ${OPAQUE_PORTS_ANNOTATION} annotation`);
    }
  }
  return false;
}

function checkServiceNamePorts(svc: Service, pod: Pod, port: number, svcPorts: string[]): void {
  for (const p of svc.spec?.ports ?? []) {
    const t = target(p.targetPort);
    if (t.str === "") continue;
    for (const cp of containerPorts(pod)) {
      if (cp.containerPort === port && (cp.name ?? "") === t.str) {
        if (svcPorts.includes(String(p.port))) return;
        throw new Error(`service ${svc.metadata.name} targets the opaque port ${cp.name} through ${p.port}; add ${p.port} to its ${OPAQUE_PORTS_ANNOTATION} annotation`);
      }
    }
  }
}

/** Throws when the opaque ports of a service and of a pod behind it disagree. */
export function misconfiguredOpaqueAnnotation(svc: Service, pod: Pod): void {
  const svcAnn = svc.metadata.annotations?.[OPAQUE_PORTS_ANNOTATION];
  const podAnn = pod.metadata.annotations?.[OPAQUE_PORTS_ANNOTATION];
  const svcPorts = svcAnn !== undefined ? svcAnn.split(",") : [];
  const podPorts = podAnn !== undefined ? podAnn.split(",") : [];
  for (const p of svcPorts) checkPodPorts(svc, pod, podPorts, atoi(p, pod));
  for (const p of podPorts) {
    if (svcPorts.includes(p)) continue;
    const port = atoi(p, pod);
    if (checkServiceIntPorts(svc, svcPorts, port)) continue;
    checkServiceNamePorts(svc, pod, port, svcPorts);
  }
}

export async function checkOpaquePorts(ctx: CheckContext): Promise<void> {
  const ns = ctx.config.dataPlaneNamespace;
  const [services, endpoints, pods] = await Promise.all([ctx.services(ns), ctx.endpoints(ns), ctx.pods("")]);
  const epByName = new Map(endpoints.map((e) => [`${e.metadata.namespace}/${e.metadata.name}`, e]));
  const podByName = new Map(pods.map((p) => [`${p.metadata.namespace}/${p.metadata.name}`, p]));
  const errors: string[] = [];
  for (const svc of services) {
    if (svc.spec?.clusterIP === "None") continue;
    const key = `${svc.metadata.namespace}/${svc.metadata.name}`;
    const ep = epByName.get(key);
    if (!ep) fail(`endpoints "${svc.metadata.name}" not found`);
    const targets = new Map<string, Pod>();
    for (const subset of ep.subsets ?? [])
      for (const addr of subset.addresses ?? []) {
        if (addr.targetRef?.kind !== "Pod") continue;
        const pod = podByName.get(`${svc.metadata.namespace}/${addr.targetRef.name}`);
        if (!pod) fail(`pod "${addr.targetRef.name}" not found`);
        targets.set(addr.targetRef.name, pod);
      }
    for (const pod of targets.values()) {
      try {
        misconfiguredOpaqueAnnotation(svc, pod);
      } catch (e) {
        errors.push(`\t* ${(e as Error).message}`);
      }
    }
  }
  if (errors.length) fail(errors.join("\n    "));
}

export const linkerdDataPlane: Category<CheckContext> = {
  id: "linkerd-data-plane",
  checks: [
    {
      id: "l5d-data-plane-exists",
      description: "data plane namespace exists",
      hint: "l5d-data-plane-exists",
      fatal: true,
      run: async (ctx) => {
        const ns = ctx.config.dataPlaneNamespace;
        if (ns && !(await ctx.namespace(ns))) fail(`The "${ns}" namespace does not exist`);
      },
    },
    {
      id: "l5d-data-plane-ready",
      description: "data plane proxies are ready",
      hint: "l5d-data-plane-ready",
      fatal: true,
      retry: true,
      run: async (ctx) => checkPodsRunning(await dataPlanePods(ctx), ctx.config.dataPlaneNamespace),
    },
    {
      id: "l5d-data-plane-version",
      description: "data plane is up-to-date",
      hint: "l5d-data-plane-version",
      severity: "warning",
      run: async (ctx) => checkProxyVersionsUpToDate(await dataPlanePods(ctx), await ctx.latestOrNone()),
    },
    {
      id: "l5d-data-plane-cli-version",
      description: "data plane and cli versions match",
      hint: "l5d-data-plane-cli-version",
      severity: "warning",
      run: async (ctx) => checkProxyVersionsMatchCli(await dataPlanePods(ctx), ctx.config.cliVersion),
    },
    {
      id: "l5d-data-plane-pod-labels",
      description: "data plane pod labels are configured correctly",
      hint: "l5d-data-plane-pod-labels",
      severity: "warning",
      run: async (ctx) => report(await dataPlanePods(ctx), misconfiguredLabels, "Some labels on data plane pods should be annotations"),
    },
    {
      id: "l5d-data-plane-service-labels",
      description: "data plane service labels are configured correctly",
      hint: "l5d-data-plane-services-labels",
      severity: "warning",
      run: async (ctx) => report(await ctx.services(ctx.config.dataPlaneNamespace), misconfiguredLabels, "Some labels on data plane services should be annotations"),
    },
    {
      id: "l5d-data-plane-service-annotations",
      description: "data plane service annotations are configured correctly",
      hint: "l5d-data-plane-services-annotations",
      severity: "warning",
      run: async (ctx) => report(await ctx.services(ctx.config.dataPlaneNamespace), misconfiguredAnnotations, "Some annotations on data plane services should be labels"),
    },
    {
      id: "l5d-opaque-ports",
      description: "opaque ports are properly annotated",
      hint: "linkerd-opaque-ports-definition",
      severity: "warning",
      run: checkOpaquePorts,
    },
  ],
};
