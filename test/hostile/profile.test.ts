// `mesh profile --open-api FILE|- / --proto FILE|-` with hostile definitions: nesting and alias
// bombs, files past the 32 MiB cap (a sparse file, stdin, a FIFO that never ends), binary garbage,
// invalid UTF-8, a directory, a FIFO nobody writes to, /dev/zero; $refs and bare documents naming
// http URLs or local files (never fetched, never opened); paths with escape sequences (refused,
// named sanitised) and with YAML syntax (the output still one parseable document); protobuf
// definitions nested 20,000 deep or of 20,000 services; and a hostile API server answering
// linkerd-config when the cluster domain is read.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { closeSync, constants, existsSync, openSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { apiHandler, expectClean, fakeServer, json, kubeconfig, meshIn, meshProcess, tempDir, type Timed } from "./harness.js";

const LINKERD_CONFIG = "/api/v1/namespaces/linkerd/configmaps/linkerd-config";
const HINT = /^hint: mesh profile --open-api reads Swagger 2\.0 and OpenAPI 3\.x/m;

function file(name: string, text: string | Buffer, dir = tempDir()): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const swagger = (paths: unknown, extra: Record<string, unknown> = {}) => JSON.stringify({ swagger: "2.0", info: { title: "t", version: "1" }, paths, ...extra });
const openApi = (argv: string[]) => meshIn(["profile", "--ignore-cluster", ...argv, "svc"]);

/** The profile on stdout: one YAML document that the `yaml` package reads, with no raw control bytes. */
function profileOf(r: Timed): { spec: { routes?: { name: string; condition: { pathRegex: string }; timeout?: string }[] } } {
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "");
  assert.doesNotMatch(r.stdout, /[\x00-\x09\x0b-\x1f\x7f-\x9f]/, "a raw control byte in the profile");
  const docs = parseAllDocuments(r.stdout);
  assert.ok(Array.isArray(docs) && docs.length === 1, "not exactly one YAML document");
  assert.deepEqual(docs[0].errors, []);
  return docs[0].toJS();
}

// ---- bombs, sizes and garbage ----------------------------------------------------------------

const N = 5000;
const openApiFiles: [name: string, text: () => string | Buffer, message: RegExp][] = [
  ["a JSON document 5,000 deep", () => `{"swagger": "2.0", "info": ${'{"a": '.repeat(N)}1${"}".repeat(N)}}`, /^.*spec\.yaml:1: not valid YAML or JSON: nesting deeper than 256 levels/],
  ["a block map 5,000 deep", () => `swagger: "2.0"\npaths:\n${Array.from({ length: N }, (_, i) => `${" ".repeat(i + 1)}k${i}:\n`).join("")}`, /^.*spec\.yaml:\d+: not valid YAML or JSON: nesting deeper than 256 levels/],
  ["an alias bomb", () => `swagger: "2.0"\ninfo: {title: t, version: "1"}\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\npaths: {/x: {get: {responses: {"200": [*d, *d, *d, *d, *d, *d, *d, *d, *d]}}}}\n`, /too many YAML aliases/],
  ["binary garbage (every byte value)", () => Buffer.from(Array.from({ length: 64 * 256 }, (_, i) => i % 256)), /^.*spec\.yaml(:\d+: not valid YAML or JSON: .+|: the document is a string, not a map)$/],
  ["two documents", () => `${swagger({})}\n---\n${swagger({})}\n`, /^.*spec\.yaml: 2 YAML documents, expected one OpenAPI document$/],
  ["a list", () => "[1, 2]\n", /^.*spec\.yaml: the document is a list, not a map$/],
  ["paths that are a string of escapes", () => swagger("\x1b[2J\x1b]0;pwned\x07"), /^.*spec\.yaml: paths is a string, not a map$/],
  ["responses that are a string (once read as statuses 0, 1, 2)", () => swagger({ "/a": { get: { responses: "abc" } } }), /^.*spec\.yaml: the responses of get \/a are a string, not a map$/],
  ["an operation that is a number", () => swagger({ "/a": { get: 7 } }), /^.*spec\.yaml: get \/a is a number, not a map$/],
  ["an unsupported version with escapes", () => JSON.stringify({ openapi: "9.9.9\x1b[2J\x1b]0;x\x07", info: { title: "t", version: "1" }, paths: {} }), /^.*spec\.yaml: not an OpenAPI document: Unsupported OpenAPI version: 9\.9\.9/],
];
for (const [name, text, message] of openApiFiles) {
  test(`profile --open-api: ${name} is one clear error`, async () => {
    const r = await openApi(["--open-api", file("spec.yaml", text())]);
    expectClean(r, { code: 1, message, maxMs: 20_000 });
  });
}

