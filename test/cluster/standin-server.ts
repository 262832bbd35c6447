/**
 * Runs inside the run's network namespace (started by the daemon with
 * `ip netns exec`). It serves:
 *  - for every meshed pod, a linkerd2-proxy admin stand-in on <pod IP>:4191
 *    (`/metrics`, `/ready`, `/live`, `/env.json`; spec C1), whose metrics come
 *    from the pod's traffic model (traffic-model.ts, exposition.ts);
 *  - the kubelet's log endpoint (HTTPS on <node IP>:<kubelet port>,
 *    `/containerLogs/NS/POD/CONTAINER`) with the proxy's access log (access-log.ts);
 *  - the kubelet's port-forward endpoint on the same port (`/portForward/NS/POD`, SPDY/3.1,
 *    portforward-server.ts), joined to <pod IP>:<port> inside the namespace;
 *  - for every meshed pod given an identity certificate, TLS on <pod IP>:4143 (the proxy's
 *    inbound port) presenting that certificate and its issuer (`mesh identity` reads them).
 * The kubelet stand-in tells it about pods over stdin (standin-protocol.ts).
 *
 * Usage: standin-server.ts --node-ip IP --kubelet-port PORT --cert FILE --key FILE --client-ip IP
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import { createServer as createTlsListener, type Server as TlsServer } from "node:tls";
import type { Socket } from "node:net";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import type { Duplex } from "node:stream";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { accessLogFormat, accessLogLines, formatTimestamp, startupLines, type LogLine } from "./access-log.js";
import { renderMetrics, type AdminTraffic } from "./exposition.js";
import { run } from "./proc.js";
import type { StandinPod, StandinReply, StandinRequest } from "./standin-protocol.js";
import { parseTrafficModel, resolveFlows, type TrafficModel } from "./traffic-model.js";
import { handlePortForward } from "./portforward-server.js";

const { values: args } = parseArgs({
  options: {
    "node-ip": { type: "string" },
    "kubelet-port": { type: "string", default: "10250" },
    cert: { type: "string" },
    key: { type: "string" },
    "client-ip": { type: "string" },
    dev: { type: "string", default: "eth0" },
  },
});
const nodeIp = args["node-ip"]!;
const clientIp = args["client-ip"]!;

interface Entry {
  pod: StandinPod;
  model: TrafficModel;
  admin?: Server;
  /** TLS on <pod IP>:4143 with the pod's identity certificate. */
  inbound?: TlsServer;
  stats: AdminTraffic;
}

const pods = new Map<string, Entry>();
const byName = new Map<string, string>();

function log(msg: string): void {
  process.stderr.write(`[standin] ${msg}\n`);
}

async function upsert(pod: StandinPod): Promise<void> {
  const prev = pods.get(pod.uid);
  const model = pod.traffic ? parseTrafficModel(pod.traffic) : { flows: [] };
  if (!prev && pod.ownIp) await run("ip", ["addr", "replace", `${pod.info.ip}/32`, "dev", args.dev!]);
  // A new proxy start time is a restarted proxy (mesh.test/proxy-restarts): its counters start over
  // and, as when a real proxy restarts, its connections are dropped.
  const restarted = prev !== undefined && prev.pod.startedAtMs !== pod.startedAtMs;
  const entry: Entry = {
    pod,
    model,
    admin: prev?.admin,
    inbound: prev?.inbound,
    stats: prev && !restarted ? prev.stats : { responses: {}, accepted: 0, open: 0, bytesRead: 0, bytesWritten: 0 },
  };
  if (restarted) prev.admin?.closeAllConnections();
  pods.set(pod.uid, entry);
  byName.set(`${pod.info.namespace}/${pod.info.name}`, pod.uid);
  if (pod.proxy && !entry.admin) entry.admin = await listenAdmin(entry);
  if (!pod.proxy && entry.admin) {
    await closeServer(entry.admin);
    entry.admin = undefined;
  }
  const identity = pod.proxy ? pod.identity : undefined;
  if (identity && entry.inbound) entry.inbound.setSecureContext({ cert: identity.certChainPem, key: identity.keyPem });
  else if (identity) entry.inbound = await listenInbound(pod.info.ip, identity).catch((e: Error) => void log(`inbound TLS of ${pod.info.namespace}/${pod.info.name}: ${e.message}`));
  else if (entry.inbound) {
    await closeServer(entry.inbound);
    entry.inbound = undefined;
  }
}

