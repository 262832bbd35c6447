/**
 * The inject goldens are written by mesh itself; these checks are not. For every golden input
 * and the flags of its golden case, the output is parsed with the `yaml` package and checked
 * against what the flags and config asked for, computed here from the input and the flags:
 * the proxy container (image, env, ports, resources), the init container, the volumes, the
 * annotations and labels, that skipped resources are untouched, and that nothing else changed.
 * A no-op inject, or one that ignores a flag, fails them.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { runMesh } from "../helpers/run.js";

const F = "test/fixtures/inject";
const CA = `${F}/ca.pem`;
const PEM = readFileSync(CA, "utf8");
const VERSION = "stable-2.14.10";

type Obj = { [k: string]: unknown };
const obj = (v: unknown): Obj => (v && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {});
const list = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);

/** What a case's flags ask for (defaults: Linkerd 2.14.10's values). */
interface Want {
  manual: boolean;
  registry: string;
  adminPort: number;
  defaultPolicy: string;
  ingress?: boolean;
  cpuLimit?: string;
  memoryRequest?: string;
  skipInbound?: string;
  skipOutbound?: string;
  opaquePorts?: string;
  requireIdentity?: string;
  waitBeforeExit?: string;
  debug?: boolean;
  /** `--close-wait-timeout`: the annotation's value, and the init container's seconds. */
  closeWait?: [string, string];
  /** proxy.await (on unless a pod's `config.linkerd.io/proxy-await: disabled` turns it off). */
  noAwait?: boolean;
}

/** A pod's own config annotations change what it gets (the ones the fixtures use). */
function podWant(w: Want, podIn: Obj): Want {
  const a = annotations(podIn);
  const out = { ...w };
  if (a["config.linkerd.io/proxy-await"] === "disabled") out.noAwait = true;
  if (typeof a["config.linkerd.io/proxy-cpu-limit"] === "string") out.cpuLimit = a["config.linkerd.io/proxy-cpu-limit"];
  return out;
}

/** Linkerd's default proxyInit.ignoreInboundPorts and ignoreOutboundPorts. */
const DEFAULT_SKIP_PORTS = "4567,4568";
const base: Want = { manual: false, registry: "cr.l5d.io/linkerd", adminPort: 4191, defaultPolicy: "all-unauthenticated" };
const offline = ["--ignore-cluster"];
const manual = ["--manual", "--ignore-cluster", "--identity-trust-anchors-file", CA];
const flags = [
  "--proxy-cpu-limit", "1500m", "--proxy-memory-request", "64Mi", "--skip-inbound-ports", "22,8100-8102", "--skip-outbound-ports", "5432",
  "--opaque-ports", "3000,5000-6000", "--admin-port", "1234", "--wait-before-exit-seconds", "10", "--enable-debug-sidecar", "--close-wait-timeout", "1m",
  "--require-identity-on-inbound-ports", "80", "--default-inbound-policy", "all-authenticated", "--registry", "registry.example.com/l5d",
];
const flagsWant: Want = {
  manual: true, registry: "registry.example.com/l5d", adminPort: 1234, defaultPolicy: "all-authenticated", cpuLimit: "1500m", memoryRequest: "64Mi",
  skipInbound: "22,8100-8102", skipOutbound: "5432", opaquePorts: "3000,5000-6000", waitBeforeExit: "10", debug: true, closeWait: ["1m0s", "60"], requireIdentity: "80",
};

