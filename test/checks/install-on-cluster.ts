// Installs mesh's Linkerd on the real 1.20 test cluster (for the e2e tests and bench/check.mjs).
import assert from "node:assert/strict";
import { parseAllDocuments, stringify } from "yaml";
import type { TestCluster } from "../helpers/cluster.js";
import { runMesh } from "../helpers/run.js";

type Obj = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string } };

/** What `adaptFor120` did to `mesh install` output. */
export interface Adapted120 {
  /** The YAML to apply. */
  yaml: string;
  /** Objects in the input. */
  count: number;
  /** `apiVersion kind/name` of every object left out. */
  dropped: string[];
  /** `<object name>: <path>` of every `default: ""` removed. */
  removedDefaults: string[];
}

/**
 * `mesh install` output made acceptable to Kubernetes 1.20 (pure; see for120 for the checks):
 * - the batch/v1 CronJob (heartbeat) is left out: batch/v1 CronJob arrives in 1.21, and sending
 *   it as batch/v1beta1 would make the cluster's real controller-manager start heartbeat Jobs
 *   (whose pods would join the control-plane pods the tests count). `mesh check` does not look
 *   at it; test/e2e/install.test.ts has the API server validate it as batch/v1beta1 instead.
 * - CRD schema defaults of "" are removed: 1.20 rejects them (a bug fixed in 1.21). `mesh check`
 *   needs the CRDs' names and versions only.
 * Nothing else is touched.
 */
export function adaptFor120(yaml: string): Adapted120 {
  const objs = parseAllDocuments(yaml)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
  const dropped: string[] = [];
  const removedDefaults: string[] = [];
  const kept = objs.filter((o) => {
    if (o.apiVersion === "batch/v1" && o.kind === "CronJob") {
      dropped.push(`${o.apiVersion} ${o.kind}/${o.metadata.name}`);
      return false;
    }
    if (o.kind === "CustomResourceDefinition") removedDefaults.push(...removeEmptyDefaults(o));
    return true;
  });
  return { yaml: kept.map((d) => stringify(d)).join("---\n"), count: objs.length, dropped, removedDefaults };
}

/**
 * Deletes every `default: ""` under a CRD's spec (1.20 rejects them); returns where each was,
 * as "<crd name>: spec.<path>.default".
 */
export function removeEmptyDefaults(crd: Obj): string[] {
  const removed: string[] = [];
  const walk = (x: unknown, path: string[]): void => {
    if (Array.isArray(x)) x.forEach((item, i) => walk(item, [...path, String(i)]));
    else if (x && typeof x === "object") {
      const o = x as Record<string, unknown>;
      if (o.default === "") {
        removed.push(`${crd.metadata.name}: ${path.join(".")}.default`);
        delete o.default;
      }
      for (const [k, v] of Object.entries(o)) walk(v, [...path, k]);
    }
  };
  walk(crd.spec, ["spec"]);
  return removed;
}

/** The only `default: ""` entries 1.20 has to lose: `group` of a backendRef/parentRef in the HTTPRoute CRDs. */
const HTTPROUTE_GROUP_DEFAULT = /^httproutes\.(policy\.linkerd\.io|gateway\.networking\.k8s\.io): spec\.versions\.\d+\.schema\.openAPIV3Schema\.(.+\.)?properties\.group\.default$/;

/**
 * adaptFor120, asserting it changed exactly what is expected: for `install --crds`, nothing left
 * out and only (and all) the HTTPRoute `group` defaults removed; for `install`, only the heartbeat
 * CronJob left out and no default touched.
 */
export function for120(yaml: string, what: "crds" | "control-plane"): string {
  const a = adaptFor120(yaml);
  // The output is the input minus the objects listed as dropped and the defaults listed as removed.
  const docs = (text: string) => parseAllDocuments(text).map((d) => d.toJS() as Obj | null).filter((o): o is Obj => o !== null);
  const expected = docs(yaml).filter((o) => !a.dropped.includes(`${o.apiVersion} ${o.kind}/${o.metadata.name}`));
  for (const entry of a.removedDefaults) {
    const [name, path] = entry.split(": ");
    let at: unknown = expected.find((o) => o.kind === "CustomResourceDefinition" && o.metadata.name === name);
    const keys = path!.split(".");
    for (const k of keys.slice(0, -1)) at = (at as Record<string, unknown>)[k];
    assert.equal((at as Record<string, unknown>).default, "", entry);
    delete (at as Record<string, unknown>).default;
  }
  assert.deepEqual(docs(a.yaml), expected, "nothing else changes");
  if (what === "crds") {
    assert.deepEqual(a.dropped, [], "no CRD is left out");
    assert.ok(a.removedDefaults.length > 0, "the HTTPRoute CRDs have empty group defaults");
    assert.equal(a.removedDefaults.length, (yaml.match(/^ *default: ""$/gm) ?? []).length, "every empty default is accounted for");
    for (const p of a.removedDefaults) assert.match(p, HTTPROUTE_GROUP_DEFAULT);
  } else {
    assert.deepEqual(a.dropped, ["batch/v1 CronJob/linkerd-heartbeat"], "only the heartbeat CronJob is left out");
    assert.deepEqual(a.removedDefaults, [], "the control plane has no CRD defaults to remove");
  }
  return a.yaml;
}

/** `mesh install --crds` and `mesh install` into namespace `cp`, applied, control-plane pods ready. */
export async function installLinkerd(c: TestCluster, cp: string): Promise<void> {
  const crds = await runMesh(["install", "--crds", "-L", cp, "--ignore-cluster"], { now: new Date() });
  if (crds.code !== 0) throw new Error(`mesh install --crds: ${crds.stderr}`);
  await c.apply(for120(crds.stdout, "crds"));
  const cpYaml = await runMesh(["install", "-L", cp, "--enable-endpoint-slices=false", "--ignore-cluster"], { now: new Date() });
  if (cpYaml.code !== 0) throw new Error(`mesh install: ${cpYaml.stderr}`);
  await c.apply(for120(cpYaml.stdout, "control-plane"));
  await c.waitForPods(cp, "linkerd.io/control-plane-component", { count: 3, timeoutMs: 60_000 });
}

/** Removes what `installLinkerd` created outside its namespace, then the namespace. */
export async function uninstallLinkerd(c: TestCluster, cp: string): Promise<void> {
  for (const path of [
    "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/linkerd-proxy-injector-webhook-config",
    "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/linkerd-sp-validator-webhook-config",
    "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/linkerd-policy-validator-webhook-config",
  ]) {
    const obj = await c.api.find<{ metadata: { labels?: Record<string, string> } }>(path);
    if (obj?.metadata.labels?.["linkerd.io/control-plane-ns"] === cp) await c.api.json("DELETE", path).catch(() => undefined);
  }
  const mine = encodeURIComponent(`linkerd.io/control-plane-ns=${cp}`);
  for (const kind of ["clusterroles", "clusterrolebindings"]) await c.api.json("DELETE", `/apis/rbac.authorization.k8s.io/v1/${kind}?labelSelector=${mine}`).catch(() => undefined);
  await c.deleteNamespace(cp);
}
