/**
 * Reading mesh's own YAML (templates/, values files) into plain data.
 *
 * A general YAML library takes most of `mesh install`'s time when it parses ~2000 lines once,
 * cold. mesh's templates use a small subset of YAML, so a short line-based reader handles them
 * in a fraction of that; on anything outside the subset it gives up and the `yaml` library
 * parses the text (a test checks both agree on every template). The subset: block maps and
 * lists, plain scalars (YAML 1.2 core types), single- and double-quoted one-line scalars, `[]`
 * and one-line flow lists of scalars, `{}`, literal blocks (`|`, `|-`, `|+`), comments and `---`.
 */
import { MeshError } from "../errors.js";

/** Loads the `yaml` library for texts outside the fast subset (the CRD templates, users' values). */
export { loadYaml as loadYamlLibrary, namedExports } from "../yaml-lib.js";
import { loadedYaml, parseYamlSafe, YamlInputError } from "../yaml-lib.js";

class Unsupported extends Error {}

const unsupported = (): never => {
  throw new Unsupported();
};

interface Line {
  indent: number;
  /** The line without indentation and without a trailing comment. */
  text: string;
  /** Index into the raw lines (for block scalars). */
  raw: number;
}

/** Strips a trailing comment, respecting quotes. */
function stripComment(s: string): string {
  let quote = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote === '"') {
      if (c === "\\") i++;
      else if (c === '"') quote = "";
    } else if (quote === "'") {
      if (c === "'") quote = "";
    } else if ((c === '"' || c === "'") && (i === 0 || /[\s[,:-]/.test(s[i - 1]))) quote = c;
    else if (c === "#" && (i === 0 || s[i - 1] === " ")) return s.slice(0, i).trimEnd();
  }
  if (quote) unsupported();
  return s.trimEnd();
}

const INT = /^[-+]?[0-9]+$/;
const FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;

