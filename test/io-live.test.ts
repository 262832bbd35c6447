import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { liveWriter, memoryIo, type Io } from "../src/io.js";

test("liveWriter writes everything in order to a descriptor and flush waits for it", async () => {
  const file = join(mkdtempSync(join(tmpdir(), "mesh-live-")), "out");
  const fd = openSync(file, "w");
  const io: Io = { ...memoryIo().io, stdoutFd: fd };
  const w = liveWriter(io);
  const want: string[] = [];
  for (let i = 0; i < 2000; i++) {
    const line = `line ${i} ${"x".repeat(i % 50)}\n`;
    want.push(line);
    assert.equal(w.write(line), true);
  }
  await w.flush();
  closeSync(fd);
  assert.equal(readFileSync(file, "utf8"), want.join(""));
  assert.equal(w.dropped, 0);
});

test("liveWriter drops past its bound and says how much once the queue drains", async () => {
  const file = join(mkdtempSync(join(tmpdir(), "mesh-live-")), "out");
  const fd = openSync(file, "w");
  const reports: number[] = [];
  const w = liveWriter({ ...memoryIo().io, stdoutFd: fd }, { maxQueuedBytes: 100, onDropped: (n) => reports.push(n) });
  const results = Array.from({ length: 20 }, () => w.write("0123456789\n")); // 11 bytes each, all queued before any write completes
  await w.flush();
  closeSync(fd);
  const kept = results.filter(Boolean).length;
  assert.equal(kept, 9);
  assert.equal(w.dropped, 11);
  assert.deepEqual(reports, [11]);
  assert.equal(readFileSync(file, "utf8").length, 9 * 11);
});

test("liveWriter closes quietly when the reader goes away (EPIPE) and aborts its signal", async () => {
  const script = `
    import { liveWriter, memoryIo } from ${JSON.stringify(new URL("../src/io.ts", import.meta.url).href)};
    const w = liveWriter({ ...memoryIo().io, stdoutFd: 1 });
    w.signal.addEventListener("abort", () => { process.stderr.write("closed\\n"); });
    const tick = () => { if (w.closed) return; w.write("y".repeat(65536) + "\\n"); setTimeout(tick, 1); };
    tick();
  `;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  child.stdout.once("data", () => child.stdout.destroy());
  const code = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
  assert.equal(err, "closed\n");
  assert.equal(code, 0);
});

test("without a descriptor (tests) liveWriter writes through io.stdout", async () => {
  const m = memoryIo();
  const w = liveWriter(m.io);
  w.write("a\n");
  w.write("b\n");
  await w.flush();
  assert.equal(m.stdout(), "a\nb\n");
});
