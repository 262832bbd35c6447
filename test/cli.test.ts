import { test } from "node:test";
import assert from "node:assert/strict";
import { runMesh } from "./helpers/run.js";
import { LINKERD_VERSION } from "../src/version.js";

test("version --client prints the Linkerd release on stdout", async () => {
  const r = await runMesh(["version", "--client"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, new RegExp(`^Client version: ${LINKERD_VERSION} `));
  assert.equal(r.stderr, "");
});

test("version --client --short prints only the version", async () => {
  const r = await runMesh(["version", "--client", "--short"]);
  assert.equal(r.stdout, `${LINKERD_VERSION}\n`);
});

test("an unknown command is a usage error (exit 2) on stderr", async () => {
  const r = await runMesh(["bogus"]);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /unknown command 'bogus'/);
});

test("an unknown flag of a subcommand is a usage error", async () => {
  const r = await runMesh(["version", "--client", "--nope"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown option '--nope'/);
});

test("--help lists every command and exits 0", async () => {
  const r = await runMesh(["--help"]);
  assert.equal(r.code, 0);
  for (const c of ["install", "inject", "uninject", "check", "version"]) assert.match(r.stdout, new RegExp(`\\n  ${c} `));
});

test("an unreachable cluster gives one error line and a hint, no stack trace", async () => {
  const r = await runMesh(["version"]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, "error: cannot connect to the Kubernetes API at https://127.0.0.1:1: connection refused\nhint: is the cluster running?\n");
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test("global flags are accepted after the subcommand (kubectl style)", async () => {
  let seen: unknown;
  const r = await runMesh(["version", "--context", "prod", "-L", "mesh-system", "--api-addr", "10.0.0.1:6443", "--cni-namespace", "cni"], {
    cluster: async (g) => {
      seen = g;
      throw new (await import("../src/errors.js")).MeshError("stop here");
    },
  });
  assert.equal(r.code, 1);
  assert.deepEqual({ ...(seen as object) }, { kubeconfig: undefined, context: "prod", linkerdNamespace: "mesh-system", as: undefined, asGroup: undefined, verbose: false, color: true, apiAddr: "10.0.0.1:6443", cniNamespace: "cni" });
});

test("a command's own flags may come before its name, as in linkerd's tutorials (mesh -n production check --proxy)", async () => {
  const { buildProgram, findCommand } = await import("../src/cli.js");
  const p = buildProgram();
  const group = (n: string) => n === "viz";
  assert.deepEqual(findCommand(p, ["-n", "production", "check", "--proxy"], group), { path: ["check"], argv: ["check", "-n", "production", "--proxy"] });
  assert.deepEqual(findCommand(p, ["--context", "prod", "-n", "app", "viz", "-o", "json", "stat", "deploy"], group), {
    path: ["viz", "stat"],
    argv: ["viz", "stat", "--context", "prod", "-n", "app", "-o", "json", "deploy"],
  });
  // a boolean root flag takes no value; an attached value takes none either; "-" is a word
  assert.deepEqual(findCommand(p, ["--verbose", "-napp", "inject", "-"], group).path, ["inject"]);
  assert.deepEqual(findCommand(p, ["--namespace=app", "check"], group).path, ["check"]);
  // through the real command: -n before `check` reaches check's -n (it fails at the cluster, not at parsing)
  const r = await runMesh(["-n", "production", "check", "--proxy", "-o", "json"]);
  assert.doesNotMatch(r.stderr, /unknown option/);
  const parsed = JSON.parse(r.stdout) as { success: boolean };
  assert.equal(parsed.success, false);
});

test("mesh with no arguments prints the help on stdout and exits 0", async () => {
  const r = await runMesh([]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Usage: mesh /);
  assert.match(r.stdout, /\n  check /);
  assert.equal(r.stderr, "");
});

test("mesh help <unknown> is an unknown-command usage error with a suggestion", async () => {
  const r = await runMesh(["help", "chekc"]);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  assert.equal(r.stderr, "error: unknown command 'chekc'\n(Did you mean check?)\n(run with --help for usage)\n");
  const far = await runMesh(["help", "zzzzzz"]);
  assert.equal(far.stderr, "error: unknown command 'zzzzzz'\n(run with --help for usage)\n");
  const known = await runMesh(["help", "version"]);
  assert.equal(known.code, 0);
  assert.match(known.stdout, /^Usage: mesh version/);
});

test("colour: NO_COLOR only when non-empty (no-color.org); FORCE_COLOR forces it in a pipe; --no-color wins", async () => {
  const { colorLevel } = await import("../src/io.js");
  assert.equal(colorLevel(false, true, {}), 1);
  assert.equal(colorLevel(false, true, { NO_COLOR: "" }), 1);
  assert.equal(colorLevel(false, true, { NO_COLOR: "1" }), 0);
  assert.equal(colorLevel(false, false, {}), 0);
  assert.equal(colorLevel(false, false, { FORCE_COLOR: "1" }), 1);
  assert.equal(colorLevel(false, false, { FORCE_COLOR: "0" }), 0);
  assert.equal(colorLevel(true, true, { FORCE_COLOR: "1" }), 0);
  assert.equal(colorLevel(false, true, { NO_COLOR: "1", FORCE_COLOR: "1" }), 0);
});

test("an unknown option of a subcommand says how to get usage, like the root", async () => {
  const r = await runMesh(["version", "--nope"]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, "error: unknown option '--nope'\n(run with --help for usage)\n");
});

test("an argument error raised inside a command's action is printed once, as a usage error", async () => {
  const r = await runMesh(["viz", "stat", "deploy", "-n", "Bad_NS"]);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /^error: "Bad_NS" is not a valid namespace name\n\(run with --help for usage\)\n$/);
  // one commander itself reports is not printed twice
  const parsed = await runMesh(["-L", "Bad_NS", "version"]);
  assert.equal(parsed.code, 2);
  assert.equal(parsed.stderr.match(/not a valid namespace name/g)?.length, 1);
});
