/**
 * Helm's `--set` syntax (what `linkerd install` accepts), parsed into a values tree:
 *
 *   a.b=c,d=e        nested keys, several assignments separated by commas
 *   list={x,y}       a list
 *   a[0].b=c         list indexing, also nested (a[0][1]=x)
 *   a\.b=c\,d        a backslash makes the next character literal
 *
 * `--set` types values like Helm: true/false (any case) are booleans, null deletes the key
 * (after merging), integers without a leading zero are numbers, anything else is a string.
 * `--set-string` keeps every value a string; `--set-file` replaces each value by the contents
 * of the file it names.
 */
import { sanitize } from "../output/sanitize.js";
import { isTree, type Tree } from "./values.js";

export type SetMode = "typed" | "string" | "file";

/** Turns the raw text of one value into what gets stored. */
export type ValueReader = (raw: string) => unknown;

export class StrvalsError extends Error {}

/** Input echoed in a message: printable and short (a key can be thousands of characters). */
const q = (s: string) => sanitize(s, 60);

const MAX_INDEX = 65536;
const MAX_NESTING = 30;

/** Parses one `--set`-style argument into `into` (mutated; later assignments overwrite). */
export function parseSetInto(expr: string, into: Tree, read: ValueReader): void {
  const p = new Parser(expr, read);
  while (p.key(into, 0)) {
    // one assignment per iteration
  }
}

/** Helm's typing of `--set` values. */
export function typedValue(raw: string): unknown {
  const lower = raw.toLowerCase();
  if (lower === "true") return true;
  if (lower === "false") return false;
  if (lower === "null") return null;
  if (raw === "0") return 0;
  if (raw !== "" && raw[0] !== "0" && /^[+-]?\d+$/.test(raw)) {
    const n = Number(raw);
    if (Number.isSafeInteger(n)) return n;
  }
  return raw;
}

const EOF = Symbol("eof");
type Stop = string | typeof EOF;

class Parser {
  private pos = 0;

  constructor(
    private readonly s: string,
    private readonly read: ValueReader,
  ) {}

  /** Reads until one of `stops` (consumed) or the end; backslash escapes the next character. */
  private until(stops: string): { text: string; stop: Stop } {
    let text = "";
    while (this.pos < this.s.length) {
      const c = this.s[this.pos++];
      if (stops.includes(c)) return { text, stop: c };
      if (c === "\\") {
        if (this.pos >= this.s.length) return { text, stop: EOF };
        text += this.s[this.pos++];
      } else text += c;
    }
    return { text, stop: EOF };
  }

  /** Parses one assignment into `data`; false when the input is exhausted. */
  key(data: Tree, nesting: number): boolean {
    const { text: k, stop } = this.until("=[,.");
    switch (stop) {
      case EOF:
        if (k === "") return false;
        throw new StrvalsError(`key "${q(k)}" has no value`);
      case "[": {
        const i = this.index();
        const current = data[k];
        if (current !== undefined && !Array.isArray(current)) throw new StrvalsError(`key "${q(k)}" is not a list`);
        const { list, more } = this.listItem(current ? [...current] : [], i, nesting);
        set(data, k, list);
        return more;
      }
      case "=": {
        const list = this.valueList();
        if (list === EOF) {
          set(data, k, "");
          return false;
        }
        if (list !== undefined) {
          set(data, k, list);
          return true;
        }
        set(data, k, this.read(this.until(",").text));
        return true;
      }
      case ",":
        throw new StrvalsError(`key "${q(k)}" has no value (cannot end with ,)`);
      default: {
        // "."
        if (nesting + 1 > MAX_NESTING) throw new StrvalsError(`value name nested level is greater than maximum supported nested level of ${MAX_NESTING}`);
        const current = data[k];
        if (current !== undefined && !isTree(current)) throw new StrvalsError(`key "${q(k)}" is not a map`);
        const inner: Tree = current ?? {};
        const more = this.key(inner, nesting + 1);
        if (Object.keys(inner).length === 0) {
          if (more) throw new StrvalsError(`key map "${q(k)}" has no value`);
        } else set(data, k, inner);
        return more;
      }
    }
  }

  private index(): number {
    const { text, stop } = this.until("]");
    if (stop === EOF || !/^[+-]?\d+$/.test(text)) throw new StrvalsError(`error parsing index: "${q(text)}" is not an index`);
    const i = Number(text);
    if (i < 0) throw new StrvalsError(`negative ${i} index not allowed`);
    if (i > MAX_INDEX) throw new StrvalsError(`index of ${i} is greater than maximum supported index of ${MAX_INDEX}`);
    return i;
  }

  private listItem(list: unknown[], i: number, nesting: number): { list: unknown[]; more: boolean } {
    const { text, stop } = this.until("[.=");
    if (text.length > 0) throw new StrvalsError(`unexpected data at end of array index: "${q(text)}"`);
    switch (stop) {
      case EOF:
        return { list, more: false };
      case "=": {
        const vl = this.valueList();
        if (vl === EOF) return { list: setIndex(list, i, ""), more: true };
        if (vl !== undefined) return { list: setIndex(list, i, vl), more: true };
        return { list: setIndex(list, i, this.read(this.until(",").text)), more: true };
      }
      case "[": {
        const j = this.index();
        const existing = list[i];
        if (existing !== undefined && existing !== null && !Array.isArray(existing)) throw new StrvalsError(`index ${i} is not a list`);
        const inner = this.listItem(existing ? [...(existing as unknown[])] : [], j, nesting);
        return { list: setIndex(list, i, inner.list), more: inner.more };
      }
      default: {
        // "."
        const existing = list[i];
        const inner: Tree = isTree(existing) ? existing : {};
        const more = this.key(inner, nesting);
        return { list: setIndex(list, i, inner), more };
      }
    }
  }

  /** `{a,b}` after `=`: the list; undefined when the value is not a list; EOF at the end. */
  private valueList(): unknown[] | undefined | typeof EOF {
    if (this.pos >= this.s.length) return EOF;
    if (this.s[this.pos] !== "{") return undefined;
    this.pos++;
    const list: unknown[] = [];
    for (;;) {
      const { text, stop } = this.until(",}");
      if (stop === EOF) throw new StrvalsError("list must terminate with '}'");
      list.push(this.read(text));
      if (stop === "}") {
        if (this.s[this.pos] === ",") this.pos++;
        return list;
      }
    }
  }
}

function set(data: Tree, key: string, value: unknown): void {
  if (key !== "") data[key] = value;
}

function setIndex(list: unknown[], i: number, value: unknown): unknown[] {
  const out = [...list];
  while (out.length <= i) out.push(null);
  out[i] = value;
  return out;
}
