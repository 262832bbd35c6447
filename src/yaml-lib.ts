/**
 * The `yaml` library, loaded on first use (it costs tens of milliseconds, and most runs of
 * install and inject never need it). Every module that needs it loads it here, and parses
 * users' text through `parseYamlSafe`, which holds the rules for hostile input in one place.
 */
type YamlLibrary = typeof import("yaml");
let library: YamlLibrary | undefined;

export async function loadYaml(): Promise<YamlLibrary> {
  return (library ??= namedExports(await import("yaml")));
}

/** The library if loadYaml() has finished, for synchronous readers. */
export function loadedYaml(): YamlLibrary | undefined {
  return library;
}

/**
 * The module's named exports. Bundled (dist/), `yaml` is its CommonJS build and a dynamic import
 * gives `{ default: exports }`; under plain Node the names are on the namespace itself.
 */
export function namedExports<T extends object>(ns: T): T {
  const d = (ns as { default?: unknown }).default;
  return d && typeof d === "object" && !("parse" in ns) ? (d as T) : ns;
}

/**
 * Deepest nesting of maps, lists and flow collections accepted in users' YAML (and JSON). Real
 * manifests and values stay far below it (a CRD's OpenAPI schema: some 40 levels); the `yaml`
 * library and the recursive code after it overflow the stack somewhere past 800.
 */
export const MAX_YAML_DEPTH = 256;

/** Text that is not acceptable YAML, located; the message never quotes the text itself. */
export class YamlInputError extends Error {
  constructor(
    /** What is wrong, without any of the input (safe to print for a credentials file). */
    readonly reason: string,
    /** 1-based line and column in the text. */
    readonly line: number,
    readonly col: number,
    /** 1-based document of the stream. */
    readonly doc: number,
    /** Offset in the text. */
    readonly offset: number,
  ) {
    super(`${reason} (document ${doc}, line ${line}, column ${col})`);
    this.name = "YamlInputError";
  }
}

/** Where a nesting bound was exceeded: 1-based line, column, document, and the offset. */
export interface DepthProblem {
  line: number;
  col: number;
  doc: number;
  offset: number;
}

/**
 * Finds the first place where `text` nests maps, lists and flow collections more than `max`
 * levels deep, in one linear pass that needs no parser (so that no parser ever recurses that
 * deep). It over-counts rather than under-counts: block levels are the stack of increasing
 * indentations (and `- `/`? ` indicators), flow levels the open brackets outside quotes, comments
 * and block scalars.
 */
