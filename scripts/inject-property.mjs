// The long property run of inject/uninject: N generated streams (default 100,000 manifests),
// both modes each, every output re-read by the `yaml` package; and planned injection (plans and
// templates reused across the whole run, on each stream and a renamed variant) compared byte
// for byte with the ordinary transform.
//   node scripts/inject-property.mjs [manifests] [seed]
import { tsImport } from "tsx/esm/api";

const N = Number(process.argv[2] ?? 100_000);
const seed = Number(process.argv[3] ?? Date.now() % 1e9);
const p = await tsImport("../test/inject/property.ts", import.meta.url);
await p.loadYamlLib();
const r = p.rng(seed);
const planned = [p.config(false), p.config(true)];
const ordinary = [p.config(false), p.config(true)];
let docs = 0;
let streams = 0;
const t0 = Date.now();
for (let i = 0; docs < N; i++, streams++) {
  const text = p.genStream(r, i);
  docs += p.docCount(text);
  const err = p.check(text, true, [false, true]) ?? p.comparePlanned(text, planned[i % 2], ordinary[i % 2]);
  if (err) {
    console.error(`seed ${seed}, case ${i}: ${err}\n--- input ---\n${text}`);
    process.exit(1);
  }
  if (streams % 5000 === 0 && streams) console.error(`${docs} manifests...`);
}
console.log(`${docs} manifests in ${streams} streams (seed ${seed}): all properties hold, planned injection equal to the ordinary transform (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
console.log(`${docs} passed, 0 failed`);
