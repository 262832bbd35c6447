// linkerd2-proxy access-log lines (spec C7) as read from the container log (spec D5): pure.


/** One inbound request as the proxy logged it. Optional fields are absent from the `apache` format. */
export interface AccessLogEntry {
  format: "json" | "apache";
  /** The client's `ip:port` (IPv6 bracketed, as logged). */
  clientAddr: string;
  /** The client's mTLS identity, or "-" for none. */
  clientId: string;
  /** The proxy's own timestamp (RFC 3339). */
  timestamp: string;
  method: string;
  /** As received: origin form (`/p?q`) or absolute form (`http://authority/p`). */
  uri: string;
  version: string;
  /** Absent when the inner service failed without a response. */
  status?: number;
  /** Request start to response headers, in nanoseconds. */
  totalNs?: number;
  processingNs?: number;
  requestBytes?: number;
  responseBytes?: number;
  userAgent?: string;
  host?: string;
  traceId?: string;
}

/** A container log line split into the kubelet's timestamp (with `timestamps=true`) and the text. */
export interface LogLine {
  /** RFC 3339 with nanoseconds, from the kubelet; undefined without `timestamps=true`. */
  kubeletTime?: string;
  text: string;
}

const KUBELET_TS = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) /;
const APACHE = /^(\S+) (\S+) - \[([^\]]+)\] "(\S+) (\S+) (HTTP\/[0-9.]+)"(?: (\d{3}))?$/;

/** Splits off the kubelet's timestamp prefix (present when the log was read with `timestamps=true`). */
export function splitKubeletTimestamp(line: string, timestamps = true): LogLine {
  if (!timestamps) return { text: line };
  const m = KUBELET_TS.exec(line);
  return m ? { kubeletTime: m[1], text: line.slice(m[0].length) } : { text: line };
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : typeof v === "number" ? String(v) : undefined);
/** A logged number: JSON number or decimal string; empty or malformed → undefined. */
const num = (v: unknown): number | undefined => {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && /^\d+$/.test(v)) return Number(v);
  return undefined;
};

/**
 * The access-log entry of one log line (kubelet prefix already removed), or undefined for any
 * other line (the proxy's diagnostics, in plain or JSON format).
 */
export function parseAccessLog(text: string): AccessLogEntry | undefined {
  const t = text.trim();
  if (t.startsWith("{")) {
    if (!t.includes('"client.addr"')) return undefined;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(t) as Record<string, unknown>;
    } catch {
      return undefined;
    }
    if (!o || typeof o !== "object" || Array.isArray(o)) return undefined;
    // tracing-subscriber may nest the event's fields under `fields`; accept both shapes.
    const f = (typeof o["client.addr"] === "string" ? o : (o.fields as Record<string, unknown> | undefined)) ?? {};
    const clientAddr = str(f["client.addr"]);
    const method = str(f.method);
    const uri = str(f.uri);
    if (!clientAddr || !method || uri === undefined) return undefined;
    const e: AccessLogEntry = {
      format: "json",
      clientAddr,
      clientId: str(f["client.id"]) || "-",
      timestamp: str(f.timestamp ?? o.timestamp) ?? "",
      method,
      uri,
      version: str(f.version) ?? "",
    };
    const status = num(f.status);
    if (status !== undefined) e.status = status;
    const set = <K extends keyof AccessLogEntry>(k: K, v: AccessLogEntry[K] | undefined) => {
      if (v !== undefined && v !== "") e[k] = v;
    };
    set("totalNs", num(f.total_ns));
    set("processingNs", num(f.processing_ns));
    set("requestBytes", num(f.request_bytes));
    set("responseBytes", num(f.response_bytes));
    set("userAgent", str(f.user_agent));
    set("host", str(f.host));
    set("traceId", str(f.trace_id));
    return e;
  }
  const m = APACHE.exec(t);
  if (!m) return undefined;
  const e: AccessLogEntry = { format: "apache", clientAddr: m[1], clientId: m[2], timestamp: m[3], method: m[4], uri: m[5], version: m[6] };
  if (m[7]) e.status = Number(m[7]);
  return e;
}

/** The parts of a logged URI: absolute form gives scheme and authority; origin form gives only the path. */
export function splitUri(uri: string): { scheme?: string; authority?: string; path: string } {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)([\s\S]*)$/.exec(uri);
  if (!m) return { path: uri };
  return { scheme: m[1].toLowerCase(), authority: m[2], path: m[3] || "/" };
}

/** Splits `ip:port` (or `[v6]:port`) into its parts; the port is 0 when absent or malformed. */
export function splitHostPort(addr: string): { host: string; port: number } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(addr);
  if (v6) return { host: v6[1], port: v6[2] ? Number(v6[2]) : 0 };
  const i = addr.lastIndexOf(":");
  if (i > 0 && addr.indexOf(":") === i && /^\d+$/.test(addr.slice(i + 1))) return { host: addr.slice(0, i), port: Number(addr.slice(i + 1)) };
  return { host: addr, port: 0 };
}
