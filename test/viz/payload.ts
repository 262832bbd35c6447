// Hand-written proxy payloads for the viz tests, with E1's label sets (Part C/E of the spec).

export const LE = ["1", "2", "3", "4", "5", "10", "20", "30", "40", "50", "100", "200", "300", "400", "500", "1000", "2000", "3000", "4000", "5000", "10000", "20000", "30000", "40000", "50000", "+Inf"];

export interface PodTraffic {
  ip: string;
  /** Inbound app requests (through web-svc) that succeeded / failed. */
  success: number;
  failure: number;
  /** Cumulative inbound latency buckets for the 200 series, by le (missing: equal to the previous). */
  latency?: Record<string, number>;
  /** Requests to the admin port (scrapes). */
  admin: number;
  adminWriteBytes?: number;
  adminReadBytes?: number;
  readBytes?: number;
  writeBytes?: number;
  /** Outbound gRPC calls to emoji: success, failure. */
  out?: { success: number; failure: number; pod: string; readBytes: number; writeBytes: number };
  conns?: { src: number; dst: number; admin: number; out: number };
  start: number;
  version?: string;
}

const inboundApp = (ip: string) =>
  `direction="inbound",authority="web-svc.emojivoto.svc.cluster.local:80",target_addr="${ip}:8080",target_ip="${ip}",target_port="8080",tls="true",client_id="default.emojivoto.serviceaccount.identity.linkerd.cluster.local",srv_group="",srv_kind="default",srv_name="all-unauthenticated",route_group="",route_kind="default",route_name="default",authz_group="",authz_kind="default",authz_name="all-unauthenticated"`;
const inboundAdmin = (ip: string) =>
  `direction="inbound",target_addr="${ip}:4191",target_ip="${ip}",target_port="4191",tls="no_identity",no_tls_reason="no_tls_from_remote",srv_group="",srv_kind="default",srv_name="all-unauthenticated",route_group="",route_kind="default",route_name="default",authz_group="",authz_kind="default",authz_name="all-unauthenticated"`;
const tcpSrc = (ip: string, port: string) =>
  port === "4191"
    ? `direction="inbound",peer="src",target_addr="${ip}:4191",target_ip="${ip}",target_port="4191",tls="no_identity",no_tls_reason="no_tls_from_remote",srv_group="",srv_kind="default",srv_name="all-unauthenticated"`
    : `direction="inbound",peer="src",target_addr="${ip}:${port}",target_ip="${ip}",target_port="${port}",tls="true",client_id="default.emojivoto.serviceaccount.identity.linkerd.cluster.local",srv_group="",srv_kind="default",srv_name="all-unauthenticated"`;
const outbound = (pod: string) =>
  `direction="outbound",authority="emoji-svc.emojivoto.svc.cluster.local:8080",target_addr="10.42.0.19:8080",target_ip="10.42.0.19",target_port="8080",tls="true",server_id="emoji.emojivoto.serviceaccount.identity.linkerd.cluster.local",dst_control_plane_ns="linkerd",dst_deployment="emoji",dst_namespace="emojivoto",dst_pod="${pod}",dst_pod_template_hash="699d77c79",dst_service="emoji-svc",dst_serviceaccount="emoji"`;
const LOOPBACK = `direction="inbound",peer="dst",tls="no_identity",no_tls_reason="loopback"`;

function histogram(name: string, labels: string, cumulative: Record<string, number>): string {
  let last = 0;
  const lines: string[] = [];
  for (const le of LE) {
    last = cumulative[le] ?? last;
    lines.push(`${name}_bucket{${labels},le="${le}"} ${last}`);
  }
  lines.push(`${name}_count{${labels}} ${last}`, `${name}_sum{${labels}} ${last * 3}`);
  return lines.join("\n");
}

export function payload(t: PodTraffic): string {
  const app = inboundApp(t.ip);
  const admin = inboundAdmin(t.ip);
  const out: string[] = [];
  out.push("# HELP request_total Total count of HTTP requests.", "# TYPE request_total counter", `request_total{${app}} ${t.success + t.failure}`);
  out.push("# HELP response_latency_ms Elapsed times between a request's headers being received and its response stream completing", "# TYPE response_latency_ms histogram");
  if (t.success + t.failure > 0) out.push(histogram("response_latency_ms", `${app},status_code="200"`, t.latency ?? { "5": t.success + t.failure }));
  if (t.admin > 0) out.push(histogram("response_latency_ms", `${admin},status_code="200"`, { "1": t.admin }));
  out.push("# HELP response_total Total count of HTTP responses.", "# TYPE response_total counter");
  if (t.success) out.push(`response_total{${app},status_code="200",classification="success",grpc_status="",error=""} ${t.success}`);
  if (t.failure) out.push(`response_total{${app},status_code="500",classification="failure",grpc_status="",error=""} ${t.failure}`);
  if (t.admin) out.push(`response_total{${admin},status_code="200",classification="success",grpc_status="",error=""} ${t.admin}`);
  if (t.out) {
    out.push(`response_total{${outbound(t.out.pod)},status_code="200",classification="success",grpc_status="0",error=""} ${t.out.success}`);
    if (t.out.failure) out.push(`response_total{${outbound(t.out.pod)},status_code="200",classification="failure",grpc_status="14",error=""} ${t.out.failure}`);
  }
  const c = t.conns ?? { src: 1, dst: 1, admin: 1, out: t.out ? 1 : 0 };
  out.push("# HELP tcp_open_connections Number of currently-open connections", "# TYPE tcp_open_connections gauge");
  out.push(`tcp_open_connections{${tcpSrc(t.ip, "8080")}} ${c.src}`, `tcp_open_connections{${LOOPBACK}} ${c.dst}`, `tcp_open_connections{${tcpSrc(t.ip, "4191")}} ${c.admin}`);
  if (t.out) out.push(`tcp_open_connections{${outbound(t.out.pod).replace('direction="outbound",', 'direction="outbound",peer="dst",')}} ${c.out}`);
  for (const [fam, app8080, adminBytes, outBytes] of [
    ["tcp_read_bytes_total", t.readBytes ?? 0, t.adminReadBytes ?? 0, t.out?.readBytes ?? 0],
    ["tcp_write_bytes_total", t.writeBytes ?? 0, t.adminWriteBytes ?? 0, t.out?.writeBytes ?? 0],
  ] as const) {
    out.push(`# TYPE ${fam} counter`, `${fam}{${tcpSrc(t.ip, "8080")}} ${app8080}`, `${fam}{${LOOPBACK}} ${app8080 * 2}`, `${fam}{${tcpSrc(t.ip, "4191")}} ${adminBytes}`);
    if (t.out) out.push(`${fam}{${outbound(t.out.pod).replace('direction="outbound",', 'direction="outbound",peer="dst",')}} ${outBytes}`);
  }
  out.push("# HELP process_start_time_seconds Time that the process started (in seconds since the UNIX epoch)", "# TYPE process_start_time_seconds gauge", `process_start_time_seconds ${t.start}`);
  out.push("# HELP proxy_build_info Proxy build info", "# TYPE proxy_build_info gauge", `proxy_build_info{version="${t.version ?? "2.210.4"}",git_sha="5a910be",profile="release",date="2023-11-22T17:21:08Z",vendor="linkerd"} 1`);
  return `${out.join("\n")}\n`;
}
