/**
 * What `mesh analyze` works on: Kubernetes objects from files (with where each came from, so a
 * finding can name its file and line) or from the cluster, and the findings about them.
 */
import { scanDocument } from "../inject/yaml/scan.js";
import type { Json, Node } from "../inject/yaml/tree.js";

export type JsObj = { [k: string]: Json };
export type Severity = "info" | "warning" | "error";
export const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2 };

/** Where a file object came from: enough to turn a field path into a line, computed only for findings. */
export interface Source {
  file: string;
  /** 1-based line of the document's first line in the file. */
  docLine: number;
  /** 1-based document index in the file. */
  doc: number;
  /** The document's text. */
  text: string;
  /**
   * The document's root node, kept only for documents the scanner could not read; the others are
   * scanned again when a finding needs a line (findings are few, and trees for thousands of
   * documents cost more memory and garbage collection than rescanning the few).
   */
  root?: Node | null;
  /** Index of the object in its document's `items` when the document is a `kind: List`. */
  item?: number;
}

export interface Obj {
  kind: string;
  apiVersion: string;
  /** API group ("" for the core group). */
  group: string;
  name: string;
  namespace: string;
  value: JsObj;
  /** Set for objects read from files; cluster objects have none. */
  src?: Source;
}

/** A step of a path into an object: a map key or a list index. */
export type PathStep = string | number;

export interface Finding {
  code: string;
  severity: Severity;
  /** `Kind/namespace/name` (cluster-scoped: `Kind/name`). */
  object: string;
  kind: string;
  namespace: string;
  name: string;
  /** File and 1-based line; absent for objects read from the cluster. */
  file?: string;
  line?: number;
  message: string;
  fix: string;
}

export const obj = (v: Json | undefined): JsObj | undefined => (v !== null && typeof v === "object" && !Array.isArray(v) ? v : undefined);
export const list = (v: Json | undefined): Json[] => (Array.isArray(v) ? v : []);
export const str = (v: Json | undefined): string => (typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : "");
export const strMap = (v: Json | undefined): Record<string, string> => {
  const o = obj(v);
  const out: Record<string, string> = {};
  if (o) for (const k in o) out[k] = str(o[k]);
  return out;
};
export const path = (v: Json | undefined, ...steps: PathStep[]): Json | undefined => {
  let cur = v;
  for (const s of steps) {
    if (typeof s === "number") cur = Array.isArray(cur) ? cur[s] : undefined;
    else cur = obj(cur)?.[s];
    if (cur === undefined) return undefined;
  }
  return cur;
};

/** `Kind/ns/name`, or `Kind/name` for cluster-scoped kinds. */
export const objectRef = (o: Pick<Obj, "kind" | "namespace" | "name">) => (o.namespace ? `${o.kind}/${o.namespace}/${o.name}` : `${o.kind}/${o.name}`);

/** 1-based line of a field path of a file object (the deepest step that exists); undefined for cluster objects. */
export function lineOf(o: Obj, steps: readonly PathStep[] = []): number | undefined {
  const src = o.src;
  if (!src) return undefined;
  let node = objectNode(src);
  let offset = node ? node.start : 0;
  for (const s of steps) {
    if (!node) break;
    if (typeof s === "number") {
      if (node.kind !== "seq" || !node.items[s]) break;
      offset = node.items[s].start;
      node = node.items[s].node;
    } else {
      if (node.kind !== "map") break;
      let e;
      for (let i = node.entries.length - 1; i >= 0; i--) if (node.entries[i].key === s) { e = node.entries[i]; break; }
      if (!e) break;
      offset = e.keyStart;
      node = e.value;
    }
  }
  return src.docLine + countLines(src.text, offset);
}

function countLines(text: string, offset: number): number {
  let n = 0;
  for (let i = text.indexOf("\n"); i >= 0 && i < offset; i = text.indexOf("\n", i + 1)) n++;
  return n;
}

/** The object's own node: the document's root, or its item of a List. */
function objectNode(src: Source): Node | null {
  let root = src.root;
  if (root === undefined) root = scanDocument(src.text);
  if (src.item === undefined) return root;
  if (!root || root.kind !== "map") return null;
  const items = root.entries.find((e) => e.key === "items")?.value;
  return items && items.kind === "seq" ? (items.items[src.item]?.node ?? null) : null;
}
