/**
 * Every injected golden output is accepted by a real API server (server-side dry run).
 * Runs in the cluster phase of scripts/test.mjs. The 1.20 server knows CronJob only as
 * batch/v1beta1, which is what the fixtures use.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { connectTestCluster } from "../helpers/cluster.js";
import { GOLDEN_DIR } from "../helpers/golden.js";

const dir = join(GOLDEN_DIR, "inject");
const goldens = readdirSync(dir).filter((f) => f.endsWith(".yaml") && f !== "json.yaml");

test("the API server accepts every injected golden (server-side dry run)", async () => {
  const c = await connectTestCluster();
  const ns = await c.newNamespace("inject");
  for (const f of goldens) {
    // objects without a namespace land in the test namespace; Namespaces are renamed to stay unique
    const yaml = readFileSync(join(dir, f), "utf8").replace(/^( {2}namespace: ).*$/gm, `$1${ns}`).replace(/^(kind: Namespace\nmetadata:\n {2}name: )(.*)$/m, `$1${ns}-$2`);
    const r = await c.kubectl(["apply", "--dry-run=server", "-n", ns, "-f", "-"], { stdin: yaml, allowFail: true });
    assert.equal(r.code, 0, `${f}: ${r.stderr ?? ""}`);
  }
});
