/**
 * A YAML document as mesh edits it: every node knows where it is in the document text,
 * so injection can splice new text in and leave every other byte alone.
 * Offsets are UTF-16 indices into the document's text.
 */

export type Scalar = string | number | boolean | null;

export interface ScalarNode {
  kind: "scalar";
  /** First character of the scalar (a quote or block indicator included). */
  start: number;
  /** Just after its last content character (block scalars: after their last content line's newline). */
  end: number;
  value: Scalar;
  style: "plain" | "single" | "double" | "block";
}

export interface MapEntry {
  key: string;
  keyStart: number;
  /** Start of the key's line (block maps). */
  lineStart: number;
  /** Just after the `:` that ends the key (set by the scanner). */
  colon?: number;
  /** The value; null when the key has no value (`key:`). */
  value: Node | null;
  /** Block: start of the line after the entry's last line (or the text's end). Flow: just after the value. */
  end: number;
}

export interface MapNode {
  kind: "map";
  flow: boolean;
  start: number;
  end: number;
  /** Column of the keys (block maps). */
  indent: number;
  entries: MapEntry[];
}

export interface SeqItem {
  /** The `-` (block) or the item's first character (flow). */
  start: number;
  lineStart: number;
  node: Node | null;
  /** Block: start of the line after the item's last line. Flow: just after the item. */
  end: number;
}

export interface SeqNode {
  kind: "seq";
  flow: boolean;
  start: number;
  end: number;
  /** Column of the dashes (block sequences). */
  indent: number;
  items: SeqItem[];
}

export type Node = ScalarNode | MapNode | SeqNode;

export type Json = Scalar | Json[] | { [k: string]: Json };

/** The plain JavaScript value of a node (maps become objects with string keys). */
export function toJS(node: Node | null): Json {
  if (!node) return null;
  switch (node.kind) {
    case "scalar":
      return node.value;
    case "seq": {
      const items = node.items;
      const out: Json[] = new Array(items.length);
      for (let i = 0; i < items.length; i++) out[i] = toJS(items[i].node);
      return out;
    }
    case "map": {
      const out: { [k: string]: Json } = {};
      const entries = node.entries;
      for (let i = 0; i < entries.length; i++) out[entries[i].key] = toJS(entries[i].value);
      return out;
    }
  }
}

export function entry(map: Node | null | undefined, key: string): MapEntry | undefined {
  if (!map || map.kind !== "map") return undefined;
  for (let i = map.entries.length - 1; i >= 0; i--) if (map.entries[i].key === key) return map.entries[i];
  return undefined;
}

/** The node at a path of map keys, or undefined when a step is missing or not a map. */
export function at(node: Node | null | undefined, ...path: string[]): Node | null | undefined {
  let cur: Node | null | undefined = node;
  for (let i = 0; i < path.length; i++) {
    const e = entry(cur, path[i]);
    if (!e) return undefined;
    cur = e.value;
  }
  return cur;
}
