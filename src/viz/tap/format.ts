// Linkerd's tap output (spec B6.1, B6.2): one line per event, or one indented JSON object.
// Text that clients chose (paths, authorities, label values) is made inert before printing.
import { sanitizeToken } from "../../output/sanitize.js";
import type { Peer, TapEvent } from "./events.js";

export type TapOutput = "" | "wide" | "json";

/** `ip:port`, IPv6 bracketed. */
export function formatAddr(p: Pick<Peer, "ip" | "port">): string {
  return p.ip.includes(":") ? `[${p.ip}]:${p.port}` : `${p.ip}:${p.port}`;
}

const µs = (ns: number) => Math.floor(ns / 1000);
const v = (s: string) => sanitizeToken(s);

function flow(e: TapEvent): string {
  const dir = e.direction === "INBOUND" ? "in " : e.direction === "OUTBOUND" ? "out" : "???";
  const tls = e.direction === "INBOUND" ? (e.source.labels.tls ?? "") : e.direction === "OUTBOUND" ? (e.destination.labels.tls ?? "") : "";
  return `proxy=${dir} src=${formatAddr(e.source)} dst=${formatAddr(e.destination)} tls=${v(tls)}`;
}

function labels(prefix: string, l: Record<string, string> | null, sort: boolean): string {
  if (!l) return "";
  const keys = Object.keys(l);
  if (sort) keys.sort();
  return keys.map((k) => ` ${prefix}_${v(k)}=${v(l[k])}`).join("");
}

/** One event in Linkerd's line format; `wide` appends the peers' and route's labels. */
export function formatTapLine(e: TapEvent, wide = false): string {
  const extra = wide ? `${labels("src", e.source.labels, true)}${labels("dst", e.destination.labels, true)}${labels("rt", e.routeLabels, false)}` : "";
  const id = `id=${e.id.base}:${e.id.stream}`;
  switch (e.kind) {
    case "req":
      return `req ${id} ${flow(e)} :method=${v(e.method)} :authority=${v(e.authority)} :path=${v(e.path)}${extra}`;
    case "rsp":
      return `rsp ${id} ${flow(e)} :status=${e.status} latency=${µs(e.sinceRequestInitNs)}µs${extra}`;
    case "end":
      return `end ${id} ${flow(e)} duration=${µs(e.sinceResponseInitNs)}µs response-length=${e.responseBytes}B${extra}`;
  }
}

/** A protobuf Duration as Go's JSON shows it: `{seconds, nanos}` with zero fields left out. */
function duration(ns: number): { seconds?: number; nanos?: number } {
  const seconds = Math.floor(ns / 1e9);
  const nanos = Math.round(ns - seconds * 1e9);
  return { ...(seconds ? { seconds } : {}), ...(nanos ? { nanos } : {}) };
}

const metadata = (l: Record<string, string>) => (Object.keys(l).length ? Object.fromEntries(Object.keys(l).sort().map((k) => [k, l[k]])) : null);

/** The object Linkerd's `-o json` prints for an event, keys in its order. */
export function tapEventJson(e: TapEvent): Record<string, unknown> {
  const id = { base: e.id.base, stream: e.id.stream };
  const out: Record<string, unknown> = {
    source: { ip: e.source.ip, port: e.source.port, metadata: metadata(e.source.labels) },
    destination: { ip: e.destination.ip, port: e.destination.port, metadata: metadata(e.destination.labels) },
    routeMeta: e.routeLabels && Object.keys(e.routeLabels).length ? e.routeLabels : null,
    proxyDirection: e.direction,
  };
  switch (e.kind) {
    case "req":
      out.requestInitEvent = {
        id,
        method: e.method,
        scheme: e.scheme,
        authority: e.authority,
        path: e.path,
        headers: e.headers.length ? e.headers.map((h) => ({ name: h.name, valueStr: h.value })) : null,
      };
      break;
    case "rsp":
      out.responseInitEvent = { id, sinceRequestInit: duration(e.sinceRequestInitNs), httpStatus: e.status, headers: null };
      break;
    case "end":
      out.responseEndEvent = {
        id,
        sinceRequestInit: duration(e.sinceRequestInitNs),
        sinceResponseInit: duration(e.sinceResponseInitNs),
        responseBytes: e.responseBytes,
        trailers: null,
        grpcStatusCode: 0,
      };
      break;
  }
  return out;
}

/**
 * JSON indented by two spaces, escaped as Go's encoder does (`<`, `>`, `&`, U+2028, U+2029) and
 * additionally with DEL, C1 controls and bidi overrides escaped, so no value can drive a terminal.
 */
export function formatTapJson(e: TapEvent): string {
  return JSON.stringify(tapEventJson(e), null, 2).replace(/[<>&\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** One event in the chosen output format, with its trailing newline. */
export function formatTapEvent(e: TapEvent, output: TapOutput): string {
  return output === "json" ? `${formatTapJson(e)}\n` : `${formatTapLine(e, output === "wide")}\n`;
}
