import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { test } from "node:test";
import { HeldOutput } from "../../src/inject/io.js";
import { writevAll } from "../../src/io.js";

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

const noStream = { write: () => assert.fail("a descriptor's output went to the writer") };

test("HeldOutput to a descriptor (gather writes): a file gets every piece in order, held buffers and a string larger than the stage", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "mesh-held-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ps = [...pieces(300), `big: ${"é".repeat(600_000)}\n`, ...pieces(20)];
  const held = new HeldOutput();
  for (const p of ps) held.write(p);
  const file = join(dir, "out");
  const fd = openSync(file, "w");
  await held.flush(noStream, fd);
  closeSync(fd);
  assert.equal(readFileSync(file, "utf8"), ps.join(""));
});

test("HeldOutput to a non-blocking pipe whose reader is slow: EAGAIN is waited out, nothing lost", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "mesh-held-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "out");
  // the reader starts late: the 64 KiB pipe fills at once and writes fail with EAGAIN until then
  const child = spawn("sh", ["-c", `sleep 0.3; cat > '${file}'`], { stdio: ["pipe", "ignore", "inherit"] });
  const fd = (child.stdin as unknown as { _handle: { fd: number } })._handle.fd;
  assert.ok(fd > 2, "the pipe's descriptor");
  const ps = pieces(600);
  const held = new HeldOutput();
  for (const p of ps) held.write(p);
  await held.flush(noStream, fd);
  child.stdin.end();
  await new Promise((resolve) => child.on("exit", resolve));
  assert.equal(readFileSync(file, "utf8"), ps.join(""));
});

test("writevAll: thousands of buffers land in order, and a reader that went away is false, not a throw", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "mesh-held-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bufs = Array.from({ length: 3000 }, (_, i) => Buffer.from(`${i},`));
  const fd = openSync(join(dir, "out"), "w");
  assert.equal(writevAll(fd, bufs), true);
  closeSync(fd);
  assert.equal(readFileSync(join(dir, "out"), "utf8"), bufs.map(String).join(""));
  // EPIPE: false, and no throw
  // a reader that closes its end at once and lives on (a reader that exits takes the pipe with it)
  const child = spawn("sh", ["-c", "exec 0<&-; echo closed; sleep 5"], { stdio: ["pipe", "pipe", "ignore"] });
  t.after(() => child.kill());
  const pfd = (child.stdin as unknown as { _handle: { fd: number } })._handle.fd;
  child.stdin.on("error", () => {});
  await new Promise((resolve) => child.stdout.once("data", resolve));
  assert.equal(writevAll(pfd, [Buffer.alloc(100_000)]), false);
});
