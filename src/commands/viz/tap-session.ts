// The live side of `viz tap` and `viz top`: resolve the target's pods, follow each meshed pod's
// linkerd-proxy log (one stream per pod, spec D5), watch the pods so new ones are attached and
// gone ones detached, and hand every access-log request that passes the filters to `onRequest`.
import type { ClusterApi } from "../../kube/cluster.js";
import type { Pod, Service } from "../../kube/types.js";
import { KubeApiError } from "../../kube/errors.js";
import { MeshError } from "../../errors.js";
import { sanitize } from "../../output/sanitize.js";
import type { ResourceRef } from "../../viz/resources.js";
import { resolveTargets } from "../../viz/objects.js";
import { parseAccessLog, splitKubeletTimestamp } from "../../viz/tap/access-log.js";
import { accessLogFormat, accessLogHint } from "../../viz/tap/pods.js";
import { buildIndex, matchesFilter, podInfo, RateBudget, toTapRequest, type PodInfo, type TapFilter, type TapIndex, type TapRequest } from "../../viz/tap/events.js";
import { sleep } from "../../concurrency.js";

const isMeshedPod = (p: Pod) => Boolean(p.spec?.containers?.some((c) => c.name === "linkerd-proxy"));

export interface SessionOptions {
  cluster: ClusterApi;
  /** What to tap: the target, or the `--to` resource (whose pods receive the target's requests). */
  tapRefs: ResourceRef[];
  /** With `--to`: the target, whose pods' IPs are the only accepted clients. */
  sourceRefs?: ResourceRef[];
  selector?: string;
  filter: TapFilter;
  maxRps: number;
  clusterDomain?: string;
  signal: AbortSignal;
  now: () => Date;
  /** One line for people, on stderr. */
  warn: (message: string) => void;
  onRequest: (r: TapRequest, id: { base: number; stream: number }) => void;
  /** How long a log stream may stay silent before it is re-opened (default 5 min). */
  idleTimeoutMs?: number;
}

const enc = encodeURIComponent;
const key = (p: Pod) => `${p.metadata.namespace ?? ""}/${p.metadata.name}`;

/** The kubelet's RFC 3339 time as nanoseconds since the epoch. */
function timeNs(t: string): bigint | undefined {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(t);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? "").padEnd(9, "0").slice(0, 9) || "0");
}

interface Attached {
  pod: Pod;
  info: PodInfo;
  base: number;
  stream: number;
  ac: AbortController;
  done: Promise<void>;
}

/**
 * Runs until `signal` aborts. Throws a MeshError when no pod can be tapped at the start (none
 * meshed, or none with access logging), or when the cluster refuses the log or watch requests.
 */