/** A plain scalar under the YAML 1.2 core schema. */
function plain(s: string): unknown {
  if (s === "" || s === "~" || s === "null" || s === "Null" || s === "NULL") return null;
  if (/^(true|True|TRUE)$/.test(s)) return true;
  if (/^(false|False|FALSE)$/.test(s)) return false;
  if (INT.test(s)) return Number(s);
  if (/^0o[0-7]+$/.test(s) || /^0x[0-9a-fA-F]+$/.test(s) || /^[-+]?\.(inf|Inf|INF)$/.test(s) || /^\.(nan|NaN|NAN)$/.test(s)) return unsupported();
  if (FLOAT.test(s)) return Number(s);
  if (/^[&*!|>%@`{[]/.test(s) || /^[?:,\]}#-]( |$)/.test(s) || s.includes(": ") || s.endsWith(":") || s.includes("\t")) return unsupported();
  return s;
}

function quotedScalar(s: string): string {
  if (s[0] === '"') {
    if (!s.endsWith('"') || s.length < 2 || /\\[^"\\/bfnrtu]/.test(s)) return unsupported();
    try {
      return JSON.parse(s) as string;
    } catch {
      return unsupported();
    }
  }
  if (!s.endsWith("'") || s.length < 2) return unsupported();
  const body = s.slice(1, -1);
  if (/'(?!')/.test(body.replace(/''/g, ""))) unsupported();
  return body.replace(/''/g, "'");
}

function flowItem(s: string): unknown {
  const t = s.trim();
  if (t[0] === '"' || t[0] === "'") return quotedScalar(t);
  if (t === "" || /[[\]{}]/.test(t)) return unsupported();
  return plain(t);
}

/** An inline value: scalar, quoted, `[]`-list of scalars or `{}`. */
function inline(s: string): unknown {
  if (s[0] === '"' || s[0] === "'") return quotedScalar(s);
  if (s === "{}") return {};
  if (s[0] === "[") {
    if (!s.endsWith("]")) return unsupported();
    const body = s.slice(1, -1).trim();
    if (body === "") return [];
    const items: string[] = [];
    let cur = "";
    let quote = "";
    for (let i = 0; i < body.length; i++) {
      const c = body[i];
      if (quote) {
        cur += c;
        if (quote === '"' && c === "\\") cur += body[++i];
        else if (c === quote) quote = "";
      } else if (c === '"' || c === "'") {
        quote = c;
        cur += c;
      } else if (c === ",") {
        items.push(cur);
        cur = "";
      } else cur += c;
    }
    if (quote) unsupported();
    items.push(cur);
    return items.map(flowItem);
  }
  return plain(s);
}

class Reader {
  private i = 0;
  constructor(
    private readonly lines: Line[],
    private readonly raw: string[],
  ) {}

  done(): boolean {
    return this.i >= this.lines.length;
  }

  /** A node whose first line is at `indent` (a map or a list). */
  block(indent: number): unknown {
    const line = this.lines[this.i];
    if (line.indent !== indent) unsupported();
    return line.text === "-" || line.text.startsWith("- ") ? this.list(indent) : this.map(indent);
  }

  private isItem(l: Line | undefined, indent: number): boolean {
    return l !== undefined && l.indent === indent && (l.text === "-" || l.text.startsWith("- "));
  }

  private list(indent: number): unknown[] {
    const out: unknown[] = [];
    while (this.isItem(this.lines[this.i], indent)) {
      const line = this.lines[this.i];
      const rest = line.text === "-" ? "" : line.text.slice(2);
      const pad = rest.length - rest.trimStart().length;
      const item = rest.trimStart();
      if (item === "") {
        this.i++;
        out.push(this.nested(indent, true));
      } else if (item === "-" || item.startsWith("- ") || /^[^"'[{][^:]*:( |$)/.test(item) || /^[^"'[{].*?: /.test(item)) {
        // A map or a list starting on the item's line: re-read that line at its own indentation.
        this.lines[this.i] = { indent: indent + 2 + pad, text: item, raw: line.raw };
        out.push(this.block(indent + 2 + pad));
      } else {
        this.i++;
        out.push(this.value(item, indent));
      }
    }
    return out;
  }

  private map(indent: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    while (this.i < this.lines.length && this.lines[this.i].indent === indent && !this.isItem(this.lines[this.i], indent)) {
      const { text } = this.lines[this.i];
      const m = /^([^\s"'[\]{},#&*!|>%@`?][^#]*?):(?: +(.*))?$/.exec(text);
      if (!m || m[1].includes(": ")) return unsupported();
      const key = m[1];
      if (key in out) unsupported();
      this.i++;
      const rest = m[2] ?? "";
      out[key] = rest === "" ? this.nested(indent, false) : this.value(rest, indent);
    }
    return out;
  }

  /** What follows `key:` or `-` on the next lines: a deeper block, a same-level list (after a key), or null. */
  private nested(indent: number, inList: boolean): unknown {
    const next = this.lines[this.i];
    if (next && next.indent > indent) return this.block(next.indent);
    if (!inList && this.isItem(next, indent)) return this.list(indent);
    return null;
  }

  private value(text: string, indent: number): unknown {
    const header = /^\|([1-9])?([-+])?$/.exec(text) ?? /^\|([-+])?([1-9])?$/.exec(text);
    if (header) return this.literal(indent, text);
    if (text[0] === ">") return unsupported();
    const v = inline(text);
    const next = this.lines[this.i];
    // A more indented line after a scalar would continue it (a multi-line plain scalar).
    if (next && next.indent > indent && !this.isItem(next, indent)) unsupported();
    return v;
  }

  /** A literal block scalar after `|`: lines indented deeper than `indent`. */
  private literal(indent: number, header: string): string {
    const chomp = header.includes("-") ? "strip" : header.includes("+") ? "keep" : "clip";
    const explicit = /[1-9]/.exec(header);
    const start = this.i < this.lines.length ? this.lines[this.i].raw : this.raw.length;
    const headerRaw = this.i > 0 ? this.lines[this.i - 1].raw : -1;
    // Raw lines between the header and the next structural line belong to the block.
    let end = start;
    let contentIndent = explicit ? indent + Number(explicit[0]) : -1;
    for (let r = headerRaw + 1; r < this.raw.length; r++) {
      const l = this.raw[r];
      if (l.trim() === "") continue;
      const ind = l.length - l.trimStart().length;
      if (contentIndent < 0) contentIndent = ind;
      if (ind < contentIndent || ind <= indent) break;
      end = r + 1;
    }
    if (contentIndent <= indent) contentIndent = indent + 1;
    const body = this.raw.slice(headerRaw + 1, Math.max(end, headerRaw + 1)).map((l) => (l.trim() === "" ? "" : l.slice(contentIndent)));
    if (this.raw.slice(headerRaw + 1, end).some((l) => l.includes("\t"))) unsupported();
    // Skip the structural lines the block covered.
    while (this.i < this.lines.length && this.lines[this.i].raw < end) this.i++;
    // Trailing blank lines up to the next content line count for "keep".
    let trailing = 0;
    for (let r = end; r < this.raw.length && this.raw[r].trim() === ""; r++) trailing++;
    const text = body.join("\n");
    if (body.length === 0) return chomp === "keep" ? "\n".repeat(trailing) : "";
    if (chomp === "strip") return text.replace(/\n+$/, "");
    if (chomp === "clip") return `${text.replace(/\n+$/, "")}\n`;
    return `${text}\n${"\n".repeat(trailing)}`;
  }
}

