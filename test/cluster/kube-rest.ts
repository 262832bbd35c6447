/**
 * A tiny Kubernetes REST client for the harness (kubelet stand-in, bootstrap,
 * test helpers). Not for mesh itself: mesh talks to the API through src/kube.
 */
import { Agent, request as httpsRequest } from "node:https";
import type { ClientRequest, IncomingMessage } from "node:http";

export class KubeRestError extends Error {
  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    readonly body: string,
  ) {
    super(`${method} ${path}: ${status} ${body.slice(0, 300)}`);
    this.name = "KubeRestError";
  }
}

export interface WatchEvent<T> {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: T;
}

export class KubeRest {
  private readonly agent: Agent;
  private readonly url: URL;

  constructor(
    server: string,
    private readonly token: string,
    ca?: string,
  ) {
    this.url = new URL(server);
    this.agent = new Agent({ keepAlive: true, ca, rejectUnauthorized: ca !== undefined, maxSockets: 16 });
  }

  /** A request to the API server as this user: `headers` add to the bearer token. */
  private request(
    method: string,
    path: string,
    headers: Record<string, string | number>,
    onResponse: (res: IncomingMessage) => void,
    signal?: AbortSignal,
  ): ClientRequest {
    const { hostname: host, port } = this.url;
    const headersWithToken = { Authorization: `Bearer ${this.token}`, ...headers };
    return httpsRequest({ agent: this.agent, host, port, method, path, headers: headersWithToken, signal }, onResponse);
  }

  /** Raw request; resolves with status and body text for any status. */
  raw(
    method: string,
    path: string,
    body?: unknown,
    contentType = "application/json",
    timeoutMs = 30_000,
  ): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
      const req = this.request(
        method,
        path,
        {
          Accept: "application/json",
          ...(payload !== undefined ? { "Content-Type": contentType, "Content-Length": Buffer.byteLength(payload) } : {}),
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (d: string) => (text += d));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
          res.on("error", reject);
        },
      );
      req.setTimeout(timeoutMs);
      req.on("timeout", () => req.destroy(new Error(`${method} ${path}: timed out after ${timeoutMs} ms`)));
      req.on("error", reject);
      req.end(payload);
    });
  }

  /** GET with extra headers; the body as bytes (e.g. to see `Content-Encoding: gzip`). */
  getBytes(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: IncomingMessage["headers"]; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const req = this.request("GET", path, headers, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (d: Buffer) => chunks.push(d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end();
    });
  }

  /** JSON request; throws KubeRestError on a status >= 400. */
  async json<T = any>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    const res = await this.raw(method, path, body, contentType);
    if (res.status >= 400) throw new KubeRestError(res.status, method, path, res.body);
    return (res.body ? JSON.parse(res.body) : undefined) as T;
  }

  get<T = any>(path: string): Promise<T> {
    return this.json<T>("GET", path);
  }

  /** GET that returns undefined on 404. */
  async find<T = any>(path: string): Promise<T | undefined> {
    try {
      return await this.get<T>(path);
    } catch (e) {
      if (e instanceof KubeRestError && e.status === 404) return undefined;
      throw e;
    }
  }

  /** POST that ignores 409 AlreadyExists. */
  async ensure<T = any>(path: string, body: unknown): Promise<T | undefined> {
    try {
      return await this.json<T>("POST", path, body);
    } catch (e) {
      if (e instanceof KubeRestError && e.status === 409) return undefined;
      throw e;
    }
  }

  mergePatch<T = any>(path: string, patch: unknown): Promise<T> {
    return this.json<T>("PATCH", path, patch, "application/merge-patch+json");
  }

  /**
   * Streams watch events until the server ends the stream, `signal` aborts, or
   * an error occurs. Resolves when the stream ends (callers re-list and re-watch).
   */
  watch<T>(path: string, onEvent: (e: WatchEvent<T>) => void, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = this.request(
        "GET",
        path,
        { Accept: "application/json" },
        (res) => {
          if ((res.statusCode ?? 0) >= 400) {
            let text = "";
            res.on("data", (d) => (text += d));
            res.on("end", () => reject(new KubeRestError(res.statusCode ?? 0, "GET", path, text)));
            return;
          }
          let buf = "";
          res.setEncoding("utf8");
          res.on("data", (d: string) => {
            buf += d;
            let nl: number;
            while ((nl = buf.indexOf("\n")) >= 0) {
              const line = buf.slice(0, nl).trim();
              buf = buf.slice(nl + 1);
              if (line) onEvent(JSON.parse(line) as WatchEvent<T>);
            }
          });
          res.on("end", () => resolve());
          res.on("error", (e) => (signal?.aborted ? resolve() : reject(e)));
          res.on("aborted", () => resolve());
        },
        signal,
      );
      req.on("error", (e) => (signal?.aborted ? resolve() : reject(e)));
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
