import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { runMesh } from "../helpers/run.js";
import { CASES, casePath, markedLine } from "./cases.js";
import type { Finding } from "../../src/analyze/model.js";

const json = (stdout: string) => JSON.parse(stdout) as { source: string; summary: Record<string, number>; findings: Finding[] };

for (const [name, expected] of Object.entries(CASES)) {
  test(`analyze ${name}: every expected finding, at its file and line, and nothing else`, async () => {
    const file = casePath(name);
    const r = await runMesh(["analyze", file, "-o", "json"]);
    const got = json(r.stdout).findings;
    for (const e of expected) {
      const line = markedLine(file, e.tag);
      const f = got.find((x) => x.code === e.code && x.line === line && x.object === e.object);
      assert.ok(f, `${e.tag}: no ${e.code} for ${e.object} at ${file}:${line}; got\n${got.map((x) => `${x.code} ${x.object} :${x.line} ${x.message}`).join("\n")}`);
      assert.equal(f.file, file);
      assert.ok(f.message.includes(e.says), `${e.tag}: message ${JSON.stringify(f.message)} lacks ${JSON.stringify(e.says)}`);
      assert.ok(f.fix.length > 0);
    }
    assert.equal(got.length, expected.length, `unexpected findings:\n${got.filter((x) => !expected.some((e) => e.code === x.code && e.object === x.object && x.line === markedLine(file, e.tag))).map((x) => `${x.code} ${x.object} :${x.line} ${x.message}`).join("\n")}`);
    assert.equal(r.code, expected.some((e) => ["MESH101", "MESH102", "MESH104", "MESH107", "MESH111", "MESH112", "MESH113", "MESH114", "MESH115", "MESH202", "MESH203", "MESH211", "MESH212", "MESH215", "MESH302", "MESH303"].includes(e.code)) ? 1 : 0);
    assert.match(r.stderr, /no cluster contacted/);
  });

  const near = name.replace(/\.yaml$/, ".ok.yaml");
  test(`analyze ${near}: the near misses give no finding`, async () => {
    const r = await runMesh(["analyze", casePath(near), "-o", "json"]);
    assert.deepEqual(json(r.stdout).findings, []);
    assert.equal(r.code, 0);
  });
}

test("analyze: the emojivoto-style application is clean", async () => {
  const r = await runMesh(["analyze", "test/fixtures/analyze/clean/"]);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /no findings \(24 objects analysed\)/);
  assert.equal(r.code, 0);
});

test("analyze: the table names file:line, severity, code and object, then the message and the fix", async () => {
  const file = casePath("annotations.yaml");
  const r = await runMesh(["analyze", file]);
  const line = markedLine(file, "typo");
  assert.ok(r.stdout.includes(`${file}:${line}  warning  MESH301  Deployment/shop/worker\n`), r.stdout);
  assert.ok(r.stdout.includes('    fix: did you mean "config.linkerd.io/proxy-cpu-limit"?\n'));
  assert.match(r.stderr, /^error: 12 findings: 7 errors, 5 warnings \(6 objects analysed\); 7 at or above the failure threshold \(error\)$/m);
});

test("analyze: --failure-threshold decides the exit code", async () => {
  const file = casePath("http-route.yaml");
  const text = readFileSync(file, "utf8");
  // only the hostnames warning left: drop the documents with errors
  const warnOnly = text.split("\n---\n").filter((d) => /name: cart$/m.test(d) && /kind: Service$/m.test(d) || /cart-split/.test(d)).join("\n---\n")
    .replace("port: 8080 #! parent-port", "port: 80").replace(/rules:[\s\S]*$/, "rules: []\n");
  const ok = await runMesh(["analyze", "-", "-o", "json"], { stdin: warnOnly });
  assert.deepEqual(json(ok.stdout).findings.map((f) => f.code), ["MESH116"]);
  assert.equal(ok.code, 0);
  const strict = await runMesh(["analyze", "-", "--failure-threshold", "warning"], { stdin: warnOnly });
  assert.equal(strict.code, 1);
  assert.match(strict.stderr, /1 at or above the failure threshold \(warning\)/);
});

