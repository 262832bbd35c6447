/**
 * Inject edge cases (issue 10): documents that start on their `---` line, explicit and empty
 * nulls, `%YAML` directives, multi-line flow collections and JSON. For each input and mode:
 * the output parses with the `yaml` package, says what injection must say (read back from the
 * parsed output, not from mesh's earlier output), `uninject(inject(x)) == x` byte for byte,
 * and `inject(inject(x)) == inject(x)`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseAllDocuments } from "yaml";
import { runMesh } from "../helpers/run.js";

const CA = "test/fixtures/inject/ca.pem";
const MODES: [string, string[]][] = [
  ["annotation mode", ["inject", "--ignore-cluster", "-"]],
  ["--manual", ["inject", "--manual", "--ignore-cluster", "--identity-trust-anchors-file", CA, "-"]],
];

type Obj = { [k: string]: unknown };
const obj = (v: unknown): Obj => (v && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {});
const list = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);

/** The parsed documents of a YAML stream, failing on any parse error. */
function parsed(text: string): Obj[] {
  return parseAllDocuments(text).map((d, i) => {
    assert.deepEqual(d.errors.map((e) => e.message), [], `document ${i + 1} of the output is not valid YAML:\n${text}`);
    return d.toJS() as Obj;
  });
}

/** The pod template of a workload (or the Pod itself). */
function podOf(doc: Obj): Obj {
  if (doc.kind === "Pod") return doc;
  if (doc.kind === "CronJob") return obj(obj(obj(obj(doc.spec).jobTemplate).spec).template);
  return obj(obj(doc.spec).template);
}

/** What injection must have done to a workload, read from the parsed output. */
function assertInjected(doc: Obj, manual: boolean, what: string): void {
  const pod = podOf(doc);
  const ann = obj(obj(pod.metadata).annotations);
  const containers = list(obj(pod.spec).containers).map((c) => c.name);
  if (!manual) {
    assert.equal(ann["linkerd.io/inject"], "enabled", `${what}: linkerd.io/inject`);
    assert.ok(!containers.includes("linkerd-proxy"), `${what}: no proxy in annotation mode`);
    return;
  }
  assert.equal(ann["linkerd.io/proxy-version"], "stable-2.14.10", `${what}: proxy-version`);
  assert.ok(containers.includes("linkerd-proxy"), `${what}: the proxy container (${containers.join(", ")})`);
  assert.ok(list(obj(pod.spec).initContainers).some((c) => c.name === "linkerd-init"), `${what}: the init container`);
  assert.ok(list(obj(pod.spec).volumes).some((v) => v.name === "linkerd-identity-end-entity"), `${what}: the identity volume`);
}

const deploymentBody = (meta: string, podMeta: string, spec = "") => `apiVersion: apps/v1
kind: Deployment
metadata:${meta}
spec:
  template:
    metadata:${podMeta}
    spec:${spec}
      containers:
      - name: web
        image: nginx
`;

