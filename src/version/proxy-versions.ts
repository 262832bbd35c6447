import { proxyVersion } from "../checks/pods.js";
import { compareVersions } from "../checks/versions.js";
import type { Pod } from "../kube/types.js";
import { sanitize } from "../output/sanitize.js";

/**
 * `mesh version --proxy`: which proxy versions the meshed pods run. As Linkerd reads it, a pod's
 * proxy version is the tag of its `linkerd-proxy` container's image (the text after the last ":");
 * pods are those labelled `linkerd.io/control-plane-ns=<control plane>`. Pure: the command lists
 * the pods.
 */

export interface ProxyVersionGroup {
  /** The image tag, or "" for a labelled pod without a `linkerd-proxy` container. */
  version: string;
  /** `namespace/name` of each pod running it, sorted. */
  pods: string[];
  /** Older than the control plane's version (false when either is not comparable). */
  olderThanControlPlane: boolean;
}

/** Pods that finished (Succeeded, Failed) run no proxy any more. */
const finished = (p: Pod) => p.status?.phase === "Succeeded" || p.status?.phase === "Failed";

/** Groups pods by proxy version: newest first (by release number), versions that cannot be compared last, by name. */
export function computeProxyVersions(pods: readonly Pod[], serverVersion: string | undefined): ProxyVersionGroup[] {
  const byVersion = new Map<string, string[]>();
  for (const pod of pods) {
    if (finished(pod)) continue;
    const v = proxyVersion(pod);
    const list = byVersion.get(v) ?? [];
    list.push(`${pod.metadata.namespace ?? ""}/${pod.metadata.name}`);
    byVersion.set(v, list);
  }
  const groups = [...byVersion].map(([version, names]) => ({
    version,
    pods: names.sort(),
    olderThanControlPlane: serverVersion !== undefined && version !== "" && (compareVersions(version, serverVersion) ?? 0) < 0,
  }));
  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return groups.sort((a, b) => {
    const c = compareVersions(a.version, b.version);
    if (c !== undefined) return -c;
    const ac = compareVersions(a.version, a.version) !== undefined;
    const bc = compareVersions(b.version, b.version) !== undefined;
    if (ac !== bc) return ac ? -1 : 1;
    return byName(a.version, b.version);
  });
}

/** Pods listed under a version in the table (a big cluster runs hundreds of each); -o json lists all. */
export const MAX_LISTED_PODS = 10;

const plural = (n: number) => `${n} pod${n === 1 ? "" : "s"}`;

/**
 * The `Proxy versions:` block: one line per version with its pod count (Linkerd's line), a flag
 * when it is older than the control plane, then its pods, one per line (at most `maxPods`).
 */
export function formatProxyVersions(groups: readonly ProxyVersionGroup[], serverVersion: string | undefined, maxPods = MAX_LISTED_PODS): string {
  if (groups.length === 0) return "Proxy versions: unavailable (no meshed pods found)\n";
  let out = "Proxy versions:\n";
  for (const g of groups) {
    const name = g.version === "" ? "(no linkerd-proxy container)" : sanitize(g.version, 128);
    const flag = g.olderThanControlPlane ? `, older than the control plane (${sanitize(serverVersion ?? "", 128)})` : "";
    out += `\t${name} (${plural(g.pods.length)}${flag})\n`;
    for (const p of g.pods.slice(0, maxPods)) out += `\t\t${sanitize(p, 300)}\n`;
    if (g.pods.length > maxPods) out += `\t\t… and ${g.pods.length - maxPods} more (-o json lists every pod)\n`;
  }
  return out;
}
