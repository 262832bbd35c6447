import { Agent as HttpAgent, type AgentOptions as HttpAgentOptions } from "node:http";
import { Agent as HttpsAgent, type AgentOptions as HttpsAgentOptions, type RequestOptions } from "node:https";
import type { Duplex } from "node:stream";
import { BlockList, connect as netConnect, isIP, type Socket } from "node:net";
import { connect as tlsConnect, type ConnectionOptions } from "node:tls";
import { MeshError } from "../errors.js";
import { sanitize } from "../output/sanitize.js";

/**
 * The HTTP proxy between mesh and the API server, chosen as client-go chooses it: the cluster
 * entry's `proxy-url` when there is one (for every request, NO_PROXY does not apply), else Go's
 * `http.ProxyFromEnvironment`: HTTPS_PROXY (or https_proxy) for an https:// server, HTTP_PROXY (or
 * http_proxy) for an http:// one, unless NO_PROXY (or no_proxy) exempts the host; localhost and
 * loopback addresses never go through a proxy from the environment.
 */
export interface ProxyChoice {
  url: URL;
  /** Where the setting came from, for messages: `HTTPS_PROXY`, `proxy-url of cluster "c" in kubeconfig f`. */
  source: string;
}

const SCHEMES = ["http:", "https:", "socks5:"];

/** The first non-empty variable of `names` (Go's getEnvAny: the upper-case name first). */
function envAny(env: NodeJS.ProcessEnv, ...names: string[]): { name: string; value: string } | undefined {
  for (const name of names) if (env[name]) return { name, value: env[name]! };
  return undefined;
}

/** A proxy setting as Go parses it: without a known scheme, `http://` is assumed (`proxy:3128`). */
function parseProxy(value: string, source: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || !SCHEMES.includes(url.protocol) || !url.hostname) {
    try {
      url = new URL(`http://${value}`);
    } catch {
      throw new MeshError(`${source} is not a proxy URL`, "set it to the proxy's address, e.g. http://proxy.example:3128");
    }
  }
  return url;
}

/** The proxy for requests to `server`, or undefined to connect directly. */
export function chooseProxy(server: URL, clusterProxyUrl: string | undefined, clusterWhere: string, env: NodeJS.ProcessEnv): ProxyChoice | undefined {
  if (clusterProxyUrl) return { url: parseProxy(clusterProxyUrl, clusterWhere), source: clusterWhere };
  const isHttps = server.protocol === "https:";
  // Go ignores HTTP_PROXY in a CGI process (REQUEST_METHOD set): there the variable comes from a request header.
  const setting = isHttps ? envAny(env, "HTTPS_PROXY", "https_proxy") : env.REQUEST_METHOD ? undefined : envAny(env, "HTTP_PROXY", "http_proxy");
  if (!setting) return undefined;
  const noProxy = envAny(env, "NO_PROXY", "no_proxy")?.value ?? "";
  if (!useProxy(server, noProxy)) return undefined;
  const url = parseProxy(setting.value, setting.name);
  if (url.protocol === "socks5:") throw new MeshError(`${setting.name} names a socks5 proxy, which mesh does not support from the environment`, "use an http(s) proxy, or set proxy-url: socks5://… in the kubeconfig cluster entry");
  return { url, source: setting.name };
}

/** An IPv4-mapped IPv6 address as IPv4, brackets removed: what Go's net.IP.Equal compares. */
function normalIp(host: string): { ip: string; family: "ipv4" | "ipv6" } | undefined {
  const h = host.replace(/^\[|\]$/g, "");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(h);
  if (mapped) return { ip: mapped[1], family: "ipv4" };
  const v = isIP(h);
  return v === 4 ? { ip: h, family: "ipv4" } : v === 6 ? { ip: h, family: "ipv6" } : undefined;
}

function isLoopback(ip: { ip: string; family: "ipv4" | "ipv6" }): boolean {
  if (ip.family === "ipv4") return ip.ip.startsWith("127.");
  const b = new BlockList();
  b.addAddress("::1", "ipv6");
  return b.check(ip.ip, "ipv6");
}

/** Go's net.SplitHostPort for a NO_PROXY entry: undefined when it has no port. */
function splitHostPort(p: string): { host: string; port: string } | undefined {
  if (p.startsWith("[")) {
    const end = p.indexOf("]");
    if (end < 0 || p[end + 1] !== ":") return undefined;
    return { host: p.slice(1, end), port: p.slice(end + 2) };
  }
  const i = p.indexOf(":");
  if (i < 0 || p.indexOf(":", i + 1) >= 0) return undefined;
  return { host: p.slice(0, i), port: p.slice(i + 1) };
}