test("analyze: --suppress drops a code everywhere or for one object; the annotation for its object", async () => {
  const file = casePath("server.yaml");
  const all = json((await runMesh(["analyze", file, "-o", "json", "--suppress", "MESH217"])).stdout).findings;
  assert.ok(!all.some((f) => f.code === "MESH217"));
  assert.ok(all.some((f) => f.code === "MESH204"));
  const one = json((await runMesh(["analyze", file, "-o", "json", "--suppress", "mesh204=server/shop/api-cache", "--suppress", "MESH201=Server/shop/other"])).stdout).findings;
  assert.ok(!one.some((f) => f.code === "MESH204"));
  assert.ok(one.some((f) => f.code === "MESH201"), "a suppression for another object leaves the finding");
  // the Server in authorization.yaml is annotated analyze.mesh/suppress: MESH201; without it, MESH201 is reported
  const text = readFileSync(casePath("authorization.ok.yaml"), "utf8");
  const unannotated = text.replace(/\n  annotations:\n    analyze\.mesh\/suppress: MESH201.*\n/, "\n");
  assert.notEqual(unannotated, text);
  const r = json((await runMesh(["analyze", "-", "-o", "json"], { stdin: unannotated })).stdout).findings;
  assert.deepEqual(r.map((f) => [f.code, f.object, f.file, f.line]), [["MESH201", "Server/shop/api-http", "stdin", 14]]);
});

test("analyze: usage errors exit 2", async () => {
  for (const argv of [
    ["analyze", "x.yaml", "-n", "a", "-A"],
    ["analyze", "x.yaml", "--suppress", "NOPE"],
    ["analyze", "x.yaml", "--suppress", "MESH201=server"],
    ["analyze", "x.yaml", "-o", "yaml"],
    ["analyze", "x.yaml", "--failure-threshold", "fatal"],
  ]) {
    const r = await runMesh(argv);
    assert.equal(r.code, 2, `${argv.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /^error: /m);
    assert.equal(r.stdout, "");
  }
});

test("analyze: bad input is one error line naming the input, document and line", async () => {
  const r = await runMesh(["analyze", "-"], { stdin: "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  annotations: [a, b]\n" });
  assert.equal(r.code, 1);
  assert.equal(r.stderr.split("\n").filter((l) => l.startsWith("error: ")).length, 1);
  assert.match(r.stderr, /^error: stdin: document 2 \(line 9\): the document: field metadata\.annotations must be a map of strings$/m);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  const broken = await runMesh(["analyze", "-"], { stdin: "kind: Service\napiVersion: v1\nmetadata: {name: [\n" });
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /^error: stdin: document 1 \(line \d+\): /m);
});

test("analyze: List items, JSON and anchors keep their lines", async () => {
  const list = [
    "apiVersion: v1",
    "kind: List",
    "items:",
    "  - apiVersion: policy.linkerd.io/v1beta1",
    "    kind: ServerAuthorization",
    "    metadata: {name: a, namespace: shop}",
    "    spec:",
    "      server:",
    "        name: gone",
  ].join("\n");
  const r = json((await runMesh(["analyze", "-", "-o", "json"], { stdin: list })).stdout).findings;
  assert.deepEqual(r.map((f) => [f.code, f.line]), [["MESH211", 9]]);
  const asJson = JSON.stringify({ apiVersion: "policy.linkerd.io/v1beta1", kind: "ServerAuthorization", metadata: { name: "a", namespace: "shop" }, spec: { server: { name: "gone" } } }, null, 2);
  const j = json((await runMesh(["analyze", "-", "-o", "json"], { stdin: asJson })).stdout).findings;
  assert.deepEqual(j.map((f) => [f.code, f.line]), [["MESH211", 10]]);
  const anchors = "apiVersion: policy.linkerd.io/v1beta1\nkind: ServerAuthorization\nmetadata: &m\n  name: a\n  namespace: shop\nspec:\n  server:\n    name: gone\n";
  const a = json((await runMesh(["analyze", "-", "-o", "json"], { stdin: anchors })).stdout).findings;
  assert.deepEqual(a.map((f) => [f.code, f.line]), [["MESH211", 8]]);
});

test("analyze: server-supplied text is sanitised in every output", async () => {
  const evil = "apiVersion: policy.linkerd.io/v1beta1\nkind: ServerAuthorization\nmetadata:\n  name: a\n  namespace: shop\nspec:\n  server:\n    name: \"x\\e]0;pwned\\a\\e[2J\"\n";
  for (const o of ["table", "json", "sarif"]) {
    const r = await runMesh(["analyze", "-", "-o", o], { stdin: evil });
    assert.ok(r.stdout.includes("MESH211"), r.stdout);
    assert.doesNotMatch(r.stdout, /\x1b|\x07/);
  }
});
