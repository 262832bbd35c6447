/**
 * The proxy stand-in's container log: a few diagnostic lines at start, then one
 * access-log line per inbound request of the traffic model (spec C7), in
 * `apache` or `json` format. Pure: times are passed in.
 */
import { isFailure, latencyOf, methodAndPath, type ResolvedFlow } from "./traffic-model.js";

export type AccessLogFormat = "apache" | "json";

export interface LogLine {
  /** Nanoseconds since the Unix epoch. */
  atNs: bigint;
  text: string;
}

/** `LINKERD2_PROXY_ACCESS_LOG` value → format; anything else (or unset) → none. */
export function accessLogFormat(value: string | undefined): AccessLogFormat | undefined {
  const v = value?.toLowerCase();
  return v === "apache" || v === "json" ? v : undefined;
}

/** RFC 3339 in UTC with nine fractional digits, or none when the sub-second part is zero. */
export function formatTimestamp(atNs: bigint): string {
  const secs = atNs / 1_000_000_000n;
  const frac = atNs % 1_000_000_000n;
  const base = new Date(Number(secs) * 1000).toISOString().slice(0, 19);
  return frac === 0n ? `${base}Z` : `${base}.${frac.toString().padStart(9, "0")}Z`;
}

/** Diagnostic lines a proxy prints when it starts (plain format). */
export function startupLines(startNs: bigint, podIp: string): LogLine[] {
  const msgs = [
    [1_204_000n, " INFO ThreadId(01) linkerd2_proxy: stand-in proxy starting"],
    [1_530_000n, ` INFO ThreadId(01) linkerd2_proxy: admin interface on 0.0.0.0:4191 (pod ${podIp})`],
    [2_010_000n, " INFO ThreadId(01) linkerd2_proxy: inbound interface on 0.0.0.0:4143"],
    [2_220_000n, " INFO ThreadId(01) linkerd2_proxy: outbound interface on 127.0.0.1:4140"],
    [41_337_000n, " INFO ThreadId(02) daemon:identity: linkerd_app: certified identity"],
  ] as const;
  return msgs.map(([offset, msg]) => {
    const secs = Number(offset) / 1e9;
    return { atNs: startNs + offset, text: `[${secs.toFixed(6).padStart(12)}s] ${msg}` };
  });
}

/** Nanosecond time of request `i` of a flow: requests are evenly spaced, the first one 1/rps after start. */
export function requestTimeNs(startNs: bigint, rps: number, i: number): bigint {
  return startNs + BigInt(Math.round(((i + 1) * 1e9) / rps));
}

/** Access-log lines of inbound requests made in (fromNs, toNs], oldest first, at most `max` (the newest). */
export function accessLogLines(
  flows: ResolvedFlow[],
  format: AccessLogFormat,
  startNs: bigint,
  fromNs: bigint,
  toNs: bigint,
  max = 10_000,
): LogLine[] {
  const lines: LogLine[] = [];
  for (const f of flows) {
    if (f.direction !== "inbound" || f.rps <= 0) continue;
    // Index range of requests whose time falls in (fromNs, toNs].
    const first = Math.max(0, Math.floor((Number(fromNs - startNs) / 1e9) * f.rps) - 1);
    const last = Math.floor((Number(toNs - startNs) / 1e9) * f.rps) + 1;
    for (let i = Math.max(first, last - max - 2); i <= last; i++) {
      const at = requestTimeNs(startNs, f.rps, i);
      if (at <= fromNs || at > toNs) continue;
      lines.push({ atNs: at, text: formatRequest(f, i, at, format) });
    }
  }
  lines.sort((a, b) => (a.atNs < b.atNs ? -1 : a.atNs > b.atNs ? 1 : 0));
  return lines.length > max ? lines.slice(lines.length - max) : lines;
}

/** One access-log line for request `i` of an inbound flow. */
export function formatRequest(f: ResolvedFlow, i: number, atNs: bigint, format: AccessLogFormat): string {
  const flow = f.flow;
  const { method, path } = methodAndPath(flow);
  const meshed = f.peerId !== null;
  const host = flow.host ?? f.authority ?? `${f.targetIp}:${f.targetPort}`;
  const uri = meshed ? `http://${host}${path}` : path;
  const version = meshed ? "HTTP/2.0" : "HTTP/1.1";
  const failed = isFailure(i, f.successRate);
  const status = flow.grpc ? 200 : failed ? (flow.failureStatus ?? 500) : flow.authz === "deny" ? 403 : (flow.status ?? 200);
  const clientId = f.peerId ?? "-";
  const ts = formatTimestamp(atNs);
  if (format === "apache") return `${f.clientAddr} ${clientId} - [${ts}] "${method} ${uri} ${version}" ${status}`;
  const latencyNs = Math.round(latencyOf(f.cdf, i) * 1e6) + 1000 + (i % 97) * 13;
  const fields: Record<string, string | number> = {
    "client.addr": f.clientAddr,
    "client.id": clientId,
    host,
    method,
    processing_ns: String(30_000 + (i % 89) * 101),
    request_bytes: method === "GET" || method === "HEAD" ? "" : String(f.requestBytes),
    response_bytes: String(failed ? 0 : f.responseBytes),
    status,
    timestamp: ts,
    total_ns: String(latencyNs),
    trace_id: "",
    uri,
    user_agent: flow.grpc ? "grpc-go/1.58.3" : "Go-http-client/1.1",
    version,
  };
  return JSON.stringify(fields);
}
