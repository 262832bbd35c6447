// `mesh completion bash|zsh|fish` and the hidden `mesh __complete` the scripts call.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createServer, type AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runMesh } from "./helpers/run.js";
import type { Cluster } from "../src/kube/cluster.js";
import { COMMANDS } from "../src/cli.js";
import { VIZ_COMMANDS } from "../src/commands/viz/index.js";

let dir = "";
let env: Record<string, string> = {};
before(() => {
  dir = mkdtempSync(join(tmpdir(), "mesh-completion-"));
  // a kubeconfig must exist for completion to ask the cluster (the fake one below answers)
  const kubeconfig = join(dir, "config");
  writeFileSync(
    kubeconfig,
    "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\nusers: [{name: u, user: {token: t}}]\n" +
      "contexts: [{name: ctx-a, context: {cluster: c, user: u, namespace: shop}}, {name: ctx-b, context: {cluster: c, user: u}}]\ncurrent-context: ctx-a\n",
  );
  env = { KUBECONFIG: kubeconfig, HOME: dir };
});
after(() => rmSync(dir, { recursive: true, force: true }));

const list = (...names: string[]) => ({ items: names.map((name) => ({ metadata: { name } })) });

/** A cluster with namespaces and deployments; records the paths asked. */
function fakeCluster(asked: string[] = []): () => Promise<Cluster> {
  const answers: Record<string, unknown> = {
    "/api/v1/namespaces": list("default", "linkerd", "production", "shop"),
    "/apis/apps/v1/namespaces/production/deployments": list("web", "worker"),
    "/apis/apps/v1/namespaces/shop/deployments": list("cart"),
    "/api/v1/namespaces/production/pods": list("web-1", "web-2"),
  };
  return async () => ({
    server: "https://fake",
    getJson: async <T>(path: string) => {
      asked.push(path);
      return answers[path] as T | undefined;
    },
    getText: async () => "",
    controlPlaneVersion: async () => undefined,
  });
}

const complete = async (words: string[], cluster = fakeCluster()) => {
  const r = await runMesh(["__complete", ...words], { cluster, env });
  assert.equal(r.code, 0);
  assert.equal(r.stderr, "");
  return r.stdout;
};
const values = (out: string) => out.split("\n").filter(Boolean).map((l) => l.split("\t")[0]);

