/**
 * The webhook pairs `mesh install` writes really serve TLS: a server loads the Secret's
 * tls.crt/tls.key, and a client that trusts only the webhook's caBundle and asks for
 * `linkerd-proxy-injector.linkerd.svc` (as the API server does) completes the handshake, over
 * TLS 1.2 (ECDHE-ECDSA: the server signs with the key, so OpenSSL's client checks the
 * digitalSignature key usage) and TLS 1.3. Servers: Node's tls.createServer and, when present,
 * `openssl s_server`; clients: Node's tls.connect and `openssl s_client`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tls from "node:tls";
import type { AddressInfo } from "node:net";
import { generateWebhookCertificate, webhookHost, type WebhookCertificate } from "../../src/tls/index.js";
import { certFixture } from "../fixtures/certs/fixtures.js";
import { hasOpenssl } from "./helpers.js";

const HOST = webhookHost("proxy-injector", "linkerd");
const VERSIONS = ["TLSv1.2", "TLSv1.3"] as const;
type Version = (typeof VERSIONS)[number];

/** A pair as `mesh install` renders it: the Secret's tls.crt and tls.key, and the caBundle (the certificate). */
interface Pair {
  name: string;
  crtPem: string;
  keyPem: string;
  caBundle: string;
}

const pair = (name: string, c: WebhookCertificate): Pair => ({ name, crtPem: c.crtPem.trim(), keyPem: c.keyPem.trim(), caBundle: c.crtPem.trim() });

async function pairs(): Promise<Pair[]> {
  return [
    // Generated now: TLS checks validity against the real clock.
    pair("generated (ECDSA P-256, PKCS#8)", await generateWebhookCertificate({ host: HOST, now: new Date() })),
    pair("fixture as generated (ECDSA P-256, PKCS#8)", { crtPem: certFixture("webhook-ecdsa-proxy-injector.crt"), keyPem: certFixture("webhook-ecdsa-proxy-injector.key") }),
    pair("user-supplied shape (RSA 2048, PKCS#1)", { crtPem: certFixture("webhook-proxy-injector.crt"), keyPem: certFixture("webhook-proxy-injector.key") }),
  ];
}

interface Handshake {
  authorized: boolean;
  authorizationError?: string;
  protocol: string | null;
  peerCN?: string;
  echoed: string;
}

/** Connects as the API server does: trusts only the caBundle, SNI and name check for `servername`. */
function connect(port: number, opts: { ca: string; servername: string; version: Version }): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port, ca: opts.ca, servername: opts.servername, minVersion: opts.version, maxVersion: opts.version });
    socket.setTimeout(10_000, () => socket.destroy(new Error("handshake timed out")));
    socket.once("error", reject);
    socket.once("secureConnect", () => {
      const result = { authorized: socket.authorized, protocol: socket.getProtocol(), peerCN: socket.getPeerCertificate().subject?.CN as string | undefined };
      let echoed = "";
      socket.setEncoding("utf8");
      socket.on("data", (d: string) => {
        echoed += d;
        if (echoed.includes("\n")) {
          socket.end();
          resolve({ ...result, echoed });
        }
      });
      socket.write("admission review\n");
    });
  });
}

/** A Node TLS server with the pair, echoing what it reads. */
async function nodeServer(p: Pair): Promise<{ port: number; close: () => Promise<void> }> {
  const server = tls.createServer({ cert: p.crtPem, key: p.keyPem, minVersion: "TLSv1.2" }, (s) => s.pipe(s));
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", res));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((res) => server.close(() => res())) };
}

test("Node tls.createServer serves each pair; a client trusting only the caBundle verifies it for the webhook's host", async () => {
  for (const p of await pairs()) {
    const server = await nodeServer(p);
    try {
      for (const version of VERSIONS) {
        const h = await connect(server.port, { ca: p.caBundle, servername: HOST, version });
        assert.equal(h.authorized, true, `${p.name} ${version}`);
        assert.equal(h.protocol, version, p.name);
        assert.equal(h.peerCN, HOST);
        assert.equal(h.echoed, "admission review\n");
      }
    } finally {
      await server.close();
    }
  }
});

