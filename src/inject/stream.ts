/**
 * The stream loop: split a YAML stream into documents as it arrives, transform each
 * document by splicing minimal edits into its text, and keep everything between documents
 * (separators, comments) byte for byte. Pure: the command feeds it text and writes what it
 * returns.
 */
import { loadYaml, MAX_YAML_DEPTH, parseYamlSafe, yamlDepthProblem, YamlInputError } from "../yaml-lib.js";
import { MeshError } from "../errors.js";
import { EditError, applyEdits, editPieces } from "./yaml/edit.js";
import { DEFAULT_STYLE, emitDocument, type EmitStyle } from "./yaml/emit.js";
import { FORBIDDEN_CHARS, ScanBail, ScanError, scanDocument } from "./yaml/scan.js";
import { toJS, type Json, type MapNode, type Node } from "./yaml/tree.js";
import { InputError } from "./resource.js";
import { Transformer, type DocOutcome, type InjectConfig } from "./transform.js";
import { newReport, type Report } from "./report.js";
import { INJECT } from "./annotations.js";
import { plannedInject, templateInject } from "./plan.js";

/** Documents larger than this are refused (a `kind: List` can be split into one document per item). */
export const MAX_DOCUMENT_BYTES = 32 * 1024 * 1024;
/**
 * A `kind: List` laid out as kubectl prints it is read item by item (see byItems), so it may be
 * larger, so that inject's `--manual` output of a large List (the sidecars make it ~12 times its
 * input: 43 MB for 5,000 Deployments) can be uninjected.
 */
export const MAX_LIST_BYTES = 64 * 1024 * 1024;

const tooLargeReason = (max: number) => `the document is larger than ${max / 1024 / 1024} MiB; split it (a kind: List can be split into one document per item)`;

