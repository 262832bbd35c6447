/**
 * Renders a proxy stand-in's `/metrics` payload from resolved flows, in
 * linkerd2-proxy's exposition format (names, label order, number formatting and
 * family order of spec Part C). Pure: the caller passes the clock.
 */
import {
  failureCount,
  latencyAtOrBelow,
  requestCount,
  type LatencyCdf,
  type ResolvedFlow,
} from "./traffic-model.js";

/** Latency bucket bounds in ms (C2); `+Inf` is added when rendering. */
export const LATENCY_BOUNDS = [
  1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500, 1000, 2000, 3000, 4000, 5000, 10000, 20000, 30000, 40000,
  50000,
] as const;

export const PROXY_VERSION = "2.210.4";

/** Requests the admin server itself answered (scrapes, probes): real proxies count them as inbound traffic. */
export interface AdminTraffic {
  /** Completed requests by status code. */
  responses: Record<number, number>;
  /** Connections accepted so far, and how many are open now. */
  accepted: number;
  open: number;
  bytesRead: number;
  bytesWritten: number;
}

export interface ProxyContext {
  podIp: string;
  /** Unix seconds when the proxy started (traffic counts from here). */
  startedAt: number;
  /** Unix seconds now. */
  now: number;
  /** `identity_cert_expiration_timestamp_seconds`; 0 means no certificate yet. */
  certExpiry: number;
  /** Default inbound policy (`srv_name`/`authz_name` of the default server). */
  defaultPolicy?: string;
  version?: string;
  admin?: AdminTraffic;
}

type Labels = [string, string][];
type Kind = "counter" | "gauge" | "histogram";

interface Family {
  name: string;
  kind: Kind;
  help: string;
}

const FAMILIES: Family[] = [
  { name: "inbound_http_authz_allow_total", kind: "counter", help: "The total number of inbound HTTP requests that were authorized" },
  { name: "inbound_http_authz_deny_total", kind: "counter", help: "The total number of inbound HTTP requests that were not authorized" },
  { name: "identity_cert_expiration_timestamp_seconds", kind: "gauge", help: "Time when the this proxy's current mTLS identity certificate will expire (in seconds since the UNIX epoch)." },
  { name: "identity_cert_refresh_count", kind: "counter", help: "The total number of times this proxy's mTLS identity certificate has been refreshed by the Identity service." },
  { name: "request_total", kind: "counter", help: "Total count of HTTP requests." },
  { name: "response_latency_ms", kind: "histogram", help: "Elapsed times between a request's headers being received and its response stream completing" },
  { name: "response_total", kind: "counter", help: "Total count of HTTP responses." },
  { name: "route_request_total", kind: "counter", help: "Total count of HTTP requests." },
  { name: "route_response_latency_ms", kind: "histogram", help: "Elapsed times between a request's headers being received and its response stream completing" },
  { name: "route_response_total", kind: "counter", help: "Total count of HTTP responses." },
  { name: "route_actual_request_total", kind: "counter", help: "Total count of HTTP requests." },
  { name: "route_actual_response_total", kind: "counter", help: "Total count of HTTP responses." },
  { name: "tcp_open_total", kind: "counter", help: "Total count of opened connections" },
  { name: "tcp_open_connections", kind: "gauge", help: "Number of currently-open connections" },
  { name: "tcp_read_bytes_total", kind: "counter", help: "Total count of bytes read from peers" },
  { name: "tcp_write_bytes_total", kind: "counter", help: "Total count of bytes written to peers" },
  { name: "tcp_close_total", kind: "counter", help: "Total count of closed connections" },
  { name: "process_start_time_seconds", kind: "gauge", help: "Time that the process started (in seconds since the UNIX epoch)" },
  { name: "process_uptime_seconds_total", kind: "counter", help: "Seconds since the proxy process started" },
  { name: "process_cpu_seconds_total", kind: "counter", help: "CPU time the proxy process has used, in seconds" },
  { name: "process_virtual_memory_bytes", kind: "gauge", help: "Virtual memory size of the proxy process, in bytes" },
  { name: "process_resident_memory_bytes", kind: "gauge", help: "Resident memory size of the proxy process, in bytes" },
  { name: "process_open_fds", kind: "gauge", help: "Open file descriptors of the proxy process" },
  { name: "process_max_fds", kind: "gauge", help: "File descriptor limit of the proxy process" },
  { name: "proxy_build_info", kind: "gauge", help: "Proxy build info" },
];

/** One histogram series: counts at or below each finite bound, plus total and sum. */
interface Hist {
  buckets: number[];
  count: number;
  sum: number;
}

