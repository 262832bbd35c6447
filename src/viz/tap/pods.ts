// Which pods' proxies write the access log that tap and top read, and the command that turns it on.

import type { Pod } from "../../kube/types.js";
import { sanitize } from "../../output/sanitize.js";
import { podInfo } from "./events.js";

/** The access-log format a pod's proxy writes, or undefined when it writes none. */
export function accessLogFormat(pod: Pod): string | undefined {
  const proxy = pod.spec?.containers?.find((c) => c.name === "linkerd-proxy");
  const env = proxy?.env?.find((e) => e.name === "LINKERD2_PROXY_ACCESS_LOG")?.value?.toLowerCase();
  if (env === "json" || env === "apache") return env;
  if (env === undefined && proxy) {
    const ann = pod.metadata.annotations?.["config.linkerd.io/access-log"]?.toLowerCase();
    if (ann === "json" || ann === "apache") return ann;
  }
  return undefined;
}

/** The workload that owns a pod, as `kind/name` (`deploy/web`), for the command that turns on access logging. */
function workloadOf(pod: Pod): string {
  const l = podInfo(pod).labels;
  for (const [label, short] of [["deployment", "deploy"], ["statefulset", "sts"], ["daemonset", "ds"], ["replicaset", "rs"], ["job", "job"], ["cronjob", "cj"], ["replicationcontroller", "rc"]] as const)
    if (l[label]) return `${short}/${l[label]}`;
  return `pod/${pod.metadata.name}`;
}

/**
 * The one command per workload that turns access logging on. A bare pod cannot be changed in
 * place, so its command replaces it (`kubectl replace --force` deletes and re-creates it).
 */
export function accessLogHint(pods: Pod[]): string {
  const cmds = [
    ...new Set(
      pods.map((p) => {
        const workload = workloadOf(p);
        const apply = workload.startsWith("pod/") ? "kubectl replace --force -f -" : "kubectl apply -f -";
        return `kubectl get ${sanitize(workload)} -n ${sanitize(p.metadata.namespace ?? "default")} -o yaml | mesh inject --access-log json - | ${apply}`;
      }),
    ),
  ];
  return `turn the proxy access log on and restart the pods: ${cmds.join("; ")}`;
}
