// What guards the dashboard's HTTP server: it shows cluster data with the user's credentials, so
// it binds to loopback unless told otherwise, every request must carry the per-run token, and a
// Host header naming anything but the bound address (DNS rebinding) is refused. Pure.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";

/** A fresh random token for the URL path (192 bits, URL-safe). */
export function newToken(): string {
  return randomBytes(24).toString("base64url");
}

/** Compares a presented token with the run's in constant time (both hashed first: equal lengths). */
export function tokenMatches(presented: string, token: string): boolean {
  const a = createHash("sha256").update(presented).digest();
  const b = createHash("sha256").update(token).digest();
  return timingSafeEqual(a, b);
}

/** 127.0.0.0/8, ::1, and `localhost`. */
export function isLoopback(address: string): boolean {
  const a = address.replace(/^\[|\]$/g, "").toLowerCase();
  if (a === "localhost" || a === "::1" || a === "0:0:0:0:0:0:0:1") return true;
  if (a.startsWith("::ffff:")) return isLoopback(a.slice(7));
  return isIP(a) === 4 && a.startsWith("127.");
}

const isWildcard = (a: string) => a === "0.0.0.0" || a === "::" || a === "[::]";

/** `host:port` as a Host header writes it (IPv6 bracketed). */
export function hostPort(address: string, port: number): string {
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * Whether a request's Host header may be answered. A page from another origin that rebinds its
 * DNS name to 127.0.0.1 still sends its own name as Host: only the bound address (and, on
 * loopback, `localhost`) is accepted, always with the bound port. On a wildcard address
 * (`--address 0.0.0.0 --allow-remote`) any IP literal is accepted, never a DNS name.
 */
export function hostAllowed(host: string | undefined, address: string, port: number): boolean {
  if (!host) return false;
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d+)$/.exec(host.trim());
  if (!m || Number(m[2]) !== port) return false;
  const name = m[1].replace(/^\[|\]$/g, "").toLowerCase();
  const bound = address.replace(/^\[|\]$/g, "").toLowerCase();
  if (name === bound) return true;
  if (isLoopback(bound) && (name === "localhost" || isLoopback(name))) return true;
  if (isWildcard(address)) return isIP(name) !== 0 || name === "localhost";
  return false;
}

/**
 * Splits a request path `/<token>/<rest>` into the token and the rest (`/` at least). Anything
 * else yields undefined.
 */
export function splitTokenPath(url: string): { token: string; rest: string; query: URLSearchParams } | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url, "http://dashboard.invalid");
  } catch {
    return undefined;
  }
  const m = /^\/([A-Za-z0-9_-]+)(\/.*)?$/.exec(parsed.pathname);
  if (!m) return undefined;
  return { token: m[1], rest: m[2] ?? "", query: parsed.searchParams };
}

/** Headers on every answer: no framing, no sniffing, the token never leaves in a Referer. */
export const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};
