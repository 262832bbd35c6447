// Benchmarks `viz stat`'s pure core on a synthetic scrape set: 5,000 pods' /metrics (two scrapes
// each, E1-style label sets with histograms, plus families stat does not read) through the
// streaming parser (src/viz/exposition.ts) and the aggregator (delta + stat). Target: >= 50 MB/s
// of payload through parse + aggregate, on 2 cores. A baseline from the same run (splitting the
// same text into lines and touching each) shows how busy the machine is.
// Human-readable lines go to stderr, one JSON line per figure to stdout (`ok`: target met).
//   node bench/viz-parse.mjs [--pods N] [--runs N]
import { build } from "esbuild";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const PODS = opt("--pods", 5000);
const RUNS = opt("--runs", 3);
const TARGET_MBPS = 50;
const log = (s) => process.stderr.write(`${s}\n`);
const result = (r) => process.stdout.write(`${JSON.stringify({ bench: "viz-parse", ...r })}\n`);

// The pure core, bundled from source (no build of the CLI needed).
const root = fileURLToPath(new URL("..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "mesh-bench-viz-"));
const entry = join(dir, "core.mjs");
await build({
  stdin: {
    contents: `export * from "./src/viz/exposition.ts"; export * from "./src/viz/delta.ts"; export * from "./src/viz/stat.ts"; export * from "./src/viz/labels.ts";`,
    resolveDir: root,
    loader: "ts",
  },
  bundle: true,
  format: "esm",
  platform: "node",
  outfile: entry,
  logLevel: "error",
});
const core = await import(pathToFileURL(entry).href);
rmSync(dir, { recursive: true, force: true });

const LE = ["1", "2", "3", "4", "5", "10", "20", "30", "40", "50", "100", "200", "300", "400", "500", "1000", "2000", "3000", "4000", "5000", "10000", "20000", "30000", "40000", "50000", "+Inf"];
const T0 = 1_717_171_300_000;

function podPayload(i, scrape) {
  const ns = `team-${i % 13}`;
  const app = `web-${i % 700}`;
  const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const k = scrape + 1;
  const lines = [];
  const fam = (name, type, help) => lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  const tls = `tls="true",client_id="default.${ns}.serviceaccount.identity.linkerd.cluster.local"`;
  const policy = `srv_group="",srv_kind="default",srv_name="all-unauthenticated",route_group="",route_kind="default",route_name="default",authz_group="",authz_kind="default",authz_name="all-unauthenticated"`;
  const inbound = (port, auth) => `direction="inbound",${auth ? `authority="${app}-svc.${ns}.svc.cluster.local:80",` : ""}target_addr="${ip}:${port}",target_ip="${ip}",target_port="${port}",${port === 4191 ? 'tls="no_identity",no_tls_reason="no_tls_from_remote"' : tls},${policy}`;
  const outbound = (d) =>
    `direction="outbound",authority="svc-${d}.${ns}.svc.cluster.local:8080",target_addr="10.9.${d}.${i & 255}:8080",target_ip="10.9.${d}.${i & 255}",target_port="8080",tls="true",server_id="api-${d}.${ns}.serviceaccount.identity.linkerd.cluster.local",dst_control_plane_ns="linkerd",dst_deployment="api-${d}",dst_namespace="${ns}",dst_pod="api-${d}-699d77c79-${(i * 7 + d) % 99999}",dst_pod_template_hash="699d77c79",dst_service="svc-${d}",dst_serviceaccount="api-${d}"`;
  const series = [
    [inbound(8080, true), "200", 1000 * k + i],
    [inbound(8080, true), "500", 10 * k],
    [inbound(4191, false), "200", 50 * k],
    [outbound(1), "200", 700 * k],
    [outbound(2), "200", 300 * k],
  ];
  fam("inbound_http_authz_allow_total", "counter", "The total number of inbound HTTP requests that were authorized");
  lines.push(`inbound_http_authz_allow_total{target_addr="${ip}:8080",target_ip="${ip}",target_port="8080",${policy},${tls}} ${1000 * k}`);
  fam("identity_cert_expiration_timestamp_seconds", "gauge", "Time when the this proxy's current mTLS identity certificate will expire");
  lines.push(`identity_cert_expiration_timestamp_seconds 1717257605`);
  fam("request_total", "counter", "Total count of HTTP requests.");
  for (const [l, , n] of series) lines.push(`request_total{${l}} ${n}`);
  fam("response_latency_ms", "histogram", "Elapsed times between a request's headers being received and its response stream completing");
  for (const [l, code, n] of series) {
    for (let b = 0; b < LE.length; b++) lines.push(`response_latency_ms_bucket{${l},status_code="${code}",le="${LE[b]}"} ${Math.min(n, Math.round((n * (b + 1)) / 12))}`);
    lines.push(`response_latency_ms_count{${l},status_code="${code}"} ${n}`, `response_latency_ms_sum{${l},status_code="${code}"} ${n * 4}`);
  }
  fam("response_total", "counter", "Total count of HTTP responses.");
  for (const [l, code, n] of series) lines.push(`response_total{${l},status_code="${code}",classification="${code === "500" ? "failure" : "success"}",grpc_status="",error=""} ${n}`);
  fam("control_request_total", "counter", "Total count of HTTP requests.");
  lines.push(`control_request_total{addr="linkerd-dst-headless.linkerd.svc.cluster.local:8086",tls="true",server_id="linkerd-destination.linkerd.serviceaccount.identity.linkerd.cluster.local"} ${20 * k}`);
  const tcp = [
    `direction="inbound",peer="src",target_addr="${ip}:8080",target_ip="${ip}",target_port="8080",${tls},srv_group="",srv_kind="default",srv_name="all-unauthenticated"`,
    `direction="inbound",peer="dst",tls="no_identity",no_tls_reason="loopback"`,
    `direction="outbound",peer="dst",${outbound(1).slice('direction="outbound",'.length)}`,
  ];
  for (const [name, type] of [["tcp_open_total", "counter"], ["tcp_open_connections", "gauge"], ["tcp_read_bytes_total", "counter"], ["tcp_write_bytes_total", "counter"]]) {
    fam(name, type, "tcp");
    for (const l of tcp) lines.push(`${name}{${l}} ${type === "gauge" ? 2 : 40_000 * k}`);
  }
  fam("stack_poll_total", "counter", "internal");
  for (let s = 0; s < 6; s++) lines.push(`stack_poll_total{direction="inbound",protocol="http",name="layer-${s}",ready="true"} ${k * 100 + s}`);
  fam("process_start_time_seconds", "gauge", "Time that the process started");
  lines.push(`process_start_time_seconds ${T0 / 1000 - 3600}`);
  fam("proxy_build_info", "gauge", "Proxy build info");
  lines.push(`proxy_build_info{version="2.210.4",git_sha="5a910be",profile="release",date="2023-11-22T17:21:08Z",vendor="linkerd"} 1`);
  return `${lines.join("\n")}\n`;
}

log(`generating ${PODS} pods × 2 scrapes...`);
const A = [];
const B = [];
for (let i = 0; i < PODS; i++) {
  A.push(Buffer.from(podPayload(i, 0)));
  B.push(Buffer.from(podPayload(i, 1)));
}
const bytes = [...A, ...B].reduce((n, b) => n + b.length, 0);
const attached = Array.from({ length: PODS }, (_, i) => ({ namespace: `team-${i % 13}`, pod: `web-${i}`, deployment: `web-${i % 700}` }));
log(`${(bytes / 1e6).toFixed(1)} MB of payload (${(bytes / PODS / 2 / 1024).toFixed(1)} KiB per scrape); load average ${loadavg()[0].toFixed(2)}`);

/** Payloads arrive as network chunks: feed 16 KiB at a time. */
function* chunks(buf) {
  for (let o = 0; o < buf.length; o += 16384) yield buf.subarray(o, o + 16384);
}

function baseline() {
  let n = 0;
  for (const buf of [...A, ...B]) {
    const text = buf.toString("utf8");
    for (const line of text.split("\n")) n += line.length > 0 ? 1 : 0;
  }
  return n;
}

function parseAndAggregate() {
  const interners = new Map();
  const parse = (buf, i, time) => {
    let interner = interners.get(i);
    if (!interner) interners.set(i, (interner = new core.Interner()));
    const c = new core.ExpositionCollector({ families: core.STAT_FAMILIES, interner });
    for (const ch of chunks(buf)) c.write(ch);
    return { time, metrics: c.end() };
  };
  const t0 = performance.now();
  const first = A.map((buf, i) => parse(buf, i, T0));
  const samples = [];
  for (let i = 0; i < PODS; i++) {
    const d = core.podDelta(first[i], parse(B[i], i, T0 + 10_000), T0);
    core.discountOwnScrape(d, A[i].length);
    samples.push({ delta: d, attached: attached[i] });
  }
  const t1 = performance.now();
  const groups = core.aggregate(samples, core.buildQuery({ ref: { type: "deployment", namespace: "" }, allNamespaces: true, clusterDomain: "cluster.local" }));
  const t2 = performance.now();
  return { parseMs: t1 - t0, aggregateMs: t2 - t1, groups: groups.size };
}

const time = (f) => {
  const t = performance.now();
  const r = f();
  return [performance.now() - t, r];
};

let best;
let bestBase = Infinity;
for (let r = 0; r < RUNS; r++) {
  const [baseMs] = time(baseline);
  bestBase = Math.min(bestBase, baseMs);
  const res = parseAndAggregate();
  if (!best || res.parseMs + res.aggregateMs < best.parseMs + best.aggregateMs) best = res;
  log(`run ${r + 1}: baseline ${baseMs.toFixed(0)} ms, parse+delta ${res.parseMs.toFixed(0)} ms, aggregate ${res.aggregateMs.toFixed(0)} ms (${res.groups} groups)`);
}
const mb = bytes / 1e6;
const total = best.parseMs + best.aggregateMs;
const mbps = mb / (total / 1000);
log(`parse + delta + aggregate: ${mbps.toFixed(1)} MB/s (target >= ${TARGET_MBPS}), ${((total * 1000) / PODS).toFixed(0)} µs per pod (2 scrapes); baseline split-lines: ${(mb / (bestBase / 1000)).toFixed(1)} MB/s`);
const rss = process.memoryUsage().rss / 1e6;
result({ figure: "parse+aggregate MB/s", value: Number(mbps.toFixed(1)), target: TARGET_MBPS, ok: mbps >= TARGET_MBPS });
result({ figure: "per-pod µs (2 scrapes)", value: Math.round((total * 1000) / PODS) });
result({ figure: "parse+delta MB/s", value: Number((mb / (best.parseMs / 1000)).toFixed(1)) });
result({ figure: "baseline split-lines MB/s", value: Number((mb / (bestBase / 1000)).toFixed(1)) });
result({ figure: "payload MB", value: Number(mb.toFixed(1)), pods: PODS });
result({ figure: "rss MB", value: Math.round(rss), load: Number(loadavg()[0].toFixed(2)) });
