import { test } from "node:test";
import assert from "node:assert/strict";
import { resolveDocument, documentId, type Template } from "../../src/install/template.js";
import { MeshError } from "../../src/errors.js";
import { loadYamlLibrary, readYamlDocuments } from "../../src/install/yaml-read.js";
import type { Tree } from "../../src/install/values.js";

const template = (text: string, file = "test.yaml"): Template => ({ file, docs: readYamlDocuments(text, file) });
const resolve = (text: string, ctx: Tree, index = 0) => resolveDocument(template(text), index, ctx);

test("an exact placeholder takes the value, whatever its type", () => {
  const ctx = { a: { map: { x: 1 }, list: [1, "two"], n: 3, s: "str", nil: null } };
  assert.deepEqual(resolve("m: ${a.map}\nl: ${a.list}\nn: ${a.n}\ns: ${a.s}\nz: ${a.nil}\n", ctx), { m: { x: 1 }, l: [1, "two"], n: 3, s: "str", z: null });
});

test("an optional placeholder drops its pair or list item when the value is undefined or null", () => {
  const ctx = { set: "yes", nil: null };
  assert.deepEqual(resolve("a: ${set?}\nb: ${missing?}\nc: ${nil?}\nl:\n  - 1\n  - ${missing?}\n  - ${set?}\n", ctx), { a: "yes", l: [1, "yes"] });
});

test("a placeholder inside a string interpolates scalars", () => {
  assert.deepEqual(resolve("name: linkerd-${ns}-identity\nport: 0.0.0.0:${p}\nflag: -x=${b}\nlit: $${ns}\n", { ns: "mesh", p: 4191, b: false }), {
    name: "linkerd-mesh-identity",
    port: "0.0.0.0:4191",
    flag: "-x=false",
    lit: "${ns}",
  });
});

test("a `<<` key splices maps in place; explicit keys win", () => {
  const ctx = { extra: { b: "spliced", a: "loses" }, more: { z: 26 } };
  const out = resolve("first: 1\n<<: ${extra}\na: explicit\nsub:\n  <<:\n    - ${missing?}\n    - ${more}\n  k: v\n", ctx);
  assert.deepEqual(out, { first: 1, b: "spliced", a: "explicit", sub: { z: 26, k: "v" } });
  assert.deepEqual(Object.keys(out), ["first", "b", "a", "sub"]);
});

test("values.* maps are inserted with sorted keys, computed ones keep their order", () => {
  const ctx = { values: { m: { z: 1, a: 2 } }, computed: { z: 1, a: 2 } };
  const out = resolve("v: ${values.m}\nc: ${computed}\n", ctx);
  assert.deepEqual(Object.keys(out.v as Tree), ["a", "z"]);
  assert.deepEqual(Object.keys(out.c as Tree), ["z", "a"]);
});

test("inserted values are copies", () => {
  const ctx = { m: { x: 1 } };
  const out = resolve("a: ${m}\n", ctx);
  (out.a as Tree).x = 2;
  assert.equal(ctx.m.x, 1);
});

test("anchors and aliases resolve where used", async () => {
  await loadYamlLibrary();
  assert.deepEqual(resolve("a: &x\n  k: ${v}\nb: *x\n", { v: 1 }), { a: { k: 1 }, b: { k: 1 } });
});

test("a missing required value is an error naming the file, document and YAML path", () => {
  const t = template("a: 1\n---\nspec:\n  list:\n    - x: ${nope}\n", "control-plane/x.yaml");
  assert.throws(
    () => resolveDocument(t, 1, {}),
    (e: unknown) => e instanceof MeshError && e.message === "template control-plane/x.yaml (document 2) at spec.list[0].x: ${nope} is not set",
  );
  assert.throws(() => resolve("a: pre-${nope}\n", {}), /at a: \$\{nope\} is not set/);
  assert.throws(() => resolve("a: pre-${m}\n", { m: { x: 1 } }), /is not a string, number or boolean/);
  assert.throws(() => resolve("<<: ${s}\n", { s: "flat" }), /a `<<` key takes a map/);
});

test("documentId names a document by kind and unresolved name", () => {
  const t = template("kind: ClusterRole\nmetadata:\n  name: linkerd-${release.namespace}-identity\n");
  assert.equal(documentId(t, 0), "ClusterRole/linkerd-${release.namespace}-identity");
});
