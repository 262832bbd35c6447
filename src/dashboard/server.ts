// The dashboard's HTTP server (node:http): the built page (dist/dashboard/, read into memory at
// start), its JSON API and two event streams (rounds, tap), all under `/<token>/`. A request
// without the run's token gets 404, one whose Host header is not the bound address 403 (DNS
// rebinding), anything but GET 405. Thin: the numbers come from the Collector, tap from viz's tap
// session, checks from the check runner.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join, relative, sep } from "node:path";
import { MeshError } from "../errors.js";
import { sanitize } from "../output/sanitize.js";
import { canonicalType, type ResourceType } from "../viz/resources.js";
import type { CheckRun } from "./checks.js";
import type { Collector } from "./collector.js";
import { hostAllowed, SECURITY_HEADERS, splitTokenPath, tokenMatches } from "./security.js";
import type { TapParams, TapRow } from "./tap.js";
import { namespaceKey, workloadKey, WORKLOAD_TYPES } from "./views.js";
import type { Meta, NamespaceData, Overview } from "./wire.js";

export interface StaticFile {
  body: Buffer;
  type: string;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".woff2": "font/woff2",
};

/** Every file of the built page, by URL path (`/index.html`, `/assets/…`). */
export function loadStaticFiles(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else files.set(`/${relative(dir, p).split(sep).join("/")}`, { body: readFileSync(p), type: TYPES[extname(name)] ?? "application/octet-stream" });
    }
  };
  try {
    walk(dir);
  } catch {
    // reported below
  }
  if (!files.has("/index.html")) throw new MeshError(`the dashboard's page is not built (no ${dir}/index.html)`, "run `npm run build`, which builds it with Vite into dist/dashboard/");
  return files;
}

export interface DashboardServerOptions {
  token: string;
  address: string;
  port: number;
  files: Map<string, StaticFile>;
  collector: Collector;
  /** The namespace the page opens (-n), if any. */
  defaultNamespace?: string;
  runChecks: (mode: "default" | "proxy") => Promise<CheckRun>;
  runTap: (params: TapParams, signal: AbortSignal, onRow: (r: TapRow) => void, onNote: (m: string) => void) => Promise<void>;
  parseTap: (q: URLSearchParams) => TapParams;
  /** Concurrent event streams (rounds) and tap sessions. */
  maxStreams?: number;
  maxTaps?: number;
}

export interface DashboardServer {
  server: Server;
  /** The bound port (the one asked for, or the one the OS chose for 0). */
  port: number;
  close(): Promise<void>;
}

/**
 * JSON with `<`, `>`, `&` and the two JavaScript line separators written as \u escapes (as Go's
 * encoding/json does): server-supplied names such as `</script><script>…` stay inert even where a
 * body is read as something other than JSON. JSON.parse gives the same value back.
 */
export const safeJson = (body: unknown): string => JSON.stringify(body).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { ...SECURITY_HEADERS, "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  res.end(safeJson(body));
};

