// A hostile or broken API server on loopback: escape sequences and fake lines in error bodies,
// HTML pages, wrong shapes (strings for lists, null items, null bodies), invalid JSON, oversized
// bodies, silence and resets. Commands fail with one clear line naming the request; a check that
// gets one fails with that message and the run still ends with its status line.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { IncomingMessage, ServerResponse } from "node:http";
import { apiHandler, DEPLOYMENT, expectCheckEnds, expectClean, fakeServer, json, kubeconfig, meshIn, tempDir, type Timed } from "./harness.js";

const LINKERD_CONFIG = "/api/v1/namespaces/linkerd/configmaps/linkerd-config";

async function against(override: (path: string, req: IncomingMessage, res: ServerResponse) => boolean | void, argv: (kc: string) => string[], opts: { maxBodyBytes?: number } = {}): Promise<Timed> {
  const s = await fakeServer(apiHandler(override));
  try {
    return await meshIn(argv(kubeconfig(s.url)), opts);
  } finally {
    await s.close();
  }
}

function manifest(): string {
  const file = join(tempDir(), "deploy.yaml");
  writeFileSync(file, DEPLOYMENT);
  return file;
}

const inject = (kc: string) => ["--kubeconfig", kc, "inject", manifest()];
const check = (...extra: string[]) => (kc: string) => ["--kubeconfig", kc, "check", "--expected-version", "stable-2.14.10", "--wait", "0s", "--request-timeout", "2s", ...extra];

// ---- error bodies reach the terminal as one inert line ---------------------------------------

const bodies: [name: string, status: number, body: string, message: RegExp][] = [
  ["escape sequences and fake error/hint lines", 500, JSON.stringify({ kind: "Status", message: "\x1b[2J\x1b]0;pwned\x07boom\r\nerror: fake\nhint: run rm -rf" }), /^the API server answered 500 to GET \/api\/v1\/namespaces\/linkerd\/configmaps\/linkerd-config: boom error: fake hint: run rm -rf$/],
  ["an HTML error page", 502, `<!doctype html><html><head><title>502 Bad\nGateway</title></head><body>${"<p>x</p>\n".repeat(50)}</body></html>`, /^the API server answered 502 to GET .*linkerd-config: an HTML page titled "502 Bad Gateway"$/],
  ["a 1 MiB error body", 500, "x".repeat(1024 * 1024), /^the API server answered 500 to GET .*linkerd-config: x+… \(truncated\)$/],
  ["401 with a body quoting the token back", 401, JSON.stringify({ message: "token s3cr3t-T0KEN-never-print-me rejected" }), /^unauthorized: the API server rejected the credentials/],
];
for (const [name, status, body, message] of bodies) {
  test(`server: ${name}`, async () => {
    const r = await against((path, _req, res) => (path === LINKERD_CONFIG ? (json(res, status, body), true) : false), inject);
    expectClean(r, { code: 1, message, maxMs: 10_000 });
  });
}

// ---- wrong shapes stop at the client boundary ------------------------------------------------