test("the client's checks are real: another host name or another caBundle is refused", async () => {
  const [generated, , rsa] = await pairs();
  const server = await nodeServer(generated!);
  try {
    await assert.rejects(connect(server.port, { ca: generated!.caBundle, servername: "linkerd-proxy-injector.other.svc", version: "TLSv1.3" }), (e: NodeJS.ErrnoException) => e.code === "ERR_TLS_CERT_ALTNAME_INVALID");
    await assert.rejects(connect(server.port, { ca: rsa!.caBundle, servername: HOST, version: "TLSv1.3" }), (e: NodeJS.ErrnoException) => /DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED/.test(String(e.code)));
  } finally {
    await server.close();
  }
});

function withFiles<T>(p: Pair, fn: (files: { crt: string; key: string; ca: string }) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "mesh-webhook-tls-"));
  const files = { crt: join(dir, "tls.crt"), key: join(dir, "tls.key"), ca: join(dir, "ca.crt") };
  writeFileSync(files.crt, `${p.crtPem}\n`);
  writeFileSync(files.key, `${p.keyPem}\n`);
  writeFileSync(files.ca, `${p.caBundle}\n`);
  return fn(files).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test("openssl s_server serves each pair; a Node client verifying against the caBundle succeeds", { skip: !hasOpenssl && "openssl is not installed" }, async () => {
  for (const p of await pairs()) {
    for (const version of VERSIONS) {
      await withFiles(p, async (f) => {
        const server = spawn("openssl", ["s_server", "-accept", "127.0.0.1:0", "-naccept", "1", "-cert", f.crt, "-key", f.key], { stdio: ["pipe", "pipe", "pipe"] });
        let stderr = "";
        server.stderr.on("data", (d) => (stderr += d));
        try {
          const port = await new Promise<number>((resolve, reject) => {
            let out = "";
            server.stdout.on("data", (d) => {
              out += d;
              const m = /ACCEPT 127\.0\.0\.1:(\d+)/.exec(out);
              if (m) resolve(Number(m[1]));
            });
            server.once("exit", (code) => reject(new Error(`openssl s_server exited (${code}): ${stderr}`)));
            setTimeout(() => reject(new Error(`openssl s_server did not report its port: ${out}${stderr}`)), 10_000).unref();
          });
          const h = await new Promise<{ authorized: boolean; protocol: string | null }>((resolve, reject) => {
            const socket = tls.connect({ host: "127.0.0.1", port, ca: p.caBundle, servername: HOST, minVersion: version, maxVersion: version });
            socket.setTimeout(10_000, () => socket.destroy(new Error("handshake timed out")));
            socket.once("error", reject);
            socket.once("secureConnect", () => {
              const r = { authorized: socket.authorized, protocol: socket.getProtocol() };
              socket.end();
              resolve(r);
            });
          });
          assert.equal(h.authorized, true, `${p.name} ${version}: ${stderr}`);
          assert.equal(h.protocol, version);
        } finally {
          if (server.exitCode === null) server.kill();
        }
      });
    }
  }
});

test("openssl s_client, verifying against the caBundle for the webhook's host, accepts each pair served by Node", { skip: !hasOpenssl && "openssl is not installed" }, async () => {
  for (const p of await pairs()) {
    const server = await nodeServer(p);
    try {
      await withFiles(p, async (f) => {
        for (const version of ["-tls1_2", "-tls1_3"]) {
          // spawnSync would block the event loop that runs the server: run openssl asynchronously.
          const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
            const c = spawn("openssl", ["s_client", "-connect", `127.0.0.1:${server.port}`, "-servername", HOST, "-CAfile", f.ca, "-verify_hostname", HOST, "-verify_return_error", version], { stdio: ["pipe", "pipe", "pipe"] });
            let out = "";
            c.stdout.on("data", (d) => (out += d));
            c.stderr.on("data", (d) => (out += d));
            const timer = setTimeout(() => c.kill(), 15_000);
            c.on("exit", (code) => {
              clearTimeout(timer);
              resolve({ code, out });
            });
            c.stdin.end("Q\n");
          });
          assert.equal(r.code, 0, `${p.name} ${version}: ${r.out}`);
          assert.match(r.out, /Verify return code: 0 \(ok\)/, `${p.name} ${version}`);
          assert.match(r.out, new RegExp(`Verified peername: ${HOST.replace(/\./g, "\\.")}`), p.name);
        }
      });
    } finally {
      await server.close();
    }
  }
});
