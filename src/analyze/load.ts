/**
 * Reading manifests for `mesh analyze`: the inputs inject reads (files, directories, https URLs,
 * stdin), split into documents and scanned with inject's position-tracking scanner, so that a
 * finding can name the line of the field it is about. Documents the scanner does not handle
 * (anchors, multi-line flow or JSON) are parsed with the `yaml` package, positions included.
 */
import type { Input } from "../inject/io.js";
import { DocSplitter, DocumentError, type RawDoc } from "../inject/stream.js";
import { FORBIDDEN_CHARS, ScanBail, ScanError, scanDocument } from "../inject/yaml/scan.js";
import { toJS, type Json, type MapEntry, type Node, type SeqItem } from "../inject/yaml/tree.js";
import { loadYaml, parseYamlSafe, YamlInputError } from "../yaml-lib.js";
import { obj, str, type Obj } from "./model.js";

export interface Loaded {
  objects: Obj[];
  /** Documents that are not Kubernetes objects (no kind or apiVersion), by input. */
  skipped: number;
}

const groupOf = (apiVersion: string) => (apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "");

/** Reads every input; objects without a namespace get `defaultNamespace` (kubectl's `-n`, else "default"). */
export async function loadInputs(inputs: Input[], defaultNamespace: string): Promise<Loaded> {
  const out: Loaded = { objects: [], skipped: 0 };
  for (const input of inputs) {
    const splitter = new DocSplitter(input.name);
    for await (const chunk of input.chunks()) for (const d of splitter.push(chunk)) await addDocument(out, d, input.name, defaultNamespace);
    for (const d of splitter.end()) await addDocument(out, d, input.name, defaultNamespace);
  }
  return out;
}

/** Parses one text (tests, benchmarks): as loadInputs with a single input. */
export async function loadText(text: string, name: string, defaultNamespace = "default"): Promise<Loaded> {
  return loadInputs([{ name, chunks: async function* () { yield text; } }], defaultNamespace);
}

async function addDocument(out: Loaded, doc: RawDoc, file: string, defaultNamespace: string): Promise<void> {
  const text = doc.text;
  if (!text.trim()) return;
  const bad = FORBIDDEN_CHARS.exec(text);
  if (bad) throw new DocumentError(file, doc.index, doc.line + lineAt(text, bad.index), "the input is not YAML text: is it a binary file?");
  let root: Node | null;
  let value: Json;
  let scanned = true;
  try {
    root = scanDocument(text);
    value = toJS(root);
  } catch (e) {
    if (!(e instanceof ScanBail || e instanceof ScanError)) throw e;
    ({ root, value } = await fullParse(text, file, doc));
    scanned = false;
  }
  if (value === null) return;
  const top = obj(value);
  if (!top) throw new DocumentError(file, doc.index, doc.line, "the document is not an object (a Kubernetes manifest is a map with apiVersion and kind)");
  const add = (v: Json, node: Node | null, where: string, item?: number) => {
    const o = obj(v);
    if (!o) throw new DocumentError(file, doc.index, doc.line + lineAt(text, node?.start ?? 0), `${where} is not an object`);
    const kind = str(o.kind);
    const apiVersion = str(o.apiVersion);
    if (!kind || !apiVersion) {
      out.skipped++;
      return;
    }
    const meta = o.metadata;
    if (meta !== undefined && meta !== null && !obj(meta)) throw new DocumentError(file, doc.index, doc.line + lineAt(text, fieldStart(node, "metadata")), `${where}: field metadata must be a map`);
    for (const f of ["labels", "annotations"]) {
      const m = obj(meta)?.[f];
      if (m !== undefined && m !== null && !obj(m)) throw new DocumentError(file, doc.index, doc.line + lineAt(text, fieldStart(node, "metadata", f)), `${where}: field metadata.${f} must be a map of strings`);
    }
    out.objects.push({
      kind,
      apiVersion,
      group: groupOf(apiVersion),
      name: str(obj(meta)?.name),
      namespace: str(obj(meta)?.namespace) || (CLUSTER_SCOPED.has(kind) ? "" : defaultNamespace),
      value: o,
      src: { file, docLine: doc.line, doc: doc.index, text, ...(scanned ? {} : { root }), ...(item === undefined ? {} : { item }) },
    });
  };
  if (str(top.kind) === "List" && Array.isArray(top.items)) {
    const itemsNode = child(root, "items");
    top.items.forEach((item, i) => add(item, itemsNode && itemsNode.kind === "seq" ? (itemsNode.items[i]?.node ?? null) : null, `items[${i}]`, i));
  } else add(value, root, "the document");
}

/** Kinds without a namespace (those analyze reads). */
export const CLUSTER_SCOPED = new Set(["Namespace", "Node", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "APIService", "PersistentVolume", "StorageClass", "PriorityClass"]);

function child(node: Node | null, key: string): Node | null {
  if (!node || node.kind !== "map") return null;
  for (let i = node.entries.length - 1; i >= 0; i--) if (node.entries[i].key === key) return node.entries[i].value;
  return null;
}

function fieldStart(node: Node | null, ...keys: string[]): number {
  let cur = node;
  let at = node?.start ?? 0;
  for (const k of keys) {
    if (!cur || cur.kind !== "map") break;
    const e = cur.entries.find((x) => x.key === k);
    if (!e) break;
    at = e.keyStart;
    cur = e.value;
  }
  return at;
}

function lineAt(text: string, offset: number): number {
  let n = 0;
  for (let i = text.indexOf("\n"); i >= 0 && i < offset; i = text.indexOf("\n", i + 1)) n++;
  return n;
}

type YamlLib = Awaited<ReturnType<typeof loadYaml>>;

/** The `yaml` package's reading of a document, with its nodes turned into the scanner's shape (offsets only). */
async function fullParse(text: string, file: string, doc: RawDoc): Promise<{ root: Node | null; value: Json }> {
  const lib = await loadYaml();
  let value: Json;
  try {
    value = (parseYamlSafe(text, { merge: true, maxAliasCount: 100 }, lib)[0] ?? null) as Json;
  } catch (err) {
    if (err instanceof YamlInputError) throw new DocumentError(file, doc.index, doc.line + err.line - 1, err.reason);
    throw err;
  }
  const parsed = lib.parseDocument(text, { merge: true, keepSourceTokens: false, logLevel: "silent" });
  return { root: convert(lib, parsed.contents), value };
}

function convert(lib: YamlLib, n: unknown): Node | null {
  if (!n || typeof n !== "object") return null;
  const range = (n as { range?: [number, number, number] }).range ?? [0, 0, 0];
  if (lib.isMap(n)) {
    const entries: MapEntry[] = [];
    for (const p of n.items) {
      const k = p.key as { value?: unknown; range?: [number, number, number] } | null;
      const keyStart = k?.range?.[0] ?? range[0];
      entries.push({ key: String(k && typeof k === "object" && "value" in k ? k.value : k), keyStart, lineStart: keyStart, value: convert(lib, p.value), end: range[1] });
    }
    return { kind: "map", flow: false, start: range[0], end: range[1], indent: 0, entries };
  }
  if (lib.isSeq(n)) {
    const items: SeqItem[] = n.items.map((it) => {
      const node = convert(lib, it);
      const start = node?.start ?? range[0];
      return { start, lineStart: start, node, end: node?.end ?? start };
    });
    return { kind: "seq", flow: false, start: range[0], end: range[1], indent: 0, items };
  }
  if (lib.isScalar(n)) return { kind: "scalar", start: range[0], end: range[1], value: null, style: "plain" };
  return null;
}
