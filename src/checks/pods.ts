import type { Pod } from "../kube/types.js";

export const PROXY_CONTAINER = "linkerd-proxy";
/** Label on every meshed pod (and control-plane object): the control plane's namespace. */
export const CONTROL_PLANE_NS_LABEL = "linkerd.io/control-plane-ns";
export const CONTROL_PLANE_COMPONENT_LABEL = "linkerd.io/control-plane-component";
export const CNI_RESOURCE_LABEL = "linkerd.io/cni-resource";
/** Selector Linkerd uses for control-plane objects it lists. */
export const CONTROL_PLANE_SELECTOR = `${CONTROL_PLANE_NS_LABEL},!${CNI_RESOURCE_LABEL}`;

/** The pod's status as `kubectl get pods` shows it (Running, Completed, Init:0/1, CrashLoopBackOff...). */
export function podStatus(pod: Pod): string {
  let reason = pod.status?.reason || pod.status?.phase || "";
  let initializing = false;
  const inits = pod.status?.initContainerStatuses ?? [];
  for (let i = 0; i < inits.length; i++) {
    const t = inits[i].state?.terminated;
    const w = inits[i].state?.waiting;
    if (t && t.exitCode === 0 && !t.signal) continue;
    if (t) reason = t.reason ? `Init:${t.reason}` : t.signal ? `Init:Signal:${t.signal}` : `Init:ExitCode:${t.exitCode}`;
    else if (w?.reason && w.reason !== "PodInitializing") reason = `Init:${w.reason}`;
    else reason = `Init:${i}/${pod.spec.initContainers?.length ?? 0}`;
    initializing = true;
    break;
  }
  if (!initializing) {
    let hasRunning = false;
    const cs = pod.status?.containerStatuses ?? [];
    for (let i = cs.length - 1; i >= 0; i--) {
      const s = cs[i].state ?? {};
      if (s.waiting?.reason) reason = s.waiting.reason;
      else if (s.terminated?.reason) reason = s.terminated.reason;
      else if (s.terminated) reason = s.terminated.signal ? `Signal:${s.terminated.signal}` : `ExitCode:${s.terminated.exitCode}`;
      else if (cs[i].ready && s.running) hasRunning = true;
    }
    if (reason === "Completed" && hasRunning) reason = "Running";
  }
  return reason;
}

export function proxyContainer(pod: Pod) {
  return pod.spec.containers.find((c) => c.name === PROXY_CONTAINER);
}

/** The proxy's version: the tag of the `linkerd-proxy` image (text after the last ":"), or "". */
export function proxyVersion(pod: Pod): string {
  const image = proxyContainer(pod)?.image;
  if (image === undefined) return "";
  const parts = image.split(":");
  return parts[parts.length - 1];
}

export function proxyReady(pod: Pod): boolean {
  return pod.status?.containerStatuses?.find((c) => c.name === PROXY_CONTAINER)?.ready ?? false;
}

/**
 * Whether a pod is expected to be running: not finished (Succeeded, or Failed, which includes
 * Evicted), and not a Job pod whose application containers have all exited (its proxy is either
 * gone or keeping the Job alive, which mesh-job-proxies reports).
 */
export function shouldBeRunning(pod: Pod): boolean {
  const phase = pod.status?.phase;
  if (phase === "Succeeded" || phase === "Failed") return false;
  if (pod.metadata.ownerReferences?.some((o) => o.kind === "Job")) {
    const app = (pod.status?.containerStatuses ?? []).filter((c) => c.name !== PROXY_CONTAINER);
    if (app.length > 0 && app.every((c) => c.state?.terminated)) return false;
  }
  return true;
}

/**
 * Linkerd's "pods running rule": every pod with a proxy is running and its proxy ready. Unlike
 * Linkerd (linkerd2#6128, #11280), pods that should not be running are left out: Evicted and
 * other finished pods, and pods of Jobs whose work is done.
 */
export function checkPodsRunning(pods: readonly Pod[], namespace: string): void {
  if (pods.length === 0) throw new Error(`no "${PROXY_CONTAINER}" containers found${namespace ? ` in the "${namespace}" namespace` : ""}`);
  for (const pod of pods) {
    if (!shouldBeRunning(pod)) continue;
    const status = podStatus(pod);
    if (["Completed", "NodeShutdown", "Shutdown", "Terminated"].includes(status)) continue;
    if (status !== "Running" && status !== "Evicted") throw new Error(`pod "${pod.metadata.name}" status is ${pod.status?.phase ?? ""}`);
    if (!proxyReady(pod)) throw new Error(`container "${PROXY_CONTAINER}" in pod "${pod.metadata.name}" is not ready`);
  }
}

/** The workload that owns a pod, as `kind/name` for kubectl (`deployment/web`), following ReplicaSets to Deployments. */
export function podWorkload(pod: Pod): { kind: string; name: string } | undefined {
  const owner = pod.metadata.ownerReferences?.find((o) => o.controller) ?? pod.metadata.ownerReferences?.[0];
  if (!owner) return undefined;
  if (owner.kind === "ReplicaSet") {
    const hash = pod.metadata.labels?.["pod-template-hash"];
    if (hash && owner.name.endsWith(`-${hash}`)) return { kind: "Deployment", name: owner.name.slice(0, -hash.length - 1) };
    return { kind: "ReplicaSet", name: owner.name };
  }
  return { kind: owner.kind, name: owner.name };
}