/** The proxy's inbound port: a TLS handshake presenting the pod's identity certificate, then nothing (the connection idles until the client goes). */
function listenInbound(ip: string, identity: { certChainPem: string; keyPem: string }): Promise<TlsServer> {
  const server = createTlsListener({ cert: identity.certChainPem, key: identity.keyPem }, (sock) => {
    sock.setTimeout(30_000, () => sock.destroy());
    sock.on("error", () => undefined);
    sock.resume();
  });
  const open = new Set<Socket>();
  server.on("connection", (sock: Socket) => {
    open.add(sock);
    sock.on("close", () => open.delete(sock));
  });
  server.on("tlsClientError", () => undefined);
  inboundSockets.set(server, open);
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(4143, ip, () => resolve(server));
  });
}

async function remove(uid: string): Promise<void> {
  const e = pods.get(uid);
  if (!e) return;
  pods.delete(uid);
  byName.delete(`${e.pod.info.namespace}/${e.pod.info.name}`);
  if (e.admin) await closeServer(e.admin);
  if (e.inbound) await closeServer(e.inbound);
  if (e.pod.ownIp) await run("ip", ["addr", "del", `${e.pod.info.ip}/32`, "dev", args.dev!], { allowFail: true });
}

const inboundSockets = new WeakMap<TlsServer, Set<Socket>>();

function closeServer(s: Server | TlsServer): Promise<void> {
  return new Promise((resolve) => {
    s.close(() => resolve());
    if ("closeAllConnections" in s) s.closeAllConnections();
    else for (const sock of inboundSockets.get(s) ?? []) sock.destroy();
  });
}

function flowsOf(e: Entry) {
  return resolveFlows(e.model, {
    self: e.pod.info,
    pods: [...pods.values()].map((p) => p.pod.info),
    defaultClientIp: clientIp,
  });
}

function listenAdmin(first: Entry): Promise<Server> {
  // Every upsert replaces the pod's Entry (new model, annotations, start time): use the current one.
  const uid = first.pod.uid;
  const current = () => pods.get(uid) ?? first;
  const server = createServer((req, res) => {
    const e = current();
    const stats = e.stats;
    res.on("finish", () => {
      const code = res.statusCode;
      stats.responses[code] = (stats.responses[code] ?? 0) + 1;
      stats.bytesRead += 80 + (req.headers["user-agent"]?.length ?? 0) + (req.url?.length ?? 0);
    });
    handleAdmin(e, req, res);
  });
  server.on("connection", (sock) => {
    const stats = current().stats;
    stats.accepted++;
    stats.open++;
    sock.on("close", () => stats.open--);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(4191, first.pod.info.ip, () => resolve(server));
  });
}

function send(res: ServerResponse, status: number, body: string | Buffer, headers: Record<string, string> = {}): void {
  const buf = typeof body === "string" ? Buffer.from(body) : body;
  res.writeHead(status, { "content-length": String(buf.length), ...headers });
  res.end(buf);
}

function isLoopback(req: IncomingMessage): boolean {
  const a = req.socket.remoteAddress ?? "";
  return a.startsWith("127.") || a === "::1" || a === "::ffff:127.0.0.1";
}

/** Default inbound policies under which a plaintext request from off the pod is refused. */
const DENIES_PLAINTEXT = new Set(["deny", "all-authenticated", "cluster-authenticated"]);

