/**
 * Generated manifests for the round-trip properties of inject/uninject: many YAML styles
 * (indentation, sequence style, quoting, comments, flow collections, CRLF, several
 * documents) and many shapes (kinds, existing metadata, init containers, volumes).
 * Used by test/inject/property.test.ts (10,000 cases) and scripts/inject-property.mjs (more).
 */
import { readFileSync } from "node:fs";
import { parseAllDocuments, parseDocument } from "yaml";
import { DocSplitter, loadYamlLib, transformDocument, type Mode } from "../../src/inject/stream.js";
import { overrideAnnotations, pickInjectValues } from "../../src/inject/overrides.js";
import type { InjectConfig } from "../../src/inject/transform.js";
import { planCache } from "../../src/inject/plan.js";
import { defaultValues } from "../../src/install/values.js";

/** mulberry32: small, seeded, good enough for test data. */
export function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: T[]): T => xs[Math.floor(next() * xs.length)],
    chance: (p: number) => next() < p,
  };
}
type R = ReturnType<typeof rng>;

const KINDS: [string, string][] = [
  ["apps/v1", "Deployment"], ["apps/v1", "StatefulSet"], ["apps/v1", "DaemonSet"], ["apps/v1", "ReplicaSet"],
  ["v1", "ReplicationController"], ["batch/v1", "Job"], ["batch/v1beta1", "CronJob"], ["v1", "Pod"],
  ["v1", "Namespace"], ["v1", "Service"], ["v1", "ConfigMap"],
];

interface Style {
  step: number;
  seqIndent: boolean;
  q: (s: string) => string;
  comments: boolean;
}

function quoter(r: R): (s: string) => string {
  return (s) => {
    const c = r.int(6);
    if (c === 0) return `"${s}"`;
    if (c === 1) return `'${s}'`;
    return s;
  };
}

/** Writes nested block YAML from a small description, in the given style. */
class W {
  lines: string[] = [];
  constructor(
    readonly st: Style,
    readonly r: R,
  ) {}
  pad(n: number) {
    return " ".repeat(n);
  }
  comment(col: number) {
    if (this.st.comments && this.r.chance(0.15)) this.lines.push(`${this.pad(col)}# ${this.r.pick(["note", "TODO: tune", "managed by hand", "see docs"])}`);
  }
  kv(col: number, k: string, v: string) {
    this.comment(col);
    const trail = this.st.comments && this.r.chance(0.1) ? "  # trailing" : "";
    this.lines.push(`${this.pad(col)}${k}: ${v}${trail}`);
  }
  key(col: number, k: string) {
    this.comment(col);
    this.lines.push(`${this.pad(col)}${k}:`);
  }
  /** column where a nested map's keys go */
  inner(col: number) {
    return col + this.st.step;
  }
  /** column of a sequence's dashes under a key at col */
  dash(col: number) {
    return col + (this.st.seqIndent ? this.st.step : 0);
  }
  item(dashCol: number, first: [string, string]) {
    this.lines.push(`${this.pad(dashCol)}- ${first[0]}: ${first[1]}`);
    return dashCol + 2;
  }
}

