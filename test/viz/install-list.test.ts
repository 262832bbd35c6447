import { test } from "node:test";
import assert from "node:assert/strict";
import { parse, parseAllDocuments } from "yaml";
import { runMesh } from "../helpers/run.js";
import { expectGolden } from "../helpers/golden.js";
import { FakeApi } from "../kube/fake-api.js";
import type { KubeObject } from "../../src/kube/types.js";
import { pod } from "./fake-mesh.js";

test("viz install: a ClusterRole with what the viz commands read, bound to the --group", async () => {
  const r = await runMesh(["viz", "install", "--group", "viz-users"]);
  assert.equal(r.code, 0, r.stderr);
  expectGolden("viz/install.yaml", r.stdout);
  const [role, binding] = parseAllDocuments(r.stdout).map((d) => d.toJS());
  assert.equal(role.kind, "ClusterRole");
  const allows = (group: string, resource: string, verb: string) => role.rules.some((x: { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }) => x.apiGroups.includes(group) && x.resources.includes(resource) && x.verbs.includes(verb) && !x.resourceNames);
  for (const [g, res, v] of [["", "pods/proxy", "get"], ["", "pods/log", "get"], ["", "pods", "list"], ["", "pods", "watch"], ["", "namespaces", "list"], ["apps", "deployments", "list"], ["linkerd.io", "serviceprofiles", "get"]]) assert.ok(allows(g, res, v), `${v} ${res}`);
  assert.ok(!allows("", "secrets", "get"));
  assert.deepEqual(binding.subjects, [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "viz-users" }]);
  assert.deepEqual(binding.roleRef, { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "mesh-viz" });
});

test("viz uninstall renders the same objects; --user, --name and -o json", async () => {
  const i = await runMesh(["viz", "install"]);
  const u = await runMesh(["viz", "uninstall"]);
  assert.equal(u.stdout, i.stdout);
  assert.equal(parseAllDocuments(i.stdout)[1].toJS().subjects[0].name, "mesh-viz");
  const j = await runMesh(["viz", "install", "--user", "jane", "--name", "viz-read", "-o", "json"]);
  const list = JSON.parse(j.stdout);
  assert.equal(list.kind, "List");
  assert.deepEqual(list.items[1].subjects, [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "jane" }]);
  assert.equal(list.items[0].metadata.name, "viz-read");
  const bad = await runMesh(["viz", "install", "--name", "Bad_Name"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^error: "Bad_Name" is not a valid object name/);
  assert.equal(parse("a: 1").a, 1);
});

test("viz list: meshed pods by whether their proxies write the access log tap reads", async () => {
  const k = (p: ReturnType<typeof pod>) => ({ apiVersion: "v1", kind: "Pod", ...p }) as unknown as KubeObject;
  const fake = new FakeApi([
    k(pod("app", "web-1", "web", { accessLog: "json" })),
    k(pod("app", "old-1", "old", { accessLog: "apache" })),
    k(pod("app", "emoji-1", "emoji")),
    k(pod("app", "secret-1", "secret", { annotations: { "viz.linkerd.io/disable-tap": "true" } })),
    k(pod("app", "plain-1", "plain", { meshed: false })),
    k(pod("other", "x-1", "x")),
  ]);
  const r = await runMesh(["viz", "list", "-n", "app"], { cluster: async () => fake.cluster() });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stdout,
    "Pods with tap enabled:\n\t* app/old-1 (apache format: tap shows no latency)\n\t* app/web-1\nPods with tap disabled:\n\t* app/secret-1\nPods missing tap configuration (restart these pods to enable tap):\n\t* app/emoji-1\n",
  );
  const all = await runMesh(["viz", "list", "-A"], { cluster: async () => fake.cluster() });
  assert.match(all.stdout, /\t\* other\/x-1\n$/);
  const none = await runMesh(["viz", "list", "-n", "empty"], { cluster: async () => fake.cluster() });
  assert.equal(none.stdout, "No meshed pods found\n");
});