test("profile --open-api: invalid UTF-8 is read as replacement characters, and the profile is still clean YAML", async () => {
  const text = Buffer.concat([Buffer.from('swagger: "2.0"\ninfo: {title: "'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('", version: "1"}\npaths:\n  /a'), Buffer.from([0xc0, 0xff]), Buffer.from(': {get: {responses: {"200": {description: x}}}}\n')]);
  const p = profileOf(await openApi(["--open-api", file("spec.yaml", text)]));
  assert.deepEqual(p.spec.routes?.map((r) => r.name), ["GET /a\ufffd\ufffd"]);
});

test("profile --open-api: a 40 MiB file is refused by its size, before it is read", async () => {
  const p = file("big.yaml", "");
  truncateSync(p, 40 << 20); // sparse: costs no disk
  expectClean(await openApi(["--open-api", p]), { code: 1, message: /^.*big\.yaml: larger than 32 MiB$/, maxMs: 15_000, maxRssMb: 512 });
});

test("profile --proto -: 33 MiB on stdin is refused at the cap", async () => {
  const r = await meshIn(["profile", "--ignore-cluster", "--proto", "-", "svc"], { stdin: "/".repeat(33 << 20) });
  expectClean(r, { code: 1, message: /^stdin: larger than 32 MiB$/, maxMs: 30_000 });
});

test("profile --open-api: a directory is named as one", async () => {
  const dir = tempDir();
  expectClean(await openApi(["--open-api", dir]), { code: 1, message: /^cannot read .*: it is a directory$/, maxMs: 15_000 });
});

test("profile --proto /dev/zero is refused before it is read (it would never end)", async () => {
  expectClean(await meshProcess(["profile", "--ignore-cluster", "--proto", "/dev/zero", "svc"], { killAfterMs: 30_000 }), { code: 1, message: /^cannot read \/dev\/zero: a device, not a regular file or a pipe$/, maxMs: 25_000 });
});

test("profile --proto - < /dev/zero stops at the cap", async () => {
  expectClean(await meshProcess(["profile", "--ignore-cluster", "--proto", "-", "svc"], { stdinFile: "/dev/zero", killAfterMs: 45_000 }), { code: 1, message: /^stdin: larger than 32 MiB$/, maxMs: 40_000 });
});

test("profile --open-api - < a directory is refused", async () => {
  expectClean(await meshProcess(["profile", "--ignore-cluster", "--open-api", "-", "svc"], { stdinFile: tempDir(), killAfterMs: 30_000 }), { code: 1, message: /^cannot read stdin: it is a directory$/, maxMs: 25_000 });
});

test("profile --open-api: a FIFO that nothing writes to is an error, not a process waiting forever", async () => {
  const fifo = join(tempDir(), "spec.yaml");
  execFileSync("mkfifo", [fifo]);
  const r = await meshProcess(["profile", "--ignore-cluster", "--open-api", fifo, "svc"], { killAfterMs: 30_000 });
  expectClean(r, { code: 1, message: /^cannot read .*spec\.yaml: a FIFO that nothing writes to$/, maxMs: 25_000 });
});

test("profile --proto: a FIFO whose writer never stops is cut at the cap", async () => {
  const fifo = join(tempDir(), "x.proto");
  execFileSync("mkfifo", [fifo]);
  const writer = spawn("sh", ["-c", 'exec yes "message M {}" > "$0"', fifo], { stdio: "ignore" });
  try {
    const r = await meshProcess(["profile", "--ignore-cluster", "--proto", fifo, "svc"], { killAfterMs: 45_000 });
    expectClean(r, { code: 1, message: /^.*x\.proto: larger than 32 MiB$/, maxMs: 40_000 });
  } finally {
    writer.kill();
  }
});

test("profile --proto: a pipe with a definition (as <(…) gives one) is read", async () => {
  const fifo = join(tempDir(), "x.proto");
  execFileSync("mkfifo", [fifo]);
  const writer = spawn("sh", ["-c", 'exec printf "syntax = \\"proto3\\";\\npackage p;\\nservice S { rpc A (M) returns (M); }\\nmessage M {}\\n" > "$0"', fifo], { stdio: "ignore" });
  try {
    const p = profileOf(await meshProcess(["profile", "--ignore-cluster", "--proto", fifo, "svc"], { killAfterMs: 45_000 }));
    assert.deepEqual(p.spec.routes?.map((r) => [r.name, r.condition.pathRegex]), [["A", "/p\\.S/A"]]);
  } finally {
    writer.kill();
  }
});

// ---- references are never followed -----------------------------------------------------------

/**
 * A FIFO whose writer (a shell blocked in open) writes a marker file once anything opens the FIFO
 * for reading: how a test sees that mesh did not open a path.
 */
function tripwire(dir: string) {
  const fifo = join(dir, "secret.yaml");
  const marker = join(dir, "opened");
  execFileSync("mkfifo", [fifo]);
  const writer = spawn("sh", ["-c", 'exec 3> "$0"; touch "$1"', fifo, marker], { stdio: "ignore" });
  const exited = new Promise<void>((r) => writer.once("exit", () => r()));
  return {
    fifo,
    opened: () => existsSync(marker),
    /** Opens the FIFO itself (the positive control: the tripwire does fire), then ends the writer. */
    async fire(): Promise<boolean> {
      const fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
      await exited;
      closeSync(fd);
      return existsSync(marker);
    },
  };
}

test("profile --open-api: $refs to http URLs and local files are neither fetched nor opened", async () => {
  const dir = tempDir();
  const wire = tripwire(dir);
  const s = await fakeServer((_req, res) => json(res, 200, swagger({ "/stolen": { get: {} } })));
  try {
    const doc = swagger(
      {
        "/a": { get: { parameters: [{ $ref: `${s.url}/param.json` }, { $ref: "./secret.yaml#/p" }], responses: { "200": { $ref: `file://${wire.fifo}` } } } },
        "/b": { $ref: `${s.url}/path-item.json` },
        "/c": { $ref: wire.fifo },
      },
      { definitions: { x: { $ref: `${s.url}/definitions.json` } }, parameters: { p: { $ref: "secret.yaml" } } },
    );
    const r = await meshIn(["profile", "--ignore-cluster", "--open-api", file("spec.json", doc, dir), "svc"]);
    const p = profileOf(r);
    assert.deepEqual(p.spec.routes?.map((x) => x.name), ["GET /a"]);
    assert.deepEqual(s.seen, [], "a request reached the server");
    assert.equal(wire.opened(), false, "the local file was opened");
  } finally {
    await s.close();
    assert.equal(await wire.fire(), true, "the tripwire did not fire when opened");
  }
});

test("profile --open-api: a document that is only a root $ref is not an OpenAPI document, and nothing is fetched", async () => {
  const s = await fakeServer((_req, res) => json(res, 200, swagger({ "/stolen": { get: {} } })));
  try {
    const r = await openApi(["--open-api", file("spec.json", JSON.stringify({ $ref: `${s.url}/root.json` }))]);
    expectClean(r, { code: 1, message: /^.*spec\.json: not an OpenAPI document: /, maxMs: 15_000 });
    assert.match(r.stderr, HINT);
    assert.deepEqual(s.seen, []);
  } finally {
    await s.close();
  }
});

// A YAML document that is one string used to be handed to swagger-parser as is, which takes a
// string for a path or URL to read: `/etc/…` was read (and its routes printed), a URL fetched.
test("profile --open-api: a document that is a bare string naming a local file is refused, and the file not opened", async () => {
  const dir = tempDir();
  const wire = tripwire(dir);
  const target = file("target.yaml", `${swagger({ "/from-another-file": { get: { responses: { "200": { description: "x" } } } } })}\n`, dir);
  try {
    for (const name of [target, wire.fifo]) {
      const r = await openApi(["--open-api", file("spec.yaml", `${name}\n`, dir)]);
      expectClean(r, { code: 1, message: /^.*spec\.yaml: the document is a string, not a map$/, maxMs: 15_000 });
    }
    assert.equal(wire.opened(), false, "the FIFO named by the document was opened");
  } finally {
    assert.equal(await wire.fire(), true);
  }
});

test("profile --open-api: a document that is a bare http URL is refused, and nothing is fetched", async () => {
  const s = await fakeServer((_req, res) => json(res, 200, swagger({ "/stolen": { get: {} } })));
  try {
    const r = await openApi(["--open-api", file("spec.yaml", `"${s.url}/spec.json"\n`)]);
    expectClean(r, { code: 1, message: /^.*spec\.yaml: the document is a string, not a map$/, maxMs: 15_000 });
    assert.deepEqual(s.seen, []);
  } finally {
    await s.close();
  }
});

// ---- what the document says reaches the terminal inert, and the profile stays YAML -------------

const escapes: [name: string, doc: string, message: RegExp][] = [
  ["a path with escape sequences and a fake error line", swagger({ "/a\x1b[31mred\x1b[0m\r\nerror: fake\x07": { get: { responses: { "200": { description: "x" } } } } }), /^.*spec\.json: path "\/ared error: fake" holds control characters, which no request path can$/],
  ["a path with a C1 CSI and a right-to-left override", swagger({ "/x\u202e\x9b31m": { post: {} } }), /^.*spec\.json: path "\/x" holds control characters/],
  ["a percent-encoded escape in OpenAPI 3's server URL", JSON.stringify({ openapi: "3.0.3", info: { title: "t", version: "1" }, servers: [{ url: "https://h/%1b%5b2J" }], paths: { "/a": { get: { responses: { "200": { description: "x" } } } } } }), /^.*spec\.json: path "\/\/a" holds control characters/],
  ["an x-linkerd-timeout with escapes", swagger({ "/a": { get: { "x-linkerd-timeout": "1s\x1b[2J" } } }), /^.*spec\.json: the x-linkerd-timeout of get \/a holds control characters$/],
];
for (const [name, doc, message] of escapes) {
  test(`profile --open-api: ${name} is refused, named without the escapes`, async () => {
    const r = await openApi(["--open-api", file("spec.json", doc)]);
    expectClean(r, { code: 1, message, maxMs: 15_000 });
    assert.match(r.stderr, HINT);
  });
}

test("profile --open-api: paths full of YAML syntax come out as one parseable document, names intact", async () => {
  const paths = ["/a: b #c", "/--- &x *y !!binary", "/'q'\"d\"", "/{id}/[x]|(y)", "/…/日本/%1b"];
  const p = profileOf(await openApi(["--open-api", file("spec.json", swagger(Object.fromEntries(paths.map((k) => [k, { get: { "x-linkerd-timeout": "1s # not a comment" } }]))))]));
  assert.deepEqual(p.spec.routes?.map((r) => r.name).sort(), paths.map((k) => `GET ${k}`).sort());
  assert.ok(p.spec.routes?.every((r) => r.timeout === "1s # not a comment"));
});

// ---- protobuf --------------------------------------------------------------------------------

const D = 20_000;
const protos: [name: string, text: () => string | Buffer, message: RegExp][] = [
  ["messages nested 20,000 deep", () => `syntax = "proto3";\n${"message A { ".repeat(D)}${"}".repeat(D)}\n`, /^.*x\.proto: not a valid protobuf definition: max depth exceeded$/],
  ["an option value nested 20,000 deep", () => `syntax = "proto3";\nservice S { rpc A (M) returns (M) { option (x) = ${"{ a: ".repeat(D)}1${" }".repeat(D)}; } }\nmessage M {}\n`, /^.*x\.proto(:\d+)?: not a valid protobuf definition: /],
  ["a package name of 20,000 parts", () => `syntax = "proto3";\npackage ${Array(D).fill("p").join(".")};\nservice S { rpc A (M) returns (M); }\nmessage M {}\n`, /^.*x\.proto(:\d+)?: not a valid protobuf definition: /],
  ["escape sequences in a service name", () => `syntax = "proto3";\nservice S\x1b[31m\x1b]0;pwned\x07 { rpc A (M) returns (M); }\nmessage M {}\n`, /^.*x\.proto:2: not a valid protobuf definition: illegal service name/],
  ["binary garbage", () => Buffer.from(Array.from({ length: 64 * 256 }, (_, i) => i % 256)), /^.*x\.proto:\d+: not a valid protobuf definition: /],
];
for (const [name, text, message] of protos) {
  test(`profile --proto: ${name} is one clear error`, async () => {
    expectClean(await openApi(["--proto", file("x.proto", text())]), { code: 1, message, maxMs: 20_000 });
  });
}

test("profile --proto: 20,000 services give 20,000 routes in one parseable document", async () => {
  const text = `syntax = "proto3";\npackage p;\nmessage M {}\n${Array.from({ length: 20_000 }, (_, i) => `service S${i} { rpc A (M) returns (M) { option idempotency_level = IDEMPOTENT; } }\n`).join("")}`;
  const p = profileOf(await openApi(["--proto", file("x.proto", text)]));
  assert.equal(p.spec.routes?.length, 20_000);
});

// ---- the cluster domain from a hostile API server --------------------------------------------

async function profileAgainst(answer: (res: import("node:http").ServerResponse) => void): Promise<Timed> {
  const s = await fakeServer(apiHandler((path, _req, res) => (path === LINKERD_CONFIG ? (answer(res), true) : false)));
  try {
    return await meshIn(["--kubeconfig", kubeconfig(s.url), "profile", "--template", "-n", "ns", "svc"]);
  } finally {
    await s.close();
  }
}

const configs: [name: string, answer: (res: import("node:http").ServerResponse) => void, message: RegExp][] = [
  ["a 500 with escapes and a fake hint", (res) => json(res, 500, { kind: "Status", message: "\x1b[2J\x1b]0;pwned\x07boom\r\nhint: run rm -rf /" }), /^cannot read the cluster domain from linkerd-config: the API server answered 500 to GET \/api\/v1\/namespaces\/linkerd\/configmaps\/linkerd-config: boom hint: run rm -rf \/$/],
  ["invalid JSON", (res) => json(res, 200, "{\x1b[31m"), /^cannot read the cluster domain from linkerd-config: the API server sent invalid JSON for GET .*linkerd-config$/],
  ["a list", (res) => json(res, 200, "[1]"), /^cannot read the cluster domain from linkerd-config: .* the body is a list, not a map$/],
  ["an HTML page", (res) => json(res, 503, `<html><title>down\x1b[2J</title>${"<p>x</p>".repeat(10_000)}</html>`), /^cannot read the cluster domain from linkerd-config: the API server answered 503 .*: an HTML page titled "down"$/],
];
for (const [name, answer, message] of configs) {
  test(`profile: linkerd-config as ${name} is one clean error`, async () => {
    const r = await profileAgainst(answer);
    expectClean(r, { code: 1, message, maxMs: 15_000 });
    assert.match(r.stderr, /^hint: pass --ignore-cluster/m);
  });
}

const domains: [name: string, values: string, outcome: RegExp | "cluster.local"][] = [
  ["values that are not YAML", "\x1b[2J: [unclosed\n\x07", "cluster.local"],
  ["a clusterDomain that is a list", "clusterDomain: [1, 2]\n", /^linkerd-config's clusterDomain "1,2" is not a DNS name$/],
  // spliced into --template's text, this would have cleared the screen of whoever reads it
  ["a clusterDomain with escape sequences", `clusterDomain: "evil\\e[2J\\u009b\\a.example"\n`, /^linkerd-config's clusterDomain "evil\.example" is not a DNS name$/],
  // and this would have added keys to the template's metadata
  ["a clusterDomain with YAML in it", `clusterDomain: "x\\n  namespace: kube-system\\n"\n`, /^linkerd-config's clusterDomain "x namespace: kube-system" is not a DNS name$/],
  ["a clusterDomain of 100,000 characters", `clusterDomain: ${"x".repeat(100_000)}\n`, /^linkerd-config's clusterDomain "x+… \(truncated\)" is not a DNS name$/],
];
for (const [name, values, outcome] of domains) {
  test(`profile --template: linkerd-config with ${name}`, async () => {
    const r = await profileAgainst((res) => json(res, 200, { metadata: { name: "linkerd-config" }, data: { values } }));
    if (outcome === "cluster.local") {
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^  name: svc\.ns\.svc\.cluster\.local$/m);
      assert.doesNotMatch(r.stdout, /[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    } else {
      expectClean(r, { code: 1, message: outcome, maxMs: 15_000 });
      assert.match(r.stderr, /^hint: fix the installed values/m);
    }
  });
}

test("profile: an API server that never answers ends within the request timeout, with one line", async () => {
  const s = await fakeServer(apiHandler((path) => path === LINKERD_CONFIG));
  try {
    const r = await meshIn(["--kubeconfig", kubeconfig(s.url), "profile", "--template", "svc"]);
    expectClean(r, { code: 1, message: /^cannot read the cluster domain from linkerd-config: .*(did not answer|timed out|within)/, maxMs: 60_000 });
  } finally {
    await s.close();
  }
});
