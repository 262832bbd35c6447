import { sleep } from "../../concurrency.js";
import type { Deps } from "../../deps.js";
import { MeshError } from "../../errors.js";
import { sanitize } from "../../output/sanitize.js";
import type { ClusterApi } from "../../kube/cluster.js";
import type { Pod } from "../../kube/types.js";
import { attachedLabels } from "../../viz/labels.js";
import { discountOwnScrape, podDelta } from "../../viz/delta.js";
import { isLivePod, isMeshed } from "../../viz/objects.js";
import { podKey, type Scraper, type ScrapedPod } from "../../viz/scrape.js";
import type { PodSample } from "../../viz/stat.js";

/**
 * What the viz commands that read proxies share: the default namespace, the cluster domain, which
 * pods can be scraped, and a two-scrape sample with a countdown on a terminal.
 */

/** The namespace of the kubeconfig's current context (kubectl's default for -n), if any. */
export async function contextNamespace(kubeconfig: string | undefined, context: string | undefined, env: Record<string, string | undefined>): Promise<string | undefined> {
  return (await import("../../kube/kubeconfig.js")).contextNamespace({ kubeconfig, context }, env);
}

/** Running, meshed by the control plane in `cp`, with a proxy container: a pod whose admin port can be scraped. */
export const scrapable = (cp: string) => (p: Pod) => isLivePod(p) && p.status?.phase === "Running" && isMeshed(p, cp) && p.spec.containers.some((c) => c.name === "linkerd-proxy");

/** A DNS name (RFC 1123 labels, at most 253 characters). */
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/i;

/**
 * `clusterDomain` of linkerd-config's values, else `cluster.local`. It goes into names, messages
 * and generated YAML, so a value that is not a DNS name is an error here, never passed on.
 */
export async function clusterDomainOf(cluster: ClusterApi, cp: string): Promise<string> {
  const cm = await cluster.getConfigMap(cp, "linkerd-config").catch(() => undefined);
  if (!cm) return "cluster.local";
  const { parseLinkerdValues } = await import("../../checks/linkerd-values.js");
  let domain: string;
  try {
    domain = parseLinkerdValues(cm)?.clusterDomain || "cluster.local";
  } catch {
    return "cluster.local"; // unreadable values: `mesh check` reports them
  }
  if (!DNS_NAME.test(domain)) throw new MeshError(`linkerd-config's clusterDomain "${sanitize(domain, 100)}" is not a DNS name`, "fix the installed values (mesh upgrade --set clusterDomain=...)");
  return domain;
}

/** A `sampling: Ns left` line on a terminal's stderr while waiting between scrapes. */
export function countdown(deps: Deps, ms: number): { stop: () => void } {
  if (!deps.io.isErrTTY || ms < 2000) return { stop: () => undefined };
  const end = Date.now() + ms;
  const draw = () => deps.io.stderr.write(`\rsampling: ${Math.max(0, Math.ceil((end - Date.now()) / 1000))}s left \x1b[K`);
  draw();
  const t = setInterval(draw, 1000);
  return {
    stop: () => {
      clearInterval(t);
      deps.io.stderr.write("\r\x1b[K");
    },
  };
}

/**
 * Two scrapes of `pods`, `intervalMs` apart, as per-pod deltas with Prometheus' labels attached
 * (D2, D3), keyed by `ns/name`. mesh's own first scrape is taken out of the deltas. With
 * `throwIfAllFail`, a first round that RBAC refused for every pod is an error (see Scraper.round).
 */
export async function sampleTwice(deps: Deps, scraper: Scraper, pods: Pod[], intervalMs: number, opts: { throwIfAllFail?: boolean } = {}): Promise<Map<string, PodSample>> {
  const roundStart = deps.now().getTime();
  const a = await scraper.round(pods, opts);
  const cd = countdown(deps, intervalMs);
  await sleep(intervalMs);
  cd.stop();
  const b = await scraper.round(pods);
  return podSamples(pods, a, b, roundStart);
}

/**
 * The per-pod deltas between two rounds of scrapes (the first begun at `firstRoundStart`), with
 * Prometheus' labels attached (D2, D3), keyed by `ns/name`; mesh's own first scrape is taken out.
 */
export function podSamples(pods: Pod[], before: ReadonlyMap<string, ScrapedPod>, after: ReadonlyMap<string, ScrapedPod>, firstRoundStart: number): Map<string, PodSample> {
  const out = new Map<string, PodSample>();
  for (const pod of pods) {
    const key = podKey(pod);
    const b = after.get(key);
    if (!b) continue;
    const a = before.get(key);
    const delta = podDelta(a, b, firstRoundStart);
    if (!delta) continue;
    if (a) discountOwnScrape(delta, a.bodyBytes);
    out.set(key, { delta, attached: attachedLabels(pod) });
  }
  return out;
}
