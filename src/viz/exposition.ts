/**
 * A streaming parser for the Prometheus text exposition format (version 0.0.4), shaped for
 * proxies' `/metrics`: chunks go in as they arrive, only the requested metric families come out,
 * and label sets are interned so that the series of many scrapes share their strings and objects.
 *
 * Rules (Prometheus' text format):
 * - `# HELP name text` is skipped; `# TYPE name type` is recorded per family; other `#` lines are
 *   comments. Blank lines (and lines of only spaces) are skipped; `\r\n` line ends are accepted.
 * - A sample is `name{label="value",...} value [timestamp]`. Whitespace may separate the tokens;
 *   a trailing comma inside the braces is allowed. Label values may contain the escapes `\\`,
 *   `\"` and `\n`; any other backslash pair is kept as written (as Prometheus does).
 * - Values: decimal or exponent floats, `+Inf`/`Inf`/`-Inf`/`NaN` (any case). A timestamp, when
 *   present, must be an integer (milliseconds); it is validated and ignored.
 * - A family's `_bucket`, `_sum` and `_count` samples belong to it. The `le` label of a `_bucket`
 *   sample is taken out of its label set and delivered as a number, so a histogram's 26 bucket
 *   lines share one interned label set.
 * - The same series twice: the later sample wins (the consumer's map overwrites).
 * - Lines of families that were not requested are only scanned for their name, so malformed
 *   lines there go unnoticed. A malformed line of a requested family (bad label syntax, duplicate
 *   label, missing or bad value, junk after the timestamp), or a line whose metric name cannot be
 *   read, is an error naming its line number: with `onError: "throw"` (the default) the parser
 *   throws an ExpositionError; with `"skip"` it drops the line, counts it and keeps the first
 *   few in `errors`.
 */

/** An interned, frozen label set; keys in byte order. Equal label sets from one Interner are the same object. */
export type LabelSet = Readonly<Record<string, string>>;

export const EMPTY_LABELS: LabelSet = Object.freeze({});

/**
 * A string copied out of the chunk it was sliced from (V8 keeps a slice's parent string alive):
 * concatenation makes a fresh flat string, and the slice of it pins only that.
 */
function own(s: string): string {
  return s.length < 13 ? s : (s + " ").slice(0, -1);
}

/** Shares label names, values and whole label sets between the series of one or many scrapes. */
export class Interner {
  private readonly strings = new Map<string, string>();
  /**
   * Label sets by a hash of their sorted pairs; equal hashes are told apart by content. (A key
   * string of every set's pairs would cost as much memory as the sets themselves.)
   */
  private readonly sets = new Map<number, LabelSet[]>();
  private count = 0;
  /** Label text as written (between the braces, `le` cut off) → its set: the fast path. */
  private readonly raw = new Map<string, LabelSet>();

  constructor(private readonly maxRaw = 200_000) {}

  str(s: string): string {
    let v = this.strings.get(s);
    if (v === undefined) {
      v = own(s);
      this.strings.set(v, v);
    }
    return v;
  }

  /** The interned set of `pairs` (name, value, name, value, …; names unique). */
  labelSet(pairs: string[]): LabelSet {
    if (pairs.length === 0) return EMPTY_LABELS;
    const idx: number[] = [];
    for (let i = 0; i < pairs.length; i += 2) idx.push(i);
    idx.sort((a, b) => (pairs[a] < pairs[b] ? -1 : pairs[a] > pairs[b] ? 1 : 0));
    // FNV-1a over the sorted names and values, each followed by a separator no label holds twice in a row.
    let h = 0x811c9dc5;
    for (const i of idx)
      for (let k = 0; k < 2; k++) {
        const t = pairs[i + k];
        for (let j = 0; j < t.length; j++) h = Math.imul(h ^ t.charCodeAt(j), 0x01000193);
        h = Math.imul(h ^ 0xffff, 0x01000193);
      }
    const same = this.sets.get(h);
    if (same)
      for (const set of same) {
        let equal = Object.keys(set).length === idx.length;
        for (let n = 0; equal && n < idx.length; n++) equal = Object.hasOwn(set, pairs[idx[n]]) && set[pairs[idx[n]]] === pairs[idx[n] + 1];
        if (equal) return set;
      }
    const o: Record<string, string> = {};
    for (const i of idx) o[this.str(pairs[i])] = this.str(pairs[i + 1]);
    const set: LabelSet = Object.freeze(o);
    if (same) same.push(set);
    else this.sets.set(h, [set]);
    this.count++;
    return set;
  }

