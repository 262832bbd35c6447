/**
 * Block-style YAML for the values injection adds (containers, volumes, annotations).
 * Strings are left plain only when every YAML reader (1.2 core and the 1.1 that
 * Kubernetes' go-yaml speaks) reads them back as the same string; otherwise they are
 * double-quoted. Multi-line strings become literal block scalars.
 */
import type { Json } from "./tree.js";

export interface EmitStyle {
  /** Spaces per nesting level. */
  step: number;
  /** Sequences inside a map are indented (`key:\n  - a`) rather than flush (`key:\n- a`). */
  seqIndent: boolean;
}

export const DEFAULT_STYLE: EmitStyle = { step: 2, seqIndent: false };

const YAML11_SPECIAL = /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL|~|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const NUMBERISH = /^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)(?:[eE][-+]?[0-9]+)?$|^[-+]?0[xXoObB][0-9a-fA-F_]+$|^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;
const UNSAFE_START = /^[-?:,[\]{}#&*!|>'"%@`\s]/;

const quoteMemo = new Map<string, boolean>();

export function needsQuotes(s: string): boolean {
  let q = quoteMemo.get(s);
  if (q === undefined) {
    q = computeNeedsQuotes(s);
    if (quoteMemo.size > 20_000) quoteMemo.clear();
    quoteMemo.set(s, q);
  }
  return q;
}

/** needsQuotes without the memo (for strings seen once, like workload names). */
export function computeNeedsQuotes(s: string): boolean {
  if (s === "") return true;
  if (UNSAFE_START.test(s) || /\s$/.test(s)) return true;
  if (YAML11_SPECIAL.test(s) || NUMBERISH.test(s)) return true;
  if (s.includes(": ") || s.includes(" #") || s.endsWith(":") || s.includes("\t")) return true;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffd]/.test(s)) return true;
  return false;
}

/** A scalar on one line. Multi-line strings are double-quoted here (see `emitValueAfterKey` for block scalars). */
export function emitScalar(v: Json): string {
  if (v === null) return "null";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") {
    if (Number.isNaN(v)) return ".nan";
    if (!Number.isFinite(v)) return v > 0 ? ".inf" : "-.inf";
    return String(v);
  }
  if (typeof v === "string") return needsQuotes(v) ? JSON.stringify(v) : v;
  throw new Error("emitScalar: not a scalar");
}

export function emitKey(k: string): string {
  return needsQuotes(k) ? JSON.stringify(k) : k;
}

const SPACES: string[] = [];
const spaces = (n: number) => SPACES[n] ?? (SPACES[n] = " ".repeat(n));

/** A string that reads back identically from a literal block scalar. */
function literalOk(s: string): boolean {
  if (!s.includes("\n")) return false;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x08\x0b-\x1f\x7f\u2028\u2029\ufeff\ufffd]/.test(s)) return false;
  const body = s.replace(/\n+$/, "");
  if (body === "" || /^[ \t]/.test(body)) return false;
  return !body.split("\n").some((l) => /[ \t]$/.test(l) && l.trim() === "");
}

function emitLiteral(s: string, col: number): string {
  const trailing = /\n*$/.exec(s)![0].length;
  const chomp = trailing === 0 ? "-" : trailing === 1 ? "" : "+";
  const body = trailing ? s.slice(0, s.length - trailing) : s;
  let out = `|${chomp}\n`;
  for (const line of body.split("\n")) out += line === "" ? "\n" : `${spaces(col)}${line}\n`;
  if (trailing > 1) out += "\n".repeat(trailing - 1);
  return out;
}

const isObj = (v: Json): v is { [k: string]: Json } => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The text after `key:` for a value whose key sits at column `col`: ` scalar\n`, or a
 * newline and the nested block.
 */
export function emitValueAfterKey(v: Json, col: number, style: EmitStyle): string {
  if (typeof v === "string" && literalOk(v)) return ` ${emitLiteral(v, col + style.step)}`;
  if (Array.isArray(v)) return v.length ? `\n${emitSeq(v, col + (style.seqIndent ? style.step : 0), style)}` : " []\n";
  if (isObj(v)) return Object.keys(v).length ? `\n${emitMap(v, col + style.step, style)}` : " {}\n";
  return ` ${emitScalar(v)}\n`;
}

/** Block map entries, keys at column `col`. */
export function emitMap(obj: { [k: string]: Json }, col: number, style: EmitStyle): string {
  let out = "";
  const keys = Object.keys(obj);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (obj[k] === undefined) continue;
    out += `${spaces(col)}${emitKey(k)}:${emitValueAfterKey(obj[k], col, style)}`;
  }
  return out;
}

/** Block sequence items, dashes at column `col`. */
export function emitSeq(items: Json[], col: number, style: EmitStyle): string {
  let out = "";
  for (let i = 0; i < items.length; i++) {
    const it = items[i];
    if (isObj(it) && Object.keys(it).length) {
      const body = emitMap(it, col + 2, style);
      out += `${spaces(col)}- ${body.slice(col + 2)}`;
    } else if (Array.isArray(it) && it.length) {
      out += `${spaces(col)}-\n${emitSeq(it, col + 2, style)}`;
    } else if (typeof it === "string" && literalOk(it)) {
      out += `${spaces(col)}- ${emitLiteral(it, col + 2)}`;
    } else {
      out += `${spaces(col)}- ${Array.isArray(it) ? "[]" : isObj(it) ? "{}" : emitScalar(it)}\n`;
    }
  }
  return out;
}

/** One-line flow style (used when the user's file has `[]`/`{}` where injection adds items). */
export function emitFlow(v: Json): string {
  if (Array.isArray(v)) return `[${v.map(emitFlow).join(", ")}]`;
  if (isObj(v)) return `{${Object.keys(v).map((k) => `${JSON.stringify(k)}: ${emitFlow(v[k])}`).join(", ")}}`;
  if (typeof v === "string") return JSON.stringify(v);
  return emitScalar(v);
}

/** A whole document as block YAML (JSON and fallback-parsed input is re-emitted this way). */
export function emitDocument(v: Json, style: EmitStyle = DEFAULT_STYLE): string {
  if (isObj(v)) return Object.keys(v).length ? emitMap(v, 0, style) : "{}\n";
  if (Array.isArray(v)) return v.length ? emitSeq(v, 0, style) : "[]\n";
  return `${emitScalar(v)}\n`;
}