/** A problem with the input, located: input name, 1-based document index, 1-based line in the input. */
export class DocumentError extends MeshError {
  constructor(
    readonly input: string,
    readonly index: number,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${input}: document ${index} (line ${line}): ${reason}`, "nothing was written to stdout; fix the input and run again");
    this.name = "DocumentError";
  }
}

export interface RawDoc {
  /** Text before the document: its `---` line(s), verbatim ("" for a first document without one). */
  sep: string;
  text: string;
  /** 1-based line of the document's first line in the input. */
  line: number;
  /** 1-based index of the document in its input. */
  index: number;
  /** The document's `%YAML` version (its directives are in `sep`); undefined without one. */
  yamlVersion?: "1.1" | "1.2";
  /** Its directive lines (`%YAML`, `%TAG`…), for the full parser; "" without any. */
  directives?: string;
}

/** `%YAML 1.1` or `%YAML 1.2`: the versions a document may declare. */
const YAML_DIRECTIVE = /^%YAML[ \t]+(\S+)[ \t]*(?:#.*)?$/;

/** Does [from, to) of `s` hold only blank lines and comments? */
function onlyComments(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; ) {
    let k = i;
    while (k < to && (s.charCodeAt(k) === 32 || s.charCodeAt(k) === 9 || s.charCodeAt(k) === 13)) k++;
    if (k < to && s.charCodeAt(k) !== 10 && s.charCodeAt(k) !== 35) return false;
    const j = s.indexOf("\n", k);
    i = j < 0 || j >= to ? to : j + 1;
  }
  return true;
}

/** Splits a YAML stream at `---` / `...` lines, incrementally. */
export class DocSplitter {
  /** The text not yet split: from the start of the current line (or document) on. */
  private buf = "";
  private pos = 0;
  private docStart = 0;
  /**
   * The current document's text from earlier chunks, in pieces: a document longer than a chunk
   * is joined once, when it ends, instead of being copied again with every chunk.
   */
  private head: string[] = [];
  private headLen = 0;
  /** Chunks without a newline, after buf (one long line, e.g. `jq -c` output): joined when its end comes. */
  private partial: string[] = [];
  private partialLen = 0;
  private sep = "";
  private line = 1;
  private docLine = 1;
  private index = 0;
  /** Directive lines seen since the last document ended (they belong to the next one's `---`). */
  private directives = "";
  private directivesLine = 0;
  private yamlVersion: RawDoc["yamlVersion"];
  /** The directives of the document being read (set at its `---` line). */
  private pending: { yamlVersion: RawDoc["yamlVersion"]; directives: string } | undefined;

  /** `max`: the largest document read (MAX_LIST_BYTES where Lists are read item by item). */
  constructor(
    private readonly input: string,
    private readonly max = MAX_DOCUMENT_BYTES,
  ) {}

  push(chunk: string): RawDoc[] {
    const out: RawDoc[] = [];
    if (!chunk.includes("\n")) {
      this.partial.push(chunk);
      this.partialLen += chunk.length;
      if (this.headLen + this.buf.length - this.docStart + this.partialLen > this.max) this.tooLarge();
      return out;
    }
    // the lines already split belong to the current document (docStart <= pos): set them aside
    if (this.pos > this.docStart) {
      this.head.push(this.buf.slice(this.docStart, this.pos));
      this.headLen += this.pos - this.docStart;
    }
    this.buf = this.buf.slice(this.pos) + this.takePartial() + chunk;
    this.pos = this.docStart = 0;
    const s = this.buf;
    let i = 0;
    for (;;) {
      const j = s.indexOf("\n", i);
      if (j < 0) break;
      this.boundary(i, j + 1, out);
      i = j + 1;
      this.line++;
      if (this.headLen + i - this.docStart > this.max) this.tooLarge();
    }
    this.pos = i;
    if (this.headLen + s.length - this.docStart > this.max) this.tooLarge();
    return out;
  }

  end(): RawDoc[] {
    const out: RawDoc[] = [];
    if (this.partialLen) this.buf += this.takePartial();
    if (this.pos < this.buf.length) this.boundary(this.pos, this.buf.length, out);
    if (this.directives) this.noDocumentStart();
    const text = this.docText(this.buf.length);
    if (text.length || this.sep.length) out.push(this.doc(text));
    this.buf = "";
    this.pos = this.docStart = 0;
    return out;
  }

  private takePartial(): string {
    if (!this.partialLen) return "";
    const text = this.partial.join("");
    this.partial = [];
    this.partialLen = 0;
    return text;
  }

  /** The current document's text up to `end` in buf, and no more held pieces. */
  private docText(end: number): string {
    const tail = this.buf.slice(this.docStart, end);
    if (!this.head.length) return tail;
    const text = this.head.join("") + tail;
    this.head = [];
    this.headLen = 0;
    return text;
  }

  private tooLarge(): never {
    throw new DocumentError(this.input, this.index + 1, this.docLine, tooLargeReason(this.max));
  }

  private noDocumentStart(): never {
    throw new DocumentError(this.input, this.index + 1, this.directivesLine, "a directive (a line starting with %) must be followed by a `---` line that starts the document");
  }

  /** Does the current document, up to `to` in buf, hold only blank lines and comments? */
  private docOnlyComments(to: number): boolean {
    return this.head.every((h) => onlyComments(h, 0, h.length)) && onlyComments(this.buf, this.docStart, to);
  }

  /**
   * A `%` line before any content of a document is a directive: it is kept (with the comments
   * around it) for the `---` line that must follow, and becomes part of that document's `sep`.
   */
  private directive(i: number, end: number): void {
    const s = this.buf;
    const line = s.slice(i, s.charCodeAt(end - 1) === 10 ? end - 1 : end).replace(/\r$/, "");
    if (!this.directives) this.directivesLine = this.line;
    const m = YAML_DIRECTIVE.exec(line);
    if (m) {
      if (m[1] !== "1.1" && m[1] !== "1.2")
        throw new DocumentError(this.input, this.index + 1, this.line, `%YAML ${m[1]}: mesh reads YAML 1.1 and 1.2 documents only`);
      if (this.yamlVersion) throw new DocumentError(this.input, this.index + 1, this.line, "a second %YAML directive for one document");
      this.yamlVersion = m[1];
    } else if (line.startsWith("%YAML")) throw new DocumentError(this.input, this.index + 1, this.line, "a %YAML directive needs a version (1.1 or 1.2)");
    this.directives += line + "\n";
  }

  /** If the line [i, end) is a document marker, closes the current document. */
  private boundary(i: number, end: number, out: RawDoc[]): void {
    const s = this.buf;
    const c = s.charCodeAt(i);
    if (c === 37 && (this.directives || this.docOnlyComments(i))) return this.directive(i, end);
    if (c !== 45 && c !== 46) {
      // after directives, only comments may come before the `---` line
      if (this.directives && !onlyComments(this.buf, i, end)) this.noDocumentStart();
      return;
    }
    const marker = c === 45 ? "---" : "...";
    if (!s.startsWith(marker, i)) return;
    let k = i + 3;
    const lineEnd = s.charCodeAt(end - 1) === 10 ? end - 1 : end;
    if (k < lineEnd && s.charCodeAt(k) !== 32 && s.charCodeAt(k) !== 9 && s.charCodeAt(k) !== 13) return;
    while (k < lineEnd && (s.charCodeAt(k) === 32 || s.charCodeAt(k) === 9)) k++;
    let contentStart = end;
    if (k < lineEnd && s.charCodeAt(k) !== 35 && s.charCodeAt(k) !== 13) {
      if (marker === "...") return;
      contentStart = k; // `--- value`: the value belongs to the new document
    }
    const text = this.docText(i);
    const sep = s.slice(i, contentStart);
    if (this.directives) {
      if (marker === "...") this.noDocumentStart();
      // the directives and the comments around them open the next document, with its `---`
      this.sep += text + sep;
      this.pending = { yamlVersion: this.yamlVersion, directives: this.directives };
      this.directives = "";
      this.yamlVersion = undefined;
    } else {
      if (this.index > 0 || text.length || this.sep.length) out.push(this.doc(text));
      this.sep = sep;
    }
    this.docStart = contentStart;
    this.docLine = contentStart === end ? this.line + 1 : this.line;
  }

  private doc(text: string): RawDoc {
    const d: RawDoc = { sep: this.sep, text, line: this.docLine, index: ++this.index };
    if (this.pending) {
      if (this.pending.yamlVersion) d.yamlVersion = this.pending.yamlVersion;
      d.directives = this.pending.directives;
      this.pending = undefined;
    }
    return d;
  }
}

export type Mode = "inject" | "uninject";

export interface DocResult extends DocOutcome {
  /** The output document (the concatenation of `parts`). */
  readonly text: string;
  /** The output document in pieces (slices of the input and inserted text), to write without joining. */
  readonly parts: string[];
  /** The final document as data (for `-o json`); undefined for an empty document. */
  value?: Json;
  /** Replaces the document's `sep` in the output (set when its `---` line had to change). */
  sep?: string;
}

interface Parsed {
  root: Node | null;
  /** The text the root's offsets refer to (the input, or a re-serialisation of it). */
  text: string;
  /** Offsets point into the user's text (false after re-serialisation). */
  original: boolean;
}

const lineAt = (text: string, offset: number) => {
  let n = 0;
  for (let i = text.indexOf("\n"); i >= 0 && i < offset; i = text.indexOf("\n", i + 1)) n++;
  return n;
};

type YamlLib = typeof import("yaml");
let yamlLib: YamlLib | undefined;

/** Thrown when a document needs the full `yaml` parser before it is loaded; see loadYamlLib. */
export class NeedYamlLib extends Error {}

/** Loads the `yaml` package (kept out of start-up: most streams never need it). */
export async function loadYamlLib(): Promise<void> {
  yamlLib ??= await loadYaml();
}

/**
 * The document as data by the `yaml` package. `directives` (a `%YAML`/`%TAG` prologue) go in
 * front, so tags resolve as the document declares them; offsets are into `text`.
 */
function fullParse(text: string, directives = ""): { value: Json } | { error: string; offset: number } {
  if (directives) {
    const prologue = `${directives}---\n`;
    const r = fullParse(prologue + text);
    return "error" in r ? { error: r.error, offset: Math.max(0, r.offset - prologue.length) } : r;
  }
  // Bounded before any parser (JSON.parse included: what follows it recurses) sees the text.
  const deep = yamlDepthProblem(text);
  if (deep) return { error: `nesting deeper than ${MAX_YAML_DEPTH} levels: mesh refuses such input`, offset: deep.offset };
  const t = text.trimStart();
  if (t.startsWith("{") || t.startsWith("[")) {
    try {
      return { value: JSON.parse(text) as Json };
    } catch {
      // not JSON: YAML flow style, parse below
    }
  }
  if (!yamlLib) throw new NeedYamlLib();
  try {
    // duplicate keys, collection keys, alias bombs and errors without excerpts: see parseYamlSafe
    return { value: (parseYamlSafe(text, { merge: true, maxAliasCount: 100 }, yamlLib)[0] ?? null) as Json };
  } catch (err) {
    if (err instanceof YamlInputError) return { error: err.reason, offset: err.offset };
    throw err;
  }
}

/**
 * Indentation step and sequence style of a document, from its first nested map and sequence
 * (a step of 0 when none is found and `defaults` is false).
 */
export function detectStyle(root: Node | null, defaults = true): EmitStyle {
  const st: StyleScan = { step: 0, seqIndent: undefined };
  visitStyle(st, root, 0);
  return { step: st.step || (defaults ? DEFAULT_STYLE.step : 0), seqIndent: st.seqIndent ?? DEFAULT_STYLE.seqIndent };
}

interface StyleScan {
  step: number;
  seqIndent: boolean | undefined;
}

function visitStyle(st: StyleScan, n: Node | null, depth: number): void {
  if (!n || n.kind === "scalar" || n.flow || depth > 8 || (st.step && st.seqIndent !== undefined)) return;
  if (n.kind === "map") {
    for (let i = 0; i < n.entries.length; i++) {
      const v = n.entries[i].value;
      if (v && v.kind === "map" && !v.flow && !st.step && v.indent > n.indent) st.step = v.indent - n.indent;
      if (v && v.kind === "seq" && !v.flow && st.seqIndent === undefined) st.seqIndent = v.indent > n.indent;
      visitStyle(st, v, depth + 1);
    }
  } else for (let i = 0; i < n.items.length; i++) visitStyle(st, n.items[i].node, depth + 1);
}

/** Runs inject or uninject over a parsed document. */
function runTransform(p: Parsed, doc: RawDoc, mode: Mode, cfg: InjectConfig | undefined): Transformer {
  const t = new Transformer(p.text, detectStyle(p.root));
  if (p.root) t.each(p.root, mode, cfg);
  // Linkerd reports a document of only blank lines or comments as one without a kind
  else if (doc.text !== "") t.outcome.reports.push({ ...newReport("", ""), unsupportedResource: true });
  return t;
}

/**
 * Transforms one document. Throws DocumentError for input that is not a valid manifest.
 */
export function transformDocument(doc: RawDoc, input: string, mode: Mode, cfg: InjectConfig | undefined, wantValue = false): DocResult {
  let text = doc.text;
  let crlf = false;
  if (text.includes("\r")) {
    const lf = text.replace(/\r\n/g, "\n");
    if (!lf.includes("\r")) {
      crlf = true;
      text = lf;
    }
  }
  // edits are line-based: work on a text that ends with a newline, and drop it again after
  const noFinalNewline = text.length > 0 && !text.endsWith("\n");
  if (noFinalNewline) text += "\n";
  const bad = FORBIDDEN_CHARS.exec(text);
  if (bad) {
    const what = bad[0] === "\uFFFD" ? "invalid UTF-8" : `control character 0x${bad[0].charCodeAt(0).toString(16).padStart(2, "0")}`;
    throw new DocumentError(input, doc.index, doc.line + lineAt(text, bad.index), `the input is not YAML text (${what}): is it a binary file?`);
  }

  // a %TAG directive may give `!!map` another meaning: only the full parser reads such a document
  const tags = doc.directives !== undefined && /^%TAG/m.test(doc.directives);

  // a document of a shape seen before: injected by its plan, without scanning (see plan.ts)
  const plannable = mode === "inject" && cfg !== undefined && !wantValue && !crlf && !noFinalNewline && !doc.directives && !(INJECT in cfg.overrides);
  if (plannable) {
    const planned = templateInject(text, cfg);
    if (planned) return new Result(planned.parts.length ? planned.parts : [doc.text], planned.outcome);
  }

  // a kind: List as kubectl prints it: one item at a time (see byItems)
  if (!wantValue && !crlf && !tags) {
    const r = byItems(text, doc, mode, cfg, plannable);
    if (r) {
      if (noFinalNewline) dropFinalNewline(r.parts);
      return r;
    }
  }

  // larger documents than MAX_DOCUMENT_BYTES are read only as Lists, item by item (MAX_LIST_BYTES)
  if (text.length > MAX_DOCUMENT_BYTES) throw new DocumentError(input, doc.index, doc.line, tooLargeReason(MAX_DOCUMENT_BYTES));

  let parsed: Parsed;
  try {
    if (tags) throw new ScanBail("%TAG directive", 0);
    parsed = { root: scanDocument(text, doc.yamlVersion), text, original: true };
  } catch (e) {
    if (!(e instanceof ScanBail || e instanceof ScanError)) throw e;
    const full = fullParse(doc.text, doc.directives);
    if ("error" in full) throw new DocumentError(input, doc.index, doc.line + lineAt(doc.text, full.offset), full.error);
    parsed = reEmitted(full.value);
  }

  // most documents of a stream: injected by a plan made once per document shape (see plan.ts)
  if (plannable && parsed.original && parsed.root && parsed.root.kind === "map") {
    const planned = plannedInject(parsed.root, text, cfg, (masked) => {
      const root = scanDocument(masked);
      return root && root.kind === "map" ? runTransform({ root, text: masked, original: true }, doc, "inject", cfg) : undefined;
    });
    if (planned) return new Result(planned.parts.length ? planned.parts : [doc.text], planned.outcome);
  }

  // the transform may delete the ingress annotation from the shared overrides (see
  // Transformer.inject); a re-run after re-emission must start from the same state
  const snapshot = cfg && INJECT in cfg.overrides ? { ...cfg.overrides } : undefined;
  let t: Transformer;
  try {
    try {
      t = runTransform(parsed, doc, mode, cfg);
    } catch (e) {
      if (!(e instanceof EditError && e.reEmit) || !parsed.original) throw e;
      if (cfg && snapshot) {
        for (const k of Object.keys(cfg.overrides)) delete cfg.overrides[k];
        Object.assign(cfg.overrides, snapshot);
      }
      parsed = reEmitted(toJS(parsed.root));
      t = runTransform(parsed, doc, mode, cfg);
    }
  } catch (e) {
    if (e instanceof InputError || e instanceof EditError)
      throw new DocumentError(input, doc.index, parsed.original ? doc.line + lineAt(parsed.text, e.offset) : doc.line, e.message);
    throw e;
  }

  const edits = t.editor.edits;
  let parts: string[];
  if (edits.length === 0) parts = [doc.text];
  else {
    parts = editPieces(parsed.text, edits);
    if (noFinalNewline && parsed.original) dropFinalNewline(parts);
    if (crlf && parsed.original) parts = [parts.join("").replace(/\n/g, "\r\n")];
  }
  const result = new Result(parts, t.outcome);
  // a document that began on its `---` line (`--- !!map`, `--- {…`) and was re-serialised as
  // block YAML starts on the next line
  if (!parsed.original && edits.length && doc.sep && !doc.sep.endsWith("\n")) result.sep = `${doc.sep.trimEnd()}${crlf ? "\r\n" : "\n"}`;
  if (wantValue && parsed.root) result.value = edits.length ? toJS(scanDocument(applyEdits(parsed.text, edits), parsed.original ? doc.yamlVersion : undefined)) : toJS(parsed.root);
  return result;
}

/**
 * The items of a `kind: List` laid out as `kubectl get -o yaml` prints it: lines at column 0
 * are `apiVersion:`/`kind: List` (before or after the items), `items:`, each item's `- ` line,
 * and after the items `metadata:`; every other line is blank or indented. Undefined for any
 * other layout. Items are [start, end) line ranges.
 */
export function listItems(text: string): [number, number][] | undefined {
  const items: [number, number][] = [];
  let state: "root" | "items" | "after" = "root";
  let kindList = false;
  for (let p = 0; p < text.length; ) {
    const nl = text.indexOf("\n", p);
    const next = nl < 0 ? text.length : nl + 1;
    const c = text.charCodeAt(p);
    if (c === 32 || c === 10) {
      if (state === "root") return undefined; // indented lines before the items: the root holds a collection
      if (state === "items" && items.length) items[items.length - 1][1] = next;
    } else if (state === "items" && c === 45 && text.charCodeAt(p + 1) === 32 && text.charCodeAt(p + 2) !== 32) {
      items.push([p, next]);
    } else {
      const line = text.slice(p, next).trimEnd();
      if (state === "items") state = "after";
      if (line === "items:" && state === "root") state = "items";
      else if (line === "kind: List") kindList = true;
      else if (line === "metadata:" && state === "after") state = "after";
      else if (!/^apiVersion: [\w./-]+$/.test(line)) return undefined;
    }
    p = next;
  }
  return kindList && items.length ? items : undefined;
}

/**
 * Transforms a `kind: List` as kubectl lays it out (see listItems) item by item: each item is
 * scanned and transformed on its own, so a large List costs what as many documents cost. Any
 * item that does not scan, or fails, sends the whole document back to the ordinary path, which
 * reports its errors; so does a List whose first item shows no indentation step.
 */
function byItems(text: string, doc: RawDoc, mode: Mode, cfg: InjectConfig | undefined, plannable: boolean): Result | undefined {
  if (text.length < 64 * 1024) return undefined; // small Lists: the ordinary path is as fast
  const spans = listItems(text);
  if (!spans) return undefined;
  const snapshot = cfg && INJECT in cfg.overrides ? { ...cfg.overrides } : undefined;
  const outcome: DocOutcome = { reports: [], failures: [], warnings: [] };
  const parts: string[] = [];
  let style: EmitStyle | undefined;
  let pos = 0;
  let edited = false;
  try {
    for (let i = 0; i < spans.length; i++) {
      const [start, end] = spans[i];
      const itemText = text.slice(start, end);
      let pieces: string[];
      // items of a shape seen before: injected by its plan, as documents are (see plan.ts)
      const planned = plannable && style ? templateInject(itemText, cfg!) : undefined;
      if (planned) {
        pieces = planned.parts;
        addOutcome(outcome, planned.outcome);
      } else {
        const root = scanDocument(itemText, doc.yamlVersion);
        if (!root || root.kind !== "seq" || root.items.length !== 1) throw new ScanBail("not one item", start);
        // the whole document's style: its `items:` sequence is not indented, the step is the first item's
        style ??= { step: detectStyle(root, false).step, seqIndent: false };
        if (!style.step) throw new ScanBail("no indentation step", start);
        const itemStyle = style;
        const node = root.items[0].node;
        const byPlan =
          plannable && node && node.kind === "map" && !node.flow
            ? plannedInject(node, itemText, cfg!, (masked) => {
                const r = scanDocument(masked);
                if (!r || r.kind !== "seq" || r.items.length !== 1) return undefined;
                const t = new Transformer(masked, itemStyle);
                t.item(r.items[0].node, i, mode, cfg);
                return t;
              })
            : undefined;
        if (byPlan) {
          pieces = byPlan.parts;
          addOutcome(outcome, byPlan.outcome);
        } else {
          const t = new Transformer(itemText, style);
          t.item(node, i, mode, cfg);
          addOutcome(outcome, t.outcome);
          pieces = t.editor.edits.length ? editPieces(itemText, t.editor.edits) : [];
        }
      }
      if (pieces.length === 0) continue;
      edited = true;
      if (start > pos) parts.push(text.slice(pos, start));
      for (const piece of pieces) parts.push(piece);
      pos = end;
    }
  } catch (e) {
    if (!(e instanceof ScanBail || e instanceof ScanError || e instanceof InputError || e instanceof EditError)) throw e;
    // the ordinary path starts over, from the shared overrides as they were (see Transformer.inject)
    if (cfg && snapshot) {
      for (const k of Object.keys(cfg.overrides)) delete cfg.overrides[k];
      Object.assign(cfg.overrides, snapshot);
    }
    return undefined;
  }
  if (!edited) return new Result([doc.text], outcome);
  if (pos < text.length) parts.push(text.slice(pos));
  return new Result(parts, outcome);
}

class Result implements DocResult {
  reports: Report[];
  failures: string[];
  warnings: string[];
  value?: Json;
  sep?: string;
  constructor(
    readonly parts: string[],
    outcome: DocOutcome,
  ) {
    this.reports = outcome.reports;
    this.failures = outcome.failures;
    this.warnings = outcome.warnings;
  }
  get text(): string {
    return this.parts.length === 1 ? this.parts[0] : this.parts.join("");
  }
}

/** Appends a document's (or an item's) reports, failures and warnings to `to`. */
export function addOutcome(to: DocOutcome, o: DocOutcome): void {
  to.reports.push(...o.reports);
  to.failures.push(...o.failures);
  to.warnings.push(...o.warnings);
}

/** Drops the last newline of the text the pieces make up (if it ends with one). */
function dropFinalNewline(parts: string[]): void {
  for (let i = parts.length - 1; i >= 0; i--) {
    const p = parts[i];
    if (p === "") continue;
    if (p.endsWith("\n")) parts[i] = p.slice(0, -1);
    return;
  }
}

function reEmitted(value: Json): Parsed {
  if (value === null) return { root: null, text: "", original: false };
  const text = emitDocument(value);
  return { root: scanDocument(text), text, original: false };
}
