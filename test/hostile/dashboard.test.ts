// `mesh viz dashboard --show url -p 0` as a process against a hostile fake API server (namespace and
// pod names carrying escape sequences and HTML, a proxy whose metrics answer is an escape-laden
// 500), then its HTTP server under attack: missing, wrong and partial tokens, spoofed Host
// headers, path traversal (dot segments, encoded, backslashes, NUL), oversized URLs and headers,
// every other method, more event streams than it allows, a client that never finishes its headers.
// The JSON API must carry hostile names intact but inert (no raw control bytes, no raw `<`), the
// terminal must stay clean, and Ctrl-C must still end it with exit 0.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { request } from "node:http";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { apiHandler, expectClean, fakeServer, json, kubeconfig, meshIn, ROOT, TOKEN, type FakeServer } from "./harness.js";

const EVIL_NS = "ns\x1b[2J\x1b]0;pwned\x07<script>alert(1)</script>";
const EVIL_POD = "pod\x1b[31m<img src=x onerror=alert(1)>\u202e";
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

let api: FakeServer;
let child: ChildProcess;
let stdout = "";
let stderr = "";
let base: { port: number; token: string };
let exited: Promise<number | null>;

const meshedPod = (name: string, namespace: string, ip: string) => ({
  metadata: { name, namespace, labels: { "linkerd.io/control-plane-ns": "linkerd", app: "<b>x</b>" } },
  spec: { containers: [{ name: "app" }, { name: "linkerd-proxy" }] },
  status: { phase: "Running", podIP: ip },
});
// the hostile pod's proxy answers; the plain one's answer is a 500 full of escapes
const METRICS = 'request_total{direction="inbound",tls="true"} 1\nresponse_total{direction="inbound",classification="success",tls="true"} 1\n';

before(async () => {
  api = await fakeServer(
    apiHandler((path, _req, res) => {
      const p = path.split("?")[0];
      if (p === "/api/v1/namespaces") return json(res, 200, { kind: "NamespaceList", items: [{ metadata: { name: EVIL_NS } }, { metadata: { name: "plain" } }] }), true;
      if (p === "/api/v1/pods") return json(res, 200, { kind: "PodList", items: [meshedPod(EVIL_POD, EVIL_NS, "10.0.0.1"), meshedPod("bad", "plain", "10.0.0.2")] }), true;
      if (p.includes("/pods/bad:")) return json(res, 500, { kind: "Status", message: "\x1b[2J\x1b]0;pwned\x07scrape <b>failed</b>\r\nerror: fake" }), true;
      if (p.includes("/proxy/")) return res.writeHead(200, { "content-type": "text/plain" }), res.end(METRICS), true;
      return false;
    }),
  );
  child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "test", "hostile", "main.ts"), "--kubeconfig", kubeconfig(api.url), "viz", "dashboard", "--show", "url", "-p", "0", "--interval", "1s", "--history", "10s"], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  exited = new Promise((r) => child.once("exit", (code) => r(code)));
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  base = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no URL within 60 s\n${stdout}\n${stderr}`)), 60_000);
    child.stdout!.on("data", (c: Buffer) => {
      stdout += c.toString();
      const m = /^http:\/\/127\.0\.0\.1:(\d+)\/([A-Za-z0-9_-]+)\/\n/.exec(stdout);
      if (m) {
        clearTimeout(t);
        resolve({ port: Number(m[1]), token: m[2] });
      }
    });
    child.once("exit", () => reject(new Error(`exited before printing its URL\n${stdout}\n${stderr}`)));
  });
});

after(async () => {
  if (child.exitCode === null) child.kill("SIGKILL");
  await api?.close();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request; `raw` sends the path as written (no client-side normalisation). */
function get(path: string, o: { host?: string | null; method?: string; headers?: Record<string, string>; untilBody?: RegExp } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.host !== null) headers.host = o.host ?? `127.0.0.1:${base.port}`;
    const req = request({ host: "127.0.0.1", port: base.port, path, method: o.method ?? "GET", headers, setHost: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        body += d;
        if (o.untilBody?.test(body)) {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
          req.destroy();
        }
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on("error", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** A request written byte for byte on a socket; the status line of the answer (or "closed"). */
function raw(text: string, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(base.port, "127.0.0.1");
    let got = "";
    const t = setTimeout(() => (s.destroy(), resolve(`no answer: ${got.slice(0, 100)}`)), timeoutMs);
    s.on("data", (d) => (got += d.toString("latin1")));
    s.on("close", () => (clearTimeout(t), resolve(got.split("\r\n")[0] || "closed")));
    s.on("error", () => undefined);
    s.write(text, "latin1");
  });
}

const url = (rest: string) => `/${base.token}${rest}`;

async function alive(): Promise<void> {
  const r = await get(url("/api/meta"));
  assert.equal(r.status, 200, "the dashboard stopped answering");
}

// ---- the token -------------------------------------------------------------------------------

test("dashboard: missing, wrong, partial, extended and misplaced tokens get 404 and nothing of the page", async () => {
  const t = base.token;
  for (const path of ["/", "/index.html", "/api/meta", `/${t.slice(0, -1)}/`, `/${t.slice(0, 8)}/api/meta`, `/${t}x/`, `/x${t}/`, `/${t.toUpperCase() === t ? t.toLowerCase() : t.toUpperCase()}/`, `/?token=${t}`, `/api/meta?${t}`, `//${t}/`, `/%20${t}/`]) {
    const r = await get(path);
    assert.equal(r.status, 404, path);
    assert.doesNotMatch(r.body, /<html|<script|"namespaces"/i, path);
  }
  assert.equal((await get(url("/"))).status, 200);
});

