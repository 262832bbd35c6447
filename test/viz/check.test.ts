import { test } from "node:test";
import assert from "node:assert/strict";
import type { KubeObject, ResourceAttributes } from "../../src/kube/types.js";
import { runMesh } from "../helpers/run.js";
import { FakeApi } from "../kube/fake-api.js";
import { pod } from "./fake-mesh.js";

const ns = (name: string) => ({ apiVersion: "v1", kind: "Namespace", metadata: { name } }) as KubeObject;
const asPod = (p: ReturnType<typeof pod>) => ({ apiVersion: "v1", kind: "Pod", ...p }) as unknown as KubeObject;

function api(o: { deny?: (a: ResourceAttributes) => boolean; policy403?: string[] } = {}) {
  return new FakeApi(
    [ns("emojivoto"), asPod(pod("emojivoto", "web-1", "web", { accessLog: "json" })), asPod(pod("emojivoto", "emoji-1", "emoji")), asPod(pod("emojivoto", "plain-1", "plain", { meshed: false }))],
    {
      access: (a) => (o.deny?.(a) ? { allowed: false, reason: "no RBAC policy matched" } : { allowed: true }),
      metrics: { "emojivoto/web-1": "process_start_time_seconds 1\n", "emojivoto/emoji-1": "process_start_time_seconds 1\n" },
      intercept: (req) => (o.policy403?.some((p) => req.path.includes(`/pods/${p}:4191/`)) ? { status: 403, body: "" } : undefined),
    },
  );
}

const check = (args: string[], fake = api()) => runMesh(["viz", "check", ...args], { cluster: async () => fake.cluster() });

test("viz check: every permission granted → the linkerd-viz section and √, exit 0", async () => {
  const r = await check([]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stdout,
    [
      "linkerd-viz",
      "-----------",
      "√ can list and watch pods",
      "√ can read proxy metrics (pods/proxy)",
      "√ can read proxy access logs (pods/log)",
      "√ can read namespaces",
      "√ can list workloads and services",
      "√ can read ServiceProfiles",
      "",
      "Status check results are √",
      "",
    ].join("\n"),
  );
});

test("viz check -n: SelfSubjectAccessReviews in that namespace; a denied one names what is missing and the fix, exit 1", async () => {
  const seen: ResourceAttributes[] = [];
  const fake = api({ deny: (a) => (seen.push(a), a.subresource === "proxy") });
  const r = await check(["-n", "emojivoto"], fake);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /× can read proxy metrics \(pods\/proxy\)\n {4}not authorized to read proxies' admin endpoints \(stat, routes, edges\) in namespace "emojivoto"; missing:\n\t\* get pods\/proxy: no RBAC policy matched\n {4}grant them with `mesh viz install --group <group> \| kubectl apply -f -`/);
  assert.match(r.stdout, /see https:\/\/linkerd\.io\/2\.14\/checks\/#l5d-viz-rbac for hints/);
  assert.match(r.stdout, /Status check results are ×\n$/);
  assert.ok(seen.filter((a) => a.resource !== "namespaces").every((a) => a.namespace === "emojivoto"));
  assert.equal(seen.find((a) => a.resource === "namespaces")!.namespace, undefined);
});

test("viz check --proxy: a 403 from the proxy's policy is said distinctly, with the fix; pods without access log are listed", async () => {
  const r = await check(["--proxy", "-n", "emojivoto"], api({ policy403: ["emoji-1"] }));
  assert.equal(r.code, 0, r.stderr); // warnings only
  assert.match(r.stdout, /linkerd-viz-data-plane\n-+\n√ data plane namespace exists\n‼ data plane proxies' admin endpoints answer\n {4}admin endpoint not authorized by policy \(the proxy answered 403\):\n\t\* emojivoto\/emoji-1\n {4}their inbound policy refuses plaintext requests to the admin port/);
  assert.match(r.stdout, /‼ data plane proxies write the access log tap and top read\n {4}no access log, so tap and top see nothing of:\n\t\* emojivoto\/emoji-1\n {4}turn the proxy access log on/);
  assert.doesNotMatch(r.stdout, /web-1/);
});

test("viz check -o json / short, and the data-plane namespace must exist", async () => {
  const j = await check(["--proxy", "-n", "nope", "-o", "json"]);
  assert.equal(j.code, 1);
  const doc = JSON.parse(j.stdout);
  assert.equal(doc.success, false);
  assert.deepEqual(doc.categories.map((c: { categoryName: string }) => c.categoryName), ["linkerd-viz", "linkerd-viz-data-plane"]);
  assert.deepEqual(doc.categories[1].checks, [{ description: "data plane namespace exists", hint: "https://linkerd.io/2.14/checks/#l5d-data-plane-exists", error: 'The "nope" namespace does not exist', result: "error" }]);
  const s = await check(["-o", "short"]);
  assert.deepEqual([s.code, s.stdout], [0, "Status check results are √\n"]);
  const bad = await check(["-o", "yaml"]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^error: validation error when executing check command: Invalid output type 'yaml'\. Supported output types are: json, table, short\n/);
});

test("viz check: a client that cannot be built is Linkerd's 'Error initializing k8s API client'", async () => {
  const r = await runMesh(["viz", "check"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: Error initializing k8s API client: cannot connect/);
});
