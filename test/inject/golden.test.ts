import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { runMesh } from "../helpers/run.js";
import { expectGolden } from "../helpers/golden.js";

const F = "test/fixtures/inject";
const CA = `${F}/ca.pem`;
const offline = ["--ignore-cluster"];
const manual = ["--manual", "--ignore-cluster", "--identity-trust-anchors-file", CA];

/** [golden name, argv]: stdout → inject/<name>.yaml, stderr → inject/<name>.report.txt */
const cases: [string, string[]][] = [
  ["deployment", ["inject", ...offline, `${F}/deployment.input.yaml`]],
  ["deployment-manual", ["inject", ...manual, `${F}/deployment.input.yaml`]],
  ["deployment-manual-verbose", ["inject", "--verbose", ...manual, `${F}/deployment.input.yaml`]],
  [
    "deployment-flags",
    ["inject", ...manual, "--proxy-cpu-limit", "1500m", "--proxy-memory-request", "64Mi", "--skip-inbound-ports", "22,8100-8102", "--skip-outbound-ports", "5432",
      "--opaque-ports", "3000,5000-6000", "--admin-port", "1234", "--wait-before-exit-seconds", "10", "--enable-debug-sidecar", "--close-wait-timeout", "1m",
      "--require-identity-on-inbound-ports", "80", "--default-inbound-policy", "all-authenticated", "--registry", "registry.example.com/l5d", `${F}/deployment.input.yaml`],
  ],
  ["deployment-flags-annotations", ["inject", ...offline, "--proxy-cpu-limit", "1500m", "--admin-port", "1234", "--enable-debug-sidecar", "--close-wait-timeout", "90s", `${F}/deployment.input.yaml`]],
  ["deployment-ingress-manual", ["inject", ...manual, "--ingress", `${F}/deployment.input.yaml`, `${F}/kinds.input.yaml`]],
  ["kinds", ["inject", ...offline, `${F}/kinds.input.yaml`]],
  ["kinds-opaque", ["inject", ...offline, "--opaque-ports", "5432", `${F}/kinds.input.yaml`]],
  ["kinds-manual", ["inject", ...manual, `${F}/kinds.input.yaml`]],
  ["kinds-manual-verbose", ["inject", "--verbose", ...manual, `${F}/kinds.input.yaml`]],
  ["cronjob", ["inject", ...offline, `${F}/cronjob.input.yaml`]],
  ["cronjob-manual", ["inject", ...manual, `${F}/cronjob.input.yaml`]],
  ["skipped", ["inject", ...offline, `${F}/skipped.input.yaml`]],
  ["skipped-verbose", ["inject", "--verbose", ...offline, `${F}/skipped.input.yaml`]],
  ["list-manual", ["inject", ...manual, `${F}/list.input.yaml`]],
  ["json", ["inject", ...offline, "-o", "json", `${F}/deployment.input.yaml`]],
  ["directory", ["inject", ...offline, `${F}/dir`]],
];

for (const [name, argv] of cases) {
  test(`inject golden: ${name}`, async () => {
    const r = await runMesh(argv);
    assert.equal(r.code, 0, r.stderr);
    expectGolden(`inject/${name}.yaml`, r.stdout);
    expectGolden(`inject/${name}.report.txt`, r.stderr);
  });
}

test("uninject reverses inject --manual byte for byte, with linkerd's report", async () => {
  for (const f of ["deployment", "kinds", "cronjob", "list"]) {
    const input = readFileSync(`${F}/${f}.input.yaml`, "utf8");
    const injected = await runMesh(["inject", ...manual, "-"], { stdin: input });
    assert.equal(injected.code, 0, injected.stderr);
    const back = await runMesh(["uninject", "-"], { stdin: injected.stdout });
    assert.equal(back.code, 0);
    assert.equal(back.stdout, input, f);
    if (f === "deployment") expectGolden("inject/uninject-deployment.report.txt", back.stderr);
  }
});

test("inject is idempotent: inject(inject(x)) == inject(x)", async () => {
  for (const f of ["deployment", "kinds", "cronjob", "list", "skipped"]) {
    for (const mode of [offline, manual]) {
      const input = readFileSync(`${F}/${f}.input.yaml`, "utf8");
      const once = await runMesh(["inject", ...mode, "-"], { stdin: input });
      const twice = await runMesh(["inject", ...mode, "-"], { stdin: once.stdout });
      assert.equal(twice.stdout, once.stdout, `${f} ${mode.join(" ")}`);
    }
  }
});

test("a resource on the host network fails the run: exit 1, nothing on stdout, linkerd's reason", async () => {
  const r = await runMesh(["inject", ...offline, `${F}/hostnetwork.input.yaml`, `${F}/deployment.input.yaml`]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  expectGolden("inject/hostnetwork.stderr.txt", r.stderr);
});

test("--manual without trust anchors fails clearly", async () => {
  const r = await runMesh(["inject", "--manual", "--ignore-cluster", `${F}/deployment.input.yaml`]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /^error: please provide the identity trust anchors/);
  assert.match(r.stderr, /--identity-trust-anchors-file/);
});

test("inject without an argument is a usage error", async () => {
  const r = await runMesh(["inject", "--ignore-cluster"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /please specify a kubernetes resource file/);
});

test("http:// URLs are refused (as linkerd does)", async () => {
  const r = await runMesh(["inject", "--ignore-cluster", "http://example.com/x.yaml"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /only HTTPS URLs are allowed/);
});

test("the proxy config comes from the cluster's linkerd-config", async () => {
  const values = readFileSync(`${F}/linkerd-config-values.yaml`, "utf8");
  let asked = "";
  const cluster = async () => ({
    server: "https://fake",
    getText: async () => "",
    controlPlaneVersion: async () => "stable-2.14.10",
    getJson: async <T>(path: string) => {
      asked = path;
      return { data: { values } } as T;
    },
  });
  const r = await runMesh(["inject", "--manual", "-L", "mesh-system", `${F}/deployment.input.yaml`], { cluster });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(asked, "/api/v1/namespaces/mesh-system/configmaps/linkerd-config");
  assert.match(r.stdout, /linkerd-dst-headless\.mesh-system\.svc\.example\.org\.:8086/);
  assert.match(r.stdout, /proxy:stable-2\.14\.10/);
});
