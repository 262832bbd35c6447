import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KubeObject } from "../../src/kube/types.js";
import { runMesh } from "../helpers/run.js";
import { FakeApi } from "../kube/fake-api.js";
import { healthyCluster, healthyMetrics } from "./fixtures.js";

const fake = (objects = healthyCluster(), opts = {}) => new FakeApi(objects, { metrics: healthyMetrics(objects), ...opts });
const run = (args: string[], api = fake(), env: Record<string, string> = {}) => runMesh(["check", "--expected-version", "stable-2.14.10", ...args], { cluster: async () => api.cluster(), env });

for (const [args, message] of [
  [["--pre", "--proxy"], "--pre and --proxy flags are mutually exclusive"],
  [["--pre", "--crds"], "--pre and --crds flags are mutually exclusive"],
  [["--linkerd-cni-enabled"], "--linkerd-cni-enabled can only be used with --pre"],
  [["-o", "wide"], "Invalid output type 'wide'. Supported output types are: json, table, short"],
] as const) {
  test(`flag validation: ${args.join(" ")} is a usage error (exit 2)`, async () => {
    const r = await run([...args]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, new RegExp(`^error: Validation error when executing check command: ${message.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\n`));
  });
}

test("durations are forwarded in Go's notation", async () => {
  const { goDuration } = await import("../../src/commands/check.js");
  assert.deepEqual([300_000, 90_000, 3_600_000, 1500, 500, 0].map(goDuration), ["5m0s", "1m30s", "1h0m0s", "1.5s", "500ms", "0s"]);
});

test("a bad --wait is a usage error (exit 2)", async () => {
  const r = await run(["--wait", "soon"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /"soon" is not a duration/);
});

test("--crds with --proxy is accepted and --crds wins, as in Linkerd", async () => {
  const r = await run(["--crds", "--proxy", "-o", "short"]);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, "Status check results are √\n");
});

test("exit code 0 with warnings only; nothing on stderr without a terminal", async () => {
  const api = fake();
  const r = await runMesh(["check", "--expected-version", "stable-2.14.11"], { cluster: async () => api.cluster() });
  assert.equal(r.code, 0);
  assert.match(r.stdout, /‼ cli is up-to-date\n/);
  assert.match(r.stdout, /Status check results are √\n$/);
  assert.equal(r.stderr, "");
});

test("a namespace labelled for an extension mesh cannot check is a warning in its own section", async () => {
  const objects: KubeObject[] = [...healthyCluster(), { apiVersion: "v1", kind: "Namespace", metadata: { name: "linkerd-viz", labels: { "linkerd.io/extension": "viz" } } }];
  const r = await run(["-o", "short"], fake(objects));
  assert.equal(r.code, 0);
  assert.equal(
    r.stdout,
    'linkerd-viz\n-----------\n‼ Linkerd extension command linkerd-viz exists\n    exec: "linkerd-viz": executable file not found in $PATH\n    see https://linkerd.io/2.14/checks/#extensions for hints\n\nStatus check results are √\n',
  );
});

// Linkerd prints one JSON document per extension after its own (linkerd2#7960): not parseable as
// JSON. mesh prints exactly one document, with the extensions' categories after its own.
test("-o json is exactly one JSON document, extensions included", async () => {
  const objects: KubeObject[] = [...healthyCluster(), { apiVersion: "v1", kind: "Namespace", metadata: { name: "linkerd-viz", labels: { "linkerd.io/extension": "viz" } } }];
  const j = await run(["-o", "json"], fake(objects));
  assert.equal(j.code, 0);
  const doc = JSON.parse(j.stdout) as { success: boolean; categories: { categoryName: string; checks: { description: string; result: string; error?: string }[] }[] };
  assert.equal(doc.success, true);
  const names = doc.categories.map((c) => c.categoryName);
  assert.equal(names[0], "kubernetes-api");
  assert.equal(names[names.length - 1], "linkerd-viz");
  assert.deepEqual(doc.categories[names.length - 1].checks, [
    { description: "Linkerd extension command linkerd-viz exists", hint: "https://linkerd.io/2.14/checks/#extensions", error: 'exec: "linkerd-viz": executable file not found in $PATH', result: "warning" },
  ]);
});

for (const [name, args, api, expectSuccess] of [
  ["--pre on a cluster that already has Linkerd (fails)", ["--pre"], () => fake(), false],
  ["--proxy", ["--proxy"], () => fake(), true],
  ["--crds", ["--crds"], () => fake(), true],
  ["an unreachable cluster", [], undefined, false],
  [
    "extension namespaces that cannot be listed",
    [],
    () => fake(healthyCluster(), { intercept: (req: { path: string }) => (/^\/api\/v1\/namespaces(\?|$)/.test(req.path) ? { status: 500, body: '{"message":"boom"}' } : undefined) }),
    false,
  ],
] as const) {
  test(`-o json is one JSON document in every mode: ${name}`, async () => {
    const r = api ? await run([...args, "-o", "json"], api()) : await runMesh(["check", ...args, "-o", "json"]);
    const doc = JSON.parse(r.stdout) as { success: boolean; categories: { checks: { result: string }[] }[] };
    assert.equal(doc.success, expectSuccess);
    assert.equal(r.code, expectSuccess ? 0 : 1);
    assert.ok(doc.categories.length > 0);
    const results = doc.categories.flatMap((c) => c.checks.map((k) => k.result));
    assert.equal(results.includes("error"), !expectSuccess);
  });
}