/** [name, input, what the output must hold (besides injection)]. */
const cases: [string, string, (docs: Obj[], manual: boolean) => void][] = [
  [
    "a document opening on its `---` line with !!map",
    "--- !!map\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: nginx\n",
    (docs, manual) => assertInjected(docs[0], manual, "!!map"),
  ],
  [
    "a flow mapping opening on its `---` line and spanning lines",
    "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n--- {apiVersion: apps/v1, kind: Deployment,\n  metadata: {name: web, namespace: prod},   # the app\n  spec: {template: {spec: {containers: [{name: web, image: nginx,\n    ports: [{containerPort: 80}]}]}}}}\n",
    (docs, manual) => {
      assert.equal(docs.length, 2);
      assert.equal(obj(obj(docs[0].metadata).annotations)["linkerd.io/inject"], "enabled");
      assertInjected(docs[1], manual, "flow");
      assert.equal(obj(docs[1].metadata).namespace, "prod");
    },
  ],
  [
    "kubectl's JSON (multi-line flow)",
    `${JSON.stringify({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", labels: { app: "web" } }, spec: { template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "nginx", ports: [{ containerPort: 8080 }] }] } } } }, null, 4)}\n`,
    (docs, manual) => assertInjected(docs[0], manual, "json"),
  ],
  [
    "explicit nulls: metadata: null, annotations: ~, labels: null",
    "apiVersion: v1\nkind: Namespace\nmetadata: null\n---\n" +
      deploymentBody("\n  name: web\n  annotations: ~\n  labels: null", " null", "\n      initContainers: null\n      volumes: ~"),
    (docs, manual) => {
      assert.equal(obj(obj(docs[0].metadata).annotations)["linkerd.io/inject"], "enabled");
      assertInjected(docs[1], manual, "nulls");
      assert.equal(obj(docs[1].metadata).annotations, null, "the workload's own null annotations stay null");
    },
  ],
  [
    "empty metadata: and annotations: keys (one with a comment)",
    deploymentBody("\n  name: web\n  annotations:", "") + "---\n" + deploymentBody("\n  name: api", "\n      annotations:   # none yet\n      labels:\n        app: api"),
    (docs, manual) => {
      assertInjected(docs[0], manual, "empty metadata");
      assertInjected(docs[1], manual, "empty annotations");
      assert.equal(obj(obj(podOf(docs[1]).metadata).labels).app, "api");
    },
  ],
  [
    "%YAML 1.1 and 1.2 directives, first and after a `...`",
    "%YAML 1.1\n---\n" + deploymentBody("\n  name: web", "") + "...\n%YAML 1.2\n# the second one\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: b\n",
    (docs, manual) => {
      assert.equal(docs.length, 2);
      assertInjected(docs[0], manual, "%YAML 1.1");
      assert.equal(obj(obj(docs[1].metadata).annotations)["linkerd.io/inject"], "enabled");
    },
  ],
];

for (const [name, input, expect] of cases) {
  for (const [mode, argv] of MODES) {
    test(`inject edge case, ${mode}: ${name}`, async () => {
      const manual = argv.includes("--manual");
      const injected = await runMesh(argv, { stdin: input });
      assert.equal(injected.code, 0, injected.stderr);
      assert.doesNotMatch(injected.stderr, /missing "kind"/, "no phantom document");
      expect(parsed(injected.stdout), manual);
      const back = await runMesh(["uninject", "-"], { stdin: injected.stdout });
      assert.equal(back.code, 0, back.stderr);
      assert.equal(back.stdout, input, "uninject(inject(x)) == x");
      const again = await runMesh(argv, { stdin: injected.stdout });
      assert.equal(again.stdout, injected.stdout, "inject(inject(x)) == inject(x)");
    });
  }
}

test("the output of a re-serialised document that opened on its `---` line starts on the next line", async () => {
  // a tag the scanner leaves to the full parser: the document is re-serialised as block YAML
  const input = "--- !!map {apiVersion: v1, kind: Namespace, metadata: &m {name: a}}\n";
  const r = await runMesh(["inject", "--ignore-cluster", "-"], { stdin: input });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^---\napiVersion: v1\n/);
  assert.equal(obj(obj(parsed(r.stdout)[0].metadata).annotations)["linkerd.io/inject"], "enabled");
});

test("%YAML 1.1 resolves plain scalars as YAML 1.1 does: hostNetwork: yes is true", async () => {
  const pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  hostNetwork: yes\n  containers:\n  - name: c\n    image: i\n";
  const v11 = await runMesh(["inject", "--ignore-cluster", "-"], { stdin: `%YAML 1.1\n---\n${pod}` });
  assert.equal(v11.code, 1);
  assert.equal(v11.stdout, "");
  assert.match(v11.stderr, /hostNetwork is enabled/);
  // without the directive, YAML 1.2: `yes` is a string and the pod is injected
  const v12 = await runMesh(["inject", "--ignore-cluster", "-o", "json", "-"], { stdin: pod });
  assert.equal(v12.code, 0, v12.stderr);
  assert.equal(JSON.parse(v12.stdout).spec.hostNetwork, "yes");
});

