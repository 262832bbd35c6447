/**
 * A fault-injecting HTTPS proxy in front of the API server, for reliability
 * tests and for counting API requests. It serves on 127.0.0.1 with the API
 * server's own certificate, so a kubeconfig that trusts the cluster's CA trusts
 * it too. Faults are rules, first match wins, changeable at runtime:
 *
 *   proxy.setFaults([{ path: /\/pods$/, status: 500 }]);
 *   proxy.setFaults([{ path: "^/api/v1/namespaces/[^/]+/pods/[^/]+/proxy", latencyMs: 2000 }]);
 *   proxy.setFaults([{ path: /\/version/, reset: true, times: 1 }]);
 *
 * Every request that reaches the proxy is recorded (method, path, status, fault).
 */
import { request as httpsRequest, createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import { connect as tlsConnect } from "node:tls";
import type { Duplex } from "node:stream";
import type { Socket } from "node:net";

export interface FaultRule {
  /** Matched against the request's path and query (a string is a regular expression source). Default: all. */
  path?: RegExp | string;
  /** Only this method (e.g. "GET"). */
  method?: string;
  /** Wait this long before acting (forwarding, or answering with `status`). */
  latencyMs?: number;
  /** Answer with this status and a Kubernetes Status body instead of forwarding (403, 404, 500, ...). */
  status?: number;
  /** Status body message; default a generic one naming the path. */
  message?: string;
  /** Reset the client's TCP connection (RST) instead of answering. */
  reset?: boolean;
  /** Never answer (until the client gives up or the proxy closes). */
  hang?: boolean;
  /** Apply to the next N matching requests only. */
  times?: number;
}

export interface ProxiedRequest {
  method: string;
  path: string;
  /** Response status, once known (undefined while streaming or for reset/hang). */
  status?: number;
  fault?: "latency" | "status" | "reset" | "hang";
  at: number;
}

const REASONS: Record<number, string> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  409: "AlreadyExists",
  410: "Expired",
  429: "TooManyRequests",
  500: "InternalError",
  503: "ServiceUnavailable",
  504: "Timeout",
};

export interface FaultProxyOptions {
  /** The API server, e.g. https://127.0.0.1:6443. */
  upstream: string;
  /** PEM of the CA that signed the upstream's certificate. */
  ca: string;
  /** Serving certificate and key (the API server's own are valid for 127.0.0.1). */
  cert: string;
  key: string;
}

export class FaultProxy {
  readonly requests: ProxiedRequest[] = [];
  private rules: (FaultRule & { re?: RegExp; left?: number })[] = [];
  private readonly sockets = new Set<Socket | Duplex>();
  private server?: Server;
  private port = 0;

  constructor(private readonly o: FaultProxyOptions) {}

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  /** Requests seen so far (all, or those whose path matches). */
  count(path?: RegExp | string): number {
    if (path === undefined) return this.requests.length;
    const re = typeof path === "string" ? new RegExp(path) : path;
    return this.requests.filter((r) => re.test(r.path)).length;
  }

  resetCounts(): void {
    this.requests.length = 0;
  }

  setFaults(rules: FaultRule[]): void {
    this.rules = rules.map((r) => ({
      ...r,
      re: r.path === undefined ? undefined : typeof r.path === "string" ? new RegExp(r.path) : r.path,
      left: r.times,
    }));
  }

  addFault(rule: FaultRule): void {
    this.setFaults([...this.rules, rule]);
  }

  clearFaults(): void {
    this.rules = [];
  }