/** The golden cases' flags and inputs (test/inject/golden.test.ts), with what they ask for. */
const cases: [string, string[], string[], Want][] = [
  ["deployment", offline, ["deployment"], base],
  ["deployment-manual", manual, ["deployment"], { ...base, manual: true }],
  ["deployment-flags", [...manual, ...flags], ["deployment"], flagsWant],
  [
    "deployment-flags-annotations",
    [...offline, "--proxy-cpu-limit", "1500m", "--admin-port", "1234", "--enable-debug-sidecar", "--close-wait-timeout", "90s"],
    ["deployment"],
    { ...base, cpuLimit: "1500m", adminPort: 1234, debug: true, closeWait: ["1m30s", "90"] },
  ],
  ["kinds", offline, ["kinds"], base],
  ["kinds-opaque", [...offline, "--opaque-ports", "5432"], ["kinds"], { ...base, opaquePorts: "5432" }],
  ["kinds-manual", manual, ["kinds"], { ...base, manual: true }],
  ["cronjob", offline, ["cronjob"], base],
  ["cronjob-manual", manual, ["cronjob"], { ...base, manual: true }],
  ["skipped", offline, ["skipped"], base],
  ["list-manual", manual, ["list"], { ...base, manual: true }],
  ["deployment-ingress-manual", [...manual, "--ingress"], ["deployment", "kinds"], { ...base, manual: true, ingress: true }],
];

/** The objects of a stream: documents, with a List's items in its place. */
function objects(text: string): Obj[] {
  const out: Obj[] = [];
  for (const d of parseAllDocuments(text)) {
    assert.deepEqual(d.errors.map((e) => e.message), []);
    const v = d.toJS() as unknown;
    if (v === null || v === undefined) continue;
    const o = obj(v);
    if (o.kind === "List") out.push(...list(o.items).filter((item) => item !== null));
    else out.push(o);
  }
  return out;
}

const POD_PATH: Record<string, string[]> = {
  Deployment: ["spec", "template"], StatefulSet: ["spec", "template"], DaemonSet: ["spec", "template"], ReplicaSet: ["spec", "template"],
  ReplicationController: ["spec", "template"], Job: ["spec", "template"], CronJob: ["spec", "jobTemplate", "spec", "template"], Pod: [],
};
const podOf = (o: Obj): Obj | undefined => {
  const path = POD_PATH[String(o.kind)];
  if (!path) return undefined;
  let cur: Obj = o;
  for (const k of path) cur = obj(cur[k]);
  return cur;
};
const metaOf = (o: Obj | undefined) => obj(o?.metadata);
const annotations = (o: Obj | undefined) => obj(metaOf(o).annotations);
const labels = (o: Obj | undefined) => obj(metaOf(o).labels);
const env = (c: Obj) => Object.fromEntries(list(c.env).map((e) => [e.name, e.value]));

/** Can Linkerd inject this pod (its own annotation, host network, token automount)? UDP ports only warn. */
function injectable(pod: Obj): boolean {
  const spec = obj(pod.spec);
  return annotations(pod)["linkerd.io/inject"] !== "disabled" && spec.hostNetwork !== true && spec.automountServiceAccountToken !== false;
}

/** LINKERD2_PROXY_INBOUND_PORTS, computed from the input: container ports and HTTP probe ports, sorted as strings. */
function inboundPorts(pod: Obj): string {
  const ports = new Set<string>();
  for (const c of list(obj(pod.spec).containers)) {
    for (const p of list(c.ports)) if (typeof p.containerPort === "number") ports.add(String(p.containerPort));
    for (const probe of [c.readinessProbe, c.livenessProbe]) {
      const port = obj(obj(probe).httpGet).port;
      if (typeof port === "number") ports.add(String(port));
    }
  }
  return [...ports].sort().join(",");
}

/** The config.linkerd.io annotations the flags ask for (the proxy's own annotations aside). */
function configAnnotations(w: Want): Obj {
  const a: Obj = {};
  if (w.registry !== base.registry) {
    a["config.linkerd.io/proxy-image"] = `${w.registry}/proxy`;
    a["config.linkerd.io/init-image"] = `${w.registry}/proxy-init`;
    a["config.linkerd.io/debug-image"] = `${w.registry}/debug`;
  }
  if (w.adminPort !== base.adminPort) a["config.linkerd.io/admin-port"] = String(w.adminPort);
  if (w.defaultPolicy !== base.defaultPolicy) a["config.linkerd.io/default-inbound-policy"] = w.defaultPolicy;
  if (w.cpuLimit) a["config.linkerd.io/proxy-cpu-limit"] = w.cpuLimit;
  if (w.memoryRequest) a["config.linkerd.io/proxy-memory-request"] = w.memoryRequest;
  if (w.skipInbound) a["config.linkerd.io/skip-inbound-ports"] = w.skipInbound;
  if (w.skipOutbound) a["config.linkerd.io/skip-outbound-ports"] = w.skipOutbound;
  if (w.opaquePorts) a["config.linkerd.io/opaque-ports"] = w.opaquePorts;
  if (w.requireIdentity) a["config.linkerd.io/proxy-require-identity-inbound-ports"] = w.requireIdentity;
  if (w.waitBeforeExit) a["config.alpha.linkerd.io/proxy-wait-before-exit-seconds"] = w.waitBeforeExit;
  if (w.debug) a["config.linkerd.io/enable-debug-sidecar"] = "true";
  if (w.closeWait) a["config.linkerd.io/close-wait-timeout"] = w.closeWait[0];
  return a;
}