export async function runTapSession(o: SessionOptions): Promise<void> {
  const { cluster, signal } = o;
  const attached = new Map<string, Attached>();
  const warned = new Set<string>();
  const budget = new RateBudget(o.maxRps);
  let nextBase = 0;
  const bases = new Map<string, number>();
  let index: TapIndex = buildIndex([], []);
  let sourceIps: Set<string> | undefined;
  let fatal: unknown;
  const session = new AbortController();
  const stopAll = () => session.abort();
  signal.addEventListener("abort", stopAll, { once: true });

  /** The live pods of `refs`; after the start, a named object that is gone has none (its pods are detached). */
  const podsOf = async (refs: ResourceRef[], first: boolean) => {
    const seen = new Map<string, Pod>();
    for (const ref of refs) {
      let targets;
      try {
        targets = await resolveTargets(cluster, [ref], { selector: o.selector });
      } catch (err) {
        if (!first && err instanceof MeshError && !(err instanceof KubeApiError) && / not found/.test(err.message)) continue;
        throw err;
      }
      for (const t of targets) for (const p of t.pods) seen.set(key(p), p);
    }
    return [...seen.values()];
  };

  const namespaces = new Set<string>();
  const refreshIndex = async (pods: Pod[]) => {
    for (const p of pods) if (p.metadata.namespace) namespaces.add(p.metadata.namespace);
    for (const r of [...o.tapRefs, ...(o.sourceRefs ?? [])]) if (r.namespace) namespaces.add(r.namespace);
      else if (r.type === "namespace" && r.name) namespaces.add(r.name);
    // Source labels need the clients' pods: the whole cluster when allowed, else the namespaces at hand.
    let all: Pod[] | undefined;
    try {
      all = await cluster.listPods();
    } catch {
      all = (await Promise.all([...namespaces].map((ns) => cluster.listPods(ns).catch(() => [] as Pod[])))).flat();
    }
    const services = (await Promise.all([...namespaces].map((ns) => cluster.listServices(ns).catch(() => [] as Service[])))).flat();
    index = buildIndex(all, services);
  };

  /** Splits pods into those that can be tapped and those that cannot (reported once each). */
  const classify = (pods: Pod[]) => {
    const unmeshed = pods.filter((p) => !isMeshedPod(p));
    const noLog = pods.filter((p) => isMeshedPod(p) && !accessLogFormat(p));
    const ok = pods.filter((p) => isMeshedPod(p) && accessLogFormat(p));
    return { ok, unmeshed, noLog };
  };

  const report = (unmeshed: Pod[], noLog: Pod[]) => {
    const newUnmeshed = unmeshed.filter((p) => !warned.has(key(p)));
    const newNoLog = noLog.filter((p) => !warned.has(key(p)));
    for (const p of [...newUnmeshed, ...newNoLog]) warned.add(key(p));
    if (newUnmeshed.length) o.warn(`not tapping pods that are not meshed (no linkerd-proxy container): ${newUnmeshed.map((p) => sanitize(p.metadata.name)).join(", ")}`);
    if (newNoLog.length) o.warn(`not tapping pods whose proxy writes no access log: ${newNoLog.map((p) => sanitize(p.metadata.name)).join(", ")}\n  ${accessLogHint(newNoLog)}`);
  };

  const sync = async (first = false) => {
    const pods = await podsOf(o.tapRefs, first);
    if (o.sourceRefs) sourceIps = new Set((await podsOf(o.sourceRefs, first)).map((p) => p.status?.podIP).filter((ip): ip is string => Boolean(ip)));
    await refreshIndex(pods);
    const { ok, unmeshed, noLog } = classify(pods);
    // At the start, the error for "nothing to tap" names these pods itself.
    if (!first || ok.some((p) => p.status?.podIP)) report(unmeshed, noLog);
    const wanted = new Map(ok.filter((p) => p.status?.podIP).map((p) => [key(p), p]));
    for (const [k, a] of attached) if (!wanted.has(k)) detach(k, a);
    for (const [k, p] of wanted) {
      const a = attached.get(k);
      if (!a) attach(p, !first);
      else if (a.pod.metadata.uid !== p.metadata.uid) {
        // Deleted and re-created under the same name (a StatefulSet pod): start over.
        detach(k, a);
        attach(p, true);
      } else {
        a.pod = p;
        a.info = podInfo(p);
      }
    }
    budget.setPodCount(attached.size);
    return { pods, ok, unmeshed, noLog };
  };

  const detach = (k: string, a: Attached) => {
    a.ac.abort();
    attached.delete(k);
    budget.forget(k);
    o.warn(`detached pod ${sanitize(`${a.pod.metadata.namespace}/${a.pod.metadata.name}`)}`);
  };

  /** Starts following a pod; `announce`: say so (pods that appear after the start). */
  const attach = (p: Pod, announce: boolean) => {
    const k = key(p);
    let base = bases.get(k);
    const again = base !== undefined;
    if (base === undefined) bases.set(k, (base = nextBase++));
    const ac = new AbortController();
    const a: Attached = { pod: p, info: podInfo(p), base, stream: 0, ac, done: Promise.resolve() };
    attached.set(k, a);
    if (announce) o.warn(`${again ? "re-attached" : "attached"} pod ${sanitize(`${p.metadata.namespace}/${p.metadata.name}`)}`);
    a.done = tail(a, AbortSignal.any([ac.signal, session.signal])).catch((err) => {
      fatal ??= err;
      session.abort();
    });
  };

  const tail = async (a: Attached, stop: AbortSignal) => {
    const ns = a.pod.metadata.namespace ?? "default";
    const name = a.pod.metadata.name;
    const startNs = BigInt(o.now().getTime()) * 1_000_000n;
    let lastNs = startNs;
    let atLast = 0;
    let failures = 0;
    while (!stop.aborted) {
      const since = new Date(Number(lastNs / 1_000_000n)).toISOString().replace(/\.\d+Z$/, "Z");
      const path = `/api/v1/namespaces/${enc(ns)}/pods/${enc(name)}/log?container=linkerd-proxy&follow=true&timestamps=true&sinceTime=${enc(since)}`;
      let seenAtLast = 0;
      try {
        for await (const raw of cluster.streamLines(path, { signal: stop, idleTimeoutMs: o.idleTimeoutMs ?? 300_000 })) {
          failures = 0;
          const { kubeletTime, text } = splitKubeletTimestamp(raw);
          const t = kubeletTime ? timeNs(kubeletTime) : undefined;
          if (t !== undefined) {
            // sinceTime has whole seconds: skip what came before the start or was already handled.
            if (t < lastNs) continue;
            if (t === lastNs && seenAtLast < atLast) {
              seenAtLast++;
              continue;
            }
            if (t > lastNs) {
              lastNs = t;
              atLast = 0;
              seenAtLast = 0;
            }
            atLast++;
            seenAtLast++;
          }
          const entry = parseAccessLog(text);
          if (!entry) continue;
          const r = toTapRequest(entry, a.info, index, o.clusterDomain);
          if (!matchesFilter(r, sourceIps ? { ...o.filter, sourceIps } : o.filter)) continue;
          if (!budget.take(key(a.pod), o.now().getTime())) continue;
          o.onRequest(r, { base: a.base, stream: a.stream++ });
        }
      } catch (err) {
        if (stop.aborted) return;
        if (err instanceof KubeApiError && (err.status === 401 || err.status === 403)) throw err;
        if (err instanceof KubeApiError && err.status === 404) return; // the pod is gone; the watch detaches it
        failures++;
        const text = err instanceof Error ? err.message : String(err);
        // A silent stream is re-opened quietly; anything else is said once per failure streak.
        if (failures === 1 && !/sent nothing/.test(text)) o.warn(`log stream of pod ${ns}/${name} interrupted (${sanitize(text)}); reconnecting`);
      }
      // The stream ended (the container stopped or restarted, or the server closed it): follow again.
      await sleep(Math.min(10_000, 500 * 2 ** Math.min(failures, 5)), stop);
    }
  };

  const watchNamespace = async (ns: string, kick: () => void) => {
    let rv: string | undefined;
    let failures = 0;
    while (!session.signal.aborted) {
      try {
        if (!rv) rv = (await cluster.getJson<{ metadata?: { resourceVersion?: string } }>(`/api/v1/namespaces/${enc(ns)}/pods?limit=1`))?.metadata?.resourceVersion;
        for await (const ev of cluster.watch<Pod>(`/api/v1/namespaces/${enc(ns)}/pods`, { signal: session.signal, resourceVersion: rv, timeoutSeconds: 300, idleTimeoutMs: 600_000 })) {
          failures = 0;
          rv = (ev.object.metadata as { resourceVersion?: string }).resourceVersion ?? rv;
          if (ev.type !== "BOOKMARK") kick();
        }
      } catch (err) {
        if (session.signal.aborted) return;
        if (err instanceof KubeApiError && err.status === 410) {
          rv = undefined;
          kick();
          continue;
        }
        if (err instanceof KubeApiError && (err.status === 401 || err.status === 403)) {
          o.warn(`cannot watch pods in namespace ${ns}: pods that start later are not tapped (${err.message})`);
          return;
        }
        failures++;
        if (failures === 1) o.warn(`watch of pods in namespace ${ns} interrupted (${err instanceof Error ? sanitize(err.message) : String(err)}); retrying`);
      }
      await sleep(Math.min(10_000, 500 * 2 ** Math.min(failures, 5)), session.signal);
    }
  };

  try {
    const first = await sync(true);
    if (attached.size === 0) {
      const what = o.tapRefs.map((r) => (r.name ? `${r.type}/${r.name}` : r.type)).join(", ");
      if (first.noLog.length)
        throw new MeshError(`no pods to tap for ${what}: the proxy access log is off in ${first.noLog.map((p) => sanitize(p.metadata.name)).join(", ")}`, accessLogHint(first.noLog));
      if (first.unmeshed.length) throw new MeshError(`no pods to tap for ${what}: none is meshed (${first.unmeshed.map((p) => sanitize(p.metadata.name)).join(", ")})`, "mesh the workload: kubectl get deploy/NAME -o yaml | mesh inject --access-log json - | kubectl apply -f -");
      throw new MeshError(`no pods to tap for ${what}: it has no running pods`, "check the resource name, the namespace (-n) and the selector (-l)");
    }

    // Re-resolve (debounced) whenever pods change in a namespace of interest.
    let pending: NodeJS.Timeout | undefined;
    let syncing = Promise.resolve();
    const kick = () => {
      if (pending || session.signal.aborted) return;
      pending = setTimeout(() => {
        pending = undefined;
        syncing = syncing
          .then(async () => void (await sync()))
          .catch((err: unknown) => {
            if (!session.signal.aborted) o.warn(`cannot refresh the pods of the target (${err instanceof Error ? sanitize(err.message) : String(err)})`);
          });
      }, 300);
    };
    const watches = [...namespaces].map((ns) => watchNamespace(ns, kick));
    await new Promise<void>((r) => (session.signal.aborted ? r() : session.signal.addEventListener("abort", () => r(), { once: true })));
    clearTimeout(pending);
    await Promise.all([...watches, syncing, ...[...attached.values()].map((a) => a.done)]);
    if (fatal !== undefined && !signal.aborted) throw fatal;
  } finally {
    signal.removeEventListener("abort", stopAll);
    session.abort();
  }
}
