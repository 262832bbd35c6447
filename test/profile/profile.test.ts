import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import type { KubeObject } from "../../src/kube/types.js";
import { FakeApi } from "../kube/fake-api.js";
import { runMesh } from "../helpers/run.js";

const dir = mkdtempSync(join(tmpdir(), "mesh-profile-"));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

type Route = { name: string; condition: { method: string; pathRegex: string }; responseClasses?: { condition: { status: { min: number; max: number } }; isFailure?: boolean }[]; isRetryable?: boolean; timeout?: string };
type Profile = { apiVersion: string; kind: string; metadata: { name: string; namespace: string }; spec: { routes?: Route[] } };

const SWAGGER = `swagger: "2.0"
info: {title: books, version: "1"}
basePath: /api
paths:
  /books/{id}:
    get:
      x-linkerd-retryable: true
      x-linkerd-timeout: 300ms
      responses:
        "500": {description: broken}
        "200": {description: ok}
        default: {description: other}
    delete:
      responses:
        "204": {description: gone}
  /authors/:
    post:
      responses: {}
`;

/** The route whose pathRegex (anchored, as the proxy anchors it) matches this request. */
const matching = (routes: Route[], method: string, path: string) => routes.filter((r) => r.condition.method === method && new RegExp(`^(?:${r.condition.pathRegex})$`).test(path)).map((r) => r.name);

test("--open-api (Swagger 2.0): a route per path and method, base path joined, parameters match one segment", async () => {
  const r = await runMesh(["profile", "--open-api", file("books.yaml", SWAGGER), "-n", "library", "books", "--ignore-cluster"]);
  assert.equal(r.code, 0, r.stderr);
  const p = parse(r.stdout) as Profile;
  assert.equal(p.kind, "ServiceProfile");
  assert.equal(p.metadata.name, "books.library.svc.cluster.local");
  assert.equal(p.metadata.namespace, "library");
  const routes = p.spec.routes!;
  // Paths in byte order ("/authors/" before "/books/{id}"), methods in Linkerd's order (DELETE before GET).
  assert.deepEqual(routes.map((x) => x.name), ["POST /api/authors", "DELETE /api/books/{id}", "GET /api/books/{id}"]);
  assert.deepEqual(matching(routes, "GET", "/api/books/42"), ["GET /api/books/{id}"]);
  assert.deepEqual(matching(routes, "GET", "/api/books/42/pages"), []);
  assert.deepEqual(matching(routes, "POST", "/api/authors"), ["POST /api/authors"]);
  const get = routes.find((x) => x.name === "GET /api/books/{id}")!;
  assert.equal(get.isRetryable, true);
  assert.equal(get.timeout, "300ms");
  // "default" is not a status code; 500 is a failure class, 200 is not.
  assert.deepEqual(get.responseClasses, [{ condition: { status: { min: 200, max: 200 } } }, { condition: { status: { min: 500, max: 500 } }, isFailure: true }]);
  assert.equal(routes.find((x) => x.name === "POST /api/authors")!.responseClasses, undefined);
  // Kubernetes YAML as Linkerd writes it: keys of a route in alphabetical order.
  assert.match(r.stdout, /- condition:\n      method: GET\n      pathRegex: \/api\/books\/\[\^\/\]\*\n    isRetryable: true\n    name: GET \/api\/books\/\{id\}\n    responseClasses:\n/);
});

test("--open-api reads OpenAPI 3 (servers' path as the base) and JSON from stdin", async () => {
  const doc = { openapi: "3.0.3", info: { title: "x", version: "1" }, servers: [{ url: "https://books.example.com/v2" }], paths: { "/shelves/{shelf}/books": { put: { responses: { "503": { description: "busy" } } } } } };
  const r = await runMesh(["profile", "--open-api", "-", "-n", "library", "books", "--ignore-cluster"], { stdin: JSON.stringify(doc) });
  assert.equal(r.code, 0, r.stderr);
  const routes = (parse(r.stdout) as Profile).spec.routes!;
  assert.deepEqual(routes.map((x) => x.name), ["PUT /v2/shelves/{shelf}/books"]);
  assert.deepEqual(matching(routes, "PUT", "/v2/shelves/7/books"), ["PUT /v2/shelves/{shelf}/books"]);
  assert.deepEqual(routes[0].responseClasses, [{ condition: { status: { min: 503, max: 503 } }, isFailure: true }]);
});