/**
 * Whether a request to `target` goes through the environment's proxy, given NO_PROXY: Go's
 * httpproxy rules. `*` exempts everything; an entry is a CIDR (`10.0.0.0/8`), an IP with or
 * without a port, or a domain with or without a port: `example.com` exempts it and its
 * subdomains, `.example.com` and `*.example.com` only the subdomains.
 */
export function useProxy(target: URL, noProxy: string): boolean {
  const host = target.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const port = target.port || (target.protocol === "https:" ? "443" : "80");
  if (host === "localhost") return false;
  const ip = normalIp(host);
  if (ip && isLoopback(ip)) return false;
  for (const raw of noProxy.split(",")) {
    const p = raw.trim().toLowerCase();
    if (!p) continue;
    if (p === "*") return false;
    const slash = p.indexOf("/");
    if (slash > 0) {
      const net = normalIp(p.slice(0, slash));
      const bits = Number(p.slice(slash + 1));
      if (net && /^\d+$/.test(p.slice(slash + 1)) && bits <= (net.family === "ipv4" ? 32 : 128)) {
        if (ip && ip.family === net.family) {
          const b = new BlockList();
          b.addSubnet(net.ip, bits, net.family);
          if (b.check(ip.ip, ip.family)) return false;
        }
        continue;
      }
    }
    const split = splitHostPort(p);
    if (split && !split.host) continue; // only a port: Go ignores the entry
    let phost = split ? split.host : p;
    const pport = split?.port ?? "";
    const pip = normalIp(phost);
    if (pip) {
      if (ip && pip.family === ip.family && pip.ip === ip.ip && (!pport || pport === port)) return false;
      if (ip && pip.family === "ipv6" && ip.family === "ipv6") {
        const b = new BlockList();
        b.addAddress(pip.ip, "ipv6");
        if (b.check(ip.ip, "ipv6") && (!pport || pport === port)) return false;
      }
      continue;
    }
    if (phost.startsWith("*.")) phost = phost.slice(1);
    const matchHost = !phost.startsWith(".");
    if (matchHost) phost = `.${phost}`;
    if ((host.endsWith(phost) || (matchHost && host === phost.slice(1))) && (!pport || pport === port)) return false;
  }
  return true;
}

/** The proxy as shown in messages: scheme, host and port, never its credentials. */
export function proxyShown(p: ProxyChoice): string {
  return `${p.url.protocol}//${sanitize(p.url.host, 200)}`;
}

/** `Proxy-Authorization` for a proxy URL with credentials (`http://user:pass@proxy:3128`). */
export function proxyAuthorization(url: URL): string | undefined {
  if (!url.username && !url.password) return undefined;
  return `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString("base64")}`;
}

const proxyPort = (url: URL) => Number(url.port) || (url.protocol === "https:" ? 443 : 80);
const proxyHost = (url: URL) => url.hostname.replace(/^\[|\]$/g, "");

/** Most bytes of a proxy's answer to CONNECT read before giving up on it. */
const MAX_CONNECT_ANSWER = 16 * 1024;
/** How long a proxy may take to answer CONNECT (each request's own timeout applies too). */
const CONNECT_TIMEOUT_MS = 30_000;

function proxyError(p: ProxyChoice, target: string, err: unknown): MeshError {
  if (err instanceof MeshError) return err;
  const code = (err as { code?: string })?.code ?? "";
  const why =
    code === "ECONNREFUSED"
      ? "connection refused"
      : code === "ENOTFOUND" || code === "EAI_AGAIN"
        ? "cannot resolve its host"
        : code === "ECONNRESET" || code === "EPIPE"
          ? "the connection was reset"
          : sanitize((err as Error)?.message ?? String(err), 200);
  return new MeshError(`cannot reach ${target} through the proxy ${proxyShown(p)} (${p.source}): ${why}`, `check ${p.source}${p.source.includes("proxy-url") ? "" : ", or exempt the API server with NO_PROXY"}`, 1, err);
}

/**
 * Opens a tunnel to `host:port` through the proxy with CONNECT and hands the socket to `cb`
 * (or why not: the proxy's status line, sanitised, or the connection error).
 */
