import type { Pod } from "../kube/types.js";

/**
 * The labels Prometheus' `linkerd-proxy` job adds to every series of a pod (D3): `namespace`,
 * `pod`, and the top-level owner from the injector's `linkerd.io/proxy-<kind>` pod labels
 * (`linkerd.io/proxy-job` becomes `k8s_job`). Owners come from these labels, not from
 * ownerReferences, because that is what Linkerd's queries see. These take precedence over a
 * series' own labels of the same name (Prometheus' `honor_labels: false`).
 */
export type AttachedLabels = Readonly<Record<string, string>>;

const OWNER_KINDS = ["deployment", "statefulset", "daemonset", "replicaset", "replicationcontroller", "cronjob", "job"] as const;

export function attachedLabels(pod: Pick<Pod, "metadata">): AttachedLabels {
  const out: Record<string, string> = { namespace: pod.metadata.namespace ?? "", pod: pod.metadata.name };
  const labels = pod.metadata.labels ?? {};
  for (const kind of OWNER_KINDS) {
    const v = labels[`linkerd.io/proxy-${kind}`];
    if (v !== undefined) out[kind === "job" ? "k8s_job" : kind] = v;
  }
  return out;
}

/** The Prometheus label that names an object of this kind (`job` → `k8s_job`). */
export function kindLabel(kind: string): string {
  return kind === "job" ? "k8s_job" : kind;
}

/** A label of a series as Prometheus stored it: the attached labels first, then the series' own. */
export function labelOf(attached: AttachedLabels, labels: Readonly<Record<string, string>>, name: string): string | undefined {
  const a = attached[name];
  return a !== undefined ? a : labels[name];
}
