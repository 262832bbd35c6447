import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parse, parseAllDocuments, stringify } from "yaml";
import { toYaml } from "../../src/install/emit.js";
import { GOLDEN_DIR } from "../helpers/golden.js";

/** Strings a YAML 1.1 or 1.2 reader could take for something else, or that need care. */
const TRICKY = [
  "", " a", "a ", "yes", "No", "on", "OFF", "y", "Y", "n", "~", "null", "NULL", "true", "False",
  "1", "-1", "+1", "0", "0755", "0o17", "0x1F", "0b101", "1_000", "1e3", "1.5", ".5", "1.", "1:30", "-1:30:00",
  "2026-01-01", "2026-1-1 10:00", ".inf", "-.inf", ".NaN", "=", "<<",
  "*", "&a", "!x", "%x", "@x", "`x", "|", ">", "'s'", "\"q\"", "{x}", "[x]", "a,b", "#c", "?", "? x", ",x",
  "a: b", "a #b", "a:", "a:b", "-", "--", "---", "---x", "...", "- a", "-a", "--flag", "-log-level=info",
  "a\nb", "a\nb\n", "a\nb\n\n", "\n", " lead\nx", "\nlead", "line\n  indented\n", "x\r\ny", "tab\tx", "\u0001", "\u2028",
  "ü", "日本", "0.0.0.0:4191", "$(_pod_ns):$(_pod_name)", "{\"ns\":\"$(_pod_ns)\"}\n", "4567,4568", "10.0.0.0/8", "25%",
];

for (const t of TRICKY)
  test(`toYaml round-trips ${JSON.stringify(t)} under YAML 1.1 and 1.2`, () => {
    const doc = { k: t, list: [t, { [t || "e"]: t }, [t]], [t || "empty"]: [[t]], n: { m: t } };
    const y = toYaml(doc);
    for (const version of ["1.1", "1.2"] as const) assert.deepEqual(parse(y, { version }), doc, `YAML ${version}:\n${y}`);
  });

test("toYaml writes scalars, empty collections and nesting like the yaml library", () => {
  const doc = { a: 1, b: 1.5, c: true, d: null, e: [], f: {}, g: [{ x: 1, y: [1, 2] }, [3, [4]], "s"], h: "multi\nline\n", i: "keep\n\n", j: "strip\nme" };
  assert.equal(toYaml(doc), stringify(doc, { version: "1.1", lineWidth: 0 }));
  assert.equal(toYaml({}), "{}\n");
  assert.equal(toYaml([1, { a: 2 }]), "- 1\n- a: 2\n");
});

test("toYaml renders every golden document back to equal data", () => {
  for (const name of ["default.yaml", "ha.yaml", "custom-values.yaml", "crds.yaml"]) {
    for (const d of parseAllDocuments(readFileSync(`${GOLDEN_DIR}/install/${name}`, "utf8"))) {
      const js = d.toJS();
      assert.deepEqual(parse(toYaml(js), { version: "1.1" }), js);
    }
  }
});
