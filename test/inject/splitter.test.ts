import assert from "node:assert/strict";
import { test } from "node:test";
import { DocSplitter, DocumentError, MAX_DOCUMENT_BYTES, type RawDoc } from "../../src/inject/stream.js";
import { genStream, rng } from "./property.js";

/** Splits `text` fed in chunks of the given sizes (cycled). */
function split(text: string, sizes: number[]): RawDoc[] {
  const sp = new DocSplitter("t");
  const docs: RawDoc[] = [];
  for (let i = 0, k = 0; i < text.length; k++) {
    const n = sizes[k % sizes.length];
    docs.push(...sp.push(text.slice(i, i + n)));
    i += n;
  }
  docs.push(...sp.end());
  return docs;
}

const EDGE_STREAMS = [
  "a: 1\n---\nb: 2\n",
  "# lead\n%YAML 1.1\n# between\n--- !!map\na: 1\n...\n%YAML 1.2\n---\nb: 2",
  "--- {apiVersion: v1,\n  kind: ConfigMap}\n--- # c\nkind: Pod\n...\n",
  `kind: List\nitems:\n${"- a: 1\n  b: [x, y]\n".repeat(5000)}`,
  // one long line (`jq -c` output), with and without a final newline, between documents
  `{"kind":"List","items":[${'{"a":1},'.repeat(20000)}{"b":2}]}\n---\nc: 3\n`,
  `a: 1\n---\n{"items":[${'"xyz",'.repeat(20000)}"w"]}`,
];

test("a stream fed in chunks of any size splits into the same documents as in one piece", () => {
  const r = rng(7);
  const streams = [...EDGE_STREAMS, ...Array.from({ length: 20 }, (_, i) => genStream(r, i))];
  for (const text of streams) {
    const whole = split(text, [text.length]);
    // the documents put back together are the stream, byte for byte
    assert.equal(whole.map((d) => d.sep + d.text).join(""), text);
    for (const sizes of [[1], [7], [64, 3], [4096], [100_003]]) assert.deepEqual(split(text, sizes), whole, `chunks of ${sizes.join("/")}`);
  }
});

test("a directive's document, its version and its line survive a chunk boundary in any place", () => {
  const text = "# c\n%YAML 1.1\n---\na: yes\n---\nb: 2\n";
  for (let n = 1; n < text.length; n++) {
    const docs = split(text, [n]);
    assert.deepEqual(
      docs.map((d) => [d.index, d.line, d.yamlVersion, d.sep, d.text]),
      [
        [1, 4, "1.1", "# c\n%YAML 1.1\n---\n", "a: yes\n"],
        [2, 6, undefined, "---\n", "b: 2\n"],
      ],
      `chunks of ${n}`,
    );
  }
});

test("a document over the limit is refused however it arrives, with its index and first line", () => {
  const line = `  ${"x".repeat(1021)}\n`;
  const big = `a: 1\n---\ndata: |\n${line.repeat(Math.ceil(MAX_DOCUMENT_BYTES / line.length) + 1)}`;
  // and as one line without a newline (its chunks are held until the line ends)
  const oneLine = `a: 1\n---\n{"data": "${"x".repeat(MAX_DOCUMENT_BYTES)}"}`;
  for (const [text, n] of [[big, 64 * 1024], [big, 1 << 20], [oneLine, 1 << 20]] as const) {
    assert.throws(
      () => split(text, [n]),
      (e: unknown) => e instanceof DocumentError && e.index === 2 && e.line === 3 && /larger than 32 MiB/.test(e.message),
    );
  }
});