test("--proto: a route per rpc, POST /package.Service/Method escaped, retryable by idempotency_level", async () => {
  const proto = `syntax = "proto3";
package emojivoto.v1;
service EmojiService {
  rpc ListAll (ListAllRequest) returns (ListAllResponse) { option idempotency_level = NO_SIDE_EFFECTS; }
  rpc FindByShortcode (FindRequest) returns (FindResponse);
}
service VotingService {
  rpc Vote (VoteRequest) returns (VoteResponse) { option idempotency_level = IDEMPOTENT; }
}
message ListAllRequest {} message ListAllResponse {} message FindRequest {} message FindResponse {}
message VoteRequest {} message VoteResponse {}
`;
  const r = await runMesh(["profile", "--proto", file("emoji.proto", proto), "-n", "emojivoto", "emoji-svc", "--ignore-cluster"]);
  assert.equal(r.code, 0, r.stderr);
  const routes = (parse(r.stdout) as Profile).spec.routes!;
  assert.deepEqual(routes.map((x) => [x.name, x.condition.method, x.isRetryable ?? false]), [
    ["ListAll", "POST", true],
    ["FindByShortcode", "POST", false],
    ["Vote", "POST", true],
  ]);
  assert.deepEqual(matching(routes, "POST", "/emojivoto.v1.EmojiService/ListAll"), ["ListAll"]);
  // The dots are escaped: another character in their place does not match.
  assert.deepEqual(matching(routes, "POST", "/emojivotoXv1.EmojiService/ListAll"), []);
});

test("--template without a cluster", async () => {
  const r = await runMesh(["profile", "--template", "-n", "emojivoto", "web-svc", "--ignore-cluster"]);
  assert.equal(r.code, 0, r.stderr);
  const p = parse(r.stdout) as Profile;
  assert.equal(p.metadata.name, "web-svc.emojivoto.svc.cluster.local");
  assert.ok(p.spec.routes!.length >= 1);
});

test("the cluster domain comes from linkerd-config; without a reachable cluster, one error with the way out", async () => {
  const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "linkerd-config", namespace: "linkerd" }, data: { values: "clusterDomain: corp.example\n" } } as KubeObject;
  const api = new FakeApi([cm]);
  const r = await runMesh(["profile", "--template", "-n", "emojivoto", "web-svc"], { cluster: async () => api.cluster() });
  assert.equal(r.code, 0, r.stderr);
  assert.equal((parse(r.stdout) as Profile).metadata.name, "web-svc.emojivoto.svc.corp.example");
  const offline = await runMesh(["profile", "--template", "-n", "emojivoto", "web-svc"]);
  assert.equal(offline.code, 1);
  assert.equal(offline.stdout, "");
  assert.match(offline.stderr, /cannot connect to the Kubernetes API/);
});

test("bad input: one line naming the file (and line), nothing on stdout", async () => {
  const cases: [string[], RegExp, number][] = [
    [["--open-api", join(dir, "missing.yaml")], /^error: cannot read .*missing\.yaml: no such file\n/, 1],
    [["--open-api", file("bad.yaml", "paths:\n  /a: [\n")], /^error: .*bad\.yaml:\d+: not valid YAML or JSON: /, 1],
    [["--open-api", file("notapi.yaml", "hello: world\n")], /^error: .*notapi\.yaml: not an OpenAPI document: /, 1],
    [["--proto", file("bad.proto", 'syntax = "proto3";\nservice X {\n  rpc }\n')], /^error: .*bad\.proto:3: not a valid protobuf definition: /, 1],
    [["--template", "--proto", "x.proto"], /^error: You must specify exactly one of --template or --open-api or --proto\n/, 2],
    [[], /^error: You must specify exactly one of --template or --open-api or --proto\n/, 2],
  ];
  for (const [args, message, code] of cases) {
    const r = await runMesh(["profile", ...args, "-n", "ns", "svc", "--ignore-cluster"]);
    assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
  const badName = await runMesh(["profile", "--template", "-n", "ns", "Bad_Name", "--ignore-cluster"]);
  assert.equal(badName.code, 2);
  assert.match(badName.stderr, /invalid service "Bad_Name"/);
});
