import { MeshError, UsageError } from "../errors.js";
import type { KubeObject, Pod, Service } from "../kube/types.js";
import { sanitize } from "../output/sanitize.js";
import { inertStrings } from "./policy.js";

/**
 * `diagnostics endpoints`: what an authority (`svc.ns.svc.cluster.local:port`) resolves to,
 * computed from the Service and its EndpointSlices (or Endpoints) the way the destination
 * controller computes it: the ready addresses of the Service port the authority names, with the
 * target port of each. Pure: the command reads the objects.
 */

export interface Authority {
  service: string;
  namespace: string;
  port: number;
  /** As given. */
  text: string;
}

/** `name.ns.svc.<domain>[:port]` (port 80 when absent, as for an HTTP authority). */
export function parseAuthority(text: string, clusterDomain: string): Authority {
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc\.(.+?)(?::(\d+))?$/.exec(text);
  const shown = sanitize(text, 120);
  if (!m) throw new UsageError(`invalid authority "${shown}": expected SERVICE.NAMESPACE.svc.${clusterDomain}:PORT`, `e.g. web.emojivoto.svc.${clusterDomain}:80`);
  if (m[5] !== clusterDomain) throw new UsageError(`authority "${shown}" is not in the cluster domain ${clusterDomain}`, "only services of this cluster resolve through the destination service");
  const port = m[6] === undefined ? 80 : Number(m[6]);
  if (!(port > 0 && port < 65536)) throw new UsageError(`invalid port in authority "${shown}"`);
  return { service: m[1], namespace: m[3], port, text };
}

/** The slice of a discovery.k8s.io/v1 EndpointSlice read here. */
export interface EndpointSlice extends KubeObject {
  addressType?: string;
  endpoints?: { addresses: string[]; conditions?: { ready?: boolean | null; terminating?: boolean | null }; targetRef?: { kind?: string; name: string; namespace?: string } }[];
  ports?: { name?: string; port?: number; protocol?: string }[] | null;
}

/** The slice of a core/v1 Endpoints read here (the fallback when EndpointSlices are not served). */
export interface EndpointsV1 extends KubeObject {
  subsets?: { addresses?: { ip: string; targetRef?: { kind?: string; name: string } }[]; ports?: { name?: string; port: number }[] }[];
}

export interface EndpointRow {
  namespace: string;
  ip: string;
  port: number;
  /** The pod behind the address, or "" when the address names none. */
  pod: string;
  /** `service.namespace`, as Linkerd prints it. */
  service: string;
  /** The pod carries the control plane's label. */
  meshed: boolean;
}

/**
 * The addresses the authority resolves to. Throws a MeshError (exit 1) naming what is missing
 * when the Service does not exist or has no port `a.port`; a Service without a selector still
 * resolves through the EndpointSlices someone wrote for it.
 */
export function computeEndpoints(a: Authority, svc: Service, source: { slices: EndpointSlice[] } | { endpoints: EndpointsV1 | undefined }, pods: Pod[], cp: string): EndpointRow[] {
  const sp = svc.spec?.ports?.find((p) => p.port === a.port);
  const portName = sp?.name ?? "";
  const meshedPods = new Map(pods.map((p) => [p.metadata.name, p.metadata.labels?.["linkerd.io/control-plane-ns"] === cp]));
  const rows: EndpointRow[] = [];
  const add = (ip: string, port: number, pod: string) => rows.push({ namespace: a.namespace, ip, port, pod, service: `${a.service}.${a.namespace}`, meshed: meshedPods.get(pod) ?? false });
  if (!sp) {
    const ports = (svc.spec?.ports ?? []).map((p) => p.port).join(", ");
    throw new MeshError(`service ${a.namespace}/${a.service} has no port ${a.port}`, ports ? `its ports: ${ports}` : "the service has no ports");
  }
  if ("slices" in source) {
    const seen = new Set<string>();
    for (const s of source.slices) {
      if (s.addressType && s.addressType !== "IPv4" && s.addressType !== "IPv6") continue;
      const port = (s.ports ?? []).find((p) => (p.name ?? "") === portName)?.port;
      if (port === undefined) continue;
      for (const e of s.endpoints ?? []) {
        // The destination controller serves ready endpoints only (ready unset counts as ready).
        if (e.conditions?.ready === false) continue;
        const ip = e.addresses?.[0];
        if (!ip || seen.has(`${ip}:${port}`)) continue;
        seen.add(`${ip}:${port}`);
        add(ip, port, e.targetRef?.kind === "Pod" || e.targetRef?.kind === undefined ? (e.targetRef?.name ?? "") : "");
      }
    }
  } else {
    for (const subset of source.endpoints?.subsets ?? []) {
      const port = (subset.ports ?? []).find((p) => (p.name ?? "") === portName)?.port;
      if (port === undefined) continue;
      for (const addr of subset.addresses ?? []) add(addr.ip, port, addr.targetRef?.kind === "Pod" ? addr.targetRef.name : "");
    }
  }
  return rows;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Rows by namespace, then service, then IP and port (Linkerd sorts by namespace and service only; mesh makes ties stable). */
export function sortEndpoints(rows: EndpointRow[]): EndpointRow[] {
  return [...rows].sort((x, y) => cmp(x.namespace, y.namespace) || cmp(x.service, y.service) || cmp(x.ip, y.ip) || x.port - y.port);
}

/**
 * Linkerd's table (tab-separated columns padded by 3, left-aligned; one table per namespace, a
 * blank line between), with mesh's MESHED column last. "" when there are no rows.
 */
export function formatEndpointsTable(rows: EndpointRow[]): string {
  if (rows.length === 0) return "";
  const cell = (s: string) => sanitize(s, 253);
  const byNs = new Map<string, EndpointRow[]>();
  for (const r of sortEndpoints(rows)) byNs.set(r.namespace, [...(byNs.get(r.namespace) ?? []), r]);
  const podWidth = Math.max(3, ...rows.map((r) => Array.from(cell(r.pod)).length));
  const nsWidth = Math.max(9, ...rows.map((r) => Array.from(cell(r.namespace)).length));
  const pad = (s: string, n: number) => s + " ".repeat(Math.max(0, n - Array.from(s).length));
  const tables: string[] = [];
  for (const [ns, list] of byNs) {
    const lines = [["NAMESPACE".padEnd(nsWidth), "IP", "PORT", "POD".padEnd(podWidth), "SERVICE", "MESHED"], ...list.map((r) => [pad(cell(ns), nsWidth), cell(r.ip), String(r.port), pad(cell(r.pod), podWidth), cell(r.service), r.meshed ? "yes" : "no"])];
    const widths = lines[0].slice(0, -1).map((_, i) => Math.max(...lines.map((l) => Array.from(l[i]).length)) + 3);
    tables.push(lines.map((l) => l.map((c, i) => (i < l.length - 1 ? pad(c, widths[i]) : c)).join("") + "\n").join(""));
  }
  return tables.join("\n");
}

/** Linkerd's JSON array (namespace, ip, port, pod, service) with `meshed` added. */
export function formatEndpointsJson(rows: EndpointRow[]): string {
  // JSON.stringify leaves C1 controls and bidi overrides as they are: made inert, as policy's are.
  return `${JSON.stringify(inertStrings(sortEndpoints(rows)), null, 2)}\n`;
}