const SIDECARS = new Set(["linkerd-proxy", "linkerd-debug", "linkerd-init", "linkerd-identity-end-entity", "linkerd-proxy-init-xtables-lock", "linkerd-identity-token"]);

/** The output object with what injection may add taken out (keys the input did not have), to compare with the input. */
function withoutInjection(out: Obj, input: Obj): Obj {
  const o = structuredClone(out);
  const strip = (holder: Obj, was: Obj) => {
    const meta = obj(holder.metadata);
    for (const k of ["annotations", "labels"]) {
      const m = obj(meta[k]);
      const before = obj(obj(was.metadata)[k]);
      for (const key of Object.keys(m)) if (!(key in before)) delete m[key];
      if (meta[k] !== undefined && Object.keys(m).length === 0 && obj(was.metadata)[k] === undefined) delete meta[k];
    }
    if (holder.metadata !== undefined && Object.keys(meta).length === 0 && was.metadata === undefined) delete holder.metadata;
  };
  strip(o, input);
  const pod = podOf(o);
  const podIn = podOf(input);
  if (pod && podIn) {
    if (pod !== o) strip(pod, podIn);
    const spec = obj(pod.spec);
    for (const k of ["containers", "initContainers", "volumes"]) {
      if (!Array.isArray(spec[k])) continue;
      spec[k] = list(spec[k]).filter((c) => !SIDECARS.has(String(c.name)));
      if (list(spec[k]).length === 0 && obj(podIn.spec)[k] === undefined) delete spec[k];
    }
  }
  return o;
}