/** Collects series per family, summing values of identical label sets. */
class Registry {
  private readonly counters = new Map<string, Map<string, { labels: Labels; value: number }>>();
  private readonly hists = new Map<string, Map<string, { labels: Labels; hist: Hist }>>();

  add(family: string, labels: Labels, value: number): void {
    let fam = this.counters.get(family);
    if (!fam) this.counters.set(family, (fam = new Map()));
    const key = labelText(labels);
    const cur = fam.get(key);
    if (cur) cur.value += value;
    else fam.set(key, { labels, value });
  }

  addHist(family: string, labels: Labels, hist: Hist): void {
    let fam = this.hists.get(family);
    if (!fam) this.hists.set(family, (fam = new Map()));
    const key = labelText(labels);
    const cur = fam.get(key);
    if (!cur) fam.set(key, { labels, hist: { ...hist, buckets: [...hist.buckets] } });
    else {
      cur.hist.count += hist.count;
      cur.hist.sum += hist.sum;
      hist.buckets.forEach((b, i) => (cur.hist.buckets[i] += b));
    }
  }

  render(): string {
    let out = "";
    for (const fam of FAMILIES) {
      const lines: string[] = [];
      if (fam.kind === "histogram") {
        for (const { labels, hist } of this.hists.get(fam.name)?.values() ?? []) {
          LATENCY_BOUNDS.forEach((le, i) =>
            lines.push(`${fam.name}_bucket{${labelText([...labels, ["le", String(le)]])}} ${hist.buckets[i]}`),
          );
          lines.push(`${fam.name}_bucket{${labelText([...labels, ["le", "+Inf"]])}} ${hist.count}`);
          lines.push(`${fam.name}_count{${labelText(labels)}} ${hist.count}`);
          lines.push(`${fam.name}_sum{${labelText(labels)}} ${hist.sum}`);
        }
      } else {
        for (const { labels, value } of this.counters.get(fam.name)?.values() ?? [])
          lines.push(labels.length ? `${fam.name}{${labelText(labels)}} ${formatNumber(value)}` : `${fam.name} ${formatNumber(value)}`);
      }
      if (!lines.length) continue;
      out += `# HELP ${fam.name} ${fam.help}\n# TYPE ${fam.name} ${fam.kind}\n${lines.join("\n")}\n`;
    }
    return out;
  }
}

function labelText(labels: Labels): string {
  return labels.map(([k, v]) => `${k}="${v}"`).join(",");
}

/** Rust `f64` display: integers without a decimal point, else the shortest decimal. */
export function formatNumber(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Math.round(v * 1e6) / 1e6);
}

/** Histogram of `n` observations drawn from `cdf` (values truncated to whole ms). */
export function histogramOf(cdf: LatencyCdf, n: number): Hist {
  const below = latencyAtOrBelow(cdf, n);
  const buckets = LATENCY_BOUNDS.map((le) => {
    let c = 0;
    for (const p of below) if (Math.trunc(p.ms) <= le) c = p.count;
    return c;
  });
  let sum = 0;
  let prev = 0;
  for (const p of below) {
    sum += (p.count - prev) * Math.trunc(p.ms);
    prev = p.count;
  }
  return { buckets, count: n, sum };
}

function tlsLabels(direction: "inbound" | "outbound", peerId: string | null): Labels {
  if (peerId === null)
    return [["tls", "no_identity"], ["no_tls_reason", direction === "inbound" ? "no_tls_from_remote" : "not_provided_by_service_discovery"]];
  return [["tls", "true"], [direction === "inbound" ? "client_id" : "server_id", peerId]];
}

function targetLabels(ip: string, port: number): Labels {
  return [["target_addr", `${ip}:${port}`], ["target_ip", ip], ["target_port", String(port)]];
}

function policyLabels(policy: string, routeName = "default"): { srv: Labels; route: Labels; authz: Labels } {
  return {
    srv: [["srv_group", ""], ["srv_kind", "default"], ["srv_name", policy]],
    route: [["route_group", ""], ["route_kind", "default"], ["route_name", routeName]],
    authz: [["authz_group", ""], ["authz_kind", "default"], ["authz_name", policy]],
  };
}

/** The policy labels of an inbound flow: its `policy` resources (C4.1), else the default policy's. */
function flowPolicyLabels(f: ResolvedFlow, dflt: ReturnType<typeof policyLabels>): ReturnType<typeof policyLabels> {
  const p = f.flow.policy;
  if (f.direction !== "inbound" || !p) return dflt;
  const G = "policy.linkerd.io";
  const [kind, name] = p.authorization?.split("/") ?? [];
  return {
    srv: p.server ? [["srv_group", G], ["srv_kind", "server"], ["srv_name", p.server]] : dflt.srv,
    route: p.route ? [["route_group", G], ["route_kind", "httproute"], ["route_name", p.route]] : dflt.route,
    authz: kind ? [["authz_group", G], ["authz_kind", kind], ["authz_name", name]] : dflt.authz,
  };
}

