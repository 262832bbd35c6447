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
  // a kind: List in kubectl's layout is read item by item, up to 64 MiB
  ["a 70 MB kind: List", `${ok}apiVersion: v1\nitems:\n${"- kind: ConfigMap\n  data:\n    k: '0123456789012345678901234567890123456789'\n".repeat(900_000)}kind: List\n`, /^error: stdin: document 2 \(line 6\): the document is larger than 64 MiB/],
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

test("a kind: List between 32 and 64 MiB, as kubectl prints it, is injected and uninjected item by item; -o json still refuses it", async () => {
  const item = (i: number) => `- apiVersion: apps/v1\n  kind: Deployment\n  metadata:\n    name: web-${i}\n  spec:\n    template:\n      spec:\n        containers:\n        - name: web\n          image: nginx\n  # ${"x".repeat(300)}\n`;
  const parts = ["apiVersion: v1\nitems:\n"];
  for (let i = 0; i < 90_000; i++) parts.push(item(i));
  parts.push('kind: List\nmetadata:\n  resourceVersion: ""\n');
  const list = parts.join("");
  assert.ok(list.length > 33 * 1024 * 1024 && list.length < 64 * 1024 * 1024, `${list.length} characters`);
  const injected = await runMesh(["inject", "--ignore-cluster", "-"], { stdin: list });
  assert.equal(injected.code, 0, injected.stderr.slice(0, 500));
  assert.equal((injected.stdout.match(/^ {8}annotations:\n {10}linkerd\.io\/inject: enabled$/gm) ?? []).length, 90_000, "every item annotated");
  const back = await runMesh(["uninject", "-"], { stdin: injected.stdout });
  assert.equal(back.code, 0, back.stderr.slice(0, 500));
  assert.ok(back.stdout === list, "uninject(inject(x)) == x");
  const json = await runMesh(["inject", "--ignore-cluster", "-o", "json", "-"], { stdin: list });
  assert.equal(json.code, 1);
  assert.equal(json.stdout, "");
  assert.match(json.stderr, /^error: stdin: document 1 \(line 1\): the document is larger than 32 MiB/);
});
