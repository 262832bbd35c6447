// Hostile manifests, values files, flags and certificate files: nesting bombs (flow, block, JSON,
// inside container args), collection keys, duplicate keys in huge maps, secrets in broken
// documents, FIFOs and loops in directories, a directory on stdin, out-of-range values, keys in
// trust anchors, empty certificate files, and echoed input that would flood the terminal.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { certFixture, DEPLOYMENT, expectClean, meshIn, meshProcess, tempDir } from "./harness.js";

function file(name: string, text: string, dir = tempDir()): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const N = 5000;
const deepFlow = (n: number) => `${"[".repeat(n)}${"]".repeat(n)}`;
const deepBlock = (n: number, base = 0) => Array.from({ length: n }, (_, i) => `${" ".repeat(base + i)}k${i}:\n`).join("") + `${" ".repeat(base + n)}leaf: 1\n`;
const SECOND = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: first\n---\n";

// ---- manifests -------------------------------------------------------------------------------

const manifests: [name: string, text: string, message: RegExp][] = [
  ["flow nesting 5,000 deep", `${SECOND}apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: ${deepFlow(N)}\n`, /^.*m\.yaml: document 2 \(line 11\): nesting deeper than 256 levels: mesh refuses such input$/],
  ["block nesting 5,000 deep", `${SECOND}apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\nextra:\n${deepBlock(N, 1)}`, /^.*m\.yaml: document 2 \(line \d+\): nesting deeper than 256 levels/],
  ["nested sequences 5,000 deep", `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\nextra:\n- ${"- ".repeat(N)}x\n`, /^.*m\.yaml: document 1 \(line 6\): nesting deeper than 256 levels/],
  ["a JSON document 5,000 deep", `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": ${"{\"a\": ".repeat(N)}1${"}".repeat(N)}}\n`, /^.*m\.yaml: document 1 \(line 1\): nesting deeper than 256 levels/],
  ["container args 5,000 deep", DEPLOYMENT + `        args: ${deepFlow(N)}\n`, /^.*m\.yaml: document 1 \(line 15\): nesting deeper than 256 levels/],
  ["a map used as a key", `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  ? {a: b}\n  : c\n`, /^.*m\.yaml: document 1 \(line 6\): a map or list is used as a mapping key/],
  ["a list used as a key, after an anchor", `apiVersion: v1\nkind: ConfigMap\nmetadata: &m\n  name: x\ndata:\n  [a, b]: c\n`, /^.*m\.yaml: document 1 \(line 6\): a map or list is used as a mapping key/],
  ["a duplicate key among 60,000, with an anchor", `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels: &l {a: b}\ndata:\n${Array.from({ length: 60_000 }, (_, i) => `  k${i}: v\n`).join("")}  k59999: again\n`, /^.*m\.yaml: document 1 \(line 60007\): duplicate key "k59999"$/],
  ["an alias bomb", `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n`, /too many YAML aliases/],
];
for (const [name, text, message] of manifests) {
  test(`inject: ${name} is refused, naming file, document and line`, async () => {
    const r = await meshIn(["inject", "--ignore-cluster", file("m.yaml", text)]);
    expectClean(r, { code: 1, message, maxMs: 20_000 });
  });
}

test("inject: a one-line JSON object of 60,000 keys passes through in linear time", async () => {
  const text = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"data":{${Array.from({ length: 60_000 }, (_, i) => `"k${i}":"v"`).join(",")}}}\n`;
  const r = await meshIn(["inject", "--ignore-cluster", file("m.json", text)]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, text);
  assert.ok(r.ms < 20_000, `took ${r.ms} ms`);
});

test("inject: a broken Secret is located, and none of its values printed", async () => {
  const secret = "hunter2-PASSWORD";
  const text = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: "${secret}\\x"\n  other: '${secret}\n`;
  expectClean(await meshIn(["inject", "--ignore-cluster", file("m.yaml", text)]), { code: 1, message: /^.*m\.yaml: document 1 \(line \d+\): /, secrets: [secret], maxMs: 10_000 });
});