function checkProxy(pod: Obj, podIn: Obj, w: Want, what: string): void {
  const spec = obj(pod.spec);
  const containers = list(spec.containers);
  // proxy.await (on by default): the proxy goes first; without it, last
  const proxy = w.noAwait ? containers[containers.length - 1] : containers[0];
  assert.equal(proxy?.name, "linkerd-proxy", `${what}: the proxy is the ${w.noAwait ? "last" : "first"} container`);
  assert.equal(proxy.image, `${w.registry}/proxy:${VERSION}`, `${what}: proxy image`);
  const e = env(proxy);
  assert.equal(e.LINKERD2_PROXY_ADMIN_LISTEN_ADDR, `0.0.0.0:${w.adminPort}`, `${what}: admin address`);
  assert.equal(e.LINKERD2_PROXY_INBOUND_LISTEN_ADDR, "0.0.0.0:4143", what);
  assert.equal(e.LINKERD2_PROXY_DESTINATION_SVC_ADDR, "linkerd-dst-headless.linkerd.svc.cluster.local.:8086", what);
  assert.equal(e.LINKERD2_PROXY_INBOUND_DEFAULT_POLICY, w.defaultPolicy, `${what}: default inbound policy`);
  assert.equal(e.LINKERD2_PROXY_INBOUND_PORTS, inboundPorts(podIn), `${what}: inbound ports`);
  assert.equal(String(e.LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS).trim(), PEM.trim(), `${what}: trust anchors`);
  assert.equal(e.LINKERD2_PROXY_INBOUND_PORTS_REQUIRE_IDENTITY, w.requireIdentity, `${what}: identity-required ports`);
  if (w.opaquePorts) assert.equal(e.LINKERD2_PROXY_INBOUND_PORTS_DISABLE_PROTOCOL_DETECTION, w.opaquePorts, `${what}: opaque ports`);
  assert.deepEqual(list(proxy.ports).map((p) => [p.name, p.containerPort]), [["linkerd-proxy", 4143], ["linkerd-admin", w.adminPort]], `${what}: proxy ports`);
  assert.equal(obj(obj(proxy.livenessProbe).httpGet).port, w.adminPort, `${what}: liveness probe port`);
  const res = obj(proxy.resources);
  assert.equal(obj(res.limits).cpu, w.cpuLimit, `${what}: cpu limit`);
  assert.equal(obj(res.requests).memory, w.memoryRequest, `${what}: memory request`);
  const preStop = list(obj(obj(obj(proxy.lifecycle).preStop).exec).command);
  assert.deepEqual(preStop, w.waitBeforeExit ? ["/bin/sleep", w.waitBeforeExit] : [], `${what}: preStop`);
  assert.equal(containers.some((c) => c.name === "linkerd-debug" && c.image === `${w.registry}/debug:${VERSION}`), Boolean(w.debug), `${what}: debug sidecar`);

  const init = list(spec.initContainers).filter((c) => c.name === "linkerd-init");
  assert.equal(init.length, 1, `${what}: one linkerd-init`);
  assert.equal(init[0].image, `${w.registry}/proxy-init:v2.2.3`, `${what}: init image`);
  const args = list(init[0].args).map(String);
  const arg = (flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
  assert.equal(arg("--inbound-ports-to-ignore"), `4190,${w.adminPort},${w.skipInbound ?? DEFAULT_SKIP_PORTS}`, `${what}: inbound ports to ignore`);
  assert.equal(arg("--outbound-ports-to-ignore"), w.skipOutbound ?? DEFAULT_SKIP_PORTS, `${what}: outbound ports to ignore`);
  assert.equal(arg("--timeout-close-wait-secs"), w.closeWait?.[1], `${what}: close-wait`);
  const caps = (obj(obj(init[0].securityContext).capabilities).add ?? []) as unknown[];
  assert.ok(caps.includes("NET_ADMIN") && caps.includes("NET_RAW"), `${what}: init capabilities`);

  const volumes = Object.fromEntries(list(spec.volumes).map((v) => [v.name, v]));
  assert.deepEqual(volumes["linkerd-identity-end-entity"]?.emptyDir, { medium: "Memory" }, `${what}: identity volume`);
  assert.ok(volumes["linkerd-proxy-init-xtables-lock"], `${what}: xtables volume`);
  const token = list(obj(volumes["linkerd-identity-token"]?.projected).sources)[0];
  assert.equal(obj(obj(token).serviceAccountToken).audience, "identity.l5d.io", `${what}: token volume`);
}

function checkObject(out: Obj, input: Obj, w: Want, what: string, ingressHere: boolean): void {
  const pod = podOf(out);
  const podIn = podOf(input);
  const kind = String(input.kind);
  if (podIn && pod) {
    if (!injectable(podIn)) {
      assert.deepEqual(out, input, `${what}: a pod Linkerd does not inject is unchanged`);
      return;
    }
    const ann = annotations(pod);
    const wantAnn = configAnnotations(w);
    for (const [k, v] of Object.entries(wantAnn)) assert.equal(ann[k], v, `${what}: annotation ${k}`);
    if (w.manual) {
      assert.equal(ann["linkerd.io/created-by"], `linkerd/cli ${VERSION}`, `${what}: created-by`);
      assert.equal(ann["linkerd.io/proxy-version"], VERSION, `${what}: proxy-version`);
      assert.equal(ann["linkerd.io/trust-root-sha256"], createHash("sha256").update(PEM).digest("hex"), `${what}: trust-root-sha256`);
      assert.equal(ann["linkerd.io/inject"], ingressHere ? "ingress" : undefined, `${what}: linkerd.io/inject`);
      const l = labels(pod);
      assert.equal(l["linkerd.io/control-plane-ns"], "linkerd", `${what}: control-plane-ns label`);
      assert.equal(l["linkerd.io/workload-ns"], String(metaOf(input).namespace ?? ""), `${what}: workload-ns label`);
      if (kind !== "Pod") assert.equal(l[`linkerd.io/proxy-${kind.toLowerCase()}`], metaOf(input).name, `${what}: owner label`);
      checkProxy(pod, podIn, podWant(w, podIn), what);
    } else {
      assert.equal(ann["linkerd.io/inject"], w.ingress ? "ingress" : "enabled", `${what}: linkerd.io/inject`);
      const spec = obj(pod.spec);
      assert.deepEqual(spec.containers, obj(podIn.spec).containers, `${what}: containers untouched in annotation mode`);
      assert.deepEqual(spec.initContainers, obj(podIn.spec).initContainers, `${what}: init containers untouched in annotation mode`);
    }
  } else if (kind === "Namespace") {
    assert.equal(annotations(out)["linkerd.io/inject"], "enabled", `${what}: namespace annotated`);
    for (const [k, v] of Object.entries(configAnnotations(w))) assert.equal(annotations(out)[k], v, `${what}: namespace annotation ${k}`);
  } else if (kind === "Service" && w.opaquePorts) {
    assert.equal(annotations(out)["config.linkerd.io/opaque-ports"], w.opaquePorts, `${what}: service opaque ports`);
  } else assert.deepEqual(out, input, `${what}: not injected, unchanged`);
  assert.deepEqual(withoutInjection(out, input), input, `${what}: nothing else changed`);
}

for (const [name, flagsOf, inputs, want] of cases) {
  test(`inject golden ${name}: the output holds what the flags asked for (checked independently)`, async () => {
    const files = inputs.map((i) => `${F}/${i}.input.yaml`);
    const r = await runMesh(["inject", ...flagsOf, ...files]);
    assert.equal(r.code, 0, r.stderr);
    const input = files.flatMap((f) => objects(readFileSync(f, "utf8")));
    const output = objects(r.stdout);
    assert.equal(output.length, input.length, "one object out per object in");
    // with --ingress --manual, Linkerd keeps the ingress annotation on the first injected resource only
    let ingressLeft = Boolean(want.ingress && want.manual);
    for (let i = 0; i < input.length; i++) {
      const pod = podOf(input[i]);
      const here = ingressLeft && pod !== undefined && injectable(pod);
      if (here) ingressLeft = false;
      checkObject(output[i], input[i], want, `${name}: object ${i + 1} (${input[i].kind}/${metaOf(input[i]).name})`, here);
    }
  });
}

test("the property fails a no-op inject (it proves something)", () => {
  const input = objects(readFileSync(`${F}/deployment.input.yaml`, "utf8"))[0];
  assert.throws(() => checkObject(structuredClone(input), input, { ...base, manual: true }, "no-op", false));
  assert.throws(() => checkObject(structuredClone(input), input, base, "no-op", false));
});

/** The directory golden: every manifest file under the directory, in order. */
test("inject golden directory: every .yaml/.json file's objects are injected", async () => {
  const walk = (d: string): string[] =>
    readdirSync(d).sort().flatMap((n) => {
      const p = join(d, n);
      return statSync(p).isDirectory() ? walk(p) : /\.(ya?ml|json)$/.test(n) ? [p] : [];
    });
  const files = walk(`${F}/dir`);
  const r = await runMesh(["inject", ...offline, `${F}/dir`]);
  assert.equal(r.code, 0, r.stderr);
  const input = files.flatMap((f) => objects(readFileSync(f, "utf8")));
  const output = objects(r.stdout);
  assert.equal(output.length, input.length);
  input.forEach((o, i) => checkObject(output[i], o, base, `directory: object ${i + 1}`, false));
});

test("inject golden json: -o json prints each injected object as JSON", async () => {
  const r = await runMesh(["inject", ...offline, "-o", "json", `${F}/deployment.input.yaml`]);
  assert.equal(r.code, 0, r.stderr);
  const input = objects(readFileSync(`${F}/deployment.input.yaml`, "utf8"));
  checkObject(JSON.parse(r.stdout) as Obj, input[0], base, "json", false);
});