const shapes: [name: string, body: string, message: RegExp][] = [
  ["a null body", "null", /^the API server's answer to GET \/api\/v1\/namespaces\/linkerd\/configmaps\/linkerd-config is not what Kubernetes sends: the body is null, not a map$/],
  ["a string body", JSON.stringify("a string"), /is not what Kubernetes sends: the body is a string, not a map$/],
  ["a list body", "[1,2]", /is not what Kubernetes sends: the body is a list, not a map$/],
  ["data as a string", JSON.stringify({ metadata: { name: "linkerd-config" }, data: "x" }), /^configmap linkerd\/linkerd-config has no values$/],
  ["invalid JSON", "{nope", /^the API server sent invalid JSON for GET \/api\/v1\/namespaces\/linkerd\/configmaps\/linkerd-config$/],
];
for (const [name, body, message] of shapes) {
  test(`server: linkerd-config as ${name} is a clear error naming the request`, async () => {
    const r = await against((path, _req, res) => (path === LINKERD_CONFIG ? (json(res, 200, body), true) : false), inject);
    expectClean(r, { code: 1, message, maxMs: 10_000 });
  });
}

test("server: an answer past the size cap fails cleanly", async () => {
  const r = await against(
    (path, _req, res) => {
      if (path !== LINKERD_CONFIG) return false;
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(`{"data":{"values":"${"a".repeat(2 * 1024 * 1024)}"}}`);
      return true;
    },
    inject,
    { maxBodyBytes: 1024 * 1024 },
  );
  expectClean(r, { code: 1, message: /^the API server's answer to GET .*linkerd-config is larger than 1 MiB; mesh stops reading there$/, maxMs: 10_000 });
});

test("server: a reset in the middle of an answer", async () => {
  const r = await against((path, _req, res) => {
    if (path !== LINKERD_CONFIG) return false;
    res.writeHead(200, { "Content-Type": "application/json", "Content-Length": "1000" });
    res.write('{"data":');
    setTimeout(() => res.destroy(), 50);
    return true;
  }, inject);
  expectClean(r, { code: 1, message: /^the connection to the Kubernetes API at http:\/\/127\.0\.0\.1:\d+ was reset/, maxMs: 10_000 });
});

// ---- check survives every shape --------------------------------------------------------------

const checkShapes: [name: string, path: RegExp, body: unknown, failing: RegExp, extra?: string[]][] = [
  // the list fails; the check then asks for the one namespace, whose answer is as bad
  ["namespaces whose items are a string", /^\/api\/v1\/namespaces(\/linkerd)?(\?|$)/, { kind: "NamespaceList", items: "x" }, /GET \/api\/v1\/namespaces\/linkerd is not what Kubernetes sends: metadata is missing/, ["--pre"]],
  ["namespaces with a null item", /^\/api\/v1\/namespaces(\/linkerd)?(\?|$)/, { kind: "NamespaceList", items: [null] }, /metadata is missing/, ["--pre"]],
  ["a version that is null", /^\/version$/, null, /the body is null, not a map/],
  ["a version without gitVersion", /^\/version$/, { major: 1 }, /gitVersion is missing/, ["--pre"]],
  ["nodes whose conditions are a string", /^\/api\/v1\/nodes/, { items: [{ metadata: { name: "n" }, status: { conditions: "Ready" } }] }, /items\[0\]\.status\.conditions is a string, not a list/, ["--pre"]],
  ["a configmap whose data is a list", /extension-apiserver-authentication/, { metadata: { name: "x" }, data: ["a"] }, /data is a list, not a map/, ["--pre"]],
];
for (const [name, path, body, failing, extra = []] of checkShapes) {
  test(`check: ${name} fails a check with the request named, and the run ends with its status line`, async () => {
    const r = await against((p, _req, res) => (path.test(p) ? (json(res, 200, JSON.stringify(body)), true) : false), check(...extra));
    expectCheckEnds(r, { failing, maxMs: 30_000 });
    assert.match(r.stdout, /the API server's answer to GET \/\S+ is not what Kubernetes sends/);
  });
}

test("check: a server that never answers ends within its timeouts, with the status line", async () => {
  const r = await against((p) => p !== "/version", check("--pre"));
  expectCheckEnds(r, { failing: /did not answer within 2s/, maxMs: 60_000 });
});

test("check: a server whose error bodies carry escape sequences prints none of them", async () => {
  const r = await against((p, _req, res) => (p.startsWith("/api/v1/namespaces") ? (json(res, 500, { message: "\x1b[31mred\x1b[0m\rERROR" }), true) : false), check("--pre"));
  expectCheckEnds(r, { failing: /red ERROR/, maxMs: 30_000 });
});

test("check: extension namespaces of the wrong shape are one failed check, and the run still ends with its status line", async () => {
  const r = await against((p, _req, res) => (/^\/api\/v1\/namespaces(\?|$)/.test(p) ? (json(res, 200, { items: "x" }), true) : false), check());
  expectCheckEnds(r, { failing: /can list the namespaces of Linkerd extensions\n\s+the API server's answer to GET \/api\/v1\/namespaces is not what Kubernetes sends: items is a string, not a list/, maxMs: 30_000 });
});
