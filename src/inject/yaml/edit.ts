/**
 * Minimal edits to a scanned YAML document: set or remove entries of a map, remove or add
 * items of a sequence, creating or pruning the collections on the way. Everything else in
 * the text stays byte for byte. Edits are planned first and applied at the end, so a plan
 * can drop its own edits when a whole collection turns out to be removed.
 */
import { emitFlow, emitMap, emitScalar, emitSeq, emitValueAfterKey, emitKey, type EmitStyle } from "./emit.js";
import { entry, toJS, type Json, type MapEntry, type MapNode, type Node, type SeqNode } from "./tree.js";

export interface Edit {
  start: number;
  end: number;
  text: string;
  /**
   * Order among insertions at the same offset: text that continues a collection ending
   * there (lower ranks: deeper first) goes before a new key of an enclosing map.
   */
  rank?: number;
}

/** Rank of a new key added to a map (after any collection that ends at the same place). */
const NEW_KEY_RANK = 1e6;

/** Raised when an edit would have to reach into a flow collection or a node of the wrong type. */
export class EditError extends Error {
  constructor(
    message: string,
    readonly offset: number,
    /** True when re-serialising the document as block YAML would make the edit possible. */
    readonly reEmit: boolean,
  ) {
    super(message);
  }
}

export function applyEdits(text: string, edits: Edit[]): string {
  if (edits.length === 0) return text;
  return editPieces(text, edits).join("");
}

/**
 * The edited text as a list of pieces (slices of `text` and the edits' texts) whose
 * concatenation is the result: a caller that writes them out never builds the string.
 */
export function editPieces(text: string, edits: Edit[]): string[] {
  if (edits.length === 0) return [text];
  const list = edits.length === 1 ? edits : sortEdits(edits);
  const out: string[] = [];
  let pos = 0;
  for (let i = 0; i < list.length; i++) {
    const e = list[i];
    if (e.start < pos) throw new Error(`internal error: overlapping edits at ${e.start}`);
    if (e.start > pos) out.push(text.slice(pos, e.start));
    if (e.text) out.push(e.text);
    pos = e.end;
  }
  if (pos < text.length) out.push(text.slice(pos));
  return out;
}

/** Edits in text order; insertions at one offset after removals, by rank, then as recorded. */
export function sortEdits(edits: Edit[]): Edit[] {
  // a stable insertion sort: a document has a handful of edits, mostly recorded in order
  const list = edits.slice();
  for (let i = 1; i < list.length; i++) {
    const e = list[i];
    let j = i - 1;
    while (j >= 0 && editOrder(list[j], e) > 0) {
      list[j + 1] = list[j];
      j--;
    }
    list[j + 1] = e;
  }
  return list;
}

function editOrder(a: Edit, b: Edit): number {
  return a.start - b.start || (a.end === a.start ? 0 : 1) - (b.end === b.start ? 0 : 1) || (a.rank ?? 0) - (b.rank ?? 0);
}

export interface MapPlan {
  /** Remove an existing entry (unless `set` gives it a value). */
  remove?: (key: string, value: Node | null) => boolean;
  /** Entries to give these values (replaced in place, or appended in this order). */
  set?: [string, Json][];
  /** Nested maps to edit (e.g. `annotations` and `labels` under `metadata`). */
  children?: [string, MapPlan][];
  /** Where a new entry goes when this map must be created: first in its parent, or last (default). */
  createFirst?: boolean;
}

export interface SeqPlan {
  remove?: (item: Node | null) => boolean;
  /** Items to insert before the first item. */
  front?: Json[];
  /** Items to append. */
  back?: Json[];
}

interface Planned {
  edits: Edit[];
  /**
   * Every entry or item went away and nothing was added: the caller drops the whole key, or,
   * for a flow collection it keeps (see DocEditor.drops), applies `edits`, which empty it.
   */
  emptied: boolean;
}

const spaces = (n: number) => " ".repeat(n);

/**
 * Rendered block text of inserted values, memoised. Values marked `reusable` (the sidecar
 * containers and volumes, shared by every pod with the same inputs) are memoised by
 * identity, per column and style; other values by their JSON text.
 */
const idMemo = new WeakMap<object, Map<number | string, string>>();