  async start(): Promise<this> {
    const server = createServer({ cert: this.o.cert, key: this.o.key }, (req, res) => void this.handle(req, res));
    server.on("connection", (s: Socket) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
    server.on("secureConnection", (s) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.upgrade(req, socket, head));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    this.server = server;
    const addr = server.address();
    this.port = typeof addr === "object" && addr ? addr.port : 0;
    return this;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private match(req: IncomingMessage): FaultRule | undefined {
    const path = req.url ?? "/";
    for (const r of this.rules) {
      if (r.method && r.method.toUpperCase() !== req.method) continue;
      if (r.re && !r.re.test(path)) continue;
      if (r.left !== undefined) {
        if (r.left <= 0) continue;
        r.left--;
      }
      return r;
    }
    return undefined;
  }

  /** Applies the matching rule; returns true when the request was consumed by a fault. */
  private async applyFault(req: IncomingMessage, rec: ProxiedRequest, rule: FaultRule | undefined, socket: Duplex, res?: ServerResponse): Promise<boolean> {
    if (!rule) return false;
    if (rule.latencyMs) {
      rec.fault = "latency";
      await new Promise((r) => setTimeout(r, rule.latencyMs));
      if (socket.destroyed) return true;
    }
    if (rule.reset) {
      rec.fault = "reset";
      const s = socket as Socket & { resetAndDestroy?: () => void };
      // Reset the underlying TCP socket, not only the TLS layer.
      const raw = (s as unknown as { _parent?: Socket })._parent ?? s;
      if (typeof (raw as Socket).resetAndDestroy === "function") (raw as Socket).resetAndDestroy();
      else s.destroy();
      return true;
    }
    if (rule.hang) {
      rec.fault = "hang";
      return true;
    }
    if (rule.status) {
      rec.fault = "status";
      rec.status = rule.status;
      const body = JSON.stringify({
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: rule.message ?? `injected fault: ${rule.status} for ${req.method} ${req.url}`,
        reason: REASONS[rule.status] ?? "Unknown",
        code: rule.status,
      });
      if (res) {
        res.writeHead(rule.status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
        res.end(body);
      } else {
        socket.end(`HTTP/1.1 ${rule.status} ${REASONS[rule.status] ?? "Error"}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
      }
      return true;
    }
    return false;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rec: ProxiedRequest = { method: req.method ?? "GET", path: req.url ?? "/", at: Date.now() };
    this.requests.push(rec);
    if (await this.applyFault(req, rec, this.match(req), req.socket, res)) return;
    const up = new URL(this.o.upstream);
    const headers = { ...req.headers, host: up.host };
    const upstream = httpsRequest(
      { host: up.hostname, port: up.port, method: req.method, path: req.url, headers, ca: this.o.ca },
      (ures) => {
        rec.status = ures.statusCode;
        res.writeHead(ures.statusCode ?? 502, ures.rawHeaders as unknown as Record<string, string>);
        ures.pipe(res);
      },
    );
    upstream.on("error", (e) => {
      if (!res.headersSent) {
        rec.status = 502;
        res.writeHead(502, { "content-type": "text/plain" });
        res.end(`fault proxy: upstream error: ${e.message}\n`);
      } else res.destroy();
    });
    res.on("close", () => upstream.destroy());
    req.pipe(upstream);
  }

  /** Upgrades (exec, attach, port-forward) are tunnelled as raw TLS byte streams. */
  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const rec: ProxiedRequest = { method: req.method ?? "GET", path: req.url ?? "/", at: Date.now() };
    this.requests.push(rec);
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    if (await this.applyFault(req, rec, this.match(req), socket)) return;
    const up = new URL(this.o.upstream);
    const conn = tlsConnect({ host: up.hostname, port: Number(up.port), ca: this.o.ca }, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const k = req.rawHeaders[i];
        lines.push(`${k}: ${k.toLowerCase() === "host" ? up.host : req.rawHeaders[i + 1]}`);
      }
      conn.write(`${lines.join("\r\n")}\r\n\r\n`);
      if (head.length) conn.write(head);
      conn.pipe(socket);
      socket.pipe(conn);
    });
    conn.on("error", () => socket.destroy());
    socket.on("error", () => conn.destroy());
    this.sockets.add(conn);
    conn.on("close", () => this.sockets.delete(conn));
  }
}
