// Text that a server or a remote client chose (API error bodies, request paths and authorities in
// access logs) is printed on the user's terminal. Escape sequences in it could move the cursor,
// retitle the window or hide what follows, and a whole HTML page would flood the screen; this
// module turns such text into one short, inert line.

/**
 * ANSI/VT escape sequences: CSI (`ESC [` … final byte, or the 8-bit CSI 0x9b), OSC/DCS/SOS/PM/APC
 * strings (up to BEL or ST, or to the end of the text when unterminated), and two-byte escapes.
 */
const ESCAPES = /(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?|\x1b[\x20-\x2f]*[\x30-\x7e]?/g;
/** Line breaks and tabs: become one space. */
const BREAKS = /[\r\n\t\v\f\u0085\u2028\u2029]+/g;
/**
 * Other control characters (C0, DEL, C1) and the invisible Unicode format characters that reorder
 * or hide text (bidi overrides and isolates, zero-width joiners aside from ZWJ in emoji).
 */
const CONTROLS = /[\x00-\x1f\x7f-\x9f\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;

export const TRUNCATED = "… (truncated)";

/**
 * `s` as one printable line: escape sequences and control characters removed, line breaks folded
 * to single spaces, surrounding blanks trimmed, and at most `max` characters (code points) long;
 * longer text is cut and ends with "… (truncated)" (so the result is at most `max` + 13 long).
 * `max` ≤ 0 means no length limit.
 */
export function sanitize(s: string, max = 200): string {
  let out = String(s).replace(ESCAPES, "").replace(BREAKS, " ").replace(CONTROLS, "");
  // Folding can leave runs of spaces where a line ended in blanks; keep one.
  out = out.replace(/ {2,}/g, " ").trim();
  if (max > 0 && out.length > max) {
    const points = Array.from(out);
    if (points.length > max) out = points.slice(0, max).join("").trimEnd() + TRUNCATED;
  }
  return out;
}

/**
 * Like sanitize, for a single token printed inside a `key=value` line (a path, an authority): no
 * spaces are introduced by folding, so the value cannot fake further fields of the line.
 */
export function sanitizeToken(s: string, max = 2048): string {
  return sanitize(s, max).replace(/ /g, "%20");
}