function container(w: W, dashCol: number, name: string, r: R) {
  const c = w.item(dashCol, ["name", w.st.q(name)]);
  w.kv(c, "image", w.st.q(`registry.example.com/${name}:v${r.int(9)}`));
  if (r.chance(0.3)) w.kv(c, "args", r.chance(0.5) ? `["--port", "${8000 + r.int(100)}"]` : "[]");
  if (r.chance(0.2)) {
    w.key(c, "command");
    const d = w.dash(c);
    w.lines.push(`${w.pad(d)}- /bin/sh`, `${w.pad(d)}- -c`, `${w.pad(d)}- |`, `${w.pad(d + 2)}echo start`, `${w.pad(d + 2)}exec app`);
  }
  if (r.chance(0.6)) {
    w.key(c, "ports");
    const d = w.dash(c);
    for (let i = 0, n = 1 + r.int(3); i < n; i++) {
      const p = w.item(d, ["containerPort", String(1000 + r.int(9000))]);
      if (r.chance(0.5)) w.kv(p, "name", `p${i}`);
      if (r.chance(0.05)) w.kv(p, "protocol", "UDP");
    }
  }
  if (r.chance(0.3)) {
    w.key(c, "readinessProbe");
    if (r.chance(0.5)) w.kv(w.inner(c), "httpGet", `{path: /ready, port: ${r.chance(0.7) ? 8080 : '"http"'}}`);
    else {
      w.key(w.inner(c), "httpGet");
      w.kv(w.inner(w.inner(c)), "path", "/ready");
      w.kv(w.inner(w.inner(c)), "port", String(9000 + r.int(99)));
    }
  }
  if (r.chance(0.2)) {
    w.key(c, "securityContext");
    w.kv(w.inner(c), "capabilities", r.pick(["{drop: [ALL]}", "{add: [NET_ADMIN], drop: [NET_RAW, ALL]}", "{}"]));
  }
  if (r.chance(0.2)) {
    w.key(c, "volumeMounts");
    const m = w.item(w.dash(c), ["name", "sa"]);
    w.kv(m, "mountPath", r.chance(0.5) ? "/var/run/secrets/kubernetes.io/serviceaccount" : "/data");
    if (r.chance(0.5)) w.kv(m, "readOnly", "true");
  }
  if (r.chance(0.3)) {
    w.key(c, "env");
    const d = w.dash(c);
    for (let i = 0, n = 1 + r.int(3); i < n; i++) {
      if (r.chance(0.4)) w.lines.push(`${w.pad(d)}- {name: VAR_${i}, value: "${r.int(100)}"}`);
      else {
        const e = w.item(d, ["name", `VAR_${i}`]);
        w.kv(e, "value", w.st.q(r.pick(["a b", "x", "http://svc:80", "true?"])));
      }
    }
  }
}

function stringMap(w: W, col: number, key: string, entries: [string, string][], r: R) {
  if (!entries.length) {
    if (r.chance(0.3)) w.kv(col, key, "{}");
    // no value, or an explicit null (Helm's toYaml of nil)
    else if (r.chance(0.2)) w.lines.push(`${w.pad(col)}${key}:${r.pick(["", " null", " ~", "  # none"])}`);
    return;
  }
  if (r.chance(0.15)) {
    w.kv(col, key, `{${entries.map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(", ")}}`);
    return;
  }
  w.key(col, key);
  for (const [k, v] of entries) w.kv(w.inner(col), k, w.st.q(v));
}

function podSpec(w: W, col: number, r: R) {
  if (r.chance(0.3)) w.kv(col, "serviceAccountName", "app");
  if (r.chance(0.2)) w.kv(col, "restartPolicy", r.pick(["Always", "OnFailure"]));
  if (r.chance(0.3)) {
    if (r.chance(0.2)) w.kv(col, "initContainers", r.pick(["[]", "null"]));
    else {
      w.key(col, "initContainers");
      container(w, w.dash(col), "setup", r);
    }
  }
  w.key(col, "containers");
  for (let i = 0, n = 1 + r.int(3); i < n; i++) container(w, w.dash(col), `app${i}`, r);
  if (r.chance(0.4)) {
    if (r.chance(0.2)) w.kv(col, "volumes", r.pick(["[]", "~"]));
    else {
      w.key(col, "volumes");
      const v = w.item(w.dash(col), ["name", "data"]);
      w.kv(v, "emptyDir", "{}");
    }
  }
  if (r.chance(0.1)) w.kv(col, "automountServiceAccountToken", "false");
  if (r.chance(0.2)) w.kv(col, "terminationGracePeriodSeconds", String(r.int(60)));
}

function podMeta(w: W, col: number, r: R, name: string) {
  const labels: [string, string][] = r.chance(0.8) ? [["app", name]] : [];
  if (r.chance(0.3)) labels.push(["tier", "web"]);
  const ann: [string, string][] = [];
  if (r.chance(0.2)) ann.push(["prometheus.io/scrape", "true"]);
  if (r.chance(0.1)) ann.push(["config.linkerd.io/proxy-cpu-limit", "1"]);
  if (r.chance(0.05)) ann.push(["config.linkerd.io/proxy-await", "disabled"]);
  if (r.chance(0.05)) ann.push(["linkerd.io/inject", "disabled"]);
  if (!labels.length && !ann.length && r.chance(0.5)) {
    if (r.chance(0.3)) w.lines.push(`${w.pad(col)}metadata:${r.pick(["", " null"])}`);
    return false;
  }
  w.key(col, "metadata");
  const order = r.chance(0.5);
  if (order) stringMap(w, w.inner(col), "labels", labels, r);
  stringMap(w, w.inner(col), "annotations", ann, r);
  if (!order) stringMap(w, w.inner(col), "labels", labels, r);
  if (w.lines[w.lines.length - 1].endsWith("metadata:")) w.lines.push(`${w.pad(w.inner(col))}name: ""`);
  return true;
}