test("inject: a FIFO named *.yaml in a directory is skipped (and said so); the process ends", async () => {
  const dir = tempDir();
  writeFileSync(join(dir, "a.yaml"), DEPLOYMENT);
  execFileSync("mkfifo", [join(dir, "b.yaml")]);
  const r = await meshProcess(["inject", "--ignore-cluster", dir], { killAfterMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /linkerd\.io\/inject: enabled/);
  assert.match(r.stderr, /^warning: skipped .*b\.yaml: a FIFO, not a regular file$/m);
  assert.ok(r.ms < 25_000, `took ${r.ms} ms`);
});

test("inject: a directory loop through a symbolic link is read once", async () => {
  const dir = tempDir();
  mkdirSync(join(dir, "sub"));
  writeFileSync(join(dir, "sub", "a.yaml"), DEPLOYMENT);
  symlinkSync("..", join(dir, "sub", "loop"));
  const r = await meshIn(["inject", "--ignore-cluster", dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.match(/kind: Deployment/g)?.length, 1);
  assert.match(r.stderr, /^warning: skipped .*loop: a directory already read/m);
});

test("inject: a directory holding only a FIFO is an error naming it", async () => {
  const dir = tempDir();
  execFileSync("mkfifo", [join(dir, "only.yaml")]);
  const r = await meshIn(["inject", "--ignore-cluster", dir]);
  expectClean(r, { code: 1, message: /^directory .* has no \.yaml, \.yml or \.json files that are regular files \(1 skipped\)$/, maxMs: 10_000 });
});

test("inject - < a directory reports the read error", async () => {
  const r = await meshProcess(["inject", "--ignore-cluster", "-"], { stdinFile: tempDir(), killAfterMs: 30_000 });
  expectClean(r, { code: 1, message: /^cannot read stdin: it is a directory$/, maxMs: 25_000 });
});

// ---- values files and --set ------------------------------------------------------------------

const values: [name: string, text: string, message: RegExp][] = [
  ["flow nesting 5,000 deep", `podAnnotations: ${"{a: ".repeat(N)}1${"}".repeat(N)}\n`, /^cannot parse values file .*v\.yaml: nesting deeper than 256 levels \(document 1, line 1, column \d+\)$/],
  ["block nesting 5,000 deep", deepBlock(N), /^cannot parse values file .*v\.yaml: nesting deeper than 256 levels \(document 1, line 257, column \d+\)$/],
  ["a list used as a key", "? [a, b]\n: c\n", /^cannot parse values file .*v\.yaml: a map or list is used as a mapping key.* \(document 1, line 1, column 3\)$/],
  ["a duplicate key among 40,000", `podAnnotations:\n${Array.from({ length: 40_000 }, (_, i) => `  k${i}: v\n`).join("")}  k0: again\nx: &a 1\n`, /^cannot parse values file .*v\.yaml: duplicate key "k0" \(document 1, line 40002, column 3\)$/],
  ["a syntax error", "controllerReplicas: [1\nfoo: bar\n", /^cannot parse values file .*v\.yaml: .* \(document 1, line \d+, column \d+\)$/],
];
for (const [name, text, message] of values) {
  test(`install -f: ${name} is refused, naming the file and line`, async () => {
    expectClean(await meshIn(["install", "--ignore-cluster", "-f", file("v.yaml", text)]), { code: 2, message, maxMs: 20_000 });
  });
}

const ranges: [name: string, argv: string[], code: number, message: RegExp][] = [
  ["--set controllerReplicas=-1", ["install", "--ignore-cluster", "--set", "controllerReplicas=-1"], 1, /^controllerReplicas: -1 is out of range \(0 to 2147483647\)$/],
  ["--set controllerReplicas=1e30 spelled out", ["install", "--ignore-cluster", "--set", "controllerReplicas=999999999999999999999999999999"], 1, /^controllerReplicas: "999999999999999999999999999999" is out of range/],
  ["--set proxy.ports.admin=70000", ["install", "--ignore-cluster", "--set", "proxy.ports.admin=70000"], 1, /^proxy\.ports\.admin: 70000 is out of range \(1 to 65535\)$/],
  ["--set-string proxy.uid=abc", ["install", "--ignore-cluster", "--set-string", "proxy.uid=abc"], 1, /^proxy\.uid: "abc" is not an integer$/],
  ["--controller-replicas 99999999999", ["install", "--ignore-cluster", "--controller-replicas", "99999999999"], 1, /^controllerReplicas: 99999999999 is out of range/],
  ["install --admin-port 99999", ["install", "--ignore-cluster", "--admin-port", "99999"], 2, /"99999" is out of range \(--admin-port: 1 to 65535\)/],
  ["inject --admin-port 99999", ["inject", "--ignore-cluster", "--admin-port", "99999", "-"], 2, /"99999" is out of range \(--admin-port: 1 to 65535\)/],
  ["inject --proxy-uid -1", ["inject", "--ignore-cluster", "--proxy-uid", "-1", "-"], 2, /"-1" is out of range \(--proxy-uid: 0 to 2147483647\)/],
  ["a --set path 5,000 levels deep", ["install", "--ignore-cluster", "--set", `${"a.".repeat(5000)}b=1`], 2, /^cannot parse --set "(a\.)+… \(truncated\)": value name nested level is greater than maximum supported nested level of 30$/],
  ["a --set key of 20,000 characters", ["install", "--ignore-cluster", "--set", `${"k".repeat(20_000)}`], 2, /^cannot parse --set "k+… \(truncated\)": key "k+… \(truncated\)" has no value$/],
];
for (const [name, argv, code, message] of ranges) {
  test(`values: ${name} is refused before anything renders`, async () => {
    expectClean(await meshIn(argv, { stdin: DEPLOYMENT }), { code, message, maxMs: 15_000 });
  });
}

// ---- certificate files -----------------------------------------------------------------------

test("install: trust anchors with a PRIVATE KEY block are refused, naming the file and the block", async () => {
  const dir = tempDir();
  const key = certFixture("ca.key");
  const anchors = file("ca.crt", certFixture("ca.crt") + certFixture("issuer.pkcs8.key"), dir);
  const r = await meshIn(["install", "--ignore-cluster", "--identity-trust-anchors-file", anchors, "--identity-issuer-certificate-file", file("i.crt", certFixture("issuer.crt"), dir), "--identity-issuer-key-file", file("i.key", certFixture("issuer.key"), dir)]);
  expectClean(r, { code: 1, message: /^trust anchors file ".*ca\.crt" holds a "PRIVATE KEY" PEM block; a certificate file may hold only CERTIFICATE blocks$/, secrets: [key.split("\n")[1], certFixture("issuer.pkcs8.key").split("\n")[1]], maxMs: 15_000 });
});

test("install: an issuer certificate file with a key block after the certificate is refused", async () => {
  const dir = tempDir();
  const r = await meshIn(["install", "--ignore-cluster", "--identity-trust-anchors-file", file("ca.crt", certFixture("ca.crt"), dir), "--identity-issuer-certificate-file", file("i.crt", certFixture("issuer.crt") + certFixture("issuer.key"), dir), "--identity-issuer-key-file", file("i.key", certFixture("issuer.key"), dir)]);
  expectClean(r, { code: 1, message: /^issuer certificate file ".*i\.crt" holds a "EC PRIVATE KEY" PEM block/, maxMs: 15_000 });
});

test("install: an existing but empty certificate file is empty, not missing", async () => {
  const dir = tempDir();
  const r = await meshIn(["install", "--ignore-cluster", "--identity-trust-anchors-file", file("ca.crt", "", dir), "--identity-issuer-certificate-file", file("i.crt", certFixture("issuer.crt"), dir), "--identity-issuer-key-file", file("i.key", certFixture("issuer.key"), dir)]);
  expectClean(r, { code: 2, message: /^trust anchors file ".*ca\.crt" is empty$/, maxMs: 15_000 });
});

const anchorsForInject: [name: string, text: string, message: RegExp][] = [
  ["not a certificate", "hello, world\n", /^trust anchors file ".*a\.crt" holds no PEM data$/],
  ["a certificate and a private key", certFixture("ca.crt") + certFixture("ca.key"), /^trust anchors file ".*a\.crt" holds a "EC PRIVATE KEY" PEM block/],
  ["only a private key", certFixture("ca.key"), /^trust anchors file ".*a\.crt" holds no certificate: its first PEM block is "EC PRIVATE KEY"$/],
  ["empty", "", /^trust anchors file ".*a\.crt" is empty$/],
  ["a broken certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", /^trust anchors file ".*a\.crt": certificate 1 is not a valid X\.509 certificate/],
];
for (const [name, text, message] of anchorsForInject) {
  test(`inject --manual --identity-trust-anchors-file: ${name} is refused`, async () => {
    const r = await meshIn(["inject", "--manual", "--ignore-cluster", "--identity-trust-anchors-file", file("a.crt", text), "-"], { stdin: DEPLOYMENT });
    expectClean(r, { code: 1, message, secrets: [certFixture("ca.key").split("\n")[1]], maxMs: 15_000 });
  });
}