/** Marks a value as never mutated again, so its rendered text can be memoised by identity. */
export function reusable<T extends object>(v: T): T {
  if (!idMemo.has(v)) idMemo.set(v, new Map());
  return v;
}

const renderMemo = new Map<string, string>();
/**
 * A rendered text is built by concatenation, which V8 keeps as a tree of pieces; writing
 * such a string copies it flat first, every time. Flattening it once (ToNumber flattens
 * its argument in place) makes every later write of a memoised text a plain copy.
 */
export function flat(s: string): string {
  void Number(s);
  return s;
}

const SEQ = 0;
const AFTER_KEY = 1;

function render(kind: number, v: Json, col: number, style: EmitStyle): string {
  return flat(kind === SEQ ? emitSeq(v as Json[], col, style) : emitValueAfterKey(v, col, style));
}

function memo(kind: number, v: Json, col: number, style: EmitStyle): string {
  const byId = v !== null && typeof v === "object" ? idMemo.get(v) : undefined;
  if (byId) {
    const k = ((col * 64 + style.step) * 2 + (style.seqIndent ? 1 : 0)) * 2 + kind;
    let out = byId.get(k);
    if (out === undefined) byId.set(k, (out = render(kind, v, col, style)));
    return out;
  }
  const key = `${kind}|${col}|${style.step}|${style.seqIndent}|${JSON.stringify(v)}`;
  let out = renderMemo.get(key);
  if (out === undefined) {
    out = render(kind, v, col, style);
    if (renderMemo.size > 2000) renderMemo.clear();
    renderMemo.set(key, out);
  }
  return out;
}
const emitSeqMemo = (items: Json[], col: number, style: EmitStyle) => memo(SEQ, items, col, style);

/** `key: value` as a new block-map entry at column `col` (memoised whole for a reusable value). */
function entryText(key: string, value: Json, col: number, style: EmitStyle): string {
  const byId = value !== null && typeof value === "object" ? idMemo.get(value) : undefined;
  if (!byId) return `${spaces(col)}${emitKey(key)}:${emitAfterKeyMemo(value, col, style)}`;
  const k = `${key}|${col}|${style.step}|${style.seqIndent}`;
  let out = byId.get(k);
  if (out === undefined) byId.set(k, (out = flat(`${spaces(col)}${emitKey(key)}:${emitAfterKeyMemo(value, col, style)}`)));
  return out;
}
const emitAfterKeyMemo = (v: Json, col: number, style: EmitStyle) => memo(AFTER_KEY, v, col, style);

/** front + back, keeping a reusable list's identity when the other is empty. */
const joined = (front: Json[], back: Json[]): Json[] => (front.length === 0 ? back : back.length === 0 ? front : [...front, ...back]);

/** Index of the last pair with key `k` (a Map built from the list would hold that one's value). */
function lastIndexOfKey<T>(list: [string, T][] | undefined, k: string): number {
  if (list) for (let i = list.length - 1; i >= 0; i--) if (list[i][0] === k) return i;
  return -1;
}

function firstIndexOfKey<T>(list: [string, T][], k: string): number {
  for (let i = 0; i < list.length; i++) if (list[i][0] === k) return i;
  return -1;
}

function hasKey(m: MapNode, k: string): boolean {
  const entries = m.entries;
  for (let i = 0; i < entries.length; i++) if (entries[i].key === k) return true;
  return false;
}

function pushAll(to: Edit[], from: Edit[]): void {
  for (let i = 0; i < from.length; i++) to.push(from[i]);
}

function isEmptyFlow(n: Node | null): boolean {
  return !!n && n.kind !== "scalar" && n.flow && (n.kind === "map" ? n.entries.length === 0 : n.items.length === 0);
}

/** The JS value a map plan produces from nothing (undefined when it produces nothing). */
function fromNothing(plan: MapPlan): { [k: string]: Json } | undefined {
  const out: { [k: string]: Json } = {};
  for (const [k, v] of plan.set ?? []) out[k] = v;
  for (const [k, child] of plan.children ?? []) {
    const c = fromNothing(child);
    if (c) out[k] = c;
  }
  return Object.keys(out).length ? out : undefined;
}

