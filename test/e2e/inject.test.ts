/**
 * Every injected golden output is accepted by the test cluster's real API server (server-side dry
 * run of a create: `apply` refuses objects with only a generateName, which the Pod goldens have).
 * Runs in the cluster phase of scripts/test.mjs.
 *
 * A `- null` item of a `kind: List` is kept in the output as Linkerd keeps it, but it is no object
 * kubectl can send: it is left out, and the test says so. Nothing else is changed or skipped.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { connectTestCluster } from "../helpers/cluster.js";
import { pipeline } from "../helpers/pipeline.js";
import { installLinkerd, uninstallLinkerd } from "../checks/install-on-cluster.js";
import { GOLDEN_DIR } from "../helpers/golden.js";

const dir = join(GOLDEN_DIR, "inject");
const goldens = readdirSync(dir).filter((f) => f.endsWith(".yaml") && f !== "json.yaml");

/** A golden made acceptable to the test namespace; `adapted` lists what changed beyond namespaces. */
function forTestServer(yaml: string, ns: string): { yaml: string; adapted: string[] } {
  const adapted: string[] = [];
  const docs = yaml.split(/^(?=---$)/m).map((d) => {
    // objects without a namespace land in the test namespace; Namespaces are renamed to stay unique
    let out = d.replace(/^( {2}namespace: ).*$/gm, `$1${ns}`).replace(/^(kind: Namespace\nmetadata:\n {2}name: )(.*)$/m, `$1${ns}-$2`);
    if (/^kind: List$/m.test(out) && /^- null$/m.test(out)) {
      out = out.replace(/^- null\n/gm, "");
      adapted.push("null List item left out");
    }
    return out;
  });
  return { yaml: docs.join(""), adapted };
}

test("the adaptation for the test server: null List items left out and said so; nothing else changed", () => {
  const input =
    "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: nightly\n  namespace: prod\nspec: {}\n---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: once\n" +
    "---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: c\n- null\n";
  const { yaml, adapted } = forTestServer(input, "t1");
  assert.equal(yaml, input.replace("namespace: prod", "namespace: t1").replace("- null\n", ""));
  assert.deepEqual(adapted, ["null List item left out"]);
});

test("the API server accepts every injected golden (server-side dry run)", async (t) => {
  const c = await connectTestCluster();
  const ns = await c.newNamespace("inject");
  assert.ok(goldens.length >= 10, `expected the inject goldens in ${dir}`);
  for (const f of goldens) {
    const { yaml, adapted } = forTestServer(readFileSync(join(dir, f), "utf8"), ns);
    for (const a of adapted) t.diagnostic(`${f}: ${a}`);
    const objects = (yaml.match(/^kind: /gm) ?? []).length;
    const r = await c.kubectl(["create", "--dry-run=server", "-o", "name", "-n", ns, "-f", "-"], { stdin: yaml, allowFail: true });
    assert.equal(r.code, 0, `${f}: ${r.stderr ?? ""}`);
    // one name back per object the server accepted (kind: List items count as theirs)
    const created = (r.stdout ?? "").split("\n").filter(Boolean).length;
    assert.ok(created >= objects, `${f}: ${created} of ${objects} objects accepted:\n${r.stdout}`);
  }
});

test("kubectl get deploy -o yaml | mesh inject - | kubectl apply -f -, then mesh uninject back, as users run them", async () => {
  const c = await connectTestCluster();
  // inject reads linkerd-config, as linkerd's does: install a control plane first, as users do.
  const cp = `l5d-${Math.random().toString(36).slice(2, 8)}`;
  await installLinkerd(c, cp);
  const ns = await c.newNamespace("pipe");
  const deploy = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: example/web:1
        ports:
        - containerPort: 8080
`;
  await c.apply(deploy, ns);
  type Deploy = { metadata: { generation: number }; spec: { template: { metadata: { annotations?: Record<string, string> }; spec: { containers: { name: string }[] } } } };
  const live = () => c.api.get<Deploy>(`/apis/apps/v1/namespaces/${ns}/deployments/web`);
  const before = await live();
  assert.equal(before.spec.template.metadata.annotations?.["linkerd.io/inject"], undefined);

  const inj = await pipeline(c, `kubectl get deploy -n ${ns} -o yaml | mesh inject -L ${cp} - | kubectl apply -f -`);
  assert.match(inj.stdout, /^deployment\.apps\/web configured$/m);
  assert.match(inj.stderr, /deployment "web" injected/);
  await settled(c, ns, "web");
  const injected = await live();
  assert.equal(injected.spec.template.metadata.annotations?.["linkerd.io/inject"], "enabled");
  assert.equal(injected.metadata.generation, before.metadata.generation + 1);

  // `kubectl get` carries the resourceVersion, so a rollout still writing status would make the apply
  // conflict (kubectl says "try again"): let the rollout settle first, as a user watching it would.
  await settled(c, ns, "web");
  const un = await pipeline(c, `kubectl get deploy -n ${ns} -o yaml | mesh uninject -L ${cp} - | kubectl apply -f -`);
  assert.match(un.stdout, /^deployment\.apps\/web configured$/m);
  assert.match(un.stderr, /deployment "web" uninjected/);
  const back = await live();
  assert.equal(back.spec.template.metadata.annotations?.["linkerd.io/inject"], undefined);
  assert.deepEqual(back.spec.template.spec.containers.map((x) => x.name), ["app"]);
  await c.deleteNamespace(ns);
  await uninstallLinkerd(c, cp);
});

/** Waits (bounded) until a Deployment's rollout is done: status observed, every replica updated, none terminating. */
async function settled(c: Awaited<ReturnType<typeof connectTestCluster>>, ns: string, name: string): Promise<void> {
  type Status = { metadata: { generation: number }; spec: { replicas: number }; status?: { observedGeneration?: number; updatedReplicas?: number; replicas?: number; terminatingReplicas?: number } };
  const deadline = Date.now() + 60_000;
  for (;;) {
    const d = await c.api.get<Status>(`/apis/apps/v1/namespaces/${ns}/deployments/${name}`);
    const st = d.status ?? {};
    if (st.observedGeneration === d.metadata.generation && st.updatedReplicas === d.spec.replicas && st.replicas === d.spec.replicas && !st.terminatingReplicas) return;
    assert.ok(Date.now() < deadline, `deployment ${name} did not settle in 60s: ${JSON.stringify(st)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