function openTunnel(p: ProxyChoice, host: string, port: number, pending: Set<Socket>, cb: (err: Error | null, socket?: Socket) => void): void {
  const authority = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
  const ph = proxyHost(p.url);
  const raw: Socket =
    p.url.protocol === "https:" ? tlsConnect({ host: ph, port: proxyPort(p.url), servername: isIP(ph) ? undefined : ph, ALPNProtocols: ["http/1.1"] }) : netConnect({ host: ph, port: proxyPort(p.url) });
  let done = false;
  pending.add(raw);
  // A proxy that accepts the connection but never answers CONNECT must not hold the run open.
  raw.setTimeout(CONNECT_TIMEOUT_MS, () => finish(proxyError(p, authority, new Error(`no answer to CONNECT within ${CONNECT_TIMEOUT_MS / 1000}s`))));
  const finish = (err: Error | null, socket?: Socket) => {
    if (done) return;
    done = true;
    pending.delete(raw);
    raw.setTimeout(0);
    raw.off("data", onData);
    if (err) raw.destroy();
    cb(err, socket);
  };
  const chunks: Buffer[] = [];
  let n = 0;
  const onData = (c: Buffer) => {
    chunks.push(c);
    n += c.length;
    const all = Buffer.concat(chunks);
    const end = all.indexOf("\r\n\r\n");
    if (end < 0) {
      if (n > MAX_CONNECT_ANSWER) finish(proxyError(p, authority, new Error("its answer to CONNECT has no end")));
      return;
    }
    raw.pause();
    const statusLine = all.subarray(0, all.indexOf("\r\n")).toString("latin1");
    const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(statusLine);
    if (!m) return finish(proxyError(p, authority, new Error("it did not answer CONNECT with HTTP")));
    if (m[1] !== "200") return finish(proxyError(p, authority, new Error(`it answered CONNECT with ${m[1]}${m[2] ? ` ${m[2]}` : ""}`)));
    const rest = all.subarray(end + 4);
    if (rest.length) raw.unshift(rest);
    finish(null, raw);
  };
  raw.on("data", onData);
  raw.once("error", (e) => finish(proxyError(p, authority, e)));
  raw.once("close", () => finish(proxyError(p, authority, Object.assign(new Error("closed"), { code: "ECONNRESET" }))));
  const auth = proxyAuthorization(p.url);
  raw.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${auth ? `Proxy-Authorization: ${auth}\r\n` : ""}\r\n`);
}

/** An https agent whose connections are TLS inside a CONNECT tunnel through the proxy. */
class TunnelingAgent extends HttpsAgent {
  /** Connections to the proxy still waiting for its answer to CONNECT (the Agent does not track them). */
  private readonly pending = new Set<Socket>();

  constructor(
    options: HttpsAgentOptions,
    private readonly proxy: ProxyChoice,
  ) {
    super(options);
  }

  // Node's Agent takes the socket from the callback when createConnection returns nothing.
  override createConnection(options: RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): undefined {
    const cb = callback ?? (() => undefined);
    openTunnel(this.proxy, String(options.host ?? "").replace(/^\[|\]$/g, ""), Number(options.port), this.pending, (err, socket) => {
      if (err || !socket) return cb(err ?? new Error("no tunnel"), undefined as unknown as Duplex);
      const tlsSocket = tlsConnect({ ...(options as ConnectionOptions), socket });
      tlsSocket.once("secureConnect", () => cb(null, tlsSocket));
      tlsSocket.once("error", (e) => cb(e, tlsSocket));
    });
    return undefined;
  }

  override destroy(): void {
    for (const s of this.pending) s.destroy();
    this.pending.clear();
    super.destroy();
  }
}

/**
 * The agent for requests to the API server: direct, a CONNECT tunnel through the proxy for an
 * https:// server, or (for an http:// server, whose requests go to the proxy in absolute form)
 * an agent for the proxy itself.
 */
export function serverAgent(isHttps: boolean, options: HttpsAgentOptions & HttpAgentOptions, proxy: ProxyChoice | undefined): HttpsAgent | HttpAgent {
  if (isHttps) return proxy ? new TunnelingAgent(options, proxy) : new HttpsAgent(options);
  if (proxy?.url.protocol === "https:") return new HttpsAgent({ keepAlive: options.keepAlive, maxSockets: options.maxSockets });
  return new HttpAgent(options);
}

/** Where a plain-HTTP request goes through the proxy: the proxy's address, the absolute URL as path, and the proxy's credentials. */
export function viaProxy(proxy: ProxyChoice, server: URL, path: string): { https: boolean; hostname: string; port: number; path: string; headers: Record<string, string> } {
  const auth = proxyAuthorization(proxy.url);
  return {
    https: proxy.url.protocol === "https:",
    hostname: proxyHost(proxy.url),
    port: proxyPort(proxy.url),
    path: `${server.protocol}//${server.host}${server.pathname.replace(/\/$/, "")}${path}`,
    headers: { Host: server.host, ...(auth ? { "Proxy-Authorization": auth } : {}) },
  };
}
