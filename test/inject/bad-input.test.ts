import { test } from "node:test";
import assert from "node:assert/strict";
import { runMesh } from "../helpers/run.js";
import { injectDefaults } from "../../src/commands/inject.js";
import { defaultValues } from "../../src/install/values.js";

const ok = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n---\n";
const cases: [string, string, RegExp][] = [
  ["malformed YAML", `${ok}kind: Deployment\nmetadata: {name: [x\n`, /^error: stdin: document 2 \(line \d+\): /],
  ["a document that is not an object", `${ok}- just\n- a list\n`, /^error: stdin: document 2 \(line 6\): the document is not an object \(it is a list\)/],
  ["a pod template with no containers", `${ok}apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers: []\n`, /^error: stdin: document 2 \(line 13\): Deployment\/web: the pod template has no containers/],
  ["binary data", `${ok}\x1f\x8b\x08\x00binary`, /^error: stdin: document 2 \(line 6\): the input is not YAML text \(control character 0x1f\)/],
  ["an alias bomb", `${ok}a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n`, /^error: stdin: document 2 \(line 6\): .*alias/i],
  ["a 50 MB document", `${ok}data: |\n${"  0123456789012345678901234567890123456789\n".repeat(1_250_000)}`, /^error: stdin: document 2 \(line 6\): the document is larger than 32 MiB/],
];

for (const [what, stdin, re] of cases)
  test(`bad input, ${what}: one error naming the input, document and line; exit 1; nothing on stdout`, async () => {
    for (const cmd of ["inject", "uninject"]) {
      const r = await runMesh(cmd === "inject" ? [cmd, "--ignore-cluster", "-"] : [cmd, "-"], { stdin });
      if (cmd === "uninject" && what === "a pod template with no containers") {
        assert.equal(r.code, 0);
        continue;
      }
      assert.equal(r.code, 1, `${cmd}: ${r.stderr}`);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, re, cmd);
      assert.equal(r.stderr.split("\n").filter((l) => l.startsWith("error:")).length, 1);
    }
  });

test("a missing file is named", async () => {
  const r = await runMesh(["inject", "--ignore-cluster", "test/fixtures/inject/nope.yaml"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: cannot read test\/fixtures\/inject\/nope.yaml: no such file or directory/);
});

test("inject's fast defaults equal install's defaultValues()", async () => {
  assert.deepEqual(JSON.parse(JSON.stringify(await injectDefaults())), JSON.parse(JSON.stringify(defaultValues())));
});