  fromRaw(text: string): LabelSet | undefined {
    return this.raw.get(text);
  }

  rememberRaw(text: string, set: LabelSet): void {
    if (this.raw.size >= this.maxRaw) this.raw.clear();
    this.raw.set(own(text), set);
  }

  /**
   * Lets go of the label texts as written (the fast path's keys), keeping the strings and sets:
   * between two scrapes of a pod they are most of the interner's memory (a proxy's label text is
   * ~250 bytes a series: 8.5 of 19.7 KB per pod), and the next scrape finds its sets again by
   * their hash after parsing each distinct label text once.
   */
  forgetRaw(): void {
    this.raw.clear();
  }

  /** Distinct label sets held. */
  get size(): number {
    return this.count;
  }
}

export interface ExpositionIssue {
  line: number;
  message: string;
}

export class ExpositionError extends Error {
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`);
    this.name = "ExpositionError";
  }
}

/**
 * Receives each sample of a requested family. `name` is the sample's metric name (e.g.
 * `response_latency_ms_bucket`), `family` the requested family it belongs to; `le` is the bucket
 * bound for `_bucket` samples of a requested histogram (removed from `labels`), else undefined.
 */
export type SampleSink = (name: string, family: string, labels: LabelSet, value: number, le: number | undefined) => void;

export interface ParseOptions {
  /** Families to keep (`response_total`, `response_latency_ms`, …); all when undefined. */
  families?: Iterable<string>;
  /** Share label sets with other parsers (e.g. both scrapes of a pod); a private one otherwise. */
  interner?: Interner;
  /** Malformed lines of requested families: throw (default) or skip and record. */
  onError?: "throw" | "skip";
}

const SUFFIXES = ["_bucket", "_count", "_sum"] as const;
const MAX_KEPT_ERRORS = 10;

function isNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 58;
}
function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 48 && c <= 57);
}
function isLabelStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}
function isLabelChar(c: number): boolean {
  return isLabelStart(c) || (c >= 48 && c <= 57);
}

/** A sample value; NaN-returning inputs other than `NaN` itself are errors (undefined). */
export function parseValue(tok: string): number | undefined {
  if (tok.length === 0) return undefined;
  const n = Number(tok);
  if (!Number.isNaN(n)) {
    // Number() also reads "0x1f", "0b1", "0o7" and surrounding blanks; the format does not.
    const c = tok.charCodeAt(tok.length - 1);
    if (/^[+-]?0[xXbBoO]/.test(tok) || c === 32) return undefined;
    return n;
  }
  switch (tok.toLowerCase()) {
    case "nan":
      return NaN;
    case "+inf":
    case "inf":
    case "+infinity":
      return Infinity;
    case "-inf":
    case "-infinity":
      return -Infinity;
    default:
      return undefined;
  }
}

/** Fails a line: the message names what is wrong (the parser adds the line number). */
class LineError {
  constructor(readonly message: string) {}
}

/**
 * Parses `text` (the part between `{` and `}`) into name/value pairs. Throws LineError.
 */
function parseLabelPairs(text: string, pairs: string[]): void {
  const n = text.length;
  let i = 0;
  for (;;) {
    while (i < n && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
    if (i >= n) return;
    const start = i;
    if (!isLabelStart(text.charCodeAt(i))) throw new LineError(`invalid label name at "${excerpt(text, i)}"`);
    while (i < n && isLabelChar(text.charCodeAt(i))) i++;
    const name = text.slice(start, i);
    while (i < n && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
    if (text.charCodeAt(i) !== 61 /* = */) throw new LineError(`expected "=" after label name "${name}"`);
    i++;
    while (i < n && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
    if (text.charCodeAt(i) !== 34 /* " */) throw new LineError(`expected a quoted value for label "${name}"`);
    i++;
    let value = "";
    let from = i;
    let closed = false;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 34) {
        value += text.slice(from, i);
        closed = true;
        i++;
        break;
      }
      if (c === 92 /* \ */) {
        if (i + 1 >= n) break;
        const e = text.charCodeAt(i + 1);
        value += text.slice(from, i);
        value += e === 110 ? "\n" : e === 92 ? "\\" : e === 34 ? '"' : text.slice(i, i + 2);
        i += 2;
        from = i;
        continue;
      }
      i++;
    }
    if (!closed) throw new LineError(`unterminated value of label "${name}"`);
    for (let k = 0; k < pairs.length; k += 2) if (pairs[k] === name) throw new LineError(`duplicate label "${name}"`);
    pairs.push(name, value);
    while (i < n && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
    if (i >= n) return;
    if (text.charCodeAt(i) !== 44 /* , */) throw new LineError(`expected "," or "}" after the value of label "${name}"`);
    i++;
  }
}

/**
 * The first `}` in buf[from, end) outside a quoted label value (where `\` escapes the next
 * character), or -1. Jumps from quote to quote with indexOf instead of reading every character.
 */
function closingBrace(buf: string, from: number, end: number): number {
  let close = buf.indexOf("}", from);
  let j = from;
  while (close !== -1 && close < end) {
    const open = buf.indexOf('"', j);
    if (open === -1 || open > close) return close;
    // The value's closing quote: the first one after an even number of backslashes.
    let q = buf.indexOf('"', open + 1);
    for (;;) {
      if (q === -1 || q >= end) return -1;
      let backslashes = 0;
      for (let t = q - 1; t > open && buf.charCodeAt(t) === 92; t--) backslashes++;
      if (backslashes % 2 === 0) break;
      q = buf.indexOf('"', q + 1);
    }
    j = q + 1;
    if (close < j) close = buf.indexOf("}", j);
  }
  return -1;
}

function excerpt(s: string, at: number): string {
  const part = s.slice(at, at + 24);
  return part.replace(/[\x00-\x1f\x7f]/g, "?") + (s.length > at + 24 ? "…" : "");
}

/**
 * Incremental parser: `write()` chunks (strings, or bytes decoded as UTF-8 across chunk
 * boundaries), then `end()`. Samples of requested families go to the sink in document order.
 */
export class ExpositionParser {
  /** `# TYPE` of each requested family seen. */
  readonly types = new Map<string, string>();
  /** Kept examples of skipped lines (with `onError: "skip"`). */
  readonly errors: ExpositionIssue[] = [];
  skipped = 0;
  /** Lines read so far. */
  lines = 0;
  /** Characters read so far (bytes, for byte chunks). */
  bytes = 0;
  samples = 0;

  private readonly wanted: Set<string> | undefined;
  /**
   * Metric name → the name as an owned string and the requested family it belongs to, or null:
   * decided once per name. Sinks get the owned name, never a slice of the chunk: a Map keyed by a
   * slice would keep the whole chunk's text alive (16 KB per chunk, for as long as the scrape).
   */
  private readonly familyOf = new Map<string, { name: string; family: string } | null>();
  private readonly interner: Interner;
  private readonly strict: boolean;
  private rest = "";
  private decoder: InstanceType<typeof TextDecoder> | undefined;
  private readonly pairs: string[] = [];
  private ended = false;

  constructor(
    private readonly sink: SampleSink,
    opts: ParseOptions = {},
  ) {
    this.wanted = opts.families ? new Set(opts.families) : undefined;
    this.interner = opts.interner ?? new Interner();
    this.strict = (opts.onError ?? "throw") === "throw";
  }

  write(chunk: string | Uint8Array): void {
    if (this.ended) throw new Error("write after end");
    let text: string;
    if (typeof chunk === "string") {
      text = chunk;
      this.bytes += chunk.length;
    } else {
      this.decoder ??= new TextDecoder("utf-8");
      text = this.decoder.decode(chunk, { stream: true });
      this.bytes += chunk.byteLength;
    }
    if (text.length === 0) return;
    let pos = 0;
    if (this.rest.length) {
      // Only the line split across chunks is joined: `rest + text` would copy the whole chunk.
      const nl = text.indexOf("\n");
      if (nl === -1) {
        this.rest += text;
        return;
      }
      const joined = this.rest + text.slice(0, nl);
      this.line(joined, 0, joined.length);
      pos = nl + 1;
    }
    for (let nl = text.indexOf("\n", pos); nl !== -1; nl = text.indexOf("\n", pos)) {
      this.line(text, pos, nl);
      pos = nl + 1;
    }
    this.rest = pos === 0 ? text : text.slice(pos);
  }

  end(): void {
    if (this.ended) return;
    if (this.decoder) {
      const tail = this.decoder.decode();
      if (tail) this.write(tail);
    }
    this.ended = true;
    if (this.rest.length) this.line(this.rest, 0, this.rest.length);
    this.rest = "";
  }

  private fail(message: string): void {
    if (this.strict) throw new ExpositionError(this.lines, message);
    this.skipped++;
    if (this.errors.length < MAX_KEPT_ERRORS) this.errors.push({ line: this.lines, message });
  }

  private family(name: string): { name: string; family: string } | null {
    const known = this.familyOf.get(name);
    if (known !== undefined) return known;
    let f: string | null = null;
    if (!this.wanted || this.wanted.has(name)) f = name;
    else
      for (const s of SUFFIXES)
        if (name.endsWith(s) && this.wanted.has(name.slice(0, -s.length))) {
          f = name.slice(0, -s.length);
          break;
        }
    // Without a family list, `_bucket` samples still belong to their histogram when its TYPE said so.
    if (!this.wanted && name.endsWith("_bucket") && this.types.get(name.slice(0, -7)) === "histogram") f = name.slice(0, -7);
    const key = own(name);
    const entry = f === null ? null : { name: key, family: f === name ? key : own(f) };
    this.familyOf.set(key, entry);
    return entry;
  }

  /** One line: buf[start, end). */
  private line(buf: string, start: number, end: number): void {
    this.lines++;
    if (end > start && buf.charCodeAt(end - 1) === 13) end--;
    let i = start;
    while (i < end && (buf.charCodeAt(i) === 32 || buf.charCodeAt(i) === 9)) i++;
    if (i === end) return;
    const c0 = buf.charCodeAt(i);
    if (c0 === 35 /* # */) return this.comment(buf.slice(i, end));
    if (!isNameStart(c0)) return this.fail(`expected a metric name, found "${excerpt(buf.slice(i, end), 0)}"`);
    const nameStart = i;
    while (i < end && isNameChar(buf.charCodeAt(i))) i++;
    const c = i < end ? buf.charCodeAt(i) : 32;
    if (c !== 123 /* { */ && c !== 32 && c !== 9) return this.fail(`invalid character after metric name "${excerpt(buf.slice(nameStart, end), 0)}"`);
    const f = this.family(buf.slice(nameStart, i));
    if (f === null) return;
    try {
      this.sample(buf, i, end, f.name, f.family);
    } catch (e) {
      if (e instanceof LineError) return this.fail(`${f.name}: ${e.message}`);
      throw e;
    }
  }

  private comment(text: string): void {
    // "# TYPE name type": only TYPE matters (HELP text and other comments are skipped).
    if (!text.startsWith("TYPE", 2) || text.charCodeAt(1) !== 32) return;
    const parts = text.slice(6).trim().split(/[ \t]+/);
    if (parts.length < 2) return;
    const [name, type] = parts;
    if (this.wanted && !this.wanted.has(name)) return;
    this.types.set(own(name), this.interner.str(type));
  }

  private sample(buf: string, i: number, end: number, name: string, family: string): void {
    let labels: LabelSet = EMPTY_LABELS;
    let le: number | undefined;
    const isBucket = name !== family && name.endsWith("_bucket");
    // Blanks may stand between the name and its label set.
    let k = i;
    while (k < end && (buf.charCodeAt(k) === 32 || buf.charCodeAt(k) === 9)) k++;
    if (buf.charCodeAt(k) === 123) i = k;
    if (buf.charCodeAt(i) === 123) {
      const j = closingBrace(buf, i + 1, end);
      if (j === -1) throw new LineError("missing closing brace");
      const text = buf.slice(i + 1, j);
      if (isBucket) {
        const r = this.bucketLabels(text);
        labels = r.labels;
        le = r.le;
      } else labels = this.labels(text);
      i = j + 1;
    } else if (isBucket) throw new LineError('bucket without an "le" label');
    // value [timestamp]
    const sep = i;
    while (i < end && (buf.charCodeAt(i) === 32 || buf.charCodeAt(i) === 9)) i++;
    if (i === sep && i < end) throw new LineError("expected a space before the value");
    if (i >= end) throw new LineError("missing value");
    let vEnd = i;
    while (vEnd < end && buf.charCodeAt(vEnd) !== 32 && buf.charCodeAt(vEnd) !== 9) vEnd++;
    const value = parseValue(buf.slice(i, vEnd));
    if (value === undefined) throw new LineError(`invalid value "${excerpt(buf.slice(i, vEnd), 0)}"`);
    i = vEnd;
    while (i < end && (buf.charCodeAt(i) === 32 || buf.charCodeAt(i) === 9)) i++;
    if (i < end) {
      let tEnd = i;
      while (tEnd < end && buf.charCodeAt(tEnd) !== 32 && buf.charCodeAt(tEnd) !== 9) tEnd++;
      if (!/^-?\d+$/.test(buf.slice(i, tEnd))) throw new LineError(`invalid timestamp "${excerpt(buf.slice(i, tEnd), 0)}"`);
      i = tEnd;
      while (i < end && (buf.charCodeAt(i) === 32 || buf.charCodeAt(i) === 9)) i++;
      if (i < end) throw new LineError(`unexpected text after the timestamp: "${excerpt(buf.slice(i, end), 0)}"`);
    }
    this.samples++;
    this.sink(name, family, labels, value, le);
  }

  private labels(text: string): LabelSet {
    const hit = this.interner.fromRaw(text);
    if (hit !== undefined) return hit;
    const pairs = this.pairs;
    pairs.length = 0;
    parseLabelPairs(text, pairs);
    const set = this.interner.labelSet(pairs);
    this.interner.rememberRaw(text, set);
    return set;
  }

  /** A bucket's labels without `le`, and the bound. Fast path when `le` is written last (as the proxy does). */
  private bucketLabels(text: string): { labels: LabelSet; le: number } {
    let t = text.length;
    while (t > 0 && (text.charCodeAt(t - 1) === 32 || text.charCodeAt(t - 1) === 9)) t--;
    if (t > 0 && text.charCodeAt(t - 1) === 44) t--; // trailing comma
    const at = text.lastIndexOf('le="', t);
    if (at >= 0 && (at === 0 || text.charCodeAt(at - 1) === 44) && text.charCodeAt(t - 1) === 34 && t - 1 > at + 3) {
      const raw = text.slice(at + 4, t - 1);
      const le = raw.indexOf("\\") === -1 && raw.indexOf('"') === -1 ? parseValue(raw) : undefined;
      if (le !== undefined) {
        const prefix = text.slice(0, at);
        let labels = this.interner.fromRaw(prefix);
        if (labels === undefined) {
          const pairs = this.pairs;
          pairs.length = 0;
          try {
            parseLabelPairs(prefix, pairs);
          } catch {
            return this.bucketLabelsSlow(text);
          }
          if (pairs.includes("le")) return this.bucketLabelsSlow(text);
          labels = this.interner.labelSet(pairs);
          this.interner.rememberRaw(prefix, labels);
        }
        return { labels, le };
      }
    }
    return this.bucketLabelsSlow(text);
  }

  private bucketLabelsSlow(text: string): { labels: LabelSet; le: number } {
    const pairs: string[] = [];
    parseLabelPairs(text, pairs);
    let le: number | undefined;
    const rest: string[] = [];
    for (let k = 0; k < pairs.length; k += 2) {
      if (pairs[k] === "le") {
        le = parseValue(pairs[k + 1]);
        if (le === undefined) throw new LineError(`invalid bucket bound le="${excerpt(pairs[k + 1], 0)}"`);
      } else rest.push(pairs[k], pairs[k + 1]);
    }
    if (le === undefined) throw new LineError('bucket without an "le" label');
    return { labels: this.interner.labelSet(rest), le };
  }
}