function handleAdmin(e: Entry, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? "/", "http://admin");
  // The admin port is governed by the pod's inbound policy (spec C1, D1): under a default policy
  // that wants an identity (or denies everything), a plaintext request from off the pod (the
  // API server's pod proxy) is refused with 403; only the generated probe routes stay open.
  if (DENIES_PLAINTEXT.has(e.pod.defaultPolicy ?? "") && !isLoopback(req) && url.pathname !== "/ready" && url.pathname !== "/live")
    return send(res, 403, "", { "l5d-proxy-error": "unauthorized request on route" });
  switch (url.pathname) {
    case "/metrics": {
      const text = renderMetrics(flowsOf(e), {
        podIp: e.pod.info.ip,
        startedAt: e.pod.startedAtMs / 1000,
        now: Date.now() / 1000,
        certExpiry: e.pod.certExpiry,
        defaultPolicy: e.pod.defaultPolicy,
        version: e.pod.proxyVersion,
        admin: e.stats,
      });
      const gzip = String(req.headers["accept-encoding"] ?? "").includes("gzip");
      const body = gzip ? gzipSync(text) : Buffer.from(text);
      e.stats.bytesWritten += body.length;
      send(res, 200, body, { "content-type": "text/plain", ...(gzip ? { "content-encoding": "gzip" } : {}) });
      return;
    }
    case "/ready":
      return e.pod.proxyReady && e.pod.certExpiry > 0 ? send(res, 200, "ready\n") : send(res, 503, "not ready\n");
    case "/live":
      return send(res, 200, "live\n");
    case "/env.json": {
      if (req.method !== "GET") return send(res, 405, "");
      const names = [...url.searchParams.keys()];
      const env = names.length ? Object.fromEntries(names.map((n) => [n, e.pod.proxyEnv[n] ?? null])) : e.pod.proxyEnv;
      return send(res, 200, JSON.stringify(env), { "content-type": "application/json" });
    }
    case "/proxy-log-level":
    case "/shutdown":
      if (!isLoopback(req)) return send(res, 403, "Requests are only permitted from localhost.");
      return send(res, 200, url.pathname === "/shutdown" ? "shutdown\n" : "info\n");
    default:
      return send(res, 404, "");
  }
}

// ---- kubelet log endpoint ----

const NS_PER_MS = 1_000_000n;

/** Kubelet's `--timestamps` prefix: RFC 3339 with nanoseconds, trailing zeros trimmed. */
function kubeletTimestamp(atNs: bigint): string {
  return formatTimestamp(atNs).replace(/\.(\d*?)0+Z$/, (_m, d: string) => (d ? `.${d}Z` : "Z"));
}

function linesFor(e: Entry, container: string, fromNs: bigint, toNs: bigint, max: number): LogLine[] {
  const startNs = BigInt(e.pod.startedAtMs) * NS_PER_MS;
  if (container !== "linkerd-proxy") {
    const l = { atNs: startNs + 500_000_000n, text: `stand-in container ${container} of ${e.pod.info.namespace}/${e.pod.info.name} started` };
    return l.atNs > fromNs && l.atNs <= toNs ? [l] : [];
  }
  const out = startupLines(startNs, e.pod.info.ip).filter((l) => l.atNs > fromNs && l.atNs <= toNs);
  const fmt = accessLogFormat(e.pod.accessLog);
  if (fmt) out.push(...accessLogLines(flowsOf(e), fmt, startNs, fromNs, toNs, max));
  return out.length > max ? out.slice(out.length - max) : out;
}

