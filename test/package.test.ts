// The package as users install it: `npm pack` (its prepack builds dist/), then `npm i -g` of the
// tarball into an empty prefix, run from a PATH that holds only that prefix's bin and node. The
// bundle contains every runtime dependency, so the install must need no package but mesh itself.
// The pack runs in a copy of the sources (node_modules linked), so that its build does not replace
// the dist/ that other test files run while this one packs.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
let tmp = "";
let prefix = "";
let env: NodeJS.ProcessEnv = {};

before(() => {
  tmp = mkdtempSync(join(tmpdir(), "mesh-pack-"));
  prefix = join(tmp, "prefix");
  // npm itself runs with the test's PATH (it needs node and the build's esbuild); mesh does not.
  const npmEnv = { ...process.env, npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false" };
  const src = join(tmp, "src");
  for (const f of ["package.json", "package-lock.json", "README.md", "LICENSE", "tsconfig.json", "bin", "scripts", "src", "templates", "web"]) {
    cpSync(join(root, f), join(src, f), { recursive: true });
  }
  symlinkSync(join(root, "node_modules"), join(src, "node_modules"));
  execFileSync(npm, ["pack", "--pack-destination", tmp], { cwd: src, env: npmEnv, stdio: ["ignore", "ignore", "pipe"] });
  const tarball = readdirSync(tmp).find((f) => /^mesh-.*\.tgz$/.test(f));
  assert.ok(tarball, "npm pack wrote no tarball");
  execFileSync(npm, ["i", "-g", "--offline", "--prefix", prefix, "--no-audit", "--no-fund", join(tmp, tarball)], { cwd: tmp, env: npmEnv, stdio: ["ignore", "ignore", "pipe"] });
  env = { PATH: [join(prefix, "bin"), dirname(process.execPath)].join(":"), HOME: tmp, NO_COLOR: "1" };
});

after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const mesh = (args: string[], input?: string) =>
  spawnSync("mesh", args, { cwd: tmp, env, input, encoding: "utf8", maxBuffer: 64 << 20, timeout: 20_000 });

test("the tarball installs mesh alone: no dependency packages, no tests", () => {
  const pkg = join(prefix, "lib", "node_modules", "mesh");
  assert.deepEqual(readdirSync(pkg).sort(), ["LICENSE", "README.md", "bin", "dist", "package.json", "templates"]);
  assert.equal(existsSync(join(pkg, "node_modules")), false, "the bundle needs no installed dependencies");
  assert.ok(existsSync(join(pkg, "dist", "runtime.js")));
  assert.ok(existsSync(join(pkg, "dist", "dashboard", "index.html")), "the dashboard's page (built by Vite) is in the package");
});

test("installed mesh: version --client", () => {
  const r = mesh(["version", "--client"]);
  assert.equal(r.stderr, "");
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^Client version: stable-2\.14\.10 \(mesh \d+\.\d+\.\d+\)\n$/);
});

test("installed mesh: install --ignore-cluster renders the control plane from the packaged templates", () => {
  const r = mesh(["install", "--ignore-cluster"]);
  assert.equal(r.status, 0, r.stderr);
  for (const want of [/^kind: Namespace\n/m, /^kind: ConfigMap\n(.*\n)*?  name: linkerd-config\n/m, /^  name: linkerd-destination\n/m, /^  name: linkerd-identity\n/m, /^  name: linkerd-proxy-injector\n/m]) {
    assert.match(r.stdout, want);
  }
  assert.match(r.stdout, /cr\.l5d\.io\/linkerd\/proxy:stable-2\.14\.10|image: cr\.l5d\.io\/linkerd\/controller:stable-2\.14\.10/);
});

test("installed mesh: inject --ignore-cluster of a Deployment on stdin", () => {
  const deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: nginx\n";
  const r = mesh(["inject", "--ignore-cluster", "-"], deployment);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\n    metadata:\n      annotations:\n        linkerd\.io\/inject: enabled\n/);
  assert.match(r.stderr, /deployment "web" injected/);
});