interface Outcome {
  statusCode: number;
  classification: "success" | "failure";
  grpcStatus: string;
  count: number;
}

function outcomes(f: ResolvedFlow, n: number): Outcome[] {
  const failed = failureCount(n, f.successRate);
  const ok = n - failed;
  const flow = f.flow;
  const denied = f.direction === "inbound" && flow.authz === "deny";
  const list: Outcome[] = flow.grpc
    ? [
        { statusCode: 200, classification: "success", grpcStatus: "0", count: ok },
        { statusCode: 200, classification: "failure", grpcStatus: String(flow.failureGrpcStatus ?? 14), count: failed },
      ]
    : [
        { statusCode: denied ? 403 : (flow.status ?? 200), classification: "success", grpcStatus: "", count: ok },
        { statusCode: flow.failureStatus ?? 500, classification: "failure", grpcStatus: "", count: failed },
      ];
  return list.filter((o) => o.count > 0);
}

function outcomeLabels(o: Outcome): Labels {
  return [["status_code", String(o.statusCode)], ["classification", o.classification], ["grpc_status", o.grpcStatus], ["error", ""]];
}

/** The `/metrics` body of a proxy stand-in. */
export function renderMetrics(flows: ResolvedFlow[], ctx: ProxyContext): string {
  const reg = new Registry();
  const elapsed = Math.max(0, ctx.now - ctx.startedAt);
  const policy = ctx.defaultPolicy ?? "all-unauthenticated";
  const defaultPol = policyLabels(policy);
  let loopConns = 0;
  let loopRead = 0;
  let loopWrite = 0;

  for (const f of flows) {
    const pol = flowPolicyLabels(f, defaultPol);
    const n = requestCount(f.rps, elapsed);
    const tls = tlsLabels(f.direction, f.peerId);
    const target = targetLabels(f.targetIp, f.targetPort);
    const authority: Labels = f.authority ? [["authority", f.authority]] : [];
    const endpoint: Labels =
      f.direction === "inbound"
        ? [["direction", "inbound"], ...authority, ...target, ...tls, ...pol.srv, ...pol.route, ...pol.authz]
        : [["direction", "outbound"], ...authority, ...target, ...tls, ...f.dst.map(([k, v]): [string, string] => [`dst_${k}`, v])];

    // A denied request has no authorization to label the per-request series with: the proxy
    // answers it (403) before them, so it shows only in inbound_http_authz_deny_total (C3).
    const denied = f.direction === "inbound" && f.flow.authz === "deny";
    if (n > 0 && denied) reg.add("inbound_http_authz_deny_total", [...target, ...pol.srv, ...pol.route, ...tls], n);
    if (n > 0 && !denied) {
      if (f.direction === "inbound") reg.add("inbound_http_authz_allow_total", [...target, ...pol.srv, ...pol.route, ...pol.authz, ...tls], n);
      reg.add("request_total", endpoint, n);
      for (const o of outcomes(f, n)) {
        reg.addHist("response_latency_ms", [...endpoint, ["status_code", String(o.statusCode)]], histogramOf(f.cdf, o.count));
        reg.add("response_total", [...endpoint, ...outcomeLabels(o)], o.count);
      }
      const routed = f.authority && (f.direction === "inbound" || f.route);
      if (routed) {
        const route: Labels = [["direction", f.direction], ["dst", f.authority!], ...(f.route ? [["rt_route", f.route] as [string, string]] : [])];
        reg.add("route_request_total", route, n);
        for (const o of outcomes(f, n)) {
          reg.addHist("route_response_latency_ms", [...route, ["status_code", String(o.statusCode)]], histogramOf(f.cdf, o.count));
          reg.add("route_response_total", [...route, ...outcomeLabels(o)], o.count);
        }
        if (f.direction === "outbound") {
          const retries = Math.floor(n * (f.flow.retryRatio ?? 0) + 1e-9);
          reg.add("route_actual_request_total", route, n + retries);
          for (const o of outcomes(f, n)) {
            const count = o.classification === "failure" ? o.count + retries : o.count;
            reg.add("route_actual_response_total", [...route, ...outcomeLabels({ ...o, count })], count);
          }
          if (retries > 0 && !outcomes(f, n).some((o) => o.classification === "failure")) {
            const o: Outcome = { statusCode: f.flow.grpc ? 200 : (f.flow.failureStatus ?? 500), classification: "failure", grpcStatus: f.flow.grpc ? String(f.flow.failureGrpcStatus ?? 14) : "", count: retries };
            reg.add("route_actual_response_total", [...route, ...outcomeLabels(o)], retries);
          }
        }
      }
    }

    if (f.connections > 0 && (n > 0 || f.rps > 0)) {
      const read = n * (f.direction === "inbound" ? f.requestBytes : f.responseBytes);
      const written = n * (f.direction === "inbound" ? f.responseBytes : f.requestBytes);
      const key: Labels =
        f.direction === "inbound"
          ? [["direction", "inbound"], ["peer", "src"], ...target, ...tls, ...pol.srv]
          : [["direction", "outbound"], ["peer", "dst"], ...authority, ...target, ...tls, ...f.dst.map(([k, v]): [string, string] => [`dst_${k}`, v])];
      addConnection(reg, key, f.connections, read, written);
      if (f.direction === "inbound") {
        loopConns += f.connections;
        loopRead += written;
        loopWrite += read;
      } else {
        const src: Labels = [["direction", "outbound"], ["peer", "src"], ...target, ["tls", "no_identity"], ["no_tls_reason", "loopback"]];
        addConnection(reg, src, f.connections, written, read);
      }
    }
  }
  if (loopConns > 0)
    addConnection(reg, [["direction", "inbound"], ["peer", "dst"], ["tls", "no_identity"], ["no_tls_reason", "loopback"]], loopConns, loopRead, loopWrite);

  if (ctx.admin) renderAdmin(reg, ctx, ctx.admin, policy);

  reg.add("identity_cert_expiration_timestamp_seconds", [], Math.floor(ctx.certExpiry));
  reg.add("identity_cert_refresh_count", [], ctx.certExpiry > 0 ? 1 : 0);
  const uptime = Math.round(elapsed * 1000) / 1000;
  reg.add("process_start_time_seconds", [], Math.floor(ctx.startedAt));
  reg.add("process_uptime_seconds_total", [], uptime);
  reg.add("process_cpu_seconds_total", [], Math.round(uptime * 20) / 1000);
  reg.add("process_virtual_memory_bytes", [], 68_640_768);
  reg.add("process_resident_memory_bytes", [], 14_548_992);
  reg.add("process_open_fds", [], 20 + (ctx.admin?.open ?? 0));
  reg.add("process_max_fds", [], 1_048_576);
  reg.add(
    "proxy_build_info",
    [["version", ctx.version ?? PROXY_VERSION], ["git_sha", "0000000"], ["profile", "release"], ["date", "2023-11-22T00:00:00Z"], ["vendor", "linkerd"]],
    1,
  );
  return reg.render();
}