function describe(n: Node | null): string {
  if (!n) return "empty";
  return n.kind === "scalar" ? "a scalar" : n.kind === "seq" ? "a list" : "a map";
}

export class DocEditor {
  constructor(
    readonly text: string,
    readonly style: EmitStyle,
  ) {}

  readonly edits: Edit[] = [];

  /** Plans and records the edits of `plan` on `parent[key]`. */
  map(parent: MapNode, key: string, plan: MapPlan, path: string): void {
    const p = this.planMapEntry(parent, key, plan, path);
    const e = entry(parent, key);
    pushAll(this.edits, p.emptied && this.drops(parent, e!) ? this.dropEntry(parent, e!) : p.edits);
  }

  /**
   * Plans and records the edits of `plan` on the sequence `parent[key]`. `fill` is a hole in the
   * plan's values (a plain string standing for another) and the string that fills it in this
   * document: the text of shared values is rendered once and filled per document.
   */
  seq(parent: MapNode, key: string, plan: SeqPlan, path: string, fill?: [string, string]): void {
    const p = this.planSeqEntry(parent, key, plan, path);
    const e = entry(parent, key);
    if (p.emptied && this.drops(parent, e!)) return pushAll(this.edits, this.dropEntry(parent, e!));
    for (const edit of p.edits) {
      const split = fill && edit.text.includes(fill[0]) ? holeSplit(edit.text, fill[0]) : undefined;
      if (!split) this.edits.push(edit);
      else if (edit.start !== edit.end) this.edits.push({ ...edit, text: split[0] + split[1](fill![1]) + split[2] });
      else {
        // an insertion: three, in order at one offset, so that the text around the hole stays the
        // same string from pod to pod (the output holds one encoded copy of it)
        this.edits.push({ ...edit, text: split[0] }, { ...edit, text: split[1](fill![1]) }, { ...edit, text: split[2] });
      }
    }
  }

  /**
   * Whether an entry whose collection was emptied goes. A block collection goes (injection
   * adds new keys in block style). A flow one stays (`{}`, `[]`: the user wrote it), unless it
   * sits in a flow map under a key written as injection writes a new one (`"volumes": […]`).
   */
  private drops(parent: MapNode, e: MapEntry): boolean {
    const v = e.value;
    if (!v || v.kind === "scalar" || !v.flow) return true;
    return parent.flow && this.text.startsWith(`${JSON.stringify(e.key)}:`, e.keyStart);
  }

  private planMapEntry(parent: MapNode, key: string, plan: MapPlan, path: string): Planned {
    const e = entry(parent, key);
    if (!e || isNull(e.value) || isEmptyFlow(e.value)) {
      const value = fromNothing(plan);
      if (!value) return { edits: [], emptied: false };
      if (!e) return { edits: [this.insertEntry(parent, key, value, plan.createFirst)], emptied: false };
      if (isNull(e.value)) return { edits: this.fillNull(parent, e, value), emptied: false };
      return { edits: [this.fillEmptyFlow(e.value!, Object.keys(value).map((k) => `${JSON.stringify(k)}: ${emitFlow(value[k])}`))], emptied: false };
    }
    const m = e.value!;
    if (m.kind !== "map") throw new EditError(`${path} must be a map, not ${describe(m)}`, m.start, false);
    if (m.flow) return this.planFlowMap(m, plan, path);
    return this.planBlockMap(m, plan, path);
  }

  private planBlockMap(m: MapNode, plan: MapPlan, path: string): Planned {
    // plans and maps are small: linear searches, no Map or Set per call
    const edits: Edit[] = [];
    const set = plan.set;
    const children = plan.children;
    let kept = 0;
    const entries = m.entries;
    for (let ei = 0; ei < entries.length; ei++) {
      const e = entries[ei];
      const ci = lastIndexOfKey(children, e.key);
      if (ci >= 0) {
        const p = this.planMapEntry(m, e.key, children![ci][1], `${path}.${e.key}`);
        if (p.emptied && this.drops(m, e)) {
          pushAll(edits, this.dropEntry(m, e));
          if (this.refilled(m, e)) kept++; // the key stays, with its null
        } else {
          pushAll(edits, p.edits);
          kept++;
        }
        continue;
      }
      const si = lastIndexOfKey(set, e.key);
      if (si >= 0) {
        pushAll(edits, this.setValue(m, e, set![si][1]));
        kept++;
        continue;
      }
      if (plan.remove?.(e.key, e.value)) pushAll(edits, this.removeEntry(m, e));
      else kept++;
    }
    const added = this.added(m, plan);
    if (added) {
      const last = m.entries[m.entries.length - 1];
      edits.push({ start: last.end, end: last.end, text: emitMap(added, m.indent, this.style), rank: -m.indent });
    } else if (kept === 0) return { edits: [], emptied: true };
    return { edits, emptied: false };
  }

