// The one place users' YAML is parsed with the `yaml` library (src/yaml-lib.ts): the nesting
// bound (a linear pre-scan, before any parser recurses), duplicate and collection keys found in
// linear time, and errors that locate without quoting.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { loadYaml, MAX_YAML_DEPTH, parseYamlSafe, yamlDepthProblem, YamlInputError } from "../../src/yaml-lib.js";
import { ROOT } from "./harness.js";

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? yamlFiles(p) : /\.(ya?ml|json)$/.test(name) ? [p] : [];
  });
}

test("depth: no real manifest, template or fixture comes near the bound (none is deeper than 64 by the pre-scan)", () => {
  const files = [...yamlFiles(join(ROOT, "templates")), ...yamlFiles(join(ROOT, "test", "fixtures")), ...yamlFiles(join(ROOT, "test", "golden"))];
  assert.ok(files.length > 20);
  for (const f of files) assert.equal(yamlDepthProblem(readFileSync(f, "utf8"), 64), undefined, f);
});

const deep: [name: string, text: string, line: number][] = [
  ["flow", `a: ${"[".repeat(300)}${"]".repeat(300)}\n`, 1],
  ["flow maps", `a: ${"{b: ".repeat(300)}1${"}".repeat(300)}\n`, 1],
  ["block maps", Array.from({ length: 300 }, (_, i) => `${" ".repeat(i)}k:\n`).join("") + `${" ".repeat(300)}x: 1\n`, 257],
  ["block sequences on one line", `${"- ".repeat(300)}x\n`, 1],
  ["flow across lines", `a: ${"[\n".repeat(300)}${"]\n".repeat(300)}`, 256],
  ["JSON", `${'{"a":'.repeat(300)}1${"}".repeat(300)}`, 1],
  ["after an anchor and a tag", `a: &x !!seq ${"[".repeat(300)}${"]".repeat(300)}\n`, 1],
  ["in the second document", `a: 1\n---\nb: ${"[".repeat(300)}${"]".repeat(300)}\n`, 3],
];
for (const [name, text, line] of deep) {
  test(`depth: ${name} past ${MAX_YAML_DEPTH} is found, with its line`, () => {
    const p = yamlDepthProblem(text);
    assert.ok(p, "not found");
    assert.equal(p.line, line);
  });
}

const shallow: [name: string, text: string][] = [
  ["brackets in a double-quoted string", `a: "${"[".repeat(5000)}"\n`],
  ["brackets in a single-quoted string", `a: '${"{".repeat(5000)}'\n`],
  ["brackets in a plain scalar", `a: x${"[".repeat(5000)}\n`],
  ["brackets in a comment", `a: 1 # ${"[".repeat(5000)}\n`],
  ["brackets in a literal block", `a: |\n  ${"[".repeat(5000)}\n  ${"{".repeat(5000)}\nb: 1\n`],
  ["a multi-line quoted string", `a: "${"[\n".repeat(400)}"\n`],
  ["an apostrophe in a plain scalar", `a: it's ${"[".repeat(400)}\nb: [1]\n`],
];
for (const [name, text] of shallow) {
  test(`depth: ${name} is not nesting`, () => {
    assert.equal(yamlDepthProblem(text), undefined);
  });
}

test("parse: errors locate (document, line, column) without quoting the text", async () => {
  const lib = await loadYaml();
  const secret = "SECRET-value-123";
  const cases: [string, RegExp][] = [
    [`a: 1\n---\ntoken: "${secret}\\q"\n`, /^invalid escape sequence$/],
    [`token: |x ${secret}\n  y\n`, /^block scalar header includes extra characters$/],
    [`a: [${secret}\n`, /./],
    [`k: 1\nk: ${secret}\n`, /^duplicate key "k"$/],
    [`? {a: ${secret}}\n: 1\n`, /^a map or list is used as a mapping key/],
  ];
  for (const [text, reason] of cases) {
    assert.throws(
      () => parseYamlSafe(text, {}, lib),
      (e: unknown) => {
        assert.ok(e instanceof YamlInputError, String(e));
        assert.match(e.reason, reason);
        assert.ok(!e.message.includes(secret), e.message);
        assert.match(e.message, /\(document \d+, line \d+, column \d+\)$/);
        return true;
      },
    );
  }
});

test("parse: a collection key leaves no Node warning; 200,000 keys parse in linear time", async () => {
  const lib = await loadYaml();
  const warnings: unknown[] = [];
  const onWarning = (w: unknown) => warnings.push(w);
  process.on("warning", onWarning);
  try {
    assert.throws(() => parseYamlSafe("? [a, b]\n: c\n", {}, lib), YamlInputError);
    const big = `m: &a\n${Array.from({ length: 200_000 }, (_, i) => `  k${i}: v\n`).join("")}`;
    const start = Date.now();
    const [doc] = parseYamlSafe(big, {}, lib) as [{ m: Record<string, string> }];
    assert.equal(Object.keys(doc.m).length, 200_000);
    assert.ok(Date.now() - start < 30_000, `took ${Date.now() - start} ms`);
    await new Promise((r) => setImmediate(r));
  } finally {
    process.off("warning", onWarning);
  }
  assert.deepEqual(warnings, []);
});
