import assert from "node:assert/strict";
import { PassThrough, Writable } from "node:stream";
import { test } from "node:test";
import { HeldOutput } from "../../src/inject/io.js";

/** Pieces like inject's: small input slices, a large repeated sidecar text, multi-byte characters. */
function pieces(n: number): string[] {
  const sidecar = `      - name: linkerd-proxy\n${"        env: é✓\n".repeat(200)}`;
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(i ? "---\n" : "", `kind: Deployment\nmetadata:\n  name: web-${i} # ü\n`, sidecar, `  other-${i}: ${"x".repeat(i % 1500)}\n`);
  return out;
}

async function collect(held: HeldOutput, kind: "fake" | "stream"): Promise<string> {
  if (kind === "fake") {
    const chunks: string[] = [];
    await held.flush({ write: (s: string | Uint8Array) => (chunks.push(typeof s === "string" ? s : Buffer.from(s).toString()), true) });
    return chunks.join("");
  }
  const chunks: Buffer[] = [];
  // a slow consumer: copies what it is given only later, so a reused buffer would show
  const sink = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _enc, cb) {
      setImmediate(() => {
        chunks.push(Buffer.from(chunk));
        cb();
      });
    },
  });
  await held.flush(sink);
  return Buffer.concat(chunks).toString();
}

for (const kind of ["fake", "stream"] as const) {
  for (const [label, threshold] of [["in memory", undefined], ["spilled to a file", 64 * 1024]] as const) {
    test(`HeldOutput (${label}, ${kind} writable) writes every piece, in order, byte for byte`, async () => {
      const ps = pieces(300);
      const held = new HeldOutput(threshold);
      for (const p of ps) held.write(p);
      assert.equal(held.empty, false);
      assert.equal(held.endsWithNewline, true);
      assert.equal(await collect(held, kind), ps.join(""));
    });
  }
}

test("HeldOutput: empty, endsWithNewline, discard", async () => {
  const held = new HeldOutput();
  assert.equal(held.empty, true);
  assert.equal(held.endsWithNewline, true);
  held.write("a: b");
  assert.equal(held.endsWithNewline, false);
  held.write("x".repeat(5000));
  held.discard();
  const pass = new PassThrough();
  let got = "";
  pass.on("data", (c: Buffer) => (got += c.toString()));
  await held.flush(pass);
  assert.equal(got, "");
});
