import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { parseAllDocuments } from "yaml";
import { loadYamlLibrary, namedExports, readYamlDocuments, readYamlSubset } from "../../src/install/yaml-read.js";
import { templatesDir } from "../../src/paths.js";

const viaLibrary = (text: string) => parseAllDocuments(text).map((d) => d.toJS({ maxAliasCount: -1 })).filter((d) => d !== null);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".yaml") ? [p] : [];
  });
}

for (const file of files(templatesDir())) {
  const name = relative(templatesDir(), file);
  test(`templates/${name}: the fast reader agrees with the yaml library`, () => {
    const text = readFileSync(file, "utf8");
    const fast = readYamlSubset(text);
    // mesh's own templates stay inside the fast subset (templates/crds/ may use more of YAML).
    if (!name.startsWith("crds/")) assert.ok(fast, `templates/${name} uses YAML outside the fast subset`);
    if (fast) assert.deepEqual(fast, viaLibrary(text));
  });
}

const agree: [string, string][] = [
  ["scalars", "a: 1\nb: -2\nc: 1.5\nd: .5\ne: 1e3\nf: true\ng: False\nh: null\ni: ~\nj:\nk: yes\nl: 0755\nm: 1_000\nn: \"q\\\"uoted\\n\"\no: 'it''s'\np: 10.0.0.0/8\nq: a#b\nr: x # comment\n"],
  ["collections", "m:\n  a: []\n  b: {}\n  c: [\"x\", y, 1, true]\nl:\n- a\n- b: 1\n  c: 2\n-\n  - nested\n- - deep\n  - er\n"],
  ["lists under keys at the same indentation", "a:\n- 1\n- 2\nb: 3\n"],
  ["literal blocks", "a: |\n  line\n    more\n\n  last\nb: |-\n  strip\nc: |+\n  keep\n\nd: |2\n    indented\ne: end\n"],
  ["documents", "---\na: 1\n---\n# only a comment\n---\nb: 2\n"],
  ["merge-key templates", "labels:\n  x: y\n  <<: ${labels.common?}\nmore:\n  <<:\n    - ${a?}\n    - ${b}\n"],
];

for (const [name, text] of agree)
  test(`fast reader: ${name}`, () => {
    const fast = readYamlSubset(text);
    assert.ok(fast, "should stay in the subset");
    assert.deepEqual(fast, viaLibrary(text));
  });

const outside = ["a: &x 1\nb: *x\n", "a: >\n  folded\n", "a: b\n  continued\n", "? complex\n: key\n", "a: !tag x\n", "a: {b: 1}\n", "a: [1, [2]]\n", "a:\tb\n", "a: b: c\n", "\"quoted key\": 1\n", "a: 0x1F\n", "%YAML 1.2\n---\na: 1\n", "a: 1\na: 2\n"];
for (const text of outside)
  test(`fast reader leaves ${JSON.stringify(text.slice(0, 20))} to the yaml library`, () => {
    assert.equal(readYamlSubset(text), undefined);
  });

test("readYamlDocuments needs the yaml library outside the subset, then falls back to it and reports its errors", async () => {
  assert.throws(() => readYamlDocuments("a: &x {k: 1}\nb: *x\n", "t"), /internal: t needs the yaml library/);
  await loadYamlLibrary();
  assert.deepEqual(readYamlDocuments("a: &x {k: 1}\nb: *x\n", "t"), [{ a: { k: 1 }, b: { k: 1 } }]);
  assert.throws(() => readYamlDocuments("a: [1\n", "template x.yaml"), /^MeshError: template x\.yaml: /);
});

test("namedExports finds a CommonJS module's exports behind `default` (how the bundle imports yaml)", () => {
  const lib = { parse: () => 1 };
  assert.equal(namedExports({ default: lib }), lib);
  assert.equal(namedExports(lib), lib);
  const both = { parse: () => 2, default: lib };
  assert.equal(namedExports(both), both);
});
