import { test } from "node:test";
import assert from "node:assert/strict";
import type { CheckResult } from "../../src/checks/types.js";
import { formatRun, formatStatus, printRun } from "../../src/output/check-report.js";
import { goJsonString } from "../../src/output/go-json.js";
import { theme } from "../../src/output/theme.js";
import { memoryIo } from "../../src/io.js";

const r = (category: string, description: string, status: CheckResult["status"], error?: string, extra: Partial<CheckResult> = {}): CheckResult => ({
  category,
  checkId: description,
  description,
  hintUrl: "https://linkerd.io/2/checks/#hint-anchor",
  status,
  retry: false,
  error,
  ...extra,
});

// Linkerd's cli/cmd/testdata/check_output.golden and check_output_json.golden: one passing and one failing check.
const linkerdCase = [r("category", "check1", "ok"), r("category", "check2", "error", "This should contain instructions for fail")];

test("table output is Linkerd's, byte for byte", () => {
  assert.equal(
    formatRun(linkerdCase, "table").text,
    "category\n--------\n\u221A check1\n\u00D7 check2\n    This should contain instructions for fail\n    see https://linkerd.io/2/checks/#hint-anchor for hints\n\n",
  );
});

test("json output is Linkerd's, byte for byte", () => {
  assert.equal(
    formatRun(linkerdCase, "json").text,
    `{
  "success": false,
  "categories": [
    {
      "categoryName": "category",
      "checks": [
        {
          "description": "check1",
          "result": "success"
        },
        {
          "description": "check2",
          "hint": "https://linkerd.io/2/checks/#hint-anchor",
          "error": "This should contain instructions for fail",
          "result": "error"
        }
      ]
    }
  ]
}
`,
  );
});

test("short output shows only problems, and a healthy run only the status line", () => {
  const healthy = [r("a", "x", "ok"), r("b", "y", "ok")];
  assert.equal(formatRun(healthy, "short").text + formatStatus(true), "Status check results are \u221A\n");
  const mixed = [r("a", "x", "ok"), r("b", "y", "warning", "careful"), r("b", "z", "ok"), r("c", "w", "error", "broken")];
  assert.equal(
    formatRun(mixed, "short").text,
    "b\n-\n\u203C y\n    careful\n    see https://linkerd.io/2/checks/#hint-anchor for hints\n\nc\n-\n\u00D7 w\n    broken\n    see https://linkerd.io/2/checks/#hint-anchor for hints\n\n",
  );
});

test("categories are separated by an empty line; warnings print ‼", () => {
  const out = formatRun([r("kubernetes-api", "can query the Kubernetes API", "ok"), r("linkerd-version", "cli is up-to-date", "warning", "is running version 2.14.9 but the latest stable version is 2.14.10")], "table");
  assert.equal(
    out.text,
    "kubernetes-api\n--------------\n\u221A can query the Kubernetes API\n\nlinkerd-version\n---------------\n\u203C cli is up-to-date\n    is running version 2.14.9 but the latest stable version is 2.14.10\n    see https://linkerd.io/2/checks/#hint-anchor for hints\n\n",
  );
  assert.deepEqual({ success: out.success, warning: out.warning }, { success: true, warning: true });
});

test("skipped results print nothing, not even their category", () => {
  assert.equal(formatRun([r("a", "x", "ok"), r("cni", "y", "skipped", "CNI off")], "table").text, "a\n-\n\u221A x\n\n");
  assert.equal(formatRun([r("cni", "y", "skipped", "CNI off")], "json").text, '{\n  "success": true,\n  "categories": null\n}\n');
});

test("a retrying result prints its category header but no line; json opens the category", () => {
  const retrying = [r("linkerd-existence", "control plane pods are ready", "error", "waiting for check to complete", { retry: true }), r("linkerd-existence", "control plane pods are ready", "ok")];
  assert.equal(formatRun(retrying, "table").text, "linkerd-existence\n-----------------\n\u221A control plane pods are ready\n\n");
  assert.match(formatRun(retrying, "json").text, /"categoryName": "linkerd-existence",\n      "checks": \[\n        \{\n          "description": "control plane pods are ready",\n          "result": "success"/);
});

test("json escapes like Go's encoder: <, > and & as \\u003c, \\u003e, \\u0026", () => {
  assert.equal(goJsonString('a <b> & "c"\n\t\\'), '"a \\u003cb\\u003e \\u0026 \\"c\\"\\n\\t\\\\"');
  assert.equal(goJsonString("\u0008\u2028"), '"\\u0008\\u2028"');
});

test("colour: bold green, yellow and red glyphs at level 1, plain at 0", () => {
  assert.equal(theme(1).ok, "\u001b[1m\u001b[32m\u221A\u001b[39m\u001b[22m");
  assert.equal(theme(0).fail, "\u00D7");
  assert.equal(formatStatus(false, theme(0)), "Status check results are \u00D7\n");
});

test("printRun streams results as they arrive and drives the spinner only for retries", async () => {
  const m = memoryIo();
  const events: string[] = [];
  const spin = { start: (t: string) => events.push(`start ${t}`), stop: () => events.push("stop") };
  async function* gen() {
    yield r("a", "x", "error", "waiting for check to complete", { retry: true });
    events.push(`written: ${JSON.stringify(m.stdout())}`);
    yield r("a", "x", "ok");
  }
  const res = await printRun(gen(), m.io, "table", theme(0), spin);
  assert.deepEqual(res, { success: true, warning: false });
  assert.equal(m.stdout(), "a\n-\n\u221A x\n\n");
  assert.deepEqual(events.slice(0, 3), ["stop", "start waiting for check to complete", 'written: "a\\n-\\n"']);
});
