/**
 * The template engine: YAML files whose placeholders are resolved on the parsed document tree
 * (as plain data, see yaml-read.ts), never by splicing text. The rules:
 *
 * - A scalar that is exactly `${path}` is replaced by the value at `path` in the context (a map,
 *   a list, a number, a string...). The value must exist (null is a value).
 * - `${path?}` is optional: when the value is undefined or null, the map pair or the list item
 *   holding it disappears.
 * - A placeholder inside a longer string (`linkerd-${release.namespace}-identity`) interpolates a
 *   string, number or boolean; it must exist. `$${` writes a literal `${`.
 * - A `<<` key (YAML's merge key) whose value is a placeholder, or a list of placeholders,
 *   splices the pairs of those maps into the enclosing map at that position. Keys written
 *   explicitly in the map win over spliced ones, as with YAML merge keys.
 *
 * YAML anchors and aliases work as usual (the parser expands aliases).
 *
 * Values taken from `values.*` are copied with their map keys sorted (as Helm's `toYaml` writes
 * them), so output does not depend on the order of keys in a user's values file. Computed
 * values keep their order. Anything else in a template is literal: templates hold no logic.
 */
import { readFileSync } from "node:fs";
import { MeshError } from "../errors.js";
import { templatesDir } from "../paths.js";
import { cloneTree, getPath, isTree, sortKeys, type Tree } from "./values.js";
import { readYamlDocuments } from "./yaml-read.js";

export interface Template {
  /** Path relative to templates/, used in error messages. */
  file: string;
  /** The parsed documents: the YAML tree as plain data, placeholders still in place. */
  docs: unknown[];
  /** `Kind/name` of each document, unresolved (see documentId). */
  ids?: string[];
}

const cache = new Map<string, Template>();

/** Loads (once per process) and parses a template file under templates/. */
export function loadTemplate(file: string): Template {
  let t = cache.get(file);
  if (!t) {
    t = { file, docs: readYamlDocuments(readFileSync(templatesDir(file), "utf8"), `template ${file}`) };
    cache.set(file, t);
  }
  return t;
}

const REMOVE = Symbol("remove");
const EXACT = /^\$\{([A-Za-z0-9_.-]+)(\?)?\}$/;
const INNER = /\$\$\{|\$\{([A-Za-z0-9_.-]+)\}/g;

class Resolver {
  constructor(
    private readonly ctx: Tree,
    private readonly where: string,
  ) {}

  fail(path: string[], message: string): never {
    throw new MeshError(`template ${this.where} at ${formatPath(path) || "(document)"}: ${message}`);
  }

  lookup(ref: string): unknown {
    const v = getPath(this.ctx, ref);
    if (v === undefined || v === null || typeof v !== "object") return v;
    const copy = cloneTree(v);
    return ref.startsWith("values.") ? sortKeys(copy) : copy;
  }

  node(n: unknown, path: string[]): unknown {
    if (typeof n === "string") return this.scalar(n, path);
    if (Array.isArray(n)) {
      const out: unknown[] = [];
      n.forEach((item, i) => {
        const v = this.node(item, [...path, String(i)]);
        if (v !== REMOVE) out.push(v);
      });
      return out;
    }
    if (isTree(n)) {
      const out: Tree = {};
      const order: (string | Tree)[] = [];
      let spliced = false;
      for (const [k, value] of Object.entries(n)) {
        if (k === "<<") {
          for (const m of this.mergeSources(value, [...path, k])) order.push(m);
          spliced = true;
          continue;
        }
        const v = this.node(value, [...path, k]);
        if (v === REMOVE) continue;
        out[k] = v;
        order.push(k);
      }
      if (!spliced) return out;
      // Rebuild in template order, splicing merged maps where their `<<` stood.
      const result: Tree = {};
      for (const item of order) {
        if (typeof item === "string") result[item] = out[item];
        else for (const [k, v] of Object.entries(item)) if (!(k in out) && !(k in result)) result[k] = v;
      }
      return result;
    }
    return n;
  }

  mergeSources(n: unknown, path: string[]): Tree[] {
    const items = Array.isArray(n) ? n.map((x, i) => ({ node: x, path: [...path, String(i)] })) : [{ node: n, path }];
    const out: Tree[] = [];
    for (const { node, path: p } of items) {
      const v = this.node(node, p);
      if (v === REMOVE) continue;
      if (!isTree(v)) this.fail(p, "a `<<` key takes a map placeholder (or a list of them)");
      out.push(v);
    }
    return out;
  }

  scalar(value: string, path: string[]): unknown {
    if (!value.includes("${")) return value;
    const exact = EXACT.exec(value);
    if (exact) {
      const v = this.lookup(exact[1]);
      if (exact[2]) return v === undefined || v === null ? REMOVE : v;
      if (v === undefined) this.fail(path, `\${${exact[1]}} is not set`);
      return v;
    }
    return value.replace(INNER, (all, ref: string | undefined) => {
      if (ref === undefined) return "${";
      const v = getPath(this.ctx, ref);
      if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return String(v);
      return this.fail(path, v === undefined || v === null ? `\${${ref}} is not set` : `\${${ref}} is not a string, number or boolean`);
    });
  }
}

function formatPath(path: string[]): string {
  return path.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

/** Resolves one document of a template against `ctx`, giving plain data. */
export function resolveDocument(t: Template, index: number, ctx: Tree): Tree {
  const where = t.docs.length > 1 ? `${t.file} (document ${index + 1})` : t.file;
  const r = new Resolver(ctx, where);
  const v = r.node(t.docs[index], []);
  if (!isTree(v)) return r.fail([], "a document must be a map");
  return v;
}

/** `Kind/name` of an unresolved document, the id render lists use to refer to it. */
export function documentId(t: Template, index: number): string {
  t.ids ??= t.docs.map((d) => `${String(getPath(d, "kind"))}/${String(getPath(d, "metadata.name"))}`);
  return t.ids[index];
}