  /** The entries `plan` adds to `m` (its `set` and `children` keys that `m` lacks), in plan order. */
  private added(m: MapNode, plan: MapPlan): { [k: string]: Json } | undefined {
    const { set, children } = plan;
    let added: { [k: string]: Json } | undefined;
    if (set)
      for (let i = 0; i < set.length; i++) {
        const k = set[i][0];
        if (hasKey(m, k) || firstIndexOfKey(set, k) !== i) continue;
        (added ??= {})[k] = set[lastIndexOfKey(set, k)][1];
      }
    if (children)
      for (let i = 0; i < children.length; i++) {
        const k = children[i][0];
        if (hasKey(m, k) || firstIndexOfKey(children, k) !== i) continue;
        const v = fromNothing(children[lastIndexOfKey(children, k)][1]);
        if (v) (added ??= {})[k] = v;
      }
    return added;
  }

  /** A flow map, edited in place: values replaced, entries removed with their comma, new entries appended after the last one. */
  private planFlowMap(m: MapNode, plan: MapPlan, path: string): Planned {
    const edits: Edit[] = [];
    const set = plan.set;
    const children = plan.children;
    const entries = m.entries;
    const removed: boolean[] = new Array(entries.length).fill(false);
    for (let ei = 0; ei < entries.length; ei++) {
      const e = entries[ei];
      const ci = lastIndexOfKey(children, e.key);
      if (ci >= 0) {
        const p = this.planMapEntry(m, e.key, children![ci][1], `${path}.${e.key}`);
        if (p.emptied && this.drops(m, e)) removed[ei] = true;
        else pushAll(edits, p.edits);
        continue;
      }
      const si = lastIndexOfKey(set, e.key);
      if (si >= 0) pushAll(edits, this.setValue(m, e, set![si][1]));
      else if (plan.remove?.(e.key, e.value)) removed[ei] = true;
    }
    const added = this.added(m, plan);
    const addedTexts = added ? Object.keys(added).map((k) => `${JSON.stringify(k)}: ${emitFlow(added[k])}`) : [];
    pushAll(edits, flowEdits(entries.map((e) => [e.keyStart, e.end]), removed, [], addedTexts));
    return { edits, emptied: !added && removed.every(Boolean) };
  }

  private planSeqEntry(parent: MapNode, key: string, plan: SeqPlan, path: string): Planned {
    const e = entry(parent, key);
    const front = plan.front ?? [];
    const back = plan.back ?? [];
    if (!e || isNull(e.value) || isEmptyFlow(e.value)) {
      const items = joined(front, back);
      if (!items.length) return { edits: [], emptied: false };
      if (!e) return { edits: [this.insertEntry(parent, key, items, false)], emptied: false };
      if (isNull(e.value)) return { edits: this.fillNull(parent, e, items), emptied: false };
      return { edits: [this.fillEmptyFlow(e.value!, items.map(emitFlow))], emptied: false };
    }
    const s = e.value!;
    if (s.kind !== "seq") throw new EditError(`${path} must be a list, not ${describe(s)}`, s.start, false);
    if (s.flow) return this.planFlowSeq(s, plan);
    const edits: Edit[] = [];
    let kept = 0;
    for (let i = 0; i < s.items.length; i++) {
      const it = s.items[i];
      if (plan.remove?.(it.node)) {
        if (it.start !== it.lineStart + s.indent) throw new EditError(`cannot remove an item of ${path}: it shares a line with its parent`, it.start, true);
        edits.push({ start: it.lineStart, end: it.end, text: "" });
      }
      else kept++;
    }
    const first = s.items[0];
    if (front.length) {
      if (first.start !== first.lineStart + s.indent)
        throw new EditError(`${path} starts on its parent's line`, s.start, true);
      edits.push({ start: first.lineStart, end: first.lineStart, text: emitSeqMemo(front, s.indent, this.style), rank: -s.indent });
    }
    if (back.length) {
      const last = s.items[s.items.length - 1];
      edits.push({ start: last.end, end: last.end, text: emitSeqMemo(back, s.indent, this.style), rank: -s.indent - 0.5 });
    }
    if (kept === 0 && !front.length && !back.length) return { edits: [], emptied: true };
    return { edits, emptied: false };
  }

