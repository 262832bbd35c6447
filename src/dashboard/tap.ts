// The tap page's stream: `mesh viz tap`'s session (the proxies' access logs through the pod log
// API) with the same target, --to and filters, each request handed to the page as one row.
import type { ClusterApi } from "../kube/cluster.js";
import { MeshError } from "../errors.js";
import { sanitize } from "../output/sanitize.js";
import type { TapRequest } from "../viz/tap/events.js";
import { formatAddr } from "../viz/tap/format.js";
import type { TapRow } from "./wire.js";

/** The page's tap form: the flags of `mesh viz tap`. */
export interface TapParams {
  namespace: string;
  resource: string;
  to?: string;
  toNamespace?: string;
  method?: string;
  scheme?: string;
  authority?: string;
  path?: string;
  maxRps: number;
}

export type { TapRow };

const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The form's query string as tap's parameters; throws a MeshError naming the first bad field. */
export function parseTapParams(q: URLSearchParams, defaultNamespace: string): TapParams {
  const text = (name: string, max = 512) => {
    const v = q.get(name)?.trim();
    if (v && v.length > max) throw new MeshError(`${name} is too long`);
    return v || undefined;
  };
  const namespace = text("namespace", 63) ?? defaultNamespace;
  if (!NAMESPACE.test(namespace)) throw new MeshError(`"${sanitize(namespace, 63)}" is not a namespace name`);
  const toNamespace = text("toNamespace", 63);
  if (toNamespace && !NAMESPACE.test(toNamespace)) throw new MeshError(`"${sanitize(toNamespace, 63)}" is not a namespace name`);
  const resource = text("resource", 300);
  if (!resource) throw new MeshError("name a resource to tap, e.g. deploy/web");
  const rps = text("maxRps", 20);
  const maxRps = rps === undefined ? 100 : Number(rps);
  if (!Number.isFinite(maxRps) || maxRps <= 0) throw new MeshError("max requests per second must be a positive number");
  return { namespace, resource, to: text("to", 300), toNamespace, method: text("method", 32), scheme: text("scheme", 16), authority: text("authority"), path: text("path", 2048), maxRps };
}

export function tapRow(r: TapRequest, id: { base: number; stream: number }): TapRow {
  const srcPod = r.source.labels.pod ? `${r.source.labels.namespace ?? ""}/${r.source.labels.pod}` : undefined;
  return {
    id: `${id.base}:${id.stream}`,
    time: sanitize(r.entry.timestamp, 64),
    method: sanitize(r.method, 32),
    authority: sanitize(r.authority, 300),
    path: sanitize(r.path, 2048),
    status: r.entry.status ?? null,
    latencyMs: r.entry.totalNs === undefined ? null : r.entry.totalNs / 1e6,
    src: formatAddr(r.source),
    ...(srcPod ? { srcPod: sanitize(srcPod, 300) } : {}),
    dst: formatAddr(r.destination),
    dstPod: sanitize(`${r.pod.namespace}/${r.pod.name}`, 300),
    tls: sanitize(r.source.labels.tls ?? "", 64),
  };
}

export interface TapStreamOptions {
  cluster: ClusterApi;
  params: TapParams;
  clusterDomain: string;
  signal: AbortSignal;
  now: () => Date;
  onRow: (row: TapRow) => void;
  /** Notes about pods (attached, detached, not tapped). */
  onNote: (message: string) => void;
}

/** Runs a tap session for the page until `signal` aborts; throws what `mesh viz tap` would print as its error. */
export async function runTapStream(o: TapStreamOptions): Promise<void> {
  const [{ tapTargets, sessionSelection }, { runTapSession }] = await Promise.all([import("../commands/viz/tap.js"), import("../commands/viz/tap-session.js")]);
  const p = o.params;
  const common = { namespace: p.namespace, to: p.to, toNamespace: p.toNamespace, maxRps: p.maxRps, scheme: p.scheme, method: p.method, authority: p.authority, path: p.path };
  const { target, to } = tapTargets(p.resource.split(/\s+/).filter(Boolean), common);
  await runTapSession({
    cluster: o.cluster,
    ...sessionSelection(target, to, common),
    clusterDomain: o.clusterDomain,
    signal: o.signal,
    now: o.now,
    warn: (m) => o.onNote(sanitize(m, 1000)),
    onRequest: (r, id) => o.onRow(tapRow(r, id)),
  });
}
