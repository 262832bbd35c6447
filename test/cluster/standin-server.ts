/**
 * Runs inside the run's network namespace (started by the daemon with
 * `ip netns exec`). It serves:
 *  - for every meshed pod, a linkerd2-proxy admin stand-in on <pod IP>:4191
 *    (`/metrics`, `/ready`, `/live`, `/env.json`; spec C1), whose metrics come
 *    from the pod's traffic model (traffic-model.ts, exposition.ts). As the real proxy's admin
 *    server, it looks at each connection's first byte: a TLS ClientHello (0x16) gets a handshake
 *    presenting the pod's identity certificate and its issuer (`mesh identity` reads them; HTTP
 *    then runs inside the TLS), anything else is plain HTTP;
 *  - the kubelet's log endpoint (HTTPS on <node IP>:<kubelet port>,
 *    `/containerLogs/NS/POD/CONTAINER`) with the proxy's access log (access-log.ts);
 *  - the kubelet's port-forward endpoint on the same port (`/portForward/NS/POD`, SPDY/3.1,
 *    portforward-server.ts), joined to <pod IP>:<port> inside the namespace.
 * The kubelet stand-in tells it about pods over stdin (standin-protocol.ts).
 *
 * Usage: standin-server.ts --node-ip IP --kubelet-port PORT --cert FILE --key FILE --client-ip IP
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import { createSecureContext, TLSSocket, type SecureContext } from "node:tls";
import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
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

/** The proxy's admin server on <pod IP>:4191: one TCP listener handing each connection, plain or inside TLS, to one HTTP server. */
interface Admin {
  listener: NetServer;
  http: Server;
  /** Accepted TCP connections, dropped when the proxy restarts or goes. */
  sockets: Set<Socket>;
}

interface Entry {
  pod: StandinPod;
  model: TrafficModel;
  admin?: Admin;
  /** The pod's identity certificate and key, for TLS on the admin port; none without an issuer. */
  tls?: { certChainPem: string; context: SecureContext };
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
    tls: tlsOf(pod, prev?.tls),
    stats: prev && !restarted ? prev.stats : { responses: {}, accepted: 0, open: 0, bytesRead: 0, bytesWritten: 0 },
  };
  if (restarted) for (const sock of prev.admin?.sockets ?? []) sock.destroy();
  pods.set(pod.uid, entry);
  byName.set(`${pod.info.namespace}/${pod.info.name}`, pod.uid);
  if (pod.proxy && !entry.admin) entry.admin = await listenAdmin(entry);
  if (!pod.proxy && entry.admin) {
    await closeAdmin(entry.admin);
    entry.admin = undefined;
  }
}

/** The secure context of the pod's identity (the previous one while the certificate is the same). */
function tlsOf(pod: StandinPod, prev: Entry["tls"]): Entry["tls"] {
  const id = pod.proxy ? pod.identity : undefined;
  if (!id) return undefined;
  if (prev?.certChainPem === id.certChainPem) return prev;
  try {
    return { certChainPem: id.certChainPem, context: createSecureContext({ cert: id.certChainPem, key: id.keyPem }) };
  } catch (e) {
    log(`identity of ${pod.info.namespace}/${pod.info.name}: ${(e as Error).message}`);
    return undefined;
  }
}

async function remove(uid: string): Promise<void> {
  const e = pods.get(uid);
  if (!e) return;
  pods.delete(uid);
  byName.delete(`${e.pod.info.namespace}/${e.pod.info.name}`);
  if (e.admin) await closeAdmin(e.admin);
  if (e.pod.ownIp) await run("ip", ["addr", "del", `${e.pod.info.ip}/32`, "dev", args.dev!], { allowFail: true });
}

function closeAdmin(a: Admin): Promise<void> {
  return new Promise((resolve) => {
    a.listener.close(() => resolve());
    for (const sock of a.sockets) sock.destroy();
  });
}

function flowsOf(e: Entry) {
  return resolveFlows(e.model, {
    self: e.pod.info,
    pods: [...pods.values()].map((p) => p.pod.info),
    defaultClientIp: clientIp,
  });
}

/** A TLS ClientHello starts with a handshake record (content type 22). */
const TLS_HANDSHAKE = 0x16;

function listenAdmin(first: Entry): Promise<Admin> {
  // Every upsert replaces the pod's Entry (new model, annotations, start time): use the current one.
  const uid = first.pod.uid;
  const current = () => pods.get(uid) ?? first;
  const http = createServer((req, res) => {
    const e = current();
    const stats = e.stats;
    res.on("finish", () => {
      const code = res.statusCode;
      stats.responses[code] = (stats.responses[code] ?? 0) + 1;
      stats.bytesRead += 80 + (req.headers["user-agent"]?.length ?? 0) + (req.url?.length ?? 0);
    });
    handleAdmin(e, req, res);
  });
  const sockets = new Set<Socket>();
  // Half-open, as an HTTP server is: a client may end its side right after its request.
  const listener = createNetServer({ allowHalfOpen: true }, (sock) => {
    const stats = current().stats;
    stats.accepted++;
    stats.open++;
    sockets.add(sock);
    sock.on("close", () => {
      stats.open--;
      sockets.delete(sock);
    });
    sock.on("error", () => undefined);
    sock.setTimeout(30_000, () => sock.destroy()); // until the client says something
    // Protocol detection, as the proxy does on its admin port: the first bytes decide, and are
    // put back for whoever reads the connection next.
    sock.once("data", (head: Buffer) => {
      sock.setTimeout(0);
      sock.pause();
      sock.unshift(head);
      if (head[0] !== TLS_HANDSHAKE) {
        http.emit("connection", sock);
        sock.resume();
        return;
      }
      const tls = current().tls;
      // No identity yet (no issuer): a real proxy would not be serving; the handshake fails.
      if (!tls) return void sock.destroy();
      // The TLS socket takes the buffered bytes and the connection over (resuming `sock` would steal them).
      const secure = new TLSSocket(sock, { isServer: true, secureContext: tls.context });
      secure.on("error", () => sock.destroy());
      http.emit("connection", secure);
    });
  });
  return new Promise((resolve, reject) => {
    listener.once("error", reject);
    listener.listen(4191, first.pod.info.ip, () => resolve({ listener, http, sockets }));
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

/** Default inbound policies under which a request from off the pod without a client identity (plaintext, or TLS, for which the stand-in asks no client certificate) is refused. */
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
