/**
 * The kubelet's port-forward endpoint, `/portForward/{namespace}/{pod}[/{uid}]`, for the stand-in
 * server: the request is upgraded to SPDY/3.1 with subprotocol `portforward.k8s.io`; the client
 * (the API server, for `kubectl port-forward` and mesh alike) opens an error stream and a data
 * stream per forwarded connection, paired by their `requestid` header and naming the pod `port`;
 * the data stream is joined to a TCP connection to <pod IP>:<port> inside the network namespace.
 * A failure to connect is written to the error stream, as the kubelet does.
 */
import type { IncomingMessage } from "node:http";
import { connect } from "node:net";
import type { Duplex } from "node:stream";
import { RstStatus, SpdySession, type SpdyStream } from "../../src/kube/spdy.js";

export const PORT_FORWARD_PROTOCOL = "portforward.k8s.io";
/** How long the second stream of a pair may take to arrive (the kubelet's default is 30 s). */
const PAIR_TIMEOUT_MS = 30_000;

interface Pair {
  error?: SpdyStream;
  data?: SpdyStream;
  timer: NodeJS.Timeout;
}

function refuse(socket: Duplex, status: number, reason: string, body: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/**
 * Serves one upgrade request if it is a port-forward; returns false for other paths.
 * `podIp` finds a running pod's IP by namespace and name.
 */
export function handlePortForward(req: IncomingMessage, socket: Duplex, head: Buffer, podIp: (ns: string, name: string) => string | undefined, log: (m: string) => void): boolean {
  const url = new URL(req.url ?? "/", "https://kubelet");
  const m = url.pathname.match(/^\/portForward\/([^/]+)\/([^/]+)(?:\/[^/]+)?$/);
  if (!m) return false;
  const [, ns, name] = m.map(decodeURIComponent) as [string, string, string];
  const ip = podIp(ns, name);
  if (!ip) {
    refuse(socket, 404, "Not Found", `pod ${ns}/${name} not found\n`);
    return true;
  }
  if (!/spdy\/3\.1/i.test(String(req.headers.upgrade ?? ""))) {
    refuse(socket, 400, "Bad Request", "unable to upgrade: missing upgrade headers in request\n");
    return true;
  }
  const offered = String(req.headers["x-stream-protocol-version"] ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  if (offered.length && !offered.includes(PORT_FORWARD_PROTOCOL)) {
    refuse(socket, 403, "Forbidden", `unable to upgrade: unable to negotiate protocol: client supports ${offered.join(", ")}, server supports ${PORT_FORWARD_PROTOCOL}\n`);
    return true;
  }
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n${offered.length ? `X-Stream-Protocol-Version: ${PORT_FORWARD_PROTOCOL}\r\n` : ""}\r\n`,
  );
  if (head.length) socket.unshift(head);
  const pairs = new Map<string, Pair>();
  const session = new SpdySession(socket, {
    client: false,
    onStream: (stream) => {
      const port = Number(stream.header("port"));
      const type = stream.header("streamtype");
      if (!Number.isInteger(port) || port < 1 || port > 65535 || (type !== "error" && type !== "data")) return stream.reset(RstStatus.protocolError);
      // Clients without request ids (very old ones) pair streams by id, as the kubelet does.
      const requestId = stream.header("requestid") ?? String(type === "error" ? stream.id : stream.id - 2);
      stream.on("error", () => undefined);
      void stream.reply();
      let pair = pairs.get(requestId);
      if (!pair) {
        const p: Pair = {
          timer: setTimeout(() => {
            pairs.delete(requestId);
            p.error?.end(`timed out waiting for streams of request ${requestId}`);
            p.data?.reset();
          }, PAIR_TIMEOUT_MS),
        };
        pairs.set(requestId, (pair = p));
      }
      if (pair[type]) {
        pair.error?.write(`error processing stream for request ${requestId}: ${type} stream already assigned`);
        return stream.reset(RstStatus.protocolError);
      }
      pair[type] = stream;
      if (pair.error && pair.data) {
        clearTimeout(pair.timer);
        pairs.delete(requestId);
        forward(pair.data, pair.error, ip, port, `${ns}/${name}`);
      }
    },
  });
  session.on("close", () => {
    for (const p of pairs.values()) clearTimeout(p.timer);
  });
  log(`port-forward session for ${ns}/${name}`);
  return true;
}

function forward(data: SpdyStream, error: SpdyStream, ip: string, port: number, pod: string): void {
  // The client half-closes its error stream at once; drain it so the stream can finish.
  error.resume();
  const conn = connect({ host: ip, port });
  let connected = false;
  conn.once("connect", () => {
    connected = true;
    data.pipe(conn);
    conn.pipe(data);
  });
  conn.on("error", (e: Error) => {
    if (!connected) error.end(`error forwarding port ${port} to pod ${pod}: ${e.message}`);
    else error.end();
    data.end();
  });
  conn.on("close", () => {
    if (!error.writableEnded) error.end();
  });
  data.on("error", () => conn.destroy());
  data.on("close", () => {
    if (!conn.destroyed && conn.writableEnded && conn.readableEnded) conn.destroy();
  });
}
