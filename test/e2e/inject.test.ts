/**
 * Every injected golden output is accepted by a real API server (server-side dry run of a
 * create: `apply` refuses objects with only a generateName, which the Pod goldens have).
 * Runs in the cluster phase of scripts/test.mjs.
 *
 * The 1.20 server knows CronJob only as batch/v1beta1 (batch/v1 arrives in 1.21, see
 * ../shared/spec/real-cluster.md). The CronJob fixtures use batch/v1beta1; should a golden hold a
 * batch/v1 CronJob, it is sent as batch/v1beta1 (the pod template is the same in both) and the
 * test says so: nothing is skipped. Likewise a `- null` item of a `kind: List` (kept in the
 * output as Linkerd keeps it, but no object kubectl can send) is left out, and said so.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { connectTestCluster } from "../helpers/cluster.js";
import { GOLDEN_DIR } from "../helpers/golden.js";

const dir = join(GOLDEN_DIR, "inject");
const goldens = readdirSync(dir).filter((f) => f.endsWith(".yaml") && f !== "json.yaml");

/** A golden made acceptable to the test namespace of a 1.20 server; `adapted` lists what changed beyond namespaces. */
function forTestServer(yaml: string, ns: string): { yaml: string; adapted: string[] } {
  const adapted: string[] = [];
  const docs = yaml.split(/^(?=---$)/m).map((d) => {
    // objects without a namespace land in the test namespace; Namespaces are renamed to stay unique
    let out = d.replace(/^( {2}namespace: ).*$/gm, `$1${ns}`).replace(/^(kind: Namespace\nmetadata:\n {2}name: )(.*)$/m, `$1${ns}-$2`);
    if (/^kind: List$/m.test(out) && /^- null$/m.test(out)) {
      // kubectl cannot send a null List item (Linkerd's inject reports it as a document without kind)
      out = out.replace(/^- null\n/gm, "");
      adapted.push("null List item left out");
    }
    if (/^kind: CronJob$/m.test(out) && /^apiVersion: batch\/v1$/m.test(out)) {
      out = out.replace(/^apiVersion: batch\/v1$/m, "apiVersion: batch/v1beta1");
      adapted.push(`CronJob/${/^ {2}name: (.*)$/m.exec(out)?.[1] ?? "?"} sent as batch/v1beta1`);
    }
    return out;
  });
  return { yaml: docs.join(""), adapted };
}

test("the adaptation for the test server: batch/v1 CronJob sent as batch/v1beta1, null List items left out, said so; nothing else changed", () => {
  const input =
    "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: nightly\n  namespace: prod\nspec: {}\n---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: once\n" +
    "---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: c\n- null\n";
  const { yaml, adapted } = forTestServer(input, "t1");
  assert.equal(yaml, input.replace("batch/v1\nkind: CronJob", "batch/v1beta1\nkind: CronJob").replace("namespace: prod", "namespace: t1").replace("- null\n", ""));
  assert.deepEqual(adapted, ["CronJob/nightly sent as batch/v1beta1", "null List item left out"]);
});

test("the API server accepts every injected golden (server-side dry run)", async (t) => {
  const c = await connectTestCluster();
  const ns = await c.newNamespace("inject");
  assert.ok(goldens.length >= 10, `expected the inject goldens in ${dir}`);
  for (const f of goldens) {
    const { yaml, adapted } = forTestServer(readFileSync(join(dir, f), "utf8"), ns);
    for (const a of adapted) t.diagnostic(`${f}: ${a}`);
    const objects = (yaml.match(/^kind: /gm) ?? []).length;
    const r = await c.kubectl(["create", "--dry-run=server", "-o", "name", "-n", ns, "-f", "-"], { stdin: yaml, allowFail: true });
    assert.equal(r.code, 0, `${f}: ${r.stderr ?? ""}`);
    // one name back per object the server accepted (kind: List items count as theirs)
    const created = (r.stdout ?? "").split("\n").filter(Boolean).length;
    assert.ok(created >= objects, `${f}: ${created} of ${objects} objects accepted:\n${r.stdout}`);
  }
});
