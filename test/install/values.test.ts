import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { isMap, isScalar, parseDocument, type Pair, type YAMLMap } from "yaml";
import { coalesce, defaultValues, diffValues, haValues, mergeTrees, sortKeys, type Tree } from "../../src/install/values.js";
import { templatesDir } from "../../src/paths.js";

/** Keys whose children are Kubernetes shapes (or `{request, limit}` maps) explained by the parent's comment. */
const SHAPES = /(^|\.)(\w*[rR]esources|namespaceSelector|objectSelector|nodeSelector|deploymentStrategy)$/;

/** Keys without a comment of their own nor a group comment (a comment above a run of keys without blank lines). */
function undocumented(file: string): string[] {
  const doc = parseDocument(readFileSync(templatesDir(file), "utf8"));
  const out: string[] = [];
  const walk = (m: YAMLMap, prefix: string) => {
    let previous = false;
    m.items.forEach((p: Pair, i) => {
      const key = p.key as { value?: unknown; commentBefore?: string | null; spaceBefore?: boolean };
      const path = prefix ? `${prefix}.${String(key.value)}` : String(key.value);
      const documented = Boolean(key.commentBefore) || (i > 0 && !key.spaceBefore && previous) || (i === 0 && Boolean(prefix === "" ? doc.commentBefore : m.commentBefore));
      if (!documented) out.push(path);
      previous = documented;
      if (isMap(p.value) && !SHAPES.test(path)) walk(p.value as YAMLMap, path);
    });
  };
  walk(doc.contents as YAMLMap, "");
  return out;
}

test("every key of templates/values.yaml is documented by a comment", () => {
  assert.deepEqual(undocumented("values.yaml"), []);
});

test("every key of templates/values-ha.yaml is documented by a comment", () => {
  assert.deepEqual(undocumented("values-ha.yaml"), []);
});

test("values-ha.yaml only sets keys that values.yaml has", () => {
  const defaults = defaultValues() as unknown as Tree;
  const missing: string[] = [];
  const walk = (ha: Tree, def: Tree, prefix: string) => {
    for (const [k, v] of Object.entries(ha)) {
      const path = `${prefix}${k}`;
      if (!(k in def)) missing.push(path);
      else if (v && typeof v === "object" && def[k] && typeof def[k] === "object") walk(v as Tree, def[k] as Tree, `${path}.`);
    }
  };
  walk(haValues(), defaults, "");
  assert.deepEqual(missing, []);
});

test("defaults carry the release mesh targets", () => {
  const v = defaultValues();
  assert.equal(v.linkerdVersion, "stable-2.14.10");
  assert.equal(v.cliVersion, "linkerd/cli stable-2.14.10");
  assert.equal(v.debugContainer.image.version, "stable-2.14.10");
  assert.equal(v.proxyInit.image.version, "v2.2.3");
  assert.equal(v.proxy.image.version, "");
  // Each call is a fresh copy.
  v.proxy.uid = 1;
  assert.equal(defaultValues().proxy.uid, 2102);
});

test("mergeTrees merges maps key by key and replaces everything else", () => {
  const base = { a: { b: 1, c: [1, 2] }, d: "x", e: { f: 1 } };
  const merged = mergeTrees(base, { a: { c: [3] }, d: { nested: true }, e: null });
  assert.deepEqual(merged, { a: { b: 1, c: [3] }, d: { nested: true }, e: null });
  assert.deepEqual(base, { a: { b: 1, c: [1, 2] }, d: "x", e: { f: 1 } }, "inputs untouched");
});

const coalesceCases: { name: string; defaults: Tree; overrides: Tree; want: Tree; warnings?: number }[] = [
  { name: "overrides win, maps merge", defaults: { a: 1, m: { x: 1, y: 2 } }, overrides: { a: 2, m: { y: 3 } }, want: { a: 2, m: { x: 1, y: 3 } } },
  { name: "null deletes a defaulted key", defaults: { a: 1, m: { x: 1, y: 2 } }, overrides: { a: null, m: { x: null } }, want: { m: { y: 2 } } },
  { name: "null for an unknown key stays", defaults: { a: 1 }, overrides: { b: null }, want: { a: 1, b: null } },
  { name: "lists are replaced, not merged", defaults: { l: [1, 2, 3] }, overrides: { l: [9] }, want: { l: [9] } },
  { name: "a scalar over a map wins, with a warning", defaults: { m: { x: 1 } }, overrides: { m: "flat" }, want: { m: "flat" }, warnings: 1 },
  { name: "a map over a scalar wins, with a warning", defaults: { s: "flat" }, overrides: { s: { x: 1 } }, want: { s: { x: 1 } }, warnings: 1 },
  { name: "a map over null defaults needs no warning", defaults: { r: null }, overrides: { r: { cpu: { request: "1" } } }, want: { r: { cpu: { request: "1" } } }, warnings: 0 },
];

for (const c of coalesceCases)
  test(`coalesce (Helm): ${c.name}`, () => {
    const warnings: string[] = [];
    assert.deepEqual(coalesce(c.defaults, c.overrides, warnings), c.want);
    assert.equal(warnings.length, c.warnings ?? 0, warnings.join("; "));
  });

test("diffValues keeps changed leaves, whole lists and deletions; coalescing it restores the values", () => {
  const defaults = { a: 1, m: { x: 1, y: 2 }, l: [1, 2], gone: { z: 1 }, same: { q: "s" } };
  const actual = { a: 1, m: { x: 1, y: 5 }, l: [1, 2, 3], extra: "new", same: { q: "s" } };
  const diff = diffValues(defaults, actual);
  assert.deepEqual(diff, { m: { y: 5 }, l: [1, 2, 3], extra: "new", gone: null });
  assert.deepEqual(sortKeys(coalesce(defaults, diff)), sortKeys(actual));
});

test("the HA overlay changes exactly what Linkerd's HA changes (plus sp-validator and policy resources)", () => {
  const defaults = defaultValues() as unknown as Tree;
  const ha = mergeTrees(defaults, haValues());
  assert.deepEqual(Object.keys(diffValues(defaults, ha)).sort(), [
    "controllerReplicas",
    "deploymentStrategy",
    "destinationResources",
    "enablePodAntiAffinity",
    "enablePodDisruptionBudget",
    "heartbeatResources",
    "highAvailability",
    "identityResources",
    "policyController",
    "proxy",
    "proxyInjectorResources",
    "spValidatorResources",
    "webhookFailurePolicy",
  ]);
  assert.deepEqual((ha.proxy as Tree).resources, {
    cpu: { limit: "", request: "100m" },
    memory: { limit: "250Mi", request: "20Mi" },
    "ephemeral-storage": { limit: "", request: "" },
  });
});
