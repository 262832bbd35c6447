// `mesh inject https://...` against a real HTTPS server on 127.0.0.1 (a certificate for the IP
// in fixtures/): success, 404, refused, an untrusted certificate, a server that hangs, one that
// trickles, a body past the cap, redirects (to http: refused), and an invalid URL.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { MeshError } from "../../src/errors.js";
import { fetchWithUndici, type FetchOptions } from "../../src/inject/io.js";
import { DEPLOYMENT, expectClean, fakeServer, fixture, meshIn, meshProcess } from "./harness.js";

const tls = { key: readFileSync(fixture("server.key"), "utf8"), cert: readFileSync(fixture("server.crt"), "utf8") };

async function https(handler: (path: string, res: ServerResponse) => void) {
  return fakeServer((req, res) => handler(req.url ?? "", res), tls);
}

async function fetchText(url: string, opts: FetchOptions = {}): Promise<string> {
  let out = "";
  for await (const chunk of await fetchWithUndici(url, { ca: tls.cert, ...opts })) out += chunk.toString();
  return out;
}

async function fails(p: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof MeshError, String(e));
    assert.match(e.message, message);
    assert.ok(!e.message.includes("\n"));
    return true;
  });
}

test("fetch: a manifest over https is read", async () => {
  const s = await https((_p, res) => res.end(DEPLOYMENT));
  try {
    assert.equal(await fetchText(`${s.url}/ok.yaml`), DEPLOYMENT);
  } finally {
    await s.close();
  }
});

test("fetch: mesh inject https://… works end to end (a process trusting the test CA)", async () => {
  const s = await https((p, res) => (p === "/ok.yaml" ? res.end(DEPLOYMENT) : ((res.statusCode = 404), res.end())));
  try {
    const r = await meshProcess(["inject", "--ignore-cluster", `${s.url}/ok.yaml`], { env: { NODE_EXTRA_CA_CERTS: fixture("server.crt") }, killAfterMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /linkerd\.io\/inject: enabled/);
    const missing = await meshProcess(["inject", "--ignore-cluster", `https://user:pw-SECRET@127.0.0.1:${s.port}/missing.yaml`], { env: { NODE_EXTRA_CA_CERTS: fixture("server.crt") }, killAfterMs: 60_000 });
    expectClean(missing, { code: 1, message: /^unable to read URL https:\/\/127\.0\.0\.1:\d+\/missing\.yaml: the server answered 404$/, secrets: ["pw-SECRET"], maxMs: 55_000 });
  } finally {
    await s.close();
  }
});

test("fetch: 404 is an error naming the URL", async () => {
  const s = await https((_p, res) => ((res.statusCode = 404), res.end("<html>nope</html>")));
  try {
    await fails(fetchText(`${s.url}/x.yaml`), /^unable to read URL https:\/\/127\.0\.0\.1:\d+\/x\.yaml: the server answered 404$/);
  } finally {
    await s.close();
  }
});

test("fetch: a refused connection", async () => {
  const s = await https(() => undefined);
  const url = `${s.url}/x.yaml`;
  await s.close();
  await fails(fetchText(url), /^cannot fetch https:\/\/127\.0\.0\.1:\d+\/x\.yaml: connection refused$/);
});

test("fetch: an untrusted certificate (the command, without the test CA)", async () => {
  const s = await https((_p, res) => res.end(DEPLOYMENT));
  try {
    expectClean(await meshIn(["inject", "--ignore-cluster", `${s.url}/x.yaml`]), { code: 1, message: /^cannot fetch https:\/\/127\.0\.0\.1:\d+\/x\.yaml: the TLS certificate of 127\.0\.0\.1:\d+ is not trusted \(\w+\)$/, maxMs: 15_000 });
  } finally {
    await s.close();
  }
});

test("fetch: a server that never answers is bounded", async () => {
  const s = await https(() => undefined);
  try {
    const start = Date.now();
    await fails(fetchText(`${s.url}/x.yaml`, { headersTimeoutMs: 500 }), /^cannot fetch .*: no answer within 500 ms$/);
    assert.ok(Date.now() - start < 10_000);
  } finally {
    await s.close();
  }
});

test("fetch: a server that trickles a byte at a time is stopped at the deadline", async () => {
  const s = await https((_p, res) => {
    res.writeHead(200);
    const t = setInterval(() => (res.destroyed ? clearInterval(t) : res.write("a")), 50);
    res.on("close", () => clearInterval(t));
  });
  try {
    const start = Date.now();
    await fails(fetchText(`${s.url}/x.yaml`, { totalTimeoutMs: 1500, idleTimeoutMs: 1000 }), /^cannot fetch .*: it did not finish within 1500 ms$/);
    assert.ok(Date.now() - start < 10_000);
  } finally {
    await s.close();
  }
});

test("fetch: a 64 MiB body is past the cap", async () => {
  const chunk = Buffer.alloc(1024 * 1024, "a");
  const s = await https((_p, res) => {
    res.writeHead(200);
    let sent = 0;
    const more = () => {
      while (sent < 70 && !res.destroyed) {
        sent++;
        if (!res.write(chunk)) return void res.once("drain", more);
      }
      res.end();
    };
    more();
  });
  try {
    await fails(fetchText(`${s.url}/big.yaml`), /^cannot fetch .*: the body is larger than 64 MiB; mesh stops reading there$/);
  } finally {
    await s.close();
  }
});

test("fetch: redirects are followed on https, and one to http is refused", async () => {
  const s = await https((p, res) => {
    if (p === "/a") return void (res.writeHead(302, { Location: "/b" }), res.end());
    if (p === "/b") return void res.end(DEPLOYMENT);
    if (p === "/plain") return void (res.writeHead(301, { Location: "http://127.0.0.1:1/x.yaml" }), res.end());
    if (p === "/loop") return void (res.writeHead(302, { Location: "/loop" }), res.end());
  });
  try {
    assert.equal(await fetchText(`${s.url}/a`), DEPLOYMENT);
    await fails(fetchText(`${s.url}/plain`), /^cannot fetch .*\/plain: the server redirected to http:\/\/127\.0\.0\.1:1\/x\.yaml, which is not https$/);
    await fails(fetchText(`${s.url}/loop`), /more than 5 redirects$/);
  } finally {
    await s.close();
  }
});

test("fetch: an invalid URL names the input; http is refused", async () => {
  expectClean(await meshIn(["inject", "--ignore-cluster", "https://[::1"]), { code: 1, message: /^"https:\/\/\[::1" is not a valid URL$/, maxMs: 10_000 });
  expectClean(await meshIn(["inject", "--ignore-cluster", "http://example.com/x.yaml"]), { code: 1, message: /^only HTTPS URLs are allowed: http:\/\/example\.com\/x\.yaml$/, maxMs: 10_000 });
});
