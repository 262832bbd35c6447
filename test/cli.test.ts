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
  const r = await runMesh(["version", "--context", "prod", "-L", "mesh-system"], {
    cluster: async (g) => {
      seen = g;
      throw new (await import("../src/errors.js")).MeshError("stop here");
    },
  });
  assert.equal(r.code, 1);
  assert.deepEqual({ ...(seen as object) }, { kubeconfig: undefined, context: "prod", linkerdNamespace: "mesh-system", as: undefined, asGroup: undefined, verbose: false, color: true });
});
