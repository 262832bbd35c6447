/** What mesh tells users about what they passed: values no template reads, and how to inject the control plane. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseAllDocuments } from "yaml";
import { closestKnownKey, unknownKeys } from "../../src/install/known-keys.js";
import { defaultValues, type Tree } from "../../src/install/values.js";
import { runMesh } from "../helpers/run.js";
import { runInstall } from "./run-install.js";

const defaults = defaultValues() as unknown as Tree;

const cases: [args: string[], warnings: string[]][] = [
  [["--set", "bogus.key=1"], ["warning: no template reads the value bogus.key: it is only stored in linkerd-config"]],
  [["--set", "proxy.logLevl=debug"], ["warning: no template reads the value proxy.logLevl (did you mean proxy.logLevel?): it is only stored in linkerd-config"]],
  [["--set", "controllerReplica=2"], ["warning: no template reads the value controllerReplica (did you mean controllerReplicas?): it is only stored in linkerd-config"]],
  [["--set", "identity.issuer.sceme=linkerd.io/tls"], ["warning: no template reads the value identity.issuer.sceme (did you mean identity.issuer.scheme?): it is only stored in linkerd-config"]],
  [["--set", "policyControllerResources.cpu.limit=1"], ["warning: no template reads the value policyControllerResources.cpu.limit (did you mean policyController.resources?): it is only stored in linkerd-config"]],
  // the user's own keys under labels, selectors and resources are values templates read
  [["--set", "nodeSelector.disk=ssd,podLabels.team=a,commonLabels.x=y,proxy.resources.cpu.limit=1,podMonitor.labels.a=b"], []],
  [["--set", "enablePprof=true,runtimeClassName=gvisor,proxyInjector.objectSelector=null"], []],
];

for (const [args, warnings] of cases)
  test(`install ${args.join(" ")}: ${warnings.length ? "warns" : "no warning"}`, async () => {
    const r = await runInstall(["install", "--ignore-cluster", ...args]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stderr.split("\n").filter((l) => l.startsWith("warning:")), warnings);
    // the value is still stored, as before
    assert.ok(r.stdout.length > 0);
  });

test("a values file with unknown keys: one warning per value, capped", async () => {
  const bad = Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`unknown${i}`, i]));
  assert.equal(unknownKeys(bad, defaults).length, 25);
  const r = await runInstall(["install", "--ignore-cluster", "-f", "-"], { stdin: JSON.stringify(bad) });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stderr.split("\n").filter((l) => l.startsWith("warning:"));
  assert.equal(lines.length, 21);
  assert.equal(lines[20], "warning: 5 more values no template reads");
});

test("the closest known key: a sibling first, then the same key elsewhere", () => {
  assert.equal(closestKnownKey("proxy.ports.admn", defaults), "proxy.ports.admin");
  assert.equal(closestKnownKey("logFormat", defaults)?.endsWith(".logFormat"), true);
  assert.equal(closestKnownKey("zzzzzzzzzz", defaults), undefined);
});

test("injecting control-plane YAML without --manual: the hint is --manual, not the inject: disabled annotation", async () => {
  const install = await runInstall(["install", "--ignore-cluster"]);
  const identity = parseAllDocuments(install.stdout)
    .map((d) => d.toJS() as { kind: string; metadata: { name: string } })
    .find((o) => o.kind === "Deployment" && o.metadata.name === "linkerd-identity");
  const r = await runMesh(["inject", "--ignore-cluster", "-"], { stdin: JSON.stringify(identity) });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /^error: .*--manual must be set when injecting control plane components\nhint: inject control-plane components with `mesh inject --manual`\n$/);
});