/** The subset reader; undefined when the text uses anything outside the subset. */
export function readYamlSubset(text: string): unknown[] | undefined {
  if (text.includes("\t") || text.includes("\r")) return undefined;
  const raw = text.split("\n");
  const docs: unknown[] = [];
  let lines: Line[] = [];
  let rawStart = 0;
  try {
    const flush = (rawEnd: number) => {
      if (lines.length === 0) return;
      const r = new Reader(lines, raw.slice(0, rawEnd));
      const v = r.block(lines[0].indent);
      if (!r.done()) unsupported();
      docs.push(v);
      lines = [];
    };
    for (let n = 0; n < raw.length; n++) {
      const l = raw[n];
      if (/^---(\s|$)/.test(l)) {
        if (stripComment(l.slice(3)).trim() !== "") unsupported();
        flush(n);
        rawStart = n + 1;
        continue;
      }
      if (/^(\.\.\.|%)/.test(l)) unsupported();
      const trimmed = l.trimStart();
      if (trimmed === "" || trimmed.startsWith("#")) continue;
      const body = stripComment(trimmed);
      if (body === "") continue;
      lines.push({ indent: l.length - trimmed.length, text: body, raw: n });
    }
    void rawStart;
    flush(raw.length);
    return docs;
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
}

/**
 * Every document of `text` as plain data; empty documents are left out. `what` names it in
 * errors. Text outside the fast subset needs loadYamlLibrary() to have been awaited.
 */
export function readYamlDocuments(text: string, what: string): unknown[] {
  const fast = readYamlSubset(text);
  if (fast) return fast;
  const library = loadedYaml();
  if (!library) throw new MeshError(`internal: ${what} needs the yaml library, which is not loaded`);
  try {
    return parseYamlSafe(text, { maxAliasCount: -1 }, library).filter((d) => d !== null && d !== undefined);
  } catch (err) {
    if (err instanceof YamlInputError) throw new MeshError(`${what}: ${err.message}`);
    throw err;
  }
}

/**
 * A user's values file (`-f`) as data: its first document, read as YAML 1.1 like Helm reads it,
 * with the rules for hostile input (bounded nesting, duplicate keys found in linear time, no
 * collection keys, errors that name a line instead of quoting the text). Needs loadYamlLibrary().
 */
export function parseValuesYaml(text: string): unknown {
  const library = loadedYaml();
  if (!library) throw new MeshError("internal: values files need the yaml library, which is not loaded");
  return parseYamlSafe(text, { version: "1.1", merge: true }, library).find((d) => d !== null && d !== undefined) ?? null;
}