test("--fail-on warning: a warning fails the run (exit 1), in the table and in the JSON's success", async () => {
  // stable-2.14.11 as the latest release: "cli is up-to-date" is a warning, nothing fails.
  const warn = (args: string[]) => runMesh(["check", "--expected-version", "stable-2.14.11", ...args], { cluster: async () => fake().cluster() });
  const plain = await warn(["-o", "short"]);
  assert.equal(plain.code, 0);
  const strict = await warn(["-o", "short", "--fail-on", "warning"]);
  assert.equal(strict.code, 1);
  assert.match(strict.stdout, /‼ cli is up-to-date\n/);
  assert.match(strict.stdout, /Status check results are ×\n$/);
  const json = await warn(["-o", "json", "--fail-on", "warning"]);
  assert.equal(json.code, 1);
  const doc = JSON.parse(json.stdout) as { success: boolean; categories: { checks: { description: string; result: string }[] }[] };
  assert.equal(doc.success, false);
  const warnings = doc.categories.flatMap((c) => c.checks.filter((k) => k.result === "warning").map((k) => k.description));
  assert.ok(warnings.includes("cli is up-to-date"), warnings.join(", "));
  assert.ok(!doc.categories.some((c) => c.checks.some((k) => k.result === "error")));
  const bad = await warn(["--fail-on", "info"]);
  assert.equal(bad.code, 2);
});

test("an extension executable on PATH is run with the forwarded flags and its JSON re-rendered", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mesh-ext-"));
  const exe = join(dir, "linkerd-foo");
  writeFileSync(
    exe,
    `#!/bin/sh
echo "$@" > ${dir}/args
cat <<'JSON'
{"success": false, "categories": [{"categoryName": "linkerd-foo", "checks": [{"description": "foo works", "result": "success"}, {"description": "foo is fast", "hint": "https://example.com/#foo", "error": "too slow", "result": "error"}]}]}
JSON
`,
  );
  chmodSync(exe, 0o755);
  const objects: KubeObject[] = [...healthyCluster(), { apiVersion: "v1", kind: "Namespace", metadata: { name: "foo", labels: { "linkerd.io/extension": "foo" } } }];
  const r = await run(["-o", "short"], fake(objects), { PATH: dir });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "linkerd-foo\n-----------\n× foo is fast\n    too slow\n    see https://example.com/#foo for hints\n\nStatus check results are ×\n");
  const { readFileSync } = await import("node:fs");
  assert.equal(readFileSync(join(dir, "args"), "utf8"), "check --linkerd-namespace=linkerd --proxy=false --wait=5m0s --output=json\n");
});

// Linkerd aborts here ("failed to run extensions checks", no status line); mesh reports one failed
// check and ends the run with its status line, whatever the server answered (issue 9).
test("when extension namespaces cannot be listed: one failed check, then the status line", async () => {
  const api = fake(healthyCluster(), {
    intercept: (req: { path: string }) => (/^\/api\/v1\/namespaces(\?|$)/.test(req.path) ? { status: 500, body: '{"message":"boom"}' } : undefined),
  });
  const r = await run(["-o", "short"], api);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /linkerd-extensions\n-+\n× can list the namespaces of Linkerd extensions\n    the API server answered 500 to GET \/api\/v1\/namespaces: boom\n/);
  assert.match(r.stdout, /\nStatus check results are ×\n$/);
  assert.equal(r.stderr, "");
});

test("an unreachable cluster: one failed check, the status line, no extension error", async () => {
  const r = await runMesh(["check"]);
  assert.equal(r.code, 1);
  assert.equal(
    r.stdout,
    "kubernetes-api\n--------------\n× can initialize the client\n    cannot connect to the Kubernetes API at https://127.0.0.1:1: connection refused\n    see https://linkerd.io/2.14/checks/#k8s-api for hints\n\nStatus check results are ×\n",
  );
  assert.equal(r.stderr, "");
});

test("--cli-version-override changes the version compared and the hint base", async () => {
  const r = await run(["--cli-version-override", "edge-24.2.4", "-o", "short"]);
  assert.match(r.stdout, /‼ cli is up-to-date\n    unsupported version channel: edge-24.2.4\n    see https:\/\/linkerd.io\/2\/checks\/#l5d-version-cli for hints/);
});

test("MESH_CHECK_STATS=1 reports the number of API requests on stderr", async () => {
  const r = await run(["-o", "short"], fake(), { MESH_CHECK_STATS: "1" });
  assert.match(r.stderr, /^mesh check: \d+ API requests\n$/);
});
