/**
 * A small, fast YAML writer for plain data (maps, lists, strings, numbers, booleans, null), in
 * block style. A general YAML library costs most of `mesh install`'s time when it runs once,
 * cold; this is a few dozen lines and deterministic.
 *
 * Strings are written plain only when every YAML reader takes them back as the same string: the
 * YAML 1.1 readers behind kubectl and Linkerd's Go code too (`yes`, `on`, `0755`, `1:30` and dates
 * are quoted). Multi-line strings become literal blocks; anything odd is double-quoted (JSON
 * escapes are valid YAML).
 */

const NOT_PLAIN_START = /^[-?:,[\]{}#&*!|>'"%@`]/;
const YAML11_SPECIAL =
  /^(?:[yYnN~]|yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL|=|<<|\.(?:inf|Inf|INF|nan|NaN|NAN)|[-+]\.(?:inf|Inf|INF))$/;
const NUMBER_LIKE = /^[-+]?(?:\.[0-9]|[0-9])[0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?$/;
const OTHER_NUMBERS = /^[-+]?(?:0b[01_]+|0x[0-9a-fA-F_]+|0o?[0-7_]+|[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?)$/;
const DATE_LIKE = /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\ufeff\u2028\u2029]/;

function isPlainSafe(s: string): boolean {
  if (s === "" || s.trim() !== s || s.includes("\n") || s.includes("\t") || CONTROL.test(s)) return false;
  if (NOT_PLAIN_START.test(s) && !(s[0] === "-" && s.length > 1 && s[1] !== " ")) return false;
  if (s.startsWith("---") || s.startsWith("...")) return false;
  if (s.includes(": ") || s.includes(" #") || s.endsWith(":")) return false;
  return !(YAML11_SPECIAL.test(s) || NUMBER_LIKE.test(s) || OTHER_NUMBERS.test(s) || DATE_LIKE.test(s));
}

const quoted = (s: string): string => JSON.stringify(s);

function scalar(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") {
    if (Number.isNaN(v)) return ".nan";
    if (!Number.isFinite(v)) return v > 0 ? ".inf" : "-.inf";
    return String(v);
  }
  if (typeof v === "bigint") return v.toString();
  const s = String(v);
  return isPlainSafe(s) ? s : quoted(s);
}

/** A literal block (`|`) for a multi-line string, or undefined when the string needs quotes. */
function literal(s: string, indent: string): string | undefined {
  if (!s.includes("\n") || CONTROL.test(s) || s.includes("\r") || s.trim() === "") return undefined;
  const trailing = /\n*$/.exec(s)![0].length;
  const chomp = trailing === 0 ? "-" : trailing === 1 ? "" : "+";
  const body = trailing === 0 ? s : s.slice(0, s.length - (trailing === 1 ? 1 : 0));
  const lines = (chomp === "+" ? s.slice(0, -1) : body).split("\n");
  // A leading space (or an empty first line) needs an explicit indentation indicator.
  const indicator = /^[ \n]/.test(s) ? "2" : "";
  return `|${indicator}${chomp}\n${lines.map((l) => (l === "" ? "" : indent + l)).join("\n")}`;
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** What follows `key:` or `-`: ` scalar`, or a newline and a nested block indented by `indent`. */
function value(v: unknown, indent: string): string {
  if (typeof v === "string") {
    if (v.includes("\n")) return ` ${literal(v, indent) ?? quoted(v)}`;
    return ` ${scalar(v)}`;
  }
  if (Array.isArray(v)) return v.length ? `\n${seq(v, indent)}` : " []";
  if (isMap(v)) return Object.keys(v).length ? `\n${map(v, indent)}` : " {}";
  return ` ${scalar(v)}`;
}

function map(m: Record<string, unknown>, indent: string): string {
  let out = "";
  for (const [k, v] of Object.entries(m)) {
    // Lists sit at their key's indentation plus two, like maps.
    out += `${indent}${scalar(k)}:${value(v, `${indent}  `)}\n`;
  }
  return out.slice(0, -1);
}

/** Items at `indent`: `- scalar`, `- key: value` (more keys aligned), `- - nested`. */
function seq(list: unknown[], indent: string): string {
  let out = "";
  const inner = `${indent}  `;
  for (const item of list) {
    if ((isMap(item) && Object.keys(item).length) || (Array.isArray(item) && item.length)) {
      const body = isMap(item) ? map(item, inner) : seq(item as unknown[], inner);
      out += `${indent}- ${body.slice(inner.length)}\n`;
    } else out += `${indent}-${value(item, inner)}\n`;
  }
  return out.slice(0, -1);
}

/** One YAML document (no `---`), ending with a newline. */
export function toYaml(v: unknown): string {
  if (isMap(v)) return Object.keys(v).length ? `${map(v, "")}\n` : "{}\n";
  if (Array.isArray(v)) return v.length ? `${seq(v, "")}\n` : "[]\n";
  return `${value(v, "").slice(1)}\n`;
}