function handleLogs(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? "/", "https://kubelet");
  const m = url.pathname.match(/^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/);
  if (!m) return send(res, 404, "404 page not found\n");
  const [, ns, name, container] = m.map(decodeURIComponent);
  const uid = byName.get(`${ns}/${name}`);
  const e = uid ? pods.get(uid) : undefined;
  if (!e) return send(res, 404, `pod ${ns}/${name} not found\n`);
  const c = e.pod.containers.find((x) => x.name === container);
  if (!c) return send(res, 404, `container "${container}" in pod "${name}" not found\n`);
  const q = url.searchParams;
  if (q.get("previous") === "true" && !c.crashLooping)
    return send(res, 400, `previous terminated container "${container}" in pod "${name}" not found\n`);
  const nowNs = () => BigInt(Date.now()) * NS_PER_MS;
  let fromNs = -1n;
  if (q.get("sinceTime")) fromNs = BigInt(Date.parse(q.get("sinceTime")!)) * NS_PER_MS - 1n;
  else if (q.get("sinceSeconds")) fromNs = nowNs() - BigInt(Number(q.get("sinceSeconds"))) * 1_000_000_000n;
  const tail = q.has("tailLines") ? Math.max(0, Number(q.get("tailLines"))) : 10_000;
  const timestamps = q.get("timestamps") === "true";
  let limit = q.has("limitBytes") ? Number(q.get("limitBytes")) : Infinity;
  const follow = q.get("follow") === "true";
  const fmt = (l: LogLine) => (timestamps ? `${kubeletTimestamp(l.atNs)} ${l.text}\n` : `${l.text}\n`);

  res.writeHead(200, { "content-type": "text/plain", ...(follow ? { "transfer-encoding": "chunked" } : {}) });
  const write = (lines: LogLine[]): boolean => {
    for (const l of lines) {
      const s = fmt(l);
      if (Buffer.byteLength(s) > limit) {
        res.end(s.slice(0, Math.max(0, limit)));
        return false;
      }
      limit -= Buffer.byteLength(s);
      res.write(s);
    }
    return true;
  };
  let upTo = nowNs();
  if (!write(tail === 0 ? [] : linesFor(e, container, fromNs, upTo, tail))) return;
  if (!follow || c.state !== "running") return void res.end();
  const timer = setInterval(() => {
    // The pod is gone, or its proxy restarted: a real kubelet ends the old container's stream.
    if (pods.get(e.pod.uid)?.pod.startedAtMs !== e.pod.startedAtMs) {
      clearInterval(timer);
      res.end();
      return;
    }
    const to = nowNs();
    const ok = write(linesFor(e, container, upTo, to, 10_000));
    upTo = to;
    if (!ok) clearInterval(timer);
  }, 200);
  res.on("close", () => clearInterval(timer));
}

async function main(): Promise<void> {
  const kubelet = createTlsServer({ cert: readFileSync(args.cert!), key: readFileSync(args.key!) }, (req, res) => {
    try {
      handleLogs(req, res);
    } catch (err) {
      send(res, 500, `${(err as Error).message}\n`);
    }
  });
  kubelet.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => undefined);
    const podIp = (ns: string, name: string) => {
      const uid = byName.get(`${ns}/${name}`);
      return uid ? pods.get(uid)?.pod.info.ip : undefined;
    };
    if (!handlePortForward(req, socket, head, podIp, log)) socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  });
  await new Promise<void>((resolve, reject) => {
    kubelet.once("error", reject);
    kubelet.listen(Number(args["kubelet-port"]), nodeIp, () => resolve());
  });

  const rl = createInterface({ input: process.stdin });
  let queue = Promise.resolve();
  rl.on("line", (line) => {
    if (!line.trim()) return;
    const msg = JSON.parse(line) as StandinRequest;
    queue = queue.then(async () => {
      const reply: StandinReply = { id: msg.id, ok: true };
      try {
        if (msg.op === "upsert") await upsert(msg.pod);
        else if (msg.op === "remove") await remove(msg.uid);
      } catch (err) {
        reply.ok = false;
        reply.error = (err as Error).message;
        log(`${msg.op} failed: ${reply.error}`);
      }
      process.stdout.write(`${JSON.stringify(reply)}\n`);
    });
  });
  // The daemon closes our stdin when it stops (or dies): stop serving.
  rl.on("close", () => process.exit(0));
  process.stdout.write(`${JSON.stringify({ id: 0, ok: true })}\n`);
}

main().catch((err: unknown) => {
  log(`fatal: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