/** One manifest document (without separators). */
export function genDocument(r: R, st: Style, i: number): string {
  const w = new W(st, r);
  const [api, kind] = r.pick(KINDS);
  const name = `w${i}-${r.int(1000)}`;
  if (st.comments && r.chance(0.3)) w.lines.push("# generated");
  w.kv(0, "apiVersion", api);
  w.kv(0, "kind", kind);
  w.key(0, "metadata");
  w.kv(w.inner(0), "name", st.q(name));
  if (r.chance(0.7)) w.kv(w.inner(0), "namespace", st.q(`ns${r.int(5)}`));
  if (r.chance(0.3)) stringMap(w, w.inner(0), "labels", [["team", "a"]], r);
  const s = w.inner(0);
  switch (kind) {
    case "Namespace":
      break;
    case "ConfigMap":
      w.key(0, "data");
      w.lines.push(`${w.pad(s)}script: |`, `${w.pad(s + st.step)}#!/bin/sh`, `${w.pad(s + st.step)}echo hi`);
      break;
    case "Service":
      w.key(0, "spec");
      w.key(s, "ports");
      w.item(w.dash(s), ["port", "80"]);
      break;
    case "Pod":
      w.key(0, "spec");
      podSpec(w, s, r);
      break;
    default: {
      w.key(0, "spec");
      let t = s;
      if (kind === "CronJob") {
        w.kv(s, "schedule", '"*/5 * * * *"');
        w.key(s, "jobTemplate");
        w.key(w.inner(s), "spec");
        t = w.inner(w.inner(s));
      } else if (kind !== "Job" && kind !== "ReplicationController" && r.chance(0.8)) {
        w.key(s, "selector");
        w.key(w.inner(s), "matchLabels");
        w.kv(w.inner(w.inner(s)), "app", name);
      }
      w.key(t, "template");
      const tp = w.inner(t);
      podMeta(w, tp, r, name);
      w.key(tp, "spec");
      podSpec(w, w.inner(tp), r);
    }
  }
  return `${w.lines.join("\n")}\n`;
}

/** Number of documents in a generated stream. */
export const docCount = (text: string) => text.split(/^---/m).filter((d) => /kind"?:/.test(d)).length;

/** Keys injection fills or empties: kubectl's JSON leaves them out when null or empty (omitempty). */
const OMITTED_WHEN_EMPTY = new Set(["metadata", "annotations", "labels", "initContainers", "volumes"]);
function omitEmpty(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(omitEmpty);
  if (!v || typeof v !== "object") return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const y = omitEmpty(x);
    const empty = y === null || (typeof y === "object" && Object.keys(y as object).length === 0);
    if (!(OMITTED_WHEN_EMPTY.has(k) && empty)) out[k] = y;
  }
  return out;
}

/**
 * A document as JSON (kubectl's `-o json`: multi-line flow), or as one flow mapping opening on
 * its `---` line. (A null or empty collection that injection fills inside a flow map comes back
 * from uninject as no key at all: the README says so; kubectl's JSON has none.)
 */
function asFlow(doc: string, r: R): { sep?: string; text: string } {
  const v = omitEmpty(parseDocument(doc).toJS());
  if (r.chance(0.5)) return { text: `${JSON.stringify(v, null, r.pick([2, 4]))}\n` };
  // `--- {a: 1,\n  b: …}`: one line per top-level entry
  const o = v as Record<string, unknown>;
  return { sep: "--- ", text: `{${Object.keys(o).map((k) => `${k}: ${JSON.stringify(o[k])}`).join(",\n  ")}}\n` };
}

export function genStream(r: R, i: number): string {
  const st: Style = { step: r.pick([2, 2, 2, 4, 3]), seqIndent: r.chance(0.5), q: quoter(r), comments: r.chance(0.5) };
  const n = 1 + r.int(3);
  let out = r.chance(0.05) ? `%YAML ${r.pick(["1.1", "1.2"])}\n---\n` : r.chance(0.2) ? "---\n" : "";
  for (let k = 0; k < n; k++) {
    let sep = k ? r.pick(["---\n", "---\n", "--- # next\n", "\n---\n", "--- !!map\n"]) : "";
    let doc = genDocument(r, st, i * 10 + k);
    if (r.chance(0.05)) {
      const f = asFlow(doc, r);
      if (f.sep) sep = k ? f.sep : out.endsWith("---\n") ? "" : f.sep;
      doc = f.text;
      if (f.sep && !sep) out = `${out.slice(0, -1)} `; // the stream's own `---` line opens it
    }
    out += sep + doc;
  }
  if (r.chance(0.1)) out = out.slice(0, -1); // no final newline
  if (r.chance(0.05)) out = out.replace(/\n/g, "\r\n");
  return out;
}

