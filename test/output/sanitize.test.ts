import { test } from "node:test";
import assert from "node:assert/strict";
import { sanitize, sanitizeToken, TRUNCATED } from "../../src/output/sanitize.js";

const cases: { name: string; input: string; max?: number; want: string }[] = [
  { name: "plain text is unchanged", input: "pods \"web\" is forbidden", want: "pods \"web\" is forbidden" },
  { name: "CSI colour and cursor sequences are removed", input: "\x1b[31mred\x1b[0m \x1b[2J\x1b[1;1Hhome", want: "red home" },
  { name: "8-bit CSI is removed", input: "a\x9b31mb", want: "ab" },
  { name: "OSC window title (BEL-terminated) is removed", input: "x\x1b]0;pwned\x07y", want: "xy" },
  { name: "OSC 8 hyperlink (ST-terminated) keeps only the visible text", input: "\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\", want: "click" },
  { name: "unterminated OSC swallows the rest rather than leaking it", input: "ok\x1b]2;title without end", want: "ok" },
  { name: "two-byte escapes are removed", input: "a\x1bcb\x1b7c", want: "abc" },
  { name: "CR cannot overwrite the start of the line", input: "error: fine\rDANGER", want: "error: fine DANGER" },
  { name: "CRLF and LF runs fold to one space", input: "line one\r\n\r\nline two\nthree", want: "line one line two three" },
  { name: "tabs fold to spaces", input: "a\tb", want: "a b" },
  { name: "other C0 controls, DEL and C1 are dropped", input: "a\x00b\x07c\x08d\x7fe\x85f\x81g", want: "abcde fg" },
  { name: "bidi overrides are dropped", input: "abc\u202edcba\u2066x\u2069", want: "abcdcbax" },
  { name: "surrounding whitespace is trimmed", input: "  \n hello \n ", want: "hello" },
  { name: "unicode text is kept", input: "naïve café — 日本語 🚀", want: "naïve café — 日本語 🚀" },
];

for (const c of cases) test(`sanitize: ${c.name}`, () => assert.equal(sanitize(c.input, c.max), c.want));

test("sanitize: a multi-line HTML error page becomes one capped line", () => {
  const page = `<!DOCTYPE html>\n<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n${"<p>lorem ipsum dolor sit amet</p>\n".repeat(50)}</body>\n</html>\n`;
  const out = sanitize(page);
  assert.ok(!out.includes("\n"));
  assert.ok(out.startsWith("<!DOCTYPE html> <html> <head><title>502 Bad Gateway</title></head>"));
  assert.ok(out.endsWith(TRUNCATED));
  assert.equal(Array.from(out).length, 200 + Array.from(TRUNCATED).length);
});

test("sanitize: long strings are cut at max code points and say so", () => {
  assert.equal(sanitize("x".repeat(10), 10), "x".repeat(10));
  assert.equal(sanitize("x".repeat(11), 10), `${"x".repeat(10)}${TRUNCATED}`);
  assert.equal(sanitize("abcde fghij", 6), `abcde${TRUNCATED}`);
});

test("sanitize: cutting never splits a surrogate pair", () => {
  const out = sanitize("🚀".repeat(5), 3);
  assert.equal(out, `🚀🚀🚀${TRUNCATED}`);
  assert.ok(!/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(out));
});

test("sanitize: max 0 means no limit", () => {
  assert.equal(sanitize("y".repeat(5000), 0).length, 5000);
});

test("sanitize: escape sequences do not count towards the length", () => {
  assert.equal(sanitize(`${"\x1b[1m".repeat(100)}short`, 10), "short");
});

test("sanitizeToken: spaces cannot split a key=value field", () => {
  assert.equal(sanitizeToken("/a b\r\nc=d"), "/a%20b%20c=d");
  assert.equal(sanitizeToken("/\x1b[2Jx"), "/x");
});
