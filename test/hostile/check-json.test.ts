// `mesh check -o json` (and `--fail-on warning`, `--pre`, `--proxy`) against a hostile API server:
// garbage bodies, answers past the size cap, 500s with escape sequences and fake lines, HTML pages,
// an answer that never comes. Whatever fails, stdout is exactly one JSON document with the run's
// verdict, the failure's text inside it is one inert line, and stderr carries no server text.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { IncomingMessage, ServerResponse } from "node:http";
import { apiHandler, fakeServer, json, kubeconfig, meshIn, TOKEN, type Timed } from "./harness.js";

/** What a hostile server writes into its answers: it must never reach stderr, nor stdout raw. */
const MARK = "PWNED-marker";
const ESCAPES = `\x1b[2J\x1b]0;${MARK}\x07\x9b31m\r\nerror: fake\nhint: run rm -rf /`;

type Override = (path: string, req: IncomingMessage, res: ServerResponse) => boolean | void;

async function checkJson(override: Override, extra: string[] = [], opts: { maxBodyBytes?: number } = {}): Promise<Timed> {
  const s = await fakeServer(apiHandler(override));
  try {
    return await meshIn(["--kubeconfig", kubeconfig(s.url), "check", "-o", "json", "--expected-version", "stable-2.14.10", "--wait", "0s", "--request-timeout", "2s", ...extra], opts);
  } finally {
    await s.close();
  }
}

interface Report {
  success: boolean;
  categories: { id: string; checks: { id?: string; description: string; result: string; error?: string; hint?: string }[] }[];
}

/** Exactly one JSON document on stdout, a failed verdict, exit 1, and nothing of the server on stderr. */
function expectOneReport(r: Timed, failing?: RegExp): Report {
  const ctx = `\n--- stdout ---\n${r.stdout.slice(0, 3000)}\n--- stderr ---\n${r.stderr.slice(0, 2000)}`;
  assert.equal(r.code, 1, `exit code${ctx}`);
  let report: Report;
  try {
    report = JSON.parse(r.stdout) as Report;
  } catch (e) {
    assert.fail(`stdout is not one JSON document: ${(e as Error).message}${ctx}`);
  }
  assert.equal(typeof report.success, "boolean", ctx);
  assert.equal(report.success, false, ctx);
  assert.ok(Array.isArray(report.categories) && report.categories.length > 0, ctx);
  // JSON escapes control characters; the strings inside must be inert once decoded too (mesh's
  // own line breaks join several failures of one check; no server text starts a line)
  for (const c of report.categories)
    for (const k of c.checks)
      for (const text of [k.description, k.error ?? "", k.hint ?? ""]) {
        assert.doesNotMatch(text, /[\x00-\x09\x0b-\x1f\x7f-\x9f]/, `a control character in ${JSON.stringify(text)}`);
        assert.doesNotMatch(text, /^\s*(error|hint):/m, `server text starts a line in ${JSON.stringify(text).slice(0, 500)}`);
      }
  assert.doesNotMatch(r.stdout, /[\x00-\x09\x0b-\x1f\x7f-\x9f]/, `a raw control byte on stdout${ctx}`);
  assert.ok(!r.stderr.includes(MARK) && !/error: fake|rm -rf|<html|<title/i.test(r.stderr), `server text on stderr${ctx}`);
  assert.doesNotMatch(r.stderr, /[\x00-\x09\x0b-\x1f\x7f-\x9f]/, `a raw control byte on stderr${ctx}`);
  assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+|is not a function|Cannot read properties/, `a crash${ctx}`);
  assert.ok(!(r.stdout + r.stderr).includes(TOKEN), `the token${ctx}`);
  if (failing) {
    const errors = report.categories.flatMap((c) => c.checks.filter((k) => k.result === "error").map((k) => k.error ?? ""));
    assert.ok(errors.some((e) => failing.test(e)), `no failed check matches ${failing}: ${JSON.stringify(errors).slice(0, 2000)}`);
  }
  return report;
}

const everywhere = (answer: (res: ServerResponse) => void): Override => (path, _req, res) => (path === "/version" ? false : (answer(res), true));