export function yamlDepthProblem(text: string, max = MAX_YAML_DEPTH): DepthProblem | undefined {
  const indents: number[] = [];
  let flow = 0;
  let quote = 0; // 0, 34 ("), 39 (')
  let blockScalarParent = -2; // indentation the lines of a block scalar must exceed; -2: none
  let doc = 1;
  let content = false;
  let line = 0;
  const n = text.length;
  const open = (col: number) => {
    while (indents.length && indents[indents.length - 1] >= col) indents.pop();
    indents.push(col);
  };
  for (let start = 0; start < n; ) {
    line++;
    let end = text.indexOf("\n", start);
    if (end < 0) end = n;
    let i = start;
    while (i < end && text.charCodeAt(i) === 32) i++;
    const indent = i - start;
    const blank = i >= end || text.charCodeAt(i) === 13 || (text.charCodeAt(i) === 35 && quote === 0);
    if (blockScalarParent > -2) {
      if (blank || indent > blockScalarParent) {
        start = end + 1;
        continue;
      }
      blockScalarParent = -2;
    }
    if (quote === 0 && flow === 0 && indent === 0 && (text.startsWith("---", i) || text.startsWith("...", i)) && (i + 3 >= end || " \t\r".includes(text[i + 3]))) {
      if (text.charCodeAt(i) === 45 && content) doc++;
      if (text.charCodeAt(i) === 46) content = false;
      indents.length = 0;
      start = end + 1;
      continue;
    }
    if (blank && quote === 0) {
      start = end + 1;
      continue;
    }
    content = true;
    let valueStart = quote === 0;
    if (quote === 0 && flow === 0) {
      open(indent);
      // `- `, `? ` and `: ` indicators at the start of a line each open one more level
      while (i < end && (text.charCodeAt(i) === 45 || text.charCodeAt(i) === 63 || text.charCodeAt(i) === 58) && (i + 1 >= end || text.charCodeAt(i + 1) === 32 || text.charCodeAt(i + 1) === 13)) {
        i++;
        while (i < end && text.charCodeAt(i) === 32) i++;
        if (i < end) open(i - start);
      }
    }
    const lineDepth = () => indents.length + flow;
    if (lineDepth() > max) return { line, col: i - start + 1, doc, offset: i };
    for (; i < end; i++) {
      const c = text.charCodeAt(i);
      if (quote === 34) {
        if (c === 92) i++;
        else if (c === 34) quote = 0;
        continue;
      }
      if (quote === 39) {
        if (c === 39) {
          if (text.charCodeAt(i + 1) === 39) i++;
          else quote = 0;
        }
        continue;
      }
      if (c === 32 || c === 9 || c === 13) continue;
      if (c === 35 && (i === start || text.charCodeAt(i - 1) === 32 || text.charCodeAt(i - 1) === 9)) break; // a comment
      if ((c === 34 || c === 39) && (valueStart || flow > 0)) {
        if (valueStart || "[{,:".includes(prevNonSpace(text, i, start))) {
          quote = c;
          continue;
        }
      }
      if (c === 91 || c === 123) {
        if (flow > 0 || valueStart) {
          flow++;
          if (lineDepth() > max) return { line, col: i - start + 1, doc, offset: i };
          valueStart = true;
          continue;
        }
      } else if ((c === 93 || c === 125) && flow > 0) {
        flow--;
      } else if (c === 44 && flow > 0) {
        valueStart = true;
        continue;
      } else if (c === 58 && (i + 1 >= end || " \t\r".includes(text[i + 1]) || (flow > 0 && ",[]{}".includes(text[i + 1])))) {
        valueStart = true;
        continue;
      } else if ((c === 124 || c === 62) && valueStart && flow === 0) {
        blockScalarParent = indent; // `|` or `>`: the block scalar's lines follow
        break;
      } else if ((c === 38 || c === 33) && valueStart) {
        // an anchor or a tag before the value: skip it, the value still starts after it
        while (i + 1 < end && text.charCodeAt(i + 1) !== 32) i++;
        continue;
      }
      valueStart = false;
    }
    start = end + 1;
  }
  return undefined;
}

function prevNonSpace(text: string, i: number, lineStart: number): string {
  for (let j = i - 1; j >= lineStart; j--) {
    const c = text[j];
    if (c !== " " && c !== "\t") return c;
  }
  return "[";
}

export interface SafeParseOptions {
  /** YAML 1.1 (Helm's values files, `yes`/`on` are booleans) or 1.2 (the default). */
  version?: "1.1" | "1.2";
  /** `<<` merge keys. */
  merge?: boolean;
  /** Most aliases expanded in a document (default 100; -1: no limit, for mesh's own templates). */
  maxAliasCount?: number;
  /** Deepest nesting accepted (default MAX_YAML_DEPTH). */
  maxDepth?: number;
}

/**
 * Every document of `text` as plain data (empty documents as null), parsed with the `yaml`
 * library (load it first with loadYaml), with the rules for input mesh did not write:
 *
 * - nesting is bounded (MAX_YAML_DEPTH) before the library sees the text;
 * - duplicate keys are errors, found with one set per map (the library's own check compares
 *   every key with every earlier one: quadratic, minutes for a map of 100,000 keys);
 * - a map or list used as a key is an error (the library would turn it into a string, with a
 *   warning on stderr), as it is for Kubernetes and Helm;
 * - errors are YamlInputError: a reason and a location, never an excerpt of the text, which may
 *   be a kubeconfig or a Secret.
 */