  /** A flow sequence, edited in place like a flow map (see planFlowMap). */
  private planFlowSeq(s: SeqNode, plan: SeqPlan): Planned {
    const items = s.items;
    const removed = items.map((it) => plan.remove?.(it.node) === true);
    const front = plan.front ?? [];
    const back = plan.back ?? [];
    const edits = flowEdits(items.map((it) => [it.start, it.end]), removed, front.map(emitFlow), back.map(emitFlow));
    return { edits, emptied: !front.length && !back.length && removed.every(Boolean) };
  }

  /** Items (`"k": v` or values) written into an empty flow collection, inside its brackets. */
  private fillEmptyFlow(n: Node, parts: string[]): Edit {
    return { start: n.start + 1, end: n.start + 1, text: parts.join(", ") };
  }

  /** A new `key: value` entry in the map `m`: appended (or first, when its first key starts its line). */
  private insertEntry(m: MapNode, key: string, value: Json, first: boolean | undefined): Edit {
    if (m.flow) {
      const last = m.entries[m.entries.length - 1];
      const text = `${JSON.stringify(key)}: ${emitFlow(value)}`;
      return last ? { start: last.end, end: last.end, text: `, ${text}`, rank: NEW_KEY_RANK } : this.fillEmptyFlow(m, [text]);
    }
    const text = entryText(key, value, m.indent, this.style);
    const head = m.entries[0];
    if (first && head.keyStart === head.lineStart + m.indent && this.text.slice(head.lineStart, head.keyStart).trim() === "")
      return { start: head.lineStart, end: head.lineStart, text, rank: NEW_KEY_RANK };
    const last = m.entries[m.entries.length - 1];
    return { start: last.end, end: last.end, text, rank: NEW_KEY_RANK };
  }

  /**
   * `key:` with no value, or an explicit null (`null`, `~`), gets a collection. In a block map
   * the key's line keeps its text behind a `# was:` comment (`metadata: # was: null`), which
   * tells dropEntry to give it back when uninject empties the collection again.
   */
  private fillNull(m: MapNode, e: MapEntry, value: Json): Edit[] {
    const v = e.value;
    if (m.flow) return [{ start: v!.start, end: v!.end, text: emitFlow(value) }];
    const lineEnd = e.colon === undefined ? -1 : this.text.indexOf("\n", e.colon);
    // the key's line must hold the whole entry (no value on a line of its own)
    if (lineEnd < 0 || (v && v.start > lineEnd) || e.end !== lineEnd + 1)
      throw new EditError(`cannot set ${e.key}`, e.keyStart, true);
    const nested = emitAfterKeyMemo(value, m.indent, this.style);
    if (!nested.startsWith("\n")) throw new EditError(`cannot set ${e.key}`, e.keyStart, true);
    return [
      { start: e.colon!, end: e.colon!, text: NULL_MARK },
      { start: e.end, end: e.end, text: nested.slice(1), rank: -m.indent - this.style.step },
    ];
  }

  private setValue(m: MapNode, e: MapEntry, v: Json): Edit[] {
    const cur = e.value;
    if (cur && cur.kind === "scalar" && cur.value === v) return [];
    if (cur && cur.kind === "scalar") {
      const text = m.flow ? emitFlow(v) : emitScalar(v);
      return [{ start: cur.start, end: cur.end, text: cur.style === "block" ? `${text}\n` : text }];
    }
    if (m.flow) return [{ start: cur!.start, end: cur!.end, text: emitFlow(v) }];
    return [...this.removeEntry(m, e), { start: e.end, end: e.end, text: `${spaces(m.indent)}${emitKey(e.key)}:${emitValueAfterKey(v, m.indent, this.style)}`, rank: -m.indent }];
  }