const cases: [name: string, override: Override, failing: RegExp, opts?: { maxBodyBytes?: number }][] = [
  ["500s whose messages carry escapes and fake lines", everywhere((res) => json(res, 500, { kind: "Status", message: ESCAPES })), /answered 500 .*error: fake hint: run rm -rf \//],
  ["invalid JSON everywhere", everywhere((res) => json(res, 200, `{${ESCAPES}`)), /sent invalid JSON/],
  ["JSON of the wrong shape everywhere", everywhere((res) => json(res, 200, { items: ESCAPES, metadata: ESCAPES, data: [ESCAPES] })), /is not what Kubernetes sends/],
  ["HTML pages titled with escapes", everywhere((res) => json(res, 502, `<!doctype html><html><title>${ESCAPES}</title>${"<p>x</p>".repeat(5000)}</html>`)), /an HTML page titled "\S.*"/],
  ["answers past the size cap", everywhere((res) => json(res, 200, `{"items":[${`"${"a".repeat(1000)}",`.repeat(2000)}"x"]}`)), /larger than 1 MiB; mesh stops reading there/, { maxBodyBytes: 1024 * 1024 }],
  ["a version with escapes in it", (path, _req, res) => (path === "/version" ? (json(res, 200, { major: "1", minor: "29", gitVersion: `v1.29.6${ESCAPES}` }), true) : false), /./],
];
for (const [name, override, failing, opts] of cases) {
  for (const extra of [[], ["--pre"], ["--proxy"], ["--fail-on", "warning"]]) {
    test(`check -o json ${extra.join(" ")}: ${name} gives one JSON document and a clean stderr`.replace("  ", " "), async () => {
      const r = await checkJson(override, extra, opts);
      // the version check may be all that fails with a hostile version; any failure will do there
      expectOneReport(r, name.startsWith("a version") ? undefined : failing);
    });
  }
}

test("check -o json: a server that never answers ends within its timeouts, with one JSON document", async () => {
  const r = await checkJson((p) => p !== "/version");
  expectOneReport(r, /did not answer within 2s/);
  assert.ok(r.ms <= 60_000, `took ${r.ms} ms`);
});

test("check -o json --fail-on warning: a server that resets every connection gives one JSON document", async () => {
  const r = await checkJson((p, _req, res) => (p === "/version" ? false : (res.destroy(), true)), ["--fail-on", "warning"]);
  expectOneReport(r, /reset|closed|socket hang up|ECONNRESET/i);
});

test("check -o json: a server that answers /version with garbage stops at the first check, still one JSON document", async () => {
  const r = await checkJson((p, _req, res) => (p === "/version" ? (json(res, 200, `\x1b[2J${MARK}`), true) : false));
  expectOneReport(r, /invalid JSON/);
});

test("check (table, short, json): linkerd-config values with escape sequences print nothing raw", async () => {
  const values = `linkerdVersion: "stable-2.14.10\\e[2J\\e]0;${MARK}\\a\\x9b31m\\r\\nerror: fake"\nclusterDomain: "x\\e[2J"\nproxy: {image: {version: "\\e[31m"}}\n`;
  const override: Override = (p, _req, res) => {
    if (p.endsWith("/configmaps/linkerd-config")) return json(res, 200, { metadata: { name: "linkerd-config", namespace: "linkerd" }, data: { values } }), true;
    if (p.split("?")[0] === "/api/v1/namespaces/linkerd") return json(res, 200, { metadata: { name: "linkerd" } }), true;
    return false;
  };
  for (const output of ["table", "short", "json"]) {
    const s = await fakeServer(apiHandler(override));
    try {
      const r = await meshIn(["--kubeconfig", kubeconfig(s.url), "check", "-o", output, "--expected-version", "stable-2.14.10", "--wait", "0s", "--request-timeout", "2s"]);
      assert.equal(r.code, 1, r.stderr);
      assert.doesNotMatch(r.stdout + r.stderr, /[\x00-\x09\x0b-\x1f\x7f-\x9f]/, `${output}: ${JSON.stringify(r.stdout.slice(-1500))}`);
      assert.doesNotMatch(r.stdout + r.stderr, /^\s*error: fake/m);
      if (output === "json") expectOneReport(r);
      else assert.match(r.stdout.trimEnd().split("\n").pop() ?? "", /Status check results are/);
    } finally {
      await s.close();
    }
  }
});