const badDirectives: [string, string, RegExp][] = [
  ["an unsupported %YAML version", "%YAML 2.0\n---\nkind: Namespace\n", /^error: stdin: document 1 \(line 1\): %YAML 2\.0: mesh reads YAML 1\.1 and 1\.2 documents only$/m],
  ["a directive without a `---` line", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n...\n%YAML 1.1\nkind: Namespace\n", /^error: stdin: document 2 \(line 6\): a directive \(a line starting with %\) must be followed by a `---` line/m],
  ["a directive at the end of the input", "%YAML 1.2\n", /^error: stdin: document 1 \(line 1\): a directive .* must be followed by a `---` line/m],
];
for (const [what, stdin, re] of badDirectives)
  test(`bad directives, ${what}: one error line, exit 1, nothing on stdout`, async () => {
    for (const argv of [["inject", "--ignore-cluster", "-"], ["uninject", "-"]]) {
      const r = await runMesh(argv, { stdin });
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, re);
      assert.equal(r.stderr.split("\n").filter((l) => l.startsWith("error:")).length, 1);
    }
  });

test("YAML 1.1 plain scalars resolve as the yaml package's yaml-1.1 schema resolves them", async () => {
  const { resolvePlain11 } = await import("../../src/inject/yaml/scan.js");
  const { parse } = await import("yaml");
  const tokens = ["yes", "No", "ON", "off", "y", "n", "~", "null", "true", "0777", "0b101", "0x1F", "1_000", "-0o7", "+12", "190:20:30", "1.5e3", "1_0.5", ".inf", "-.Inf", "0", "09", "abc", "1.2.3", "12:61"];
  for (const t of tokens) assert.deepEqual(resolvePlain11(t), parse(`v: ${t}`, { version: "1.1" }).v, t);
});

/** A `kind: List` as `kubectl get -o yaml` prints it, large enough for the item-by-item path. */
function kubectlList(n: number): string {
  let out = "apiVersion: v1\nitems:\n";
  for (let i = 0; i < n; i++) {
    const kind = ["Deployment", "StatefulSet", "Service", "ConfigMap", "Pod"][i % 5];
    const item =
      kind === "Service" ? `apiVersion: v1\nkind: Service\nmetadata:\n  name: s${i}\nspec:\n  ports:\n  - port: 80\n`
      : kind === "ConfigMap" ? `apiVersion: v1\ndata:\n  a: |\n    line one\n    line two\nkind: ConfigMap\nmetadata:\n  name: c${i}\n`
      : kind === "Pod" ? `apiVersion: v1\nkind: Pod\nmetadata:\n  name: p${i}\n  namespace: n${i % 3}\nspec:\n  containers:\n  - image: i\n    name: c\n    ports:\n    - containerPort: ${8000 + i}\n`
      : `apiVersion: apps/v1\nkind: ${kind}\nmetadata:\n  labels:\n    app: w${i}\n  name: w${i}\n  namespace: n${i % 3}\nspec:\n  selector:\n    matchLabels:\n      app: w${i}\n  template:\n    metadata:\n      labels:\n        app: w${i}\n    spec:\n      containers:\n      - image: nginx\n        name: web\n        ports:\n        - containerPort: ${8000 + (i % 7)}\n${i % 4 === 0 ? "      volumes:\n      - emptyDir: {}\n        name: data\n" : ""}`;
    out += item.replace(/^(?=.)/gm, "  ").replace(/^  /, "- ");
  }
  return `${out}kind: List\nmetadata:\n  resourceVersion: ""\n`;
}

test("a large kubectl List, injected item by item, equals the whole-document transform", async () => {
  const { listItems } = await import("../../src/inject/stream.js");
  const text = kubectlList(600);
  assert.ok(text.length > 64 * 1024 && listItems(text)?.length === 600, "the item-by-item path applies");
  // a comment line at column 0 is outside kubectl's layout: that input takes the whole-document path
  const whole = `${text}# end\n`;
  assert.equal(listItems(whole), undefined);
  for (const [mode, argv] of MODES) {
    const a = await runMesh(argv, { stdin: text });
    const b = await runMesh(argv, { stdin: whole });
    assert.equal(a.code, 0, a.stderr);
    assert.equal(`${a.stdout}# end\n`, b.stdout, mode);
    assert.equal(a.stderr, b.stderr, `${mode}: the report`);
    assertInjected(list(parsed(a.stdout)[0].items)[0], argv.includes("--manual"), `${mode}: first item`);
    const back = await runMesh(["uninject", "-"], { stdin: a.stdout });
    assert.equal(back.stdout, text, `${mode}: uninject(inject(x)) == x`);
  }
});