  /**
   * Removes an entry whose collection was emptied: the whole entry, or, when fillNull gave the
   * key its collection, only that collection and the `# was:` mark (the key's null comes back).
   */
  private dropEntry(m: MapNode, e: MapEntry): Edit[] {
    if (this.refilled(m, e)) {
      const lineEnd = this.text.indexOf("\n", e.colon);
      return [
        { start: e.colon, end: e.colon + NULL_MARK.length, text: "" },
        { start: lineEnd + 1, end: Math.max(lineEnd + 1, e.end), text: "" },
      ];
    }
    return this.removeEntry(m, e);
  }

  /** Did fillNull give this key its collection (its line carries the `# was:` mark)? */
  private refilled(m: MapNode, e: MapEntry): e is MapEntry & { colon: number } {
    return !m.flow && e.colon !== undefined && this.text.startsWith(NULL_MARK, e.colon);
  }

  private removeEntry(m: MapNode, e: MapEntry): Edit[] {
    if (m.flow) {
      const i = m.entries.indexOf(e);
      return flowEdits(m.entries.map((x) => [x.keyStart, x.end]), m.entries.map((_, j) => j === i), [], []);
    }
    if (e.keyStart !== e.lineStart + m.indent || this.text.slice(e.lineStart, e.keyStart).trim() !== "")
      throw new EditError(`cannot remove ${e.key}: it shares a line with its parent`, e.keyStart, true);
    return [{ start: e.lineStart, end: e.end, text: "" }];
  }
}

const holeSplits = new Map<string, [string, (v: string) => string, string]>();

/**
 * A rendered text around its hole: before, how the filling value is written there (a JSON
 * string in flow style, a plain or quoted scalar in block style), after. Memoised by text.
 */
function holeSplit(text: string, hole: string): [string, (v: string) => string, string] {
  let split = holeSplits.get(text);
  if (!split) {
    const quoted = `"${hole}"`;
    const q = text.indexOf(quoted);
    const i = q >= 0 ? q : text.indexOf(hole);
    const len = q >= 0 ? quoted.length : hole.length;
    split = [flat(text.slice(0, i)), q >= 0 ? (v) => JSON.stringify(v) : emitScalar, flat(text.slice(i + len))];
    if (holeSplits.size >= 256) holeSplits.clear();
    holeSplits.set(text, split);
  }
  return split;
}

/** What fillNull writes after a key's colon: a comment holding the key's old text (` # was: null`). */
export const NULL_MARK = " # was:";

/** An explicit or empty null value (`key:`, `key: null`, `key: ~`). */
function isNull(n: Node | null): boolean {
  return n === null || (n.kind === "scalar" && n.style === "plain" && n.value === null);
}

/**
 * The edits of a non-empty flow collection whose members are [start, end) spans: the `removed`
 * members go, each run with the comma before it (at the front, with the comma after it);
 * `front` texts go before the first member and `back` texts after the last.
 */
function flowEdits(spans: [number, number][], removed: boolean[], front: string[], back: string[]): Edit[] {
  const n = spans.length;
  const first = spans[0][0];
  const last = spans[n - 1][1];
  if (removed.every(Boolean) && (front.length || back.length)) return [{ start: first, end: last, text: [...front, ...back].join(", ") }];
  const edits: Edit[] = [];
  if (front.length) edits.push({ start: first, end: first, text: front.map((f) => `${f}, `).join("") });
  for (let a = 0; a < n; a++) {
    if (!removed[a]) continue;
    let b = a;
    while (b + 1 < n && removed[b + 1]) b++;
    if (a > 0) edits.push({ start: spans[a - 1][1], end: spans[b][1], text: "" });
    else if (b < n - 1) edits.push({ start: first, end: spans[b + 1][0], text: "" });
    else edits.push({ start: first, end: last, text: "" });
    a = b;
  }
  if (back.length) edits.push({ start: last, end: last, text: back.map((b) => `, ${b}`).join(""), rank: NEW_KEY_RANK });
  return edits;
}

export { toJS };