export function parseYamlSafe(text: string, opts: SafeParseOptions = {}, lib: YamlLibrary | undefined = library): unknown[] {
  if (!lib) throw new Error("internal: the yaml library is not loaded (await loadYaml() first)");
  const lc = new lib.LineCounter();
  const locate = (offset: number) => {
    const p = lc.linePos(Math.max(0, Math.min(offset, text.length)));
    return { line: p.line, col: p.col };
  };
  const deep = yamlDepthProblem(text, opts.maxDepth ?? MAX_YAML_DEPTH);
  if (deep) throw new YamlInputError(`nesting deeper than ${opts.maxDepth ?? MAX_YAML_DEPTH} levels`, deep.line, deep.col, deep.doc, deep.offset);
  const docs = lib.parseAllDocuments(text, {
    version: opts.version ?? "1.2",
    merge: opts.merge ?? false,
    uniqueKeys: false,
    prettyErrors: false,
    logLevel: "error",
    lineCounter: lc,
  });
  const list = Array.isArray(docs) ? docs : [docs];
  const out: unknown[] = [];
  for (let d = 0; d < list.length; d++) {
    const doc = list[d];
    if (doc.errors.length) {
      const e = doc.errors[0];
      const { line, col } = locate(e.pos[0]);
      throw new YamlInputError(describeYamlError(e.message), line, col, d + 1, e.pos[0]);
    }
    const bad = keyProblem(lib, doc);
    if (bad) {
      const { line, col } = locate(bad.offset);
      throw new YamlInputError(bad.reason, line, col, d + 1, bad.offset);
    }
    try {
      out.push(doc.toJS({ maxAliasCount: opts.maxAliasCount ?? 100 }));
    } catch (err) {
      const m = err instanceof Error ? err.message : String(err);
      const reason = /alias/i.test(m) && /count|exceed|many/i.test(m) ? "too many YAML aliases (an alias bomb?): refusing to expand them" : describeYamlError(m);
      const start = doc.range?.[0] ?? 0;
      const { line, col } = locate(start);
      throw new YamlInputError(reason, line, col, d + 1, start);
    }
  }
  return out;
}

/**
 * The library's message without what it quotes of the input (everything after its first `: `,
 * such as the characters of a bad block scalar header or a tag), on one short line.
 */
export function describeYamlError(message: string): string {
  let m = message.split("\n")[0];
  m = m.replace(/ at line \d+, column \d+.*$/, "");
  const colon = m.indexOf(": ");
  if (colon > 0) m = m.slice(0, colon);
  // messages that end with what they quote, without a colon
  m = m.replace(/^(Invalid escape sequence|Plain value cannot start with|Unexpected (?:flow-seq|flow-map|\S+) in) .*$/, "$1");
  m = m.replace(/[\x00-\x1f\x7f-\x9f]/g, "").trim();
  if (m.length > 120) m = `${m.slice(0, 120)}…`;
  return m ? m.charAt(0).toLowerCase() + m.slice(1) : "invalid YAML";
}

/** The first duplicate key or collection key of the document, found in linear time. */
function keyProblem(lib: YamlLibrary, doc: { contents: unknown }): { reason: string; offset: number } | undefined {
  const stack: unknown[] = [doc.contents];
  while (stack.length) {
    const node = stack.pop();
    if (lib.isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        let key: unknown = pair.key;
        const offset = (lib.isNode(key) && key.range?.[0]) || node.range?.[0] || 0;
        if (lib.isAlias(key)) key = key.resolve(doc as never);
        if (lib.isCollection(key)) return { reason: "a map or list is used as a mapping key, which Kubernetes and Helm do not accept", offset };
        const k = lib.isScalar(key) ? key.value : key;
        const name = k === null || k === undefined ? "" : String(k);
        if (name === "<<" && lib.isScalar(key) && key.source === "<<") {
          stack.push(pair.value);
          continue;
        }
        if (seen.has(name)) return { reason: `duplicate key "${printableKey(name)}"`, offset };
        seen.add(name);
        stack.push(pair.value);
      }
    } else if (lib.isSeq(node)) {
      for (const item of node.items) stack.push(item);
    }
  }
  return undefined;
}

/** A key for messages: one line, printable, short. */
function printableKey(k: string): string {
  const s = k.replace(/[\x00-\x1f\x7f-\x9f]/g, "?");
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}
