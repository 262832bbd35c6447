import { test } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { spinner, noSpinner } from "../../src/output/spinner.js";
import { memoryIo } from "../../src/io.js";

test("no terminal on stderr: no spinner at all", () => {
  assert.equal(spinner(memoryIo().io), noSpinner);
});

test("a terminal that reports 0 columns gets a sane spinner (ora would divide by zero)", async () => {
  let written = "";
  const stderr = Object.assign(
    new Writable({
      write(chunk, _enc, cb) {
        written += String(chunk);
        cb();
      },
    }),
    { isTTY: true, columns: 0, cursorTo() {}, clearLine() {}, moveCursor() {} },
  );
  const io = { ...memoryIo().io, stderr, isErrTTY: true };
  const s = spinner(io);
  s.start("waiting for check to complete");
  // The first frame comes from a timer: wait for it (bounded), not for a fixed time a busy machine may overrun.
  for (const deadline = Date.now() + 10_000; !written.includes("waiting") && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 50));
  s.stop();
  assert.match(written, /waiting for check to complete/);
  assert.ok(written.length < 2000, `wrote ${written.length} characters`);
});
