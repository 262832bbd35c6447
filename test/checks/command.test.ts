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

test("a namespace labelled for an extension mesh cannot check is a warning in its own section and JSON document", async () => {
  const objects: KubeObject[] = [...healthyCluster(), { apiVersion: "v1", kind: "Namespace", metadata: { name: "linkerd-viz", labels: { "linkerd.io/extension": "viz" } } }];
  const r = await run(["-o", "short"], fake(objects));
  assert.equal(r.code, 0);
  assert.equal(
    r.stdout,
    'linkerd-viz\n-----------\n‼ Linkerd extension command linkerd-viz exists\n    exec: "linkerd-viz": executable file not found in $PATH\n    see https://linkerd.io/2.14/checks/#extensions for hints\n\nStatus check results are √\n',
  );
  const j = await run(["-o", "json"], fake(objects));
  const docs = j.stdout.split(/\n(?=\{)/);
  assert.equal(docs.length, 2);
  assert.deepEqual(JSON.parse(docs[1]), {
    success: true,
    categories: [{ categoryName: "linkerd-viz", checks: [{ description: "Linkerd extension command linkerd-viz exists", hint: "https://linkerd.io/2.14/checks/#extensions", error: 'exec: "linkerd-viz": executable file not found in $PATH', result: "warning" }] }],
  });
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