const text = (res: ServerResponse, status: number, body: string) => {
  res.writeHead(status, { ...SECURITY_HEADERS, "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
  res.end(`${body}\n`);
};

/** Starts an event stream: the answer stays open, `send` writes one event. */
function eventStream(req: IncomingMessage, res: ServerResponse): { send: (event: string, data: unknown) => void; closed: AbortSignal } {
  const ac = new AbortController();
  res.writeHead(200, { ...SECURITY_HEADERS, "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", connection: "keep-alive", "x-accel-buffering": "no" });
  res.write("retry: 3000\n\n");
  const heartbeat = setInterval(() => res.write(": keep-alive\n\n"), 15_000);
  const end = () => {
    clearInterval(heartbeat);
    ac.abort();
  };
  req.once("close", end);
  res.once("close", end);
  return {
    send: (event, data) => {
      if (!ac.signal.aborted) res.write(`event: ${event}\ndata: ${safeJson(data)}\n\n`);
    },
    closed: ac.signal,
  };
}

const errorText = (err: unknown) => sanitize(err instanceof Error ? err.message : String(err), 500);

export async function startDashboardServer(o: DashboardServerOptions): Promise<DashboardServer> {
  let port = o.port;
  let streams = 0;
  let taps = 0;
  const running = new Map<string, Promise<CheckRun>>();
  const sockets = new Set<import("node:net").Socket>();
  const stopping = new AbortController();

  const api = async (path: string, q: URLSearchParams, req: IncomingMessage, res: ServerResponse) => {
    const c = o.collector;
    switch (path) {
      case "/api/meta":
        return json(res, 200, { defaultNamespace: o.defaultNamespace ?? null, source: c.source, intervalMs: c.intervalMs, historyPoints: c.history.maxPoints, controlPlaneVersion: (await c.controlPlaneVersion()) ?? null, workloadTypes: WORKLOAD_TYPES } satisfies Meta);
      case "/api/overview": {
        const r = c.latest();
        return json(res, 200, {
          round: r?.round ?? 0,
          time: r?.time ?? null,
          source: c.source,
          error: c.lastError ?? null,
          namespaces: (r?.namespaces ?? []).map((n) => ({ ...n, history: c.history.get(namespaceKey(n.name)) })),
        } satisfies Overview);
      }
      case "/api/namespace": {
        const ns = q.get("ns") ?? "";
        const r = c.latest();
        const known = r?.namespaces.some((n) => n.name === ns);
        if (r && !known) return json(res, 404, { error: `namespace ${sanitize(ns, 63)} not found` });
        return json(res, 200, {
          round: r?.round ?? 0,
          time: r?.time ?? null,
          source: c.source,
          error: c.lastError ?? null,
          namespace: ns,
          workloads: (r?.workloads ?? []).filter((w) => w.namespace === ns).map((w) => ({ ...w, history: c.history.get(workloadKey(w.namespace, w.kind, w.name)) })),
        } satisfies NamespaceData);
      }
      case "/api/workload": {
        const kind = canonicalType(q.get("kind") ?? "") as ResourceType | undefined;
        if (!kind || !WORKLOAD_TYPES.includes(kind)) return json(res, 400, { error: "unknown workload kind" });
        if (!c.latest()) return json(res, 200, { round: 0, error: c.lastError ?? null });
        const d = await c.workload(q.get("ns") ?? "", kind, q.get("name") ?? "");
        return d ? json(res, 200, { ...d, error: c.lastError ?? null }) : json(res, 404, { error: `${kind} ${sanitize(q.get("name") ?? "", 253)} not found in namespace ${sanitize(q.get("ns") ?? "", 63)}` });
      }
      case "/api/check": {
        const mode = q.get("mode") === "proxy" ? "proxy" : "default";
        let run = running.get(mode);
        if (!run) {
          run = o.runChecks(mode).finally(() => running.delete(mode));
          running.set(mode, run);
        }
        try {
          return json(res, 200, await run);
        } catch (err) {
          return json(res, 500, { error: errorText(err) });
        }
      }
      case "/api/events": {
        if (streams >= (o.maxStreams ?? 32)) return text(res, 503, "too many open dashboard pages");
        streams++;
        const s = eventStream(req, res);
        const off = c.subscribe((r) => s.send("round", { round: r.round, time: r.time, error: c.lastError ?? null }));
        s.closed.addEventListener("abort", () => {
          streams--;
          off();
        });
        const r = c.latest();
        if (r) s.send("round", { round: r.round, time: r.time, error: c.lastError ?? null });
        return;
      }
      case "/api/tap": {
        // Even a refused session answers as an event stream: EventSource shows no error bodies.
        const refuse = (error: string) => {
          eventStream(req, res).send("failure", { error, hint: null });
          res.end();
        };
        let params: TapParams;
        try {
          params = o.parseTap(q);
        } catch (err) {
          return refuse(errorText(err));
        }
        if (taps >= (o.maxTaps ?? 4)) return refuse("too many tap sessions at once; stop one first");
        taps++;
        const s = eventStream(req, res);
        const signal = AbortSignal.any([s.closed, stopping.signal]);
        s.send("started", { resource: sanitize(params.resource, 300), namespace: params.namespace });
        try {
          await o.runTap(params, signal, (row) => s.send("row", row), (m) => s.send("note", { message: m }));
        } catch (err) {
          s.send("failure", { error: errorText(err), hint: err instanceof MeshError && err.hint ? sanitize(err.hint, 1000) : null });
        } finally {
          taps--;
          res.end();
        }
        return;
      }
      default:
        return json(res, 404, { error: "no such API" });
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (!hostAllowed(req.headers.host, o.address, port)) return text(res, 403, "forbidden: this dashboard answers only to the address it was started on");
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD");
      return text(res, 405, "method not allowed");
    }
    const parts = splitTokenPath(req.url ?? "/");
    if (!parts || !tokenMatches(parts.token, o.token)) return text(res, 404, "not found (the dashboard's address carries a token: use the URL mesh printed)");
    if (parts.rest === "") {
      res.writeHead(308, { ...SECURITY_HEADERS, location: `/${o.token}/` });
      return res.end();
    }
    if (parts.rest.startsWith("/api/")) return api(parts.rest, parts.query, req, res);
    const file = o.files.get(parts.rest === "/" ? "/index.html" : parts.rest);
    if (!file) return text(res, 404, "not found");
    const immutable = parts.rest.startsWith("/assets/");
    res.writeHead(200, { ...SECURITY_HEADERS, "content-type": file.type, "content-length": String(file.body.length), "cache-control": immutable ? "private, max-age=31536000, immutable" : "no-store" });
    res.end(req.method === "HEAD" ? undefined : file.body);
  };

  // headersTimeout is enforced when connections are checked (every 30 s by default): check every
  // 2 s, so a client that trickles its headers is cut off about 10 s in, not up to 40 s.
  const server = createServer({ connectionsCheckingInterval: 2_000 }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) json(res, 500, { error: errorText(err) });
      else res.end();
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 0; // event streams stay open
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      if (err.code === "EADDRINUSE") reject(new MeshError(`port ${o.port} on ${o.address} is in use`, "pick another with -p/--port (or -p 0 for any free port)"));
      else if (err.code === "EADDRNOTAVAIL") reject(new MeshError(`cannot listen on ${o.address}: no such local address`, "use --address 127.0.0.1, or an address of this machine"));
      else reject(new MeshError(`cannot listen on ${o.address}:${o.port}: ${err.message}`));
    };
    server.once("error", onError);
    server.listen(o.port, o.address, () => {
      server.off("error", onError);
      resolve();
    });
  });
  const addr = server.address();
  if (addr && typeof addr === "object") port = addr.port;
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        stopping.abort();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
