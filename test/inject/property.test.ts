import { test } from "node:test";
import assert from "node:assert/strict";
import { check, docCount, genStream, loadYamlLib, rng } from "./property.js";

const N = Number(process.env.MESH_INJECT_PROPERTY_CASES ?? 10_000);

test(`${N} generated manifests: uninject(inject(x)) == x and inject(inject(x)) == inject(x)`, async () => {
  await loadYamlLib();
  const r = rng(20240214);
  let docs = 0;
  for (let i = 0; docs < N; i++) {
    const text = genStream(r, i);
    docs += docCount(text);
    // modes alternate and the yaml package re-reads one output in 25 (scripts/inject-property.mjs does all of it)
    const err = check(text, i % 25 === 0, [i % 2 === 1]);
    if (err) assert.fail(`case ${i}: ${err}\n--- input ---\n${text}`);
  }
});
