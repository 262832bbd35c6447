/**
 * Port-forwarding to a pod through the API server (`pods/portforward`, RBAC: create
 * pods/portforward), as `kubectl port-forward` does, without a local listener: the connection is
 * upgraded to SPDY/3.1 with subprotocol `portforward.k8s.io` (spdy.ts), and each forwarded
 * connection is a pair of streams, `error` and `data`, sharing a request id. SPDY rather than the
 * WebSocket tunnel kubectl uses since 1.31: every API server and kubelet of the last decade
 * speaks it, the API server passes it through untranslated, and the kubelet side is SPDY anyway.
 */
import { request as httpRequest, type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { createGunzip } from "node:zlib";
import { MeshError } from "../errors.js";
import { sanitize } from "../output/sanitize.js";
import type { ClusterApi } from "./cluster.js";
import { SpdySession, type SpdyStream } from "./spdy.js";

export const PORT_FORWARD_PROTOCOL = "portforward.k8s.io";
/** Most bytes read from the error stream (the kubelet writes one line). */
const MAX_ERROR_BYTES = 16 * 1024;

export interface PortForwardOptions {
  /** Bound on the upgrade and on each stream's reply (default 30 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** A forwarded connection: bytes written reach the pod's port, bytes read come from it. */
export type ForwardedConnection = Duplex;

const reasons = new WeakMap<ForwardedConnection, Promise<MeshError | undefined>>();

/** What the kubelet said about a connection that ended, if it says so within `waitMs`. */
export async function kubeletFailure(c: ForwardedConnection, waitMs = 2_000): Promise<MeshError | undefined> {
  const reason = reasons.get(c);
  if (!reason) return undefined;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), waitMs)));
  try {
    return await Promise.race([reason, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** One port-forward session with a pod; `dial` opens connections to a port, `close` ends them all. */
export class PortForward {
  private requestId = 0;

  constructor(
    readonly namespace: string,
    readonly pod: string,
    private readonly session: SpdySession,
    private readonly timeoutMs: number,
  ) {}

  /** Opens a connection to `port` of the pod (a new request id). A failure the kubelet reports destroys it with a MeshError. */
  async dial(port: number): Promise<ForwardedConnection> {
    const id = String(this.requestId++);
    const headers = { streamtype: "error", port: String(port), requestid: id };
    const error = await this.session.openStream(headers, this.timeoutMs).catch((e: unknown) => {
      throw this.wrap(e, port);
    });
    error.end(); // the client only reads its error stream
    let data: SpdyStream;
    try {
      data = await this.session.openStream({ ...headers, streamtype: "data" }, this.timeoutMs);
    } catch (e) {
      error.destroy();
      throw this.wrap(e, port);
    }
    let text = "";
    error.on("data", (chunk: Buffer) => {
      if (text.length < MAX_ERROR_BYTES) text += chunk.toString("utf8");
    });
    error.on("error", () => undefined);
    const failure = () => (text.trim() ? new MeshError(`port-forward to port ${port} of pod ${this.describe()} failed: ${sanitize(text.trim(), 300)}`, "is the port open in the pod? (mesh reads the proxy's admin port, 4191)") : undefined);
    // The kubelet may close the data stream before its error stream says why: whoever sees the
    // connection end early can wait for the reason (kubeletFailure).
    reasons.set(
      data,
      new Promise((resolve) => {
        error.once("end", () => resolve(failure()));
        error.once("close", () => resolve(failure()));
      }),
    );
    error.on("end", () => {
      const e = failure();
      if (e) data.destroy(e);
    });
    data.once("close", () => error.destroy());
    return data;
  }

  close(): void {
    this.session.close();
  }

  get closed(): boolean {
    return this.session.closed;
  }

  /** The session's connection no longer keeps the process alive. */
  unref(): void {
    (this.session.socket as { unref?: () => void }).unref?.();
  }

  private describe(): string {
    return `${sanitize(this.namespace, 63)}/${sanitize(this.pod, 253)}`;
  }

  private wrap(e: unknown, port: number): MeshError {
    if (e instanceof MeshError) return e;
    return new MeshError(`port-forward to port ${port} of pod ${this.describe()} failed: ${sanitize(e instanceof Error ? e.message : String(e), 200)}`, undefined, 1, e);
  }
}

/** Opens a port-forward session with a pod through the API server. */
export async function openPortForward(cluster: ClusterApi, namespace: string, pod: string, opts: PortForwardOptions = {}): Promise<PortForward> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  if (!cluster.upgrade) throw new MeshError("this connection to the Kubernetes API cannot port-forward");
  if (opts.signal?.aborted) throw new MeshError("port-forward cancelled");
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/portforward`;
  const up = await cluster.upgrade(path, { Connection: "Upgrade", Upgrade: "SPDY/3.1", "X-Stream-Protocol-Version": PORT_FORWARD_PROTOCOL }, timeoutMs);
  const agreed = String(up.headers["x-stream-protocol-version"] ?? "");
  if (agreed && agreed !== PORT_FORWARD_PROTOCOL) {
    up.socket.destroy();
    throw new MeshError(`the API server agreed to port-forward protocol "${sanitize(agreed, 60)}", which mesh does not speak`);
  }
  if (up.head.length) up.socket.unshift(up.head);
  const session = new SpdySession(up.socket, { client: true });
  const pf = new PortForward(namespace, pod, session, timeoutMs);
  opts.signal?.addEventListener("abort", () => session.destroy(), { once: true });
  return pf;
}

export interface ForwardedGetOptions extends PortForwardOptions {
  /** Most bytes of the (decoded) body; a larger body fails the GET (default 64 MiB). */
  maxBytes?: number;
  /** Ask for gzip and decode it (default true). */
  gzip?: boolean;
  /** Called with the size of each body chunk as received (before decompression). */
  onWireBytes?: (n: number) => void;
}

export interface ForwardedResponse {
  status: number;
  headers: IncomingMessage["headers"];
  body: Buffer;
}

const describeGet = (pf: PortForward, port: number, path: string) => `GET ${sanitize(path, 100)} on port ${port} of pod ${sanitize(pf.namespace, 63)}/${sanitize(pf.pod, 253)}`;

/** One HTTP GET of `path` on `port` over a new connection of an open session, within `timeoutMs` (dial included). */
export async function forwardedGet(pf: PortForward, port: number, path: string, opts: ForwardedGetOptions = {}): Promise<ForwardedResponse> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
  const what = describeGet(pf, port, path);
  let conn: ForwardedConnection | undefined;
  let timer: NodeJS.Timeout | undefined;
  const work = (async () => {
    const c = (conn = await pf.dial(port));
    return await new Promise<ForwardedResponse>((resolve, reject) => {
      const req = httpRequest(
        {
          createConnection: () => c as unknown as import("node:net").Socket,
          method: "GET",
          path,
          headers: { Host: `localhost:${port}`, Accept: "*/*", Connection: "close", ...(opts.gzip === false ? {} : { "Accept-Encoding": "gzip" }) },
        },
        (res) => {
          const gzip = String(res.headers["content-encoding"] ?? "").toLowerCase() === "gzip";
          const chunks: Buffer[] = [];
          let n = 0;
          const decoded = gzip ? res.pipe(createGunzip()) : res;
          res.on("data", (chunk: Buffer) => opts.onWireBytes?.(chunk.length));
          decoded.on("data", (chunk: Buffer) => {
            n += chunk.length;
            if (n > maxBytes) {
              req.destroy();
              return reject(new MeshError(`the answer to ${what} is larger than ${maxBytes} bytes; mesh stops reading there`));
            }
            chunks.push(chunk);
          });
          decoded.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
          decoded.on("error", (e: Error) => reject(e instanceof MeshError ? e : new MeshError(`the answer to ${what} is not valid: ${sanitize(e.message, 120)}`, undefined, 1, e)));
          res.on("error", (e: Error) => reject(e));
        },
      );
      req.on("error", (e: Error) => {
        if (e instanceof MeshError) return reject(e);
        // A connection the kubelet closed early ("socket hang up"): its reason, when it gives one.
        void kubeletFailure(c).then((reason) => reject(reason ?? new MeshError(`${what} over port-forward failed: ${sanitize(e.message, 200)}`, undefined, 1, e)));
      });
      c.on("error", (e: Error) => req.destroy(e));
      req.end();
    });
  })();
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new MeshError(`${what} over port-forward did not finish within ${formatMs(timeoutMs)}`, "the API server, the kubelet or the pod is slow or unreachable")), timeoutMs);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
    work.catch(() => undefined);
    if (conn && !conn.destroyed) conn.destroy();
    else void work.then(() => conn?.destroy(), () => conn?.destroy());
  }
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms} ms`;
}

/**
 * One HTTP GET of `path` on `port` of a pod over a port-forward session of its own, bounded by
 * `timeoutMs` for the upgrade and again for the GET; the session is closed afterwards.
 */
export async function portForwardGet(cluster: ClusterApi, namespace: string, pod: string, port: number, path: string, opts: ForwardedGetOptions = {}): Promise<ForwardedResponse> {
  const pf = await openPortForward(cluster, namespace, pod, opts);
  try {
    return await forwardedGet(pf, port, path, opts);
  } finally {
    pf.close();
  }
}

/**
 * Port-forward sessions kept per pod, so that repeated GETs (the two scrape rounds of `viz stat`)
 * pay for the upgrade once. A session found closed, or failing before any answer, is replaced once.
 * Its sockets do not keep the process alive (a GET in flight does, through its deadline).
 */
export class PortForwardPool {
  private readonly sessions = new Map<string, Promise<PortForward>>();
  private closed = false;

  constructor(private readonly cluster: ClusterApi) {}

  async get(namespace: string, pod: string, port: number, path: string, opts: ForwardedGetOptions = {}): Promise<ForwardedResponse> {
    if (this.closed) throw new MeshError("port-forward cancelled");
    const key = `${namespace}/${pod}`;
    let cached = this.sessions.get(key);
    if (cached && (await cached.then((pf) => pf.closed, () => true))) cached = undefined;
    const session = cached ?? this.open(key, namespace, pod, opts);
    try {
      return await forwardedGet(await session, port, path, opts);
    } catch (e) {
      // A reused session may have died since (pod restarted, connection dropped): once more on a new one.
      if (!cached || !(await cached).closed) throw e;
      return forwardedGet(await this.open(key, namespace, pod, opts), port, path, opts);
    }
  }

  close(): void {
    this.closed = true;
    for (const s of this.sessions.values()) s.then((pf) => pf.close(), () => undefined);
    this.sessions.clear();
  }

  private open(key: string, namespace: string, pod: string, opts: PortForwardOptions): Promise<PortForward> {
    this.sessions.get(key)?.then((pf) => pf.close(), () => undefined);
    // No signal: the session outlives the request that opened it.
    const p = openPortForward(this.cluster, namespace, pod, { timeoutMs: opts.timeoutMs }).then((pf) => {
      pf.unref();
      if (this.closed) pf.close();
      return pf;
    });
    this.sessions.set(key, p);
    p.catch(() => {
      if (this.sessions.get(key) === p) this.sessions.delete(key);
    });
    return p;
  }
}