function addConnection(reg: Registry, key: Labels, conns: number, read: number, written: number): void {
  reg.add("tcp_open_total", key, conns);
  reg.add("tcp_open_connections", key, conns);
  reg.add("tcp_read_bytes_total", key, read);
  reg.add("tcp_write_bytes_total", key, written);
}

function renderAdmin(reg: Registry, ctx: ProxyContext, admin: AdminTraffic, policy: string): void {
  const target = targetLabels(ctx.podIp, 4191);
  const tls: Labels = [["tls", "no_identity"], ["no_tls_reason", "no_tls_from_remote"]];
  const pol = policyLabels(policy);
  const endpoint: Labels = [["direction", "inbound"], ...target, ...tls, ...pol.srv, ...pol.route, ...pol.authz];
  const total = Object.values(admin.responses).reduce((a, b) => a + b, 0);
  if (total > 0) {
    reg.add("inbound_http_authz_allow_total", [...target, ...pol.srv, ...pol.route, ...pol.authz, ...tls], total);
    reg.add("request_total", endpoint, total);
    for (const [code, count] of Object.entries(admin.responses)) {
      if (!count) continue;
      const status = Number(code);
      reg.addHist("response_latency_ms", [...endpoint, ["status_code", code]], histogramOf({ points: [{ ms: 1, cumulative: 1 }] }, count));
      const cls = status >= 500 ? "failure" : "success";
      reg.add("response_total", [...endpoint, ["status_code", code], ["classification", cls], ["grpc_status", ""], ["error", ""]], count);
    }
  }
  if (admin.accepted > 0) {
    const key: Labels = [["direction", "inbound"], ["peer", "src"], ...target, ...tls, ...pol.srv];
    reg.add("tcp_open_total", key, admin.accepted);
    reg.add("tcp_open_connections", key, admin.open);
    reg.add("tcp_read_bytes_total", key, admin.bytesRead);
    reg.add("tcp_write_bytes_total", key, admin.bytesWritten);
    if (admin.accepted > admin.open) reg.add("tcp_close_total", [...key, ["errno", ""]], admin.accepted - admin.open);
  }
}