test("mesh completion prints a script for bash, zsh and fish; another shell is a usage error", async () => {
  for (const shell of ["bash", "zsh", "fish"]) {
    const r = await runMesh(["completion", shell]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /mesh __complete/);
  }
  const bad = await runMesh(["completion", "powershell"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /value 'powershell' is invalid for argument 'shell'. Allowed choices are bash, zsh, fish/);
});

function shellCheck(shell: string, args: string[]) {
  const probe = spawnSync(shell, ["-c", "exit 0"], { encoding: "utf8" });
  return probe.error ? undefined : async () => {
    const script = (await runMesh(["completion", shell])).stdout;
    const file = join(dir, `mesh.${shell}`);
    writeFileSync(file, script);
    const r = spawnSync(shell, [...args, file], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "");
  };
}

for (const [shell, args] of [
  ["bash", ["-n"]],
  ["zsh", ["-n"]],
  ["fish", ["--no-execute"]],
] as const) {
  const check = shellCheck(shell, [...args]);
  // .ci/cluster-deps.sh installs bash, zsh and fish: in CI a missing shell fails, never skips.
  const skip = check || process.env.CI ? false : `${shell} is not installed (sudo sh .ci/cluster-deps.sh installs it)`;
  test(`the ${shell} script is valid ${shell} (${shell} ${args.join(" ")})`, { skip }, async () => {
    assert.ok(check, `${shell} is not installed`);
    await check();
  });
}

test("the bash script completes through mesh __complete (a real bash, mesh as a shell function)", { skip: shellCheck("bash", []) ? false : "bash is not installed" }, async () => {
  const script = (await runMesh(["completion", "bash"])).stdout;
  // mesh is a stand-in that prints what it was asked, so the test checks the words the script passes
  const r = spawnSync(
    "bash",
    ["-c", `${script}\nmesh() { printf '%s\\n' "$@" | tail -n +2 | tr '\\n' ' ' | sed 's/ $//'; printf '\\tdesc\\n'; }\nCOMP_WORDS=(mesh viz st); COMP_CWORD=2; _mesh_complete; printf '[%s]\\n' "\${COMPREPLY[@]}"`],
    { encoding: "utf8" },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "[viz st]\n");
});

test("__complete: commands, from src/cli.ts COMMANDS", async () => {
  assert.deepEqual(values(await complete([""])), Object.keys(COMMANDS));
  assert.deepEqual(values(await complete(["in"])), ["install", "inject"]);
  assert.match(await complete(["ch"]), /^check\tCheck a cluster/);
  assert.deepEqual(values(await complete(["help", "v"])), ["version", "viz"]);
});

test("__complete: viz subcommands, from VIZ_COMMANDS", async () => {
  assert.deepEqual(values(await complete(["viz", ""])), Object.keys(VIZ_COMMANDS));
  assert.deepEqual(values(await complete(["viz", "st"])), ["stat"]);
});

test("__complete: flags of the command named, and the global flags, from their definitions", async () => {
  const inject = values(await complete(["inject", "--"]));
  for (const f of ["--manual", "--ignore-cluster", "--output", "--proxy-cpu-request", "--kubeconfig", "--context", "--linkerd-namespace"]) assert.ok(inject.includes(f), f);
  assert.ok(!inject.includes("--proxy"), "a flag of another command");
  assert.deepEqual(values(await complete(["check", "--pr"])), ["--pre", "--proxy"]);
  // flags may come before the command, as mesh parses them
  assert.deepEqual(values(await complete(["-n", "production", "check", "--pr"])), ["--pre", "--proxy"]);
  const stat = values(await complete(["viz", "stat", "-"]));
  for (const f of ["-n", "--namespace", "-o", "--output", "--from", "--to", "-A"]) assert.ok(stat.includes(f), f);
});

test("__complete: -o values: an option's choices, or the formats its help lists", async () => {
  assert.deepEqual(values(await complete(["install", "-o", ""])), ["yaml", "json"]);
  assert.deepEqual(values(await complete(["inject", "--output", "j"])), ["json"]);
  assert.deepEqual(values(await complete(["install", "--output="])), ["--output=yaml", "--output=json"]);
  // as bash passes `--output=` (COMP_WORDBREAKS splits at =)
  assert.deepEqual(values(await complete(["install", "--output", "=", ""])), ["yaml", "json"]);
  assert.deepEqual(values(await complete(["check", "-o", ""])), ["table", "json", "short"]);
  assert.deepEqual(values(await complete(["viz", "stat", "-o", ""])), ["table", "wide", "json"]);
  assert.deepEqual(values(await complete(["viz", "routes", "-o", ""])), ["table", "wide", "json"]);
  assert.deepEqual(values(await complete(["viz", "tap", "deploy/web", "-o", ""])), ["wide", "json"]);
  assert.deepEqual(values(await complete(["completion", ""])), ["bash", "zsh", "fish"]);
});

test("__complete: namespaces from the cluster for -n and the other namespace flags", async () => {
  assert.deepEqual(values(await complete(["check", "--proxy", "-n", ""])), ["default", "linkerd", "production", "shop"]);
  assert.deepEqual(values(await complete(["viz", "stat", "deploy", "--namespace", "p"])), ["production"]);
  assert.deepEqual(values(await complete(["-L", "l"])), ["linkerd"]);
});

test("__complete: resources: types, then TYPE/<name> and TYPE <name> from the cluster, in -n's namespace or the context's", async () => {
  const types = values(await complete(["viz", "stat", ""]));
  for (const t of ["deployment", "pod", "namespace", "statefulset"]) assert.ok(types.includes(t), t);
  const asked: string[] = [];
  assert.deepEqual(values(await complete(["viz", "stat", "-n", "production", "deploy/"], fakeCluster(asked))), ["deploy/web", "deploy/worker"]);
  assert.deepEqual(asked, ["/apis/apps/v1/namespaces/production/deployments"]);
  assert.deepEqual(values(await complete(["viz", "tap", "-n", "production", "deploy", "w"])), ["web", "worker"]);
  assert.deepEqual(values(await complete(["viz", "routes", "-n", "production", "po/"])), ["po/web-1", "po/web-2"]);
  // no -n: the kubeconfig context's namespace (shop)
  assert.deepEqual(values(await complete(["viz", "top", "deployment/"])), ["deployment/cart"]);
});

test("__complete: --context from the kubeconfig", async () => {
  assert.deepEqual(values(await complete(["--context", ""])), ["ctx-a", "ctx-b"]);
});

test("__complete: an unreachable cluster gives nothing, exit 0, no error", async () => {
  const r = await runMesh(["__complete", "check", "-n", ""], { env });
  assert.deepEqual(r, { code: 0, stdout: "", stderr: "" });
  const r2 = await runMesh(["__complete", "viz", "stat", "deploy/"], { env });
  assert.deepEqual(r2, { code: 0, stdout: "", stderr: "" });
});

test("__complete: a cluster that does not answer is given up on within the budget", async () => {
  const hanging = async (): Promise<Cluster> => ({
    server: "https://hang",
    getJson: () => new Promise(() => {}),
    getText: () => new Promise(() => {}),
    controlPlaneVersion: () => new Promise(() => {}),
  });
  const start = performance.now();
  const r = await runMesh(["__complete", "check", "-n", ""], { env, cluster: hanging });
  const took = performance.now() - start;
  assert.deepEqual(r, { code: 0, stdout: "", stderr: "" });
  assert.ok(took < 600, `took ${took} ms`);
});

test("__complete: unknown commands and words past the arguments complete nothing", async () => {
  assert.equal(await complete(["nonesuch", ""]), "");
  assert.equal(await complete(["completion", "bash", ""]), "");
});

// The built program (dist/, which `npm test` builds first), as the shell runs it.
const bin = fileURLToPath(new URL("../bin/mesh.js", import.meta.url));

test("built mesh: bash completes `mesh viz st` and `mesh install -o ` through the real __complete", { skip: shellCheck("bash", []) ? false : "bash is not installed" }, async () => {
  const script = (await runMesh(["completion", "bash"])).stdout;
  const r = spawnSync(
    "bash",
    [
      "-c",
      `${script}\nmesh() { ${JSON.stringify(process.execPath)} ${JSON.stringify(bin)} "$@"; }\n` +
        `COMP_WORDS=(mesh viz st); COMP_CWORD=2; _mesh_complete; echo "\${COMPREPLY[*]}"\n` +
        `COMP_WORDS=(mesh install -o ''); COMP_CWORD=3; _mesh_complete; echo "\${COMPREPLY[*]}"`,
    ],
    { encoding: "utf8", env: { PATH: process.env.PATH, HOME: dir } },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "stat\nyaml json\n");
});

test("built mesh: __complete against a server that never answers exits 0 with nothing, without waiting for it", async () => {
  const server = createServer(() => {}); // accepts, never answers
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const kubeconfig = join(dir, "hanging");
  writeFileSync(
    kubeconfig,
    `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:${port}', insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`,
  );
  try {
    const child = spawn(process.execPath, [bin, "__complete", "check", "-n", ""], { env: { KUBECONFIG: kubeconfig, HOME: dir }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c));
    child.stderr.on("data", (c: Buffer) => (out += c));
    const start = performance.now();
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    const took = performance.now() - start;
    assert.equal(code, 0);
    assert.equal(out, "");
    // the answer budget is 200 ms after start-up; a shared, loaded test machine gets slack
    assert.ok(took < 2000, `took ${took.toFixed(0)} ms`);
  } finally {
    server.close();
  }
});
