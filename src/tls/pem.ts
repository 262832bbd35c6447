/**
 * PEM text, read the way Go's encoding/pem reads it (Linkerd parses every PEM
 * input with it, so mesh must accept and reject the same texts) and written
 * the way Go writes it: 64-column base64, LF line ends, trailing newline.
 */

export interface PemBlock {
  type: string;
  headers: Record<string, string>;
  bytes: Uint8Array;
}

const BEGIN = "-----BEGIN ";
const END = "-----END ";
const DASHES = "-----";

/** Splits off one line: the line without its LF (or CRLF) and trailing spaces/tabs, and the text after it. */
function takeLine(text: string): [line: string, rest: string] {
  const nl = text.indexOf("\n");
  if (nl < 0) return [text.replace(/[ \t]+$/, ""), ""];
  const end = nl > 0 && text[nl - 1] === "\r" ? nl - 1 : nl;
  return [text.slice(0, end).replace(/[ \t]+$/, ""), text.slice(nl + 1)];
}

/** Strict standard base64 (padding required); CR and LF are ignored, as are spaces and tabs. */
function decodeBase64(text: string): Uint8Array | undefined {
  const s = text.replace(/[ \t\r\n]/g, "");
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)) return undefined;
  return new Uint8Array(Buffer.from(s, "base64"));
}

/**
 * Finds the first well-formed PEM block. Text before it is ignored, as are
 * malformed blocks; `rest` is everything after the block's END line. When no
 * block is found, `block` is undefined and `rest` is the whole input.
 */
export function decodePem(text: string): { block?: PemBlock; rest: string } {
  let rest = text;
  for (;;) {
    // A BEGIN marker counts at the start of the remaining text or after a newline.
    if (rest.startsWith(BEGIN)) {
      rest = rest.slice(BEGIN.length);
    } else {
      const i = rest.indexOf("\n" + BEGIN);
      if (i < 0) return { rest: text };
      rest = rest.slice(i + 1 + BEGIN.length);
    }

    let typeLine: string;
    [typeLine, rest] = takeLine(rest);
    if (!typeLine.endsWith(DASHES)) continue;
    const type = typeLine.slice(0, -DASHES.length);

    const headers: Record<string, string> = {};
    let sawHeader = false;
    for (;;) {
      if (rest.length === 0) return { rest: text };
      const [line, next] = takeLine(rest);
      const colon = line.indexOf(":");
      if (colon < 0) break;
      headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
      sawHeader = true;
      rest = next;
    }

    let bodyEnd: number;
    let trailerStart: number;
    if (!sawHeader && rest.startsWith(END)) {
      bodyEnd = 0;
      trailerStart = END.length;
    } else {
      bodyEnd = rest.indexOf("\n" + END);
      if (bodyEnd < 0) continue;
      trailerStart = bodyEnd + 1 + END.length;
    }

    const trailer = rest.slice(trailerStart, trailerStart + type.length + DASHES.length);
    if (trailer !== type + DASHES) continue;
    const [afterEnd, remaining] = takeLine(rest.slice(trailerStart + trailer.length));
    if (afterEnd.length !== 0) continue;

    const bytes = decodeBase64(rest.slice(0, bodyEnd));
    if (!bytes) continue;
    return { block: { type, headers, bytes }, rest: remaining };
  }
}

/** PEM-encodes one block exactly like Go's pem.Encode (no headers). */
export function encodePem(type: string, bytes: Uint8Array): string {
  const b64 = Buffer.from(bytes).toString("base64");
  let out = `-----BEGIN ${type}-----\n`;
  for (let i = 0; i < b64.length; i += 64) out += b64.slice(i, i + 64) + "\n";
  return out + `-----END ${type}-----\n`;
}

/** A PEM block type for messages: printable and short (it comes from the input). */
export function pemTypeForMessage(type: string): string {
  const t = type.replace(/[\x00-\x1f\x7f-\x9f"]/g, "?");
  return t.length > 40 ? `${t.slice(0, 40)}…` : t;
}