let defaults: ReturnType<typeof defaultValues> | undefined;
export function config(manual: boolean): InjectConfig {
  defaults ??= defaultValues();
  const v = structuredClone(defaults) as unknown as Record<string, unknown>;
  v.identityTrustAnchorsPEM = readFileSync("test/fixtures/inject/ca.pem", "utf8");
  const values = pickInjectValues(v);
  return { values, overrides: overrideAnnotations(values, values), manual, enableDebugSidecar: false, namespace: "linkerd", createdBy: "linkerd/cli stable-2.14.10" };
}

export function run(text: string, mode: Mode, cfg?: InjectConfig): { out: string; failures: string[] } {
  const sp = new DocSplitter("gen");
  let out = "";
  const failures: string[] = [];
  for (const d of [...sp.push(text), ...sp.end()]) {
    const r = transformDocument(d, "gen", mode, cfg);
    failures.push(...r.failures);
    out += (r.sep ?? d.sep) + r.text;
  }
  return { out, failures };
}

export { loadYamlLib };

/** Injects a stream with plans on or off: output, reports, failures, warnings and errors, as text. */
export function injectAll(text: string, cfg: InjectConfig, planned: boolean): string {
  planCache.enabled = planned;
  try {
    const sp = new DocSplitter("t");
    let out = "";
    for (const d of [...sp.push(text), ...sp.end()]) {
      let r;
      try {
        r = transformDocument(d, "t", "inject", cfg);
      } catch (e) {
        out += `ERROR ${(e as Error).message}\n`;
        continue;
      }
      out += (r.sep ?? d.sep) + r.text + `\n#REPORT ${JSON.stringify(r.reports)} ${JSON.stringify(r.failures)} ${JSON.stringify(r.warnings)}\n`;
    }
    return out;
  } finally {
    planCache.enabled = true;
  }
}

/** The stream with other names, namespaces and label values (of other lengths): same shapes, so it replays plans. */
export const renamed = (text: string) => text.replace(/\b(w\d+-\d+)\b/g, "$1-renamed").replace(/\bns(\d)\b/g, "namespace-$1");

/**
 * Planned injection (src/inject/plan.ts) against the ordinary transform, on a stream and its
 * renamed variant. `planned` is shared across streams (so plans and templates are reused),
 * `ordinary` is the same configuration without plans. Returns a description of a difference.
 */
export function comparePlanned(text: string, planned: InjectConfig, ordinary: InjectConfig): string | undefined {
  // a plan is made when a shape comes a second time: the renamed variants replay the plans
  for (const t of [text, renamed(text), renamed(renamed(text))]) {
    const want = injectAll(t, ordinary, false);
    const got = injectAll(t, planned, true);
    if (got !== want) return `planned injection differs (${planned.manual ? "manual" : "annotation"})\n--- input ---\n${t}\n--- ordinary ---\n${want}\n--- planned ---\n${got}`;
  }
  return undefined;
}

/** Checks the properties on one generated stream; returns a failure description or undefined. */
export function check(text: string, validateWithYaml = true, modes: boolean[] = [false, true]): string | undefined {
  for (const manual of modes) {
    const cfg = config(manual);
    const inj = run(text, "inject", cfg);
    if (inj.failures.length) {
      if (inj.failures.every((f) => /automount|UDP|hostNetwork/.test(f))) continue;
      return `inject failed: ${inj.failures.join("; ")}`;
    }
    const parsed = validateWithYaml ? parseAllDocuments(inj.out) : [];
    for (const d of parsed) if (d.errors.length) return `inject output is not valid YAML (${manual ? "manual" : "annotation"}): ${d.errors[0].message}`;
    const back = run(inj.out, "uninject");
    if (back.out !== text) return `uninject(inject(x)) != x (${manual ? "manual" : "annotation"})`;
    const again = run(inj.out, "inject", config(manual));
    if (again.out !== inj.out) return `inject(inject(x)) != inject(x) (${manual ? "manual" : "annotation"})`;
  }
  return undefined;
}