// ---- the Host header -------------------------------------------------------------------------

test("dashboard: a Host header other than the bound address and port gets 403", async () => {
  const p = base.port;
  for (const host of ["evil.example", `evil.example:${p}`, `127.0.0.1.nip.io:${p}`, `localhost.evil.example:${p}`, `127.0.0.1:${p + 1}`, `127.0.0.1`, `127.0.0.1:${p}@evil.example`, `[::1]:${p}x`, `10.0.0.1:${p}`, "", `127.0.0.1:${p} evil`]) {
    const r = await get(url("/api/meta"), { host });
    assert.equal(r.status, 403, JSON.stringify(host));
  }
  assert.ok([400, 403].includes((await get(url("/api/meta"), { host: null })).status), "no Host header at all");
  assert.equal((await get(url("/api/meta"), { host: `localhost:${p}` })).status, 200);
});

// ---- paths -----------------------------------------------------------------------------------

test("dashboard: traversal in every spelling serves no file of the machine, and the server lives on", async () => {
  const t = base.token;
  const paths = [
    `/${t}/../../../../etc/passwd`,
    `/${t}/assets/../../../../etc/passwd`,
    `/${t}/%2e%2e/%2e%2e/%2e%2e/etc/passwd`,
    `/${t}/..%2f..%2f..%2fetc%2fpasswd`,
    `/${t}/assets/%2e%2e%2f%2e%2e%2fpackage.json`,
    `/${t}/..\\..\\..\\etc\\passwd`,
    `/${t}/assets\\..\\..\\package.json`,
    `/${t}/%5c..%5c..%5cpackage.json`,
    `/${t}/index.html%00.js`,
    `/${t}/%00`,
    `/${t}/assets/%2F%2Fetc/passwd`,
    `/${t}/package.json`,
    `/${t}/../package.json`,
    `/${t}/src/cli.ts`,
    `/${t}/%252e%252e/%252e%252e/etc/passwd`,
  ];
  for (const path of paths) {
    const r = await get(path);
    assert.ok(r.status === 404 || r.status === 400, `${path}: ${r.status}`);
    assert.doesNotMatch(r.body, /root:|"devDependencies"|import \{/, path);
  }
  for (const path of [`/${t}/\x00`, `/${t}/a\x01b`, `/${t}/\x1b[2J`]) assert.match(await raw(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${base.port}\r\n\r\n`), /^HTTP\/1\.1 (400|404) /, JSON.stringify(path));
  await alive();
});

test("dashboard: an absolute-form request line with a foreign authority is judged by its Host header", async () => {
  assert.match(await raw(`GET http://evil.example/${base.token}/api/meta HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n`), /^HTTP\/1\.1 403 /);
});

test("dashboard: a 100 KB URL and a 100 KB header are refused, and the server lives on", async () => {
  assert.match(await raw(`GET /${base.token}/${"a".repeat(100_000)} HTTP/1.1\r\nHost: 127.0.0.1:${base.port}\r\n\r\n`), /^HTTP\/1\.1 431 |^closed$/);
  assert.match(await raw(`GET /${base.token}/ HTTP/1.1\r\nHost: 127.0.0.1:${base.port}\r\nX-Big: ${"b".repeat(100_000)}\r\n\r\n`), /^HTTP\/1\.1 431 |^closed$/);
  assert.match(await raw(`GET /${base.token}/ HTTP/1.1\r\nHost: 127.0.0.1:${base.port}\r\n${Array.from({ length: 5000 }, (_, i) => `X-H${i}: v\r\n`).join("")}\r\n`), /^HTTP\/1\.1 (431|200) |^closed$/);
  await alive();
});

// ---- methods ---------------------------------------------------------------------------------

test("dashboard: only GET and HEAD; every other method gets 405 (or 400), even with the token", async () => {
  for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND", "FOO"]) {
    const r = await get(url("/api/check"), { method });
    assert.ok(r.status === 405 || r.status === 400, `${method}: ${r.status}`);
    assert.doesNotMatch(r.body, /"categories"/);
  }
  assert.match(await raw(`CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:${base.port}\r\n\r\n`), /^HTTP\/1\.1 (400|405) |^closed$/);
  const head = await get(url("/"), { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(head.body, "");
});

// ---- hostile names from the cluster ----------------------------------------------------------

test("dashboard: hostile namespace and pod names reach the JSON API intact but inert", async () => {
  // the first numbers come two rounds in (about 2 s), or never if the round fails: wait for either
  let overview: Answer | undefined;
  for (let i = 0; i < 60; i++) {
    overview = await get(url("/api/overview"));
    const body = JSON.parse(overview.body) as { round: number; error: string | null };
    if (body.round > 0) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.ok(overview);
  assert.equal(overview.status, 200);
  assert.match(String(overview.headers["content-type"]), /^application\/json/);
  assert.equal(overview.headers["x-content-type-options"], "nosniff");
  for (const r of [overview, await get(url(`/api/namespace?ns=${encodeURIComponent(EVIL_NS)}`)), await get(url("/api/meta")), await get(url(`/api/workload?kind=deploy&ns=${encodeURIComponent(EVIL_NS)}&name=${encodeURIComponent(EVIL_POD)}`))]) {
    assert.doesNotMatch(r.body, CONTROL, `a raw control byte in ${r.body.slice(0, 300)}`);
    assert.doesNotMatch(r.body, /[<>]/, `a raw < or > in ${r.body.slice(0, 300)}`);
    JSON.parse(r.body);
  }
  const o = JSON.parse(overview.body) as { namespaces: { name: string }[]; error: string | null };
  assert.equal(o.error, null);
  assert.deepEqual(o.namespaces.map((n) => n.name).sort(), [EVIL_NS, "plain"].sort(), "the names came back changed");
  const ns = JSON.parse((await get(url(`/api/namespace?ns=${encodeURIComponent(EVIL_NS)}`))).body) as { namespace: string };
  assert.equal(ns.namespace, EVIL_NS);
  const ev = await get(url("/api/events"), { untilBody: /event: round[^]*?\n\n/ });
  assert.doesNotMatch(ev.body, CONTROL);
  assert.doesNotMatch(ev.body, /[<>]/);
});

// ---- resources -------------------------------------------------------------------------------

function openStream(): Promise<{ status: number; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: base.port, path: url("/api/events"), headers: { host: `127.0.0.1:${base.port}` } }, (res) => resolve({ status: res.statusCode ?? 0, socket: req.socket! }));
    req.on("error", reject);
    req.end();
  });
}

test("dashboard: event streams are capped (32 at once); closing them frees their places", async () => {
  const streams = await Promise.all(Array.from({ length: 40 }, () => openStream()));
  try {
    const ok = streams.filter((s) => s.status === 200).length;
    const refused = streams.filter((s) => s.status === 503).length;
    assert.equal(ok, 32, `${ok} streams accepted`);
    assert.equal(refused, 8);
  } finally {
    for (const s of streams) s.socket.destroy();
  }
  // the server counts the closes as they arrive: some new stream is accepted again soon
  let status = 0;
  for (let i = 0; i < 50 && status !== 200; i++) {
    const s = await openStream();
    status = s.status;
    s.socket.destroy();
    if (status !== 200) await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(status, 200);
});

test("dashboard: a client that trickles its headers (slowloris) is cut off by the headers timeout", async () => {
  const s = connect(base.port, "127.0.0.1");
  let closed = false;
  s.on("error", () => undefined);
  const done = new Promise<void>((r) => s.once("close", () => ((closed = true), r())));
  s.write(`GET /${base.token}/ HTTP/1.1\r\nHost: 127.0.0.1:${base.port}\r\n`);
  const t = setInterval(() => !closed && s.write("X-a: b\r\n"), 500);
  await Promise.race([done, new Promise((r) => setTimeout(r, 30_000))]);
  clearInterval(t);
  s.destroy();
  // headersTimeout is 10 s; without a short connectionsCheckingInterval it took up to 40 s
  assert.ok(closed, "the connection was still open after 30 s");
  await alive();
});

// ---- the end -----------------------------------------------------------------------------------

test("dashboard: after all that, Ctrl-C ends it with exit 0 and a clean terminal", async () => {
  await alive();
  child.kill("SIGINT");
  const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r("still running"), 30_000))]);
  assert.equal(code, 0, stderr);
  assert.doesNotMatch(stdout + stderr, CONTROL, `raw control bytes on the terminal:\n${JSON.stringify(stderr.slice(0, 2000))}`);
  assert.doesNotMatch(stderr, /\n\s+at .+:\d+:\d+|Cannot read properties|is not a function|\(node:\d+\)/);
  assert.ok(!(stdout + stderr).includes(TOKEN));
  assert.equal(stdout.trim().split("\n").length, 1, "stdout holds only the URL");
  for (const line of stderr.split("\n")) assert.ok(line.length <= 1100, `a stderr line of ${line.length} characters`);
  assert.match(stderr, /mesh viz dashboard: stopping/);
});

// ---- flags -------------------------------------------------------------------------------------

test("dashboard: a non-loopback --address without --allow-remote is refused with exit 2, before any request", async () => {
  const s = await fakeServer(apiHandler());
  try {
    for (const address of ["0.0.0.0", "::", "[::]", "10.0.0.1", "127.1", "2130706433", "0x7f000001", "localhost.evil.example", "127.0.0.1.nip.io", "::ffff:10.0.0.1", "\x1b[2J127.0.0.1"]) {
      const r = await meshIn(["--kubeconfig", kubeconfig(s.url), "viz", "dashboard", "--show", "url", "-p", "0", "--address", address]);
      expectClean(r, { code: 2, message: /^refusing to serve the dashboard on .+: it is not a loopback address$/, maxMs: 15_000 });
    }
    assert.deepEqual(s.seen, []);
  } finally {
    await s.close();
  }
});