/** A histogram series' buckets: bounds in the order first seen, cumulative counts. */
export interface Buckets {
  le: number[];
  counts: number[];
}

export function setBucket(b: Buckets, le: number, v: number): void {
  for (let k = b.le.length - 1; k >= 0; k--)
    if (b.le[k] === le) {
      b.counts[k] = v;
      return;
    }
  b.le.push(le);
  b.counts.push(v);
}

/** One parsed payload: plain samples by metric name, histogram buckets by family. */
export interface Exposition {
  types: Map<string, string>;
  /** metric name (incl. `_sum`/`_count`) → series → value. */
  samples: Map<string, Map<LabelSet, number>>;
  /** histogram family → series (labels without `le`) → buckets. */
  buckets: Map<string, Map<LabelSet, Buckets>>;
  lines: number;
  bytes: number;
  skipped: number;
  errors: ExpositionIssue[];
}

/** Collects a payload written in chunks into an Exposition (later samples of a series win). */
export class ExpositionCollector {
  readonly result: Exposition;
  private readonly parser: ExpositionParser;

  constructor(opts: ParseOptions = {}) {
    const samples = new Map<string, Map<LabelSet, number>>();
    const buckets = new Map<string, Map<LabelSet, Buckets>>();
    this.parser = new ExpositionParser((name, family, labels, value, le) => {
      if (le !== undefined) {
        let m = buckets.get(family);
        if (!m) buckets.set(family, (m = new Map()));
        let b = m.get(labels);
        if (!b) m.set(labels, (b = { le: [], counts: [] }));
        setBucket(b, le, value);
        return;
      }
      let m = samples.get(name);
      if (!m) samples.set(name, (m = new Map()));
      m.set(labels, value);
    }, opts);
    this.result = { types: this.parser.types, samples, buckets, lines: 0, bytes: 0, skipped: 0, errors: this.parser.errors };
  }

  write(chunk: string | Uint8Array): void {
    this.parser.write(chunk);
  }

  end(): Exposition {
    this.parser.end();
    this.result.lines = this.parser.lines;
    this.result.bytes = this.parser.bytes;
    this.result.skipped = this.parser.skipped;
    return this.result;
  }
}

/** Parses a whole payload, or its chunks, at once. */
export function parseExposition(input: string | Uint8Array | Iterable<string | Uint8Array>, opts: ParseOptions = {}): Exposition {
  const c = new ExpositionCollector(opts);
  if (typeof input === "string" || input instanceof Uint8Array) c.write(input);
  else for (const chunk of input) c.write(chunk);
  return c.end();
}
