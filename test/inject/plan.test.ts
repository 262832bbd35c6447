/**
 * Injection by a plan made once per document shape (src/inject/plan.ts) gives exactly what
 * the ordinary transform gives: output bytes, reports, failures and warnings. Compared over
 * generated manifests (one configuration per mode for the whole run, so plans are reused
 * across documents with other names, namespaces and label values) and hand-written edge cases.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { planCache } from "../../src/inject/plan.js";
import { comparePlanned, config, genStream, injectAll, loadYamlLib, rng } from "./property.js";

const N = Number(process.env.MESH_INJECT_PLAN_CASES ?? 4000);

for (const manual of [true, false]) {
  test(`planned injection equals the ordinary transform on ${N} generated streams (${manual ? "--manual" : "annotation mode"})`, async (t) => {
    await loadYamlLib();
    const r = rng(manual ? 777 : 778);
    const planned = config(manual);
    const ordinary = config(manual);
    // every document offered to the plans, however varied the stream (see the gate test below)
    planCache.gated = false;
    t.after(() => void (planCache.gated = true));
    const before = planCache.planned;
    const templatedBefore = planCache.templated;
    for (let i = 0; i < N; i++) {
      const err = comparePlanned(genStream(r, i), planned, ordinary);
      if (err) assert.fail(`case ${i}: ${err}`);
    }
    // the comparison means something only if many documents took the planned path
    const n = planCache.planned - before;
    const templated = planCache.templated - templatedBefore;
    assert.ok(n >= N / 2, `only ${n} documents were planned`);
    assert.ok(templated >= N / 4, `only ${templated} documents were recognised by a template`);
    t.diagnostic(`${n} documents injected by plan, ${templated} of them recognised without scanning`);
  });
}

const deployment = (name: string, ns: string | undefined, labels = "app: web", extra = "") => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
${ns === undefined ? "" : `  namespace: ${ns}\n`}  labels:
    ${labels}
spec:
  replicas: 3
  selector:
    matchLabels: {app: web-${name}}
  template:
    metadata:
      labels: {app: web-${name}}
${extra}    spec:
      containers:
      - name: web
        image: nginx
        ports:
        - containerPort: 8080
`;

const cases: [string, string][] = [
  ["names of other lengths, one shape", [deployment("a", "x"), deployment("a-much-longer-name", "team-42"), deployment("b", "y")].join("---\n")],
  ["names that injection writes quoted", [deployment("a", "x"), deployment('"true"', "x"), deployment("'web'", "x"), deployment("123", "x"), deployment("yes", "x")].join("---\n")],
  ["no namespace, empty name", [deployment("a", undefined), deployment('""', "ns"), deployment("c", undefined)].join("---\n")],
  ["template annotations and labels", [deployment("a", "x", "app: web", "      annotations:\n        config.linkerd.io/proxy-cpu-limit: \"1\"\n"), deployment("bb", "y", "app: web", "      annotations:\n        config.linkerd.io/proxy-cpu-limit: \"1\"\n")].join("---\n")],
  ["linkerd.io labels already there", [deployment("a", "x", "linkerd.io/workload-ns: x"), deployment("b", "y", "linkerd.io/workload-ns: x")].join("---\n")],
  ["placeholder-like text", [deployment("Mq0Qm", "x"), deployment("a", "Mq1Qm")].join("---\n")],
  [
    "pods: name, generateName, both",
    [
      "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p1\n  namespace: n\nspec:\n  containers:\n  - name: c\n    image: i\n",
      "apiVersion: v1\nkind: Pod\nmetadata:\n  generateName: p-\n  namespace: n\nspec:\n  containers:\n  - name: c\n    image: i\n",
      "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p2\n  generateName: q-\nspec:\n  containers:\n  - name: c\n    image: i\n",
      "apiVersion: v1\nkind: Pod\nmetadata:\n  generateName: longer-prefix-\n  namespace: n\nspec:\n  containers:\n  - name: c\n    image: i\n",
    ].join("---\n"),
  ],
  ["flow-style metadata", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: f, namespace: n}\nspec:\n  selector: {matchLabels: {app: f}}\n  template:\n    metadata: {labels: {app: f}}\n    spec:\n      containers: [{name: c, image: i}]\n"],
  ["a host-network pod and a UDP port (failures)", [deployment("h", "x", "app: web", "").replace("    spec:\n", "    spec:\n      hostNetwork: true\n"), deployment("u", "x").replace("containerPort: 8080", "containerPort: 53\n          protocol: UDP")].join("---\n")],
  ["a bad annotation value (warnings)", [deployment("w", "x", "app: web", "      annotations:\n        config.linkerd.io/proxy-await: maybe\n"), deployment("ww", "y", "app: web", "      annotations:\n        config.linkerd.io/proxy-await: maybe\n")].join("---\n")],
  ["a comment on the name line", deployment("a # the name", "x") + "---\n" + deployment("bcd # the name", "yy")],
  ["a CronJob and a Job", "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: cj\nspec:\n  schedule: '*/5 * * * *'\n  jobTemplate:\n    metadata:\n      labels: {a: b}\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n          containers:\n          - name: c\n            image: i\n---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\nspec:\n  backoffLimit: 2\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: c\n        image: i\n        args: [linkerd-await, --shutdown, --, run]\n"],
];

