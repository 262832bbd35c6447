// The dashboard's HTTP server on loopback with a stand-in collector: the token, the Host check,
// methods, the built page with its security headers, the JSON API and the round event stream.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import type { Collector, Round } from "../../src/dashboard/collector.js";
import { History } from "../../src/dashboard/history.js";
import { startDashboardServer, type DashboardServer, type StaticFile } from "../../src/dashboard/server.js";
import { parseTapParams } from "../../src/dashboard/tap.js";
import { runMesh } from "../helpers/run.js";

const TOKEN = "t0ken-for-tests_0123456789abcdef";
let srv: DashboardServer;
const listeners = new Set<(r: Round) => void>();
const round: Round = { round: 3, time: 1_700_000_000_000, namespaces: [{ name: "web", meshed: 2, total: 3, success: 0.9, rps: 12.5, p50: 3, p95: 40, p99: 48 }], workloads: [] };
const history = new History(5);
history.record(new Map([["ns/web", { t: 1, success: 0.9, rps: 12, p50: 3, p95: 40, p99: 48 }]]));
const collector = {
  source: "proxies",
  intervalMs: 10_000,
  history,
  lastError: undefined,
  latest: () => round,
  subscribe: (f: (r: Round) => void) => (listeners.add(f), () => listeners.delete(f)),
  controlPlaneVersion: async () => "stable-2.14.10",
  workload: async () => undefined,
} as unknown as Collector;

const files = new Map<string, StaticFile>([
  ["/index.html", { body: Buffer.from("<!doctype html><title>x</title>"), type: "text/html; charset=utf-8" }],
  ["/assets/app-1.js", { body: Buffer.from("console.log(1)"), type: "text/javascript; charset=utf-8" }],
]);

before(async () => {
  srv = await startDashboardServer({
    token: TOKEN,
    address: "127.0.0.1",
    port: 0,
    files,
    collector,
    runChecks: async (mode) => ({ mode, success: false, time: 0, categories: [{ id: "linkerd-existence", checks: [{ id: "x", description: "control plane pods are ready", status: "error", error: "no pods" }] }] }),
    parseTap: (q) => parseTapParams(q, "default"),
    runTap: async () => undefined,
  });
});
after(() => srv.close());

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(path: string, o: { host?: string; method?: string; untilBody?: RegExp } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: srv.port, path, method: o.method ?? "GET", headers: { host: o.host ?? `127.0.0.1:${srv.port}` } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        body += d;
        if (o.untilBody?.test(body)) {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        }
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("the page is served under the token, with a strict CSP and no referrer", async () => {
  const r = await get(`/${TOKEN}/`);
  assert.equal(r.status, 200);
  assert.match(r.body, /<title>x<\/title>/);
  assert.match(String(r.headers["content-security-policy"]), /default-src 'self'/);
  assert.match(String(r.headers["content-security-policy"]), /frame-ancestors 'none'/);
  assert.equal(r.headers["referrer-policy"], "no-referrer");
  assert.equal((await get(`/${TOKEN}/assets/app-1.js`)).body, "console.log(1)");
});

test("without the token, or with a wrong one, nothing is served", async () => {
  for (const path of ["/", "/index.html", `/${TOKEN.slice(0, -1)}/`, `/${TOKEN}x/api/overview`, "/api/overview"]) assert.equal((await get(path)).status, 404, path);
});

test("a Host header other than the bound address is refused (DNS rebinding)", async () => {
  const r = await get(`/${TOKEN}/api/overview`, { host: `rebind.example.com:${srv.port}` });
  assert.equal(r.status, 403);
  assert.doesNotMatch(r.body, /web/);
  assert.equal((await get(`/${TOKEN}/api/overview`, { host: `localhost:${srv.port}` })).status, 200);
});

test("only GET and HEAD", async () => {
  const r = await get(`/${TOKEN}/api/overview`, { method: "POST" });
  assert.equal(r.status, 405);
  assert.equal(r.headers.allow, "GET, HEAD");
});

test("the bare token path redirects to the page", async () => {
  const r = await get(`/${TOKEN}`);
  assert.equal(r.status, 308);
  assert.equal(r.headers.location, `/${TOKEN}/`);
});

test("overview: the latest round's namespaces with their history", async () => {
  const r = await get(`/${TOKEN}/api/overview`);
  assert.equal(r.status, 200);
  assert.equal(r.headers["cache-control"], "no-store");
  const body = JSON.parse(r.body);
  assert.equal(body.round, 3);
  assert.equal(body.namespaces[0].rps, 12.5);
  assert.deepEqual(body.namespaces[0].history.map((p: { rps: number }) => p.rps), [12]);
});

test("an unknown namespace is a 404 with a reason", async () => {
  const r = await get(`/${TOKEN}/api/namespace?ns=nope`);
  assert.equal(r.status, 404);
  assert.match(JSON.parse(r.body).error, /namespace nope not found/);
});

test("events: the stream opens with the latest round, then one event per round", async () => {
  const first = await get(`/${TOKEN}/api/events`, { untilBody: /event: round\ndata: .*\n\n/ });
  assert.equal(first.headers["content-type"], "text/event-stream; charset=utf-8");
  assert.match(first.body, /event: round\ndata: \{"round":3,/);
  const later = get(`/${TOKEN}/api/events`, { untilBody: /"round":4/ });
  await new Promise((r) => setTimeout(r, 100));
  for (const f of listeners) f({ ...round, round: 4 });
  assert.match((await later).body, /"round":4/);
});

test("check: the runner's results as JSON", async () => {
  const body = JSON.parse((await get(`/${TOKEN}/api/check?mode=proxy`)).body);
  assert.equal(body.mode, "proxy");
  assert.equal(body.categories[0].checks[0].status, "error");
});

test("tap: a form without a resource, or with a bad namespace, ends the stream with a failure naming the problem", async () => {
  const r = await get(`/${TOKEN}/api/tap?namespace=web`);
  assert.equal(r.headers["content-type"], "text/event-stream; charset=utf-8");
  assert.match(r.body, /event: failure\ndata: \{"error":"name a resource to tap, e\.g\. deploy\/web"/);
  assert.doesNotMatch(r.body, /event: started/);
  assert.match((await get(`/${TOKEN}/api/tap?namespace=Bad_NS&resource=deploy/web`)).body, /"Bad_NS\\" is not a namespace name/);
});

test("viz dashboard refuses a non-loopback address without --allow-remote (exit 2, before any I/O)", async () => {
  const r = await runMesh(["viz", "dashboard", "--address", "0.0.0.0", "--show", "url"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /refusing to serve the dashboard on 0\.0\.0\.0: it is not a loopback address/);
  assert.match(r.stderr, /--allow-remote/);
  assert.equal(r.stdout, "");
});

test("viz dashboard rejects a bad --show and port", async () => {
  assert.equal((await runMesh(["viz", "dashboard", "--show", "tab"])).code, 2);
  assert.equal((await runMesh(["viz", "dashboard", "-p", "70000"])).code, 2);
});
