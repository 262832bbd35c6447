// The built program (dist/, made by `npm run build`, which `npm test` runs first), as a user runs it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../bin/mesh.js", import.meta.url));

test("bin/mesh.js runs the bundled CLI", () => {
  const r = spawnSync(process.execPath, [bin, "version", "--client", "--short"], { encoding: "utf8" });
  assert.equal(r.status, 0);
  assert.equal(r.stdout, "stable-2.14.10\n");
});

test("a reader that stops early (mesh install | head) ends mesh quietly", async () => {
  const child = spawn(process.execPath, [bin, "install", "--crds", "--ignore-cluster"], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c));
  await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
  child.stdout.destroy(); // like `head -1` exiting: the next write gets EPIPE
  const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
  assert.equal(code, 0);
  assert.doesNotMatch(stderr, /EPIPE|\n\s+at /);
});

test("a usage error exits 2 with one line on stderr and nothing on stdout", () => {
  const r = spawnSync(process.execPath, [bin, "install", "--no-such-flag"], { encoding: "utf8" });
  assert.equal(r.status, 2);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /^error: unknown option '--no-such-flag'\n/);
});

test("inject's full YAML parser loads from the bundle: malformed input names the input and line", () => {
  const r = spawnSync(process.execPath, [bin, "inject", "--ignore-cluster", "-"], {
    input: "kind: Deployment\nmetadata: {name: x\n",
    encoding: "utf8",
  });
  assert.equal(r.status, 1);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /^error: stdin: document 1 \(line \d+\): /);
});

test("inject re-serialises a document with aliases through the bundled yaml library", () => {
  const r = spawnSync(process.execPath, [bin, "inject", "--ignore-cluster", "-"], {
    input: "a: &x {k: 1}\nb: *x\nkind: Deployment\nmetadata: {name: y}\nspec: {template: {spec: {containers: [{name: a}]}}}\n",
    encoding: "utf8",
  });
  assert.equal(r.status, 0);
  assert.match(r.stdout, /linkerd\.io\/inject: enabled/);
  assert.match(r.stderr, /deployment "y" injected/);
});

// The bundle loads CommonJS libraries (yaml, swagger-parser, protobufjs) differently from tsx: run them built.
test("the built profile command reads OpenAPI and protobuf definitions, and refuses hostile YAML in one line", () => {
  const swagger = 'swagger: "2.0"\ninfo: {title: a, version: "1"}\npaths:\n  /items/{id}:\n    get: {responses: {"503": {description: busy}}}\n';
  const api = spawnSync(process.execPath, [bin, "profile", "--open-api", "-", "-n", "shop", "items", "--ignore-cluster"], { input: swagger, encoding: "utf8" });
  assert.equal(api.status, 0, api.stderr);
  assert.match(api.stdout, /name: GET \/items\/\{id\}\n/);
  assert.match(api.stdout, /isFailure: true\n/);
  const proto = spawnSync(process.execPath, [bin, "profile", "--proto", "-", "-n", "shop", "items", "--ignore-cluster"], { input: 'syntax = "proto3"; package shop; service Items { rpc Get (A) returns (A); } message A {}', encoding: "utf8" });
  assert.equal(proto.status, 0, proto.stderr);
  assert.match(proto.stdout, /pathRegex: \/shop\\\.Items\/Get\n/);
  const deep = spawnSync(process.execPath, [bin, "profile", "--open-api", "-", "-n", "shop", "items", "--ignore-cluster"], { input: "[".repeat(100_000) + "]".repeat(100_000), encoding: "utf8" });
  assert.equal(deep.status, 1);
  assert.equal(deep.stdout, "");
  assert.equal(deep.stderr, "error: stdin:1: not valid YAML or JSON: nesting deeper than 256 levels\n");
});
