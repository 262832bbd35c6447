/**
 * A fast scanner for the YAML that Kubernetes manifests are written in: block maps and
 * sequences, plain/quoted/block scalars, flow collections and comments. It
 * records where every node is, which lets injection splice text into the original.
 *
 * It is deliberately conservative. Anything outside that subset (anchors, aliases, tags other
 * than `!!map`/`!!seq`, complex keys, scalars spanning lines inside flow collections,
 * indentation indicators, tabs in indentation…) throws `ScanBail`, and the caller parses the
 * document with the `yaml` package instead. A `ScanError` is a syntax error as far as this
 * scanner can tell; callers ask the `yaml` package for the definitive verdict and message.
 */
import type { MapEntry, MapNode, Node, ScalarNode, Scalar, SeqItem, SeqNode } from "./tree.js";

/** The document uses YAML this scanner does not handle: parse it with the full parser. */
export class ScanBail extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** The document is not valid YAML (as far as the scanner can tell). */
export class ScanError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

const SPACE = 32;
const NL = 10;
const HASH = 35;
const DASH = 45;
const COLON = 58;

const INT_RE = /^[-+]?[0-9]+$/;
const FLOAT_RE = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;

/** YAML 1.2 core schema resolution of a plain scalar (what the `yaml` package does by default). */
export function resolvePlain(s: string): Scalar {
  // most scalars start with a character no special value or number starts with
  const c0 = s.charCodeAt(0);
  if (c0 > 57 && c0 !== 126 && c0 !== 110 && c0 !== 78 && c0 !== 116 && c0 !== 84 && c0 !== 102 && c0 !== 70) return s;
  switch (s) {
    case "":
    case "~":
    case "null":
    case "Null":
    case "NULL":
      return null;
    case "true":
    case "True":
    case "TRUE":
      return true;
    case "false":
    case "False":
    case "FALSE":
      return false;
    case ".inf":
    case ".Inf":
    case ".INF":
    case "+.inf":
    case "+.Inf":
    case "+.INF":
      return Infinity;
    case "-.inf":
    case "-.Inf":
    case "-.INF":
      return -Infinity;
    case ".nan":
    case ".NaN":
    case ".NAN":
      return NaN;
  }
  const c = s.charCodeAt(0);
  if (!((c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46)) return s;
  if (INT_RE.test(s)) return Number(s);
  if (/^0o[0-7]+$/.test(s)) return parseInt(s.slice(2), 8);
  if (/^0x[0-9a-fA-F]+$/.test(s)) return parseInt(s.slice(2), 16);
  if (FLOAT_RE.test(s)) return Number(s);
  return s;
}

const sign = (s: string) => (s.charCodeAt(0) === 45 ? -1 : 1);
const unsigned = (s: string) => (s.charCodeAt(0) === 45 || s.charCodeAt(0) === 43 ? s.slice(1) : s).replace(/_/g, "");

/**
 * YAML 1.1 resolution of a plain scalar (a document under `%YAML 1.1`), as the `yaml` package's
 * yaml-1.1 schema resolves it: yes/no/on/off booleans, 0-prefixed octal, 0b binary, `_` in
 * numbers, base-60 numbers. Timestamps stay strings.
 */
export function resolvePlain11(s: string): Scalar {
  if (/^(?:~|[Nn]ull|NULL)?$/.test(s)) return null;
  if (/^(?:Y|y|[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$/.test(s)) return true;
  if (/^(?:N|n|[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/.test(s)) return false;
  const c = s.charCodeAt(0);
  if (!((c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46)) return s;
  if (/^[-+]?0b[0-1_]+$/.test(s)) return sign(s) * parseInt(unsigned(s).slice(2), 2);
  if (/^[-+]?0[0-7_]+$/.test(s)) return sign(s) * parseInt(unsigned(s), 8);
  if (/^[-+]?[0-9][0-9_]*$/.test(s)) return sign(s) * parseInt(unsigned(s), 10);
  if (/^[-+]?0x[0-9a-fA-F_]+$/.test(s)) return sign(s) * parseInt(unsigned(s).slice(2), 16);
  if (/^[-+]?\.(?:inf|Inf|INF)$/.test(s)) return sign(s) * Infinity;
  if (/^\.(?:nan|NaN|NAN)$/.test(s)) return NaN;
  if (/^[-+]?(?:[0-9][0-9_]*)?(?:\.[0-9_]*)?[eE][-+]?[0-9]+$/.test(s) || /^[-+]?(?:[0-9][0-9_]*)?\.[0-9_]*$/.test(s)) return parseFloat(s.replace(/_/g, ""));
  if (/^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/.test(s))
    return sign(s) * unsigned(s).split(":").reduce((acc, part) => acc * 60 + Number(part), 0);
  return s;
}

/** Characters YAML does not allow in a stream (C0 controls except tab/LF/CR, DEL) and U+FFFD (invalid UTF-8). */
export const FORBIDDEN_CHARS = /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F\uFFFD]/;

/**
 * Parses one document (without its `---` line). Returns null for an empty document.
 * `version` is the document's `%YAML` directive (plain scalars resolve by YAML 1.2 without one).
 */
export function scanDocument(text: string, version?: "1.1" | "1.2"): Node | null {
  return new Scanner(text, version === "1.1" ? resolvePlain11 : resolvePlain).document();
}

/** Deepest nesting the scanner follows; deeper documents go to the full parser, which refuses them by name (see yaml-lib). */
const MAX_SCAN_DEPTH = 200;

class Scanner {
  private readonly n: number;
  /** Collections open at the current position. */
  private depth = 0;
  constructor(
    private readonly s: string,
    private readonly resolve: (s: string) => Scalar,
  ) {
    this.n = s.length;
  }

  document(): Node | null {
    const p = this.skipToContent(0);
    if (p >= this.n) return null;
    const ch = this.s[p];
    if (ch === "%") throw new ScanBail("directive", p);
    const node = this.nodeAtLineStart(p, -1);
    const rest = this.skipToContent(this.after);
    if (rest < this.n) throw new ScanError("unexpected content after the document's root node", rest);
    return node;
  }

  // ---- lines -------------------------------------------------------------------------

  /** The last position skipToContent returned, and the start of its line. */
  private content = -1;
  private contentLine = 0;

  private lineStartOf(p: number): number {
    if (p === this.content) return this.contentLine;
    // a short backward walk: lastIndexOf is a slow runtime call for the few columns of a line
    const s = this.s;
    while (p > 0 && s.charCodeAt(p - 1) !== NL) p--;
    return p;
  }

  private col(p: number): number {
    return p - this.lineStartOf(p);
  }

  private eol(p: number): number {
    const i = this.s.indexOf("\n", p);
    return i < 0 ? this.n : i;
  }

  private nextLine(p: number): number {
    const i = this.s.indexOf("\n", p);
    return i < 0 ? this.n : i + 1;
  }

  private isWsOrEol(p: number): boolean {
    if (p >= this.n) return true;
    const c = this.s.charCodeAt(p);
    return c === SPACE || c === NL || c === 9;
  }

  private skipSpaces(p: number): number {
    const s = this.s;
    while (p < this.n && (s.charCodeAt(p) === SPACE || s.charCodeAt(p) === 9)) p++;
    return p;
  }

  /** From a line start, the first content character of the next line that is neither blank nor a comment (or n). */
  /** The last call of skipToContent: a block's end is found again by each enclosing block. */
  private skipFrom = -1;
  private skipTo = 0;

  private skipToContent(lineStart: number): number {
    if (lineStart === this.skipFrom) {
      const q = this.skipTo;
      if (this.contentLineOfSkip >= 0) {
        // restore what lineStartOf and col know about it (a nested call may have moved on)
        this.content = q;
        this.contentLine = this.contentLineOfSkip;
      }
      return q;
    }
    const q = this.skipToContentUncached(lineStart);
    this.skipFrom = lineStart;
    this.skipTo = q;
    this.contentLineOfSkip = this.content === q ? this.contentLine : -1;
    return q;
  }

  private contentLineOfSkip = -1;

  private skipToContentUncached(lineStart: number): number {
    const s = this.s;
    let p = lineStart;
    while (p < this.n) {
      let q = p;
      while (q < this.n && s.charCodeAt(q) === SPACE) q++;
      const c = q < this.n ? s.charCodeAt(q) : NL;
      if (c === NL) {
        p = q + 1;
        continue;
      }
      if (c === HASH) {
        p = this.nextLine(q);
        continue;
      }
      if (c === 9) {
        // a tab before content: YAML forbids tabs in indentation (tab-only lines are blank)
        const r = this.skipSpaces(q);
        if (r >= this.n || s.charCodeAt(r) === NL || s.charCodeAt(r) === HASH) {
          p = this.nextLine(r);
          continue;
        }
        throw new ScanBail("tab in indentation", q);
      }
      if (p === 0 || s.charCodeAt(p - 1) === NL) {
        this.content = q;
        this.contentLine = p;
      }
      return q;
    }
    return this.n;
  }

  /** After a value ending at p on its line: only spaces and a comment may follow. Returns the next line's start. */
  private endOfLine(p: number): number {
    const q = this.skipSpaces(p);
    if (q >= this.n) return this.n;
    const c = this.s.charCodeAt(q);
    if (c === NL) return q + 1;
    if (c === HASH && q > p) return this.nextLine(q);
    if (c === COLON) throw new ScanBail("complex key", q);
    throw new ScanError(`unexpected characters after a value: ${JSON.stringify(this.s.slice(q, Math.min(this.eol(q), q + 20)))}`, q);
  }

  // ---- block structure -------------------------------------------------------------------

  /**
   * Where the line after the node last scanned starts (the node scanners return the node
   * and leave this here, rather than allocate a pair for every node).
   */
  private after = 0;

  /** A node starting at p, the first content character of its line. */
  private nodeAtLineStart(p: number, parentIndent: number): Node {
    const s = this.s;
    if (s.charCodeAt(p) === DASH && this.isWsOrEol(p + 1)) return this.blockSeq(p, this.col(p));
    if (this.keyAt(p) !== undefined) return this.blockMap(p, this.col(p));
    return this.inlineValue(p, parentIndent);
  }

  private blockMap(p: number, indent: number): MapNode {
    if (++this.depth > MAX_SCAN_DEPTH) throw new ScanBail("deep nesting", p);
    const s = this.s;
    const entries: MapEntry[] = [];
    let seen: Set<string> | undefined;
    const start = p;
    let after = p;
    for (;;) {
      const key = this.keyAt(p);
      if (key === undefined) throw new ScanError("expected a mapping key", p);
      if (entries.length < 12) {
        for (let i = 0; i < entries.length; i++) if (entries[i].key === key) throw new ScanBail("duplicate key", p);
      } else {
        seen ??= new Set(entries.map((e) => e.key));
        if (seen.has(key)) throw new ScanBail("duplicate key", p);
        seen.add(key);
      }
      const lineStart = this.lineStartOf(p);
      const colon = this.lastKeyAfter;
      const q = this.skipSpaces(colon);
      let value: Node | null = null;
      if (q >= this.n || s.charCodeAt(q) === NL || s.charCodeAt(q) === HASH) {
        const lineEnd = this.nextLine(q);
        const r = this.skipToContent(lineEnd);
        if (r < this.n && this.col(r) > indent) {
          value = this.nodeAtLineStart(r, indent);
          after = this.after;
        } else if (r < this.n && this.col(r) === indent && s.charCodeAt(r) === DASH && this.isWsOrEol(r + 1)) {
          value = this.blockSeq(r, indent);
          after = this.after;
        } else after = lineEnd;
      } else {
        value = this.inlineValue(q, indent);
        after = this.after;
      }
      entries.push({ key, keyStart: p, lineStart, colon, value, end: after });
      const r = this.skipToContent(after);
      if (r >= this.n) break;
      const c = this.col(r);
      if (c < indent) break;
      if (c > indent) throw new ScanError("bad indentation of a mapping entry", r);
      if (s.charCodeAt(r) === DASH && this.isWsOrEol(r + 1)) break;
      p = r;
    }
    this.after = after;
    this.depth--;
    return { kind: "map", flow: false, start, end: after, indent, entries };
  }

  private blockSeq(p: number, indent: number): SeqNode {
    if (++this.depth > MAX_SCAN_DEPTH) throw new ScanBail("deep nesting", p);
    const s = this.s;
    const items: SeqItem[] = [];
    const start = p;
    let after = p;
    for (;;) {
      const q = this.skipSpaces(p + 1);
      let node: Node | null = null;
      if (q >= this.n || s.charCodeAt(q) === NL || s.charCodeAt(q) === HASH) {
        const lineEnd = this.nextLine(q);
        const r = this.skipToContent(lineEnd);
        if (r < this.n && this.col(r) > indent) {
          node = this.nodeAtLineStart(r, indent);
          after = this.after;
        } else after = lineEnd;
      } else if (s.charCodeAt(q) === DASH && this.isWsOrEol(q + 1)) {
        throw new ScanBail("compact nested sequence", q);
      } else if (this.keyAt(q) !== undefined) {
        node = this.blockMap(q, this.col(q));
        after = this.after;
      } else {
        node = this.inlineValue(q, indent);
        after = this.after;
      }
      items.push({ start: p, lineStart: this.lineStartOf(p), node, end: after });
      const r = this.skipToContent(after);
      if (r >= this.n) break;
      const c = this.col(r);
      if (c < indent) break;
      if (c === indent && s.charCodeAt(r) === DASH && this.isWsOrEol(r + 1)) {
        p = r;
        continue;
      }
      if (c === indent) break;
      throw new ScanError("bad indentation of a sequence entry", r);
    }
    this.after = after;
    this.depth--;
    return { kind: "seq", flow: false, start, end: after, indent, items };
  }

  /**
   * If an implicit key (`key:` followed by a space or the line's end) starts at p, its
   * text and the position after the colon.
   */
  private lastKeyPos = -1;
  private lastKey: string | undefined;
  /** For the last key found: the position after its colon. */
  private lastKeyAfter = 0;

  private keyAt(p: number): string | undefined {
    if (p === this.lastKeyPos) return this.lastKey;
    this.lastKeyPos = p;
    return (this.lastKey = this.keyAtUncached(p));
  }

  /** The key, setting lastKeyAfter. */
  private keyAtUncached(p: number): string | undefined {
    const s = this.s;
    const c = s[p];
    if (c === '"' || c === "'") {
      const q = c === '"' ? this.double(p, -1, true) : this.single(p, -1, true);
      if (!q) return undefined;
      const r = this.skipSpaces(q.end);
      if (s.charCodeAt(r) === COLON && this.isWsOrEol(r + 1)) {
        this.lastKeyAfter = r + 1;
        return q.value;
      }
      return undefined;
    }
    if (c === "[" || c === "{" || c === "&" || c === "*" || c === "!" || c === "|" || c === ">" || c === "%" || c === "@" || c === "`" || c === "#" || c === ",")
      return undefined;
    if ((c === "?" || c === ":" || c === "-") && this.isWsOrEol(p + 1)) return undefined;
    const e = this.eol(p);
    // the first `:` followed by a space or the line's end, unless a comment (` #`) comes first
    let i = this.nextColon(p);
    while (i < e && i + 1 < e && s.charCodeAt(i + 1) !== SPACE && s.charCodeAt(i + 1) !== 9) i = this.nextColon(i + 1);
    if (i >= e) i = e;
    let h = this.nextHash(p);
    while (h < i && s.charCodeAt(h - 1) !== SPACE && s.charCodeAt(h - 1) !== 9) h = this.nextHash(h + 1);
    if (h < i || i === e) return undefined;
    let k = i;
    while (k > p && (s.charCodeAt(k - 1) === SPACE || s.charCodeAt(k - 1) === 9)) k--;
    this.lastKeyAfter = i + 1;
    return s.slice(p, k);
  }

  // The next `:` and `#` at or after a position (native searches, remembered: the scanner
  // asks again and again, always a little further on).
  private colonFrom = 0;
  private colonAt = -1;
  private hashFrom = 0;
  private hashAt = -1;

  private nextColon(p: number): number {
    if (p < this.colonFrom || p > this.colonAt) {
      const i = this.s.indexOf(":", p);
      this.colonFrom = p;
      this.colonAt = i < 0 ? this.n : i;
    }
    return this.colonAt;
  }

  private nextHash(p: number): number {
    if (p < this.hashFrom || p > this.hashAt) {
      const i = this.s.indexOf("#", p);
      this.hashFrom = p;
      this.hashAt = i < 0 ? this.n : i;
    }
    return this.hashAt;
  }

  // ---- values on a line ------------------------------------------------------------------

  /** A value starting at p (after `key: `, `- `, or at a line start). */
  private inlineValue(p: number, parentIndent: number): Node {
    const s = this.s;
    const c = s[p];
    switch (c) {
      case "|":
      case ">":
        return this.blockScalar(p, parentIndent);
      case '"': {
        const q = this.double(p, parentIndent, false)!;
        this.after = this.endOfLine(q.end);
        return { kind: "scalar", start: p, end: q.end, value: q.value, style: "double" };
      }
      case "'": {
        const q = this.single(p, parentIndent, false)!;
        this.after = this.endOfLine(q.end);
        return { kind: "scalar", start: p, end: q.end, value: q.value, style: "single" };
      }
      case "[":
      case "{": {
        const f = this.flow(p, parentIndent);
        this.after = this.endOfLine(f.end);
        return f;
      }
      case "!":
        return this.tagged(p, parentIndent);
      case "&":
      case "*":
        throw new ScanBail("anchor or alias", p);
      case "%":
      case "@":
      case "`":
        throw new ScanError(`reserved indicator ${c}`, p);
    }
    if ((c === "?" || c === "-") && this.isWsOrEol(p + 1)) throw new ScanBail("complex key or nested sequence", p);
    return this.plain(p, parentIndent);
  }

  /**
   * `!!map` before a map, `!!seq` before a sequence (`--- !!map`): tags that say what the node
   * is anyway, so the node is the collection after them. Any other tag goes to the full parser.
   */
  private tagged(p: number, parentIndent: number): Node {
    const s = this.s;
    let e = p;
    while (!this.isWsOrEol(e)) e++;
    const tag = s.slice(p, e);
    if (tag !== "!!map" && tag !== "!!seq") throw new ScanBail("tag", p);
    const q = this.skipSpaces(e);
    let node: Node;
    if (q >= this.n || s.charCodeAt(q) === NL || (s.charCodeAt(q) === HASH && q > e)) {
      const r = this.skipToContent(this.nextLine(q));
      if (r >= this.n || this.col(r) <= parentIndent) throw new ScanBail("tagged empty node", p);
      node = this.nodeAtLineStart(r, parentIndent);
    } else if (q > e && (s[q] === "[" || s[q] === "{")) node = this.inlineValue(q, parentIndent);
    else throw new ScanBail("tagged node", p);
    if (node.kind !== (tag === "!!map" ? "map" : "seq")) throw new ScanBail("tag of another kind of node", p);
    return node;
  }

  private plain(p: number, parentIndent: number): ScalarNode {
    const s = this.s;
    let e = this.eol(p);
    let end = this.plainLineEnd(p, e);
    let text = s.slice(p, end);
    let after = end < e ? this.nextLine(end) : e < this.n ? e + 1 : this.n;
    // continuation lines: more indented than the parent, not comments
    if (end === this.trimEnd(p, e)) {
      let q = after;
      let blank = 0;
      let lastEnd = end;
      while (q < this.n) {
        let r = q;
        while (r < this.n && s.charCodeAt(r) === SPACE) r++;
        const ch = r < this.n ? s.charCodeAt(r) : NL;
        if (ch === NL) {
          if (r >= this.n) break;
          blank++;
          q = r + 1;
          continue;
        }
        if (ch === HASH || ch === 9) break;
        if (r - q <= parentIndent) {
          // the caller looks for this line next: remember it (blank lines before it are skipped alike)
          this.skipFrom = after;
          this.skipTo = r;
          this.contentLineOfSkip = q;
          break;
        }
        const le = this.eol(r);
        const ce = this.plainLineEnd(r, le);
        if (ce !== this.trimEnd(r, le)) throw new ScanBail("comment or key in a multi-line plain scalar", ce);
        text += blank ? "\n".repeat(blank) : " ";
        text += s.slice(r, ce);
        blank = 0;
        lastEnd = ce;
        q = le < this.n ? le + 1 : this.n;
        after = q;
      }
      end = lastEnd;
      e = this.eol(end);
    }
    if (text.length === 0) throw new ScanError("empty plain scalar", p);
    this.after = after;
    return { kind: "scalar", start: p, end, value: this.resolve(text), style: "plain" };
  }

  private trimEnd(p: number, e: number): number {
    while (e > p && (this.s.charCodeAt(e - 1) === SPACE || this.s.charCodeAt(e - 1) === 9)) e--;
    return e;
  }

  /** End of the plain text on one line (before a comment, trailing spaces trimmed); bails on `: `. */
  private plainLineEnd(p: number, e: number): number {
    const s = this.s;
    let i = this.nextColon(p);
    while (i < e && i + 1 < e && s.charCodeAt(i + 1) !== SPACE && s.charCodeAt(i + 1) !== 9) i = this.nextColon(i + 1);
    if (i > e) i = e;
    // a `#` starts a comment after a space (not at p: the caller saw no comment there)
    let h = this.nextHash(p + 1);
    while (h < i && s.charCodeAt(h - 1) !== SPACE && s.charCodeAt(h - 1) !== 9) h = this.nextHash(h + 1);
    if (h < i) return this.trimEnd(p, h);
    if (i < e) throw new ScanBail("mapping value in a plain scalar", i);
    return this.trimEnd(p, e);
  }

  private blockScalar(p: number, parentIndent: number): ScalarNode {
    const s = this.s;
    const folded = s[p] === ">";
    let i = p + 1;
    let chomp: "clip" | "strip" | "keep" = "clip";
    while (i < this.n && s[i] !== " " && s[i] !== "\n" && s[i] !== "\t") {
      const ch = s[i];
      if (ch === "-" && chomp === "clip") chomp = "strip";
      else if (ch === "+" && chomp === "clip") chomp = "keep";
      else if (ch >= "1" && ch <= "9") throw new ScanBail("block scalar indentation indicator", i);
      else throw new ScanError("invalid block scalar header", i);
      i++;
    }
    let q = this.endOfLine(i);
    const first = q;
    // detect the content indentation
    let indent = -1;
    let maxBlank = 0;
    for (let r = q; r < this.n; ) {
      let k = r;
      while (k < this.n && s.charCodeAt(k) === SPACE) k++;
      if (k >= this.n || s.charCodeAt(k) === NL) {
        maxBlank = Math.max(maxBlank, k - r);
        if (k >= this.n) break;
        r = k + 1;
        continue;
      }
      if (s.charCodeAt(k) === 9 && k - r <= parentIndent) throw new ScanBail("tab in block scalar indentation", k);
      indent = k - r;
      break;
    }
    if (indent <= parentIndent || indent < 0) indent = -1;
    if (indent >= 0 && maxBlank > indent) throw new ScanBail("leading blank lines more indented than a block scalar", first);
    let out = "";
    let didRead = false;
    let empty = 0;
    let atMore = false;
    let lastContentEnd = first;
    let r = first;
    if (indent >= 0) {
      while (r < this.n) {
        let k = r;
        while (k < this.n && s.charCodeAt(k) === SPACE && k - r < indent) k++;
        const le = this.eol(k);
        if (k - r < indent) {
          if (k >= this.n || s.charCodeAt(k) === NL) {
            empty++;
            r = le < this.n ? le + 1 : this.n;
            continue;
          }
          break; // less indented content: the scalar ends
        }
        if (k === le) {
          empty++;
          r = le < this.n ? le + 1 : this.n;
          continue;
        }
        const line = s.slice(k, le);
        if (folded) {
          const more = line.charCodeAt(0) === SPACE || line.charCodeAt(0) === 9;
          if (more) {
            atMore = true;
            out += "\n".repeat(didRead ? 1 + empty : empty);
          } else if (atMore) {
            atMore = false;
            out += "\n".repeat(empty + 1);
          } else if (empty === 0) {
            if (didRead) out += " ";
          } else out += "\n".repeat(empty);
        } else out += "\n".repeat(didRead ? 1 + empty : empty);
        out += line;
        didRead = true;
        empty = 0;
        r = le < this.n ? le + 1 : this.n;
        lastContentEnd = r;
      }
    } else {
      // no content: only blank lines up to the next less-indented line
      while (r < this.n) {
        let k = r;
        while (k < this.n && s.charCodeAt(k) === SPACE) k++;
        if (k < this.n && s.charCodeAt(k) !== NL) break;
        empty++;
        r = k < this.n ? k + 1 : this.n;
      }
    }
    if (chomp === "keep") out += "\n".repeat(didRead ? 1 + empty : empty);
    else if (chomp === "clip" && didRead) out += "\n";
    // keep: trailing blank lines belong to the value, so the node ends after them
    const end = chomp === "keep" ? r : lastContentEnd;
    this.after = end;
    return { kind: "scalar", start: p, end, value: out, style: "block" };
  }

  /** A double-quoted scalar. With `keyOnly`, undefined unless it closes on its line. */
  private double(p: number, parentIndent: number, keyOnly: boolean): { value: string; end: number } | undefined {
    const s = this.s;
    let i = p + 1;
    let out = "";
    for (;;) {
      let j = i;
      while (j < this.n) {
        const ch = s.charCodeAt(j);
        if (ch === 34 || ch === 92 || ch === NL) break;
        j++;
      }
      out += s.slice(i, j);
      if (j >= this.n) throw new ScanError("unterminated double-quoted string", p);
      const ch = s.charCodeAt(j);
      if (ch === 34) return { value: out, end: j + 1 };
      if (ch === NL) {
        if (keyOnly) return undefined;
        out = out.replace(/[ \t]+$/, "");
        const f = this.fold(j, parentIndent);
        out += f.text;
        i = f.next;
        continue;
      }
      // escape
      const e = s[j + 1];
      i = j + 2;
      switch (e) {
        case "0": out += "\0"; break;
        case "a": out += "\x07"; break;
        case "b": out += "\b"; break;
        case "t": case "\t": out += "\t"; break;
        case "n": out += "\n"; break;
        case "v": out += "\v"; break;
        case "f": out += "\f"; break;
        case "r": out += "\r"; break;
        case "e": out += "\x1b"; break;
        case " ": out += " "; break;
        case '"': out += '"'; break;
        case "/": out += "/"; break;
        case "\\": out += "\\"; break;
        case "N": out += "\x85"; break;
        case "_": out += "\xa0"; break;
        case "L": out += "\u2028"; break;
        case "P": out += "\u2029"; break;
        case "x": case "u": case "U": {
          const len = e === "x" ? 2 : e === "u" ? 4 : 8;
          const hex = s.slice(i, i + len);
          if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) throw new ScanError("invalid escape in double-quoted string", j);
          out += String.fromCodePoint(parseInt(hex, 16));
          i += len;
          break;
        }
        case "\n": {
          if (keyOnly) return undefined;
          // escaped line break: join without a space, skip the next line's indentation
          let k = j + 2;
          while (k < this.n && (s.charCodeAt(k) === SPACE || s.charCodeAt(k) === 9)) k++;
          i = k;
          break;
        }
        default:
          throw new ScanError(`invalid escape \\${e ?? ""} in double-quoted string`, j);
      }
    }
  }

  private single(p: number, parentIndent: number, keyOnly: boolean): { value: string; end: number } | undefined {
    const s = this.s;
    let i = p + 1;
    let out = "";
    for (;;) {
      let j = i;
      while (j < this.n) {
        const ch = s.charCodeAt(j);
        if (ch === 39 || ch === NL) break;
        j++;
      }
      out += s.slice(i, j);
      if (j >= this.n) throw new ScanError("unterminated single-quoted string", p);
      if (s.charCodeAt(j) === 39) {
        if (s.charCodeAt(j + 1) === 39) {
          out += "'";
          i = j + 2;
          continue;
        }
        return { value: out, end: j + 1 };
      }
      if (keyOnly) return undefined;
      out = out.replace(/[ \t]+$/, "");
      const f = this.fold(j, parentIndent);
      out += f.text;
      i = f.next;
    }
  }

  /** Line folding inside a quoted scalar, from the newline at j. */
  private fold(j: number, parentIndent: number): { text: string; next: number } {
    const s = this.s;
    let k = j + 1;
    let empty = 0;
    for (;;) {
      const ls = k;
      while (k < this.n && (s.charCodeAt(k) === SPACE || s.charCodeAt(k) === 9)) k++;
      if (k < this.n && s.charCodeAt(k) === NL) {
        empty++;
        k++;
        continue;
      }
      if (k >= this.n) throw new ScanError("unterminated quoted string", j);
      let ind = 0;
      while (s.charCodeAt(ls + ind) === SPACE) ind++;
      if (ind <= parentIndent) throw new ScanBail("quoted scalar continuation not indented", k);
      if ((s.startsWith("---", ls) || s.startsWith("...", ls)) && ind === 0) throw new ScanError("document marker inside a quoted string", ls);
      return { text: empty ? "\n".repeat(empty) : " ", next: k };
    }
  }

  // ---- flow collections ------------------------------------------------------------------

  /**
   * Skips spaces, line breaks and comments inside a flow collection. A line it moves to must be
   * indented past the enclosing block (`parentIndent`); a closing bracket may sit at it.
   */
  private flowSpace(i: number, parentIndent: number): number {
    const s = this.s;
    for (;;) {
      while (i < this.n && (s.charCodeAt(i) === SPACE || s.charCodeAt(i) === 9)) i++;
      if (i >= this.n) return i;
      const c = s.charCodeAt(i);
      if (c === HASH && (i === 0 || s.charCodeAt(i - 1) === SPACE || s.charCodeAt(i - 1) === 9 || s.charCodeAt(i - 1) === NL)) {
        i = this.eol(i);
        continue;
      }
      if (c !== NL) return i;
      // the next line that is not blank
      let k = i + 1;
      for (;;) {
        let r = k;
        while (r < this.n && s.charCodeAt(r) === SPACE) r++;
        if (r < this.n && s.charCodeAt(r) === NL) {
          k = r + 1;
          continue;
        }
        if (r >= this.n) throw new ScanError("unterminated flow collection", i);
        const ch = s.charCodeAt(r);
        const col = r - k;
        if (col <= parentIndent && !((ch === 93 || ch === 125) && col === parentIndent)) throw new ScanBail("flow collection line not indented", r);
        if (col === 0 && (s.startsWith("---", r) || s.startsWith("...", r))) throw new ScanError("document marker inside a flow collection", r);
        i = r;
        break;
      }
    }
  }

  private flow(p: number, parentIndent: number): MapNode | SeqNode {
    if (++this.depth > MAX_SCAN_DEPTH) throw new ScanBail("deep nesting", p);
    const s = this.s;
    const isSeq = s[p] === "[";
    const close = isSeq ? "]" : "}";
    let i = p + 1;
    const items: SeqItem[] = [];
    const entries: MapEntry[] = [];
    let seen: Set<string> | undefined;
    const lineStart = this.lineStartOf(p);
    for (;;) {
      i = this.flowSpace(i, parentIndent);
      if (i >= this.n) throw new ScanError("unterminated flow collection", p);
      if (s[i] === close) {
        i++;
        break;
      }
      if (isSeq) {
        const v = this.flowValue(i, parentIndent);
        const after = this.flowSpace(v.end, parentIndent);
        if (s.charCodeAt(after) === COLON) throw new ScanBail("pair in a flow sequence", after);
        items.push({ start: i, lineStart, node: v, end: v.end });
        i = after;
      } else {
        const keyStart = i;
        let key: string;
        let k: number;
        if (s[i] === '"' || s[i] === "'") {
          const q = s[i] === '"' ? this.double(i, -1, true) : this.single(i, -1, true);
          if (!q) throw new ScanBail("multi-line quoted key in a flow collection", i);
          key = q.value;
          k = this.skipSpaces(q.end);
        } else {
          const v = this.flowPlain(i);
          key = s.slice(i, v.end);
          k = this.skipSpaces(v.end);
        }
        if (s.charCodeAt(k) !== COLON) throw new ScanBail("flow map entry without a value", k);
        const colon = k + 1;
        k = this.flowSpace(colon, parentIndent);
        if (s[k] === "," || s[k] === "}") throw new ScanBail("flow map entry without a value", k);
        // one set per flow map past a few keys: a one-line JSON object can hold 100,000 of them
        if (entries.length < 12) {
          for (let e = 0; e < entries.length; e++) if (entries[e].key === key) throw new ScanBail("duplicate key", keyStart);
        } else {
          seen ??= new Set(entries.map((e) => e.key));
          if (seen.has(key)) throw new ScanBail("duplicate key", keyStart);
          seen.add(key);
        }
        const v = this.flowValue(k, parentIndent);
        entries.push({ key, keyStart, lineStart, colon, value: v, end: v.end });
        i = this.flowSpace(v.end, parentIndent);
      }
      if (s[i] === ",") {
        i++;
        continue;
      }
      if (s[i] === close) {
        i++;
        break;
      }
      if (i >= this.n) throw new ScanError("unterminated flow collection", p);
      // a plain scalar that goes on over a line break, or a syntax error: the full parser decides
      if (s.lastIndexOf("\n", i) > p) throw new ScanBail("multi-line plain scalar in a flow collection", i);
      throw new ScanError(`unexpected ${JSON.stringify(s[i])} in a flow collection`, i);
    }
    this.depth--;
    return isSeq
      ? { kind: "seq", flow: true, start: p, end: i, indent: this.col(p), items }
      : { kind: "map", flow: true, start: p, end: i, indent: this.col(p), entries };
  }

  private flowValue(i: number, parentIndent: number): Node {
    const s = this.s;
    const c = s[i];
    if (c === "[" || c === "{") return this.flow(i, parentIndent);
    if (c === '"' || c === "'") {
      const q = c === '"' ? this.double(i, -1, true) : this.single(i, -1, true);
      if (!q) throw new ScanBail("multi-line quoted scalar in a flow collection", i);
      return { kind: "scalar", start: i, end: q.end, value: q.value, style: c === '"' ? "double" : "single" };
    }
    if (c === "&" || c === "*" || c === "!" || c === "?") throw new ScanBail("anchor, alias, tag or complex key", i);
    const v = this.flowPlain(i);
    const text = s.slice(i, v.end);
    if (!text) throw new ScanError("empty value in a flow collection", i);
    return { kind: "scalar", start: i, end: v.end, value: this.resolve(text), style: "plain" };
  }

  /** A plain scalar in a flow collection, up to its line's end at most (a longer one is found by the caller). */
  private flowPlain(i: number): { end: number } {
    const s = this.s;
    let j = i;
    for (; j < this.n; j++) {
      const ch = s[j];
      if (ch === "\n" || ch === "," || ch === "[" || ch === "]" || ch === "{" || ch === "}") break;
      if (ch === ":") {
        const nx = s[j + 1];
        if (nx === undefined || nx === " " || nx === "\t" || nx === "\n" || nx === "," || nx === "]" || nx === "}" || nx === "[" || nx === "{") break;
      }
      if (ch === "#" && j > i && (s[j - 1] === " " || s[j - 1] === "\t")) break;
    }
    return { end: this.trimEnd(i, j) };
  }
}