for (const [label, text] of cases) {
  test(`planned injection equals the ordinary transform: ${label}`, async () => {
    await loadYamlLib();
    for (const manual of [true, false]) {
      // twice over with one configuration: the second pass replays the plans the first made
      const planned = config(manual);
      const ordinary = config(manual);
      for (let pass = 0; pass < 2; pass++) assert.equal(injectAll(text, planned, true), injectAll(text, ordinary, false), `${manual ? "--manual" : "annotation mode"}, pass ${pass + 1}`);
    }
  });
}

test("plans turn themselves off on a stream of varied shapes, and stay on where shapes repeat", async () => {
  await loadYamlLib();
  const r = rng(99);
  const varied = config(true);
  const before = planCache.planned;
  const madeBefore = planCache.made;
  // 400 documents of distinct shapes: none is planned (a plan is made for a shape seen twice),
  // and after the first windows they are not even masked
  for (let i = 0; i < 400; i++) injectAll(deployment(`v${i}`, "x", `app: web\n    extra${i}: "${r.int(9)}"`).replace("replicas: 3", `replicas: 3\n  paused${i}: false`), varied, true);
  assert.equal(planCache.planned - before, 0, "varied documents were planned");
  assert.equal(planCache.made - madeBefore, 0, "plans were made for shapes seen once");
  const uniform = config(true);
  const mid = planCache.planned;
  for (let i = 0; i < 400; i++) injectAll(deployment(`u${i}`, `n${i % 7}`), uniform, true);
  // the first document of the shape is injected the ordinary way; the second makes the plan
  assert.equal(planCache.planned - mid, 399, "every document of one shape after the first is planned");
  assert.equal(planCache.made - madeBefore, 1, "one plan for one shape");
  // shapes that come back in turn (50 images, as in the benchmark's stream) keep plans on
  const cycling = config(true);
  const atCycle = planCache.planned;
  for (let i = 0; i < 600; i++) injectAll(deployment(`c${i}`, `n${i % 7}`).replace("image: nginx", `image: nginx:1.${i % 50}`), cycling, true);
  const cycled = planCache.planned - atCycle;
  assert.ok(cycled >= 600 - 2 * 50, `only ${cycled} of 600 documents of 50 recurring shapes were planned`);
  // and a shape seen twice, far apart, is planned at its second sighting
  const later = config(true);
  const atStart = planCache.made;
  injectAll(deployment("p0", "ns-a", "app: web\n    rare: yes"), later, true);
  for (let i = 0; i < 50; i++) injectAll(deployment(`q${i}`, "ns-a", `app: web\n    other${i}: x`), later, true);
  injectAll(deployment("p1", "ns-b", "app: web\n    rare: yes"), later, true);
  assert.equal(planCache.made - atStart, 1, "the rare shape was planned when it came back");
});

test("the items of a kind: List as kubectl prints it are injected by plans, with the ordinary path's bytes", async () => {
  await loadYamlLib();
  // as `kubectl get deploy -o yaml` lays it out: items at column 0, each item indented by two
  const item = (i: number) =>
    deployment(`web-${i}`, `team-${i % 5}`, i % 3 ? "app: web" : `app: web\n    tier: t${i}`)
      .replace(/^(?=.)/gm, "  ")
      .replace(/^  /, "- ");
  const items = Array.from({ length: 300 }, (_, i) => item(i)).join("");
  const list = `apiVersion: v1\nitems:\n${items}kind: List\nmetadata:\n  resourceVersion: ""\n`;
  assert.ok(list.length > 64 * 1024, "large enough to be read item by item");
  for (const manual of [true, false]) {
    const planned = config(manual);
    const before = planCache.planned;
    const got = injectAll(list, planned, true);
    const plannedItems = planCache.planned - before;
    assert.equal(got, injectAll(list, config(manual), false), manual ? "--manual" : "annotation mode");
    // two shapes (one extra label every third item): all but the first sighting of each are planned
    assert.ok(plannedItems >= 300 - 4, `only ${plannedItems} of 300 items were planned`);
    assert.equal((got.match(/^ {8}- name: linkerd-proxy$/gm) ?? []).length, manual ? 300 : 0, "each item got its proxy container");
  }
});
