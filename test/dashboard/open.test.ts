import { test } from "node:test";
import assert from "node:assert/strict";
import { openBrowser, openerFor } from "../../src/dashboard/open.js";

const URL_ = "http://127.0.0.1:50750/tok/";

test("the platform's opener", () => {
  assert.deepEqual(openerFor("linux", URL_), { command: "xdg-open", args: [URL_] });
  assert.deepEqual(openerFor("darwin", URL_), { command: "open", args: [URL_] });
  assert.equal(openerFor("win32", "http://h/?a=1&b=2").args.at(-1), "http://h/?a=1^&b=2", "cmd's & is escaped");
});

test("an opener that exits 0 is success", async () => {
  assert.deepEqual(await openBrowser(URL_, { command: { command: process.execPath, args: ["-e", "0"] } }), { ok: true });
});

test("a missing opener is reported with its name", async () => {
  assert.deepEqual(await openBrowser(URL_, { command: { command: "mesh-no-such-opener", args: [] } }), { ok: false, reason: "mesh-no-such-opener not found" });
});

test("a failing opener is reported with its exit code", async () => {
  const r = await openBrowser(URL_, { command: { command: process.execPath, args: ["-e", "process.exit(3)"] } });
  assert.deepEqual(r, { ok: false, reason: `${process.execPath} exited with code 3` });
});

test("an opener still running after the bound is left alone and counted as success", async () => {
  const r = await openBrowser(URL_, { timeoutMs: 200, command: { command: process.execPath, args: ["-e", "setTimeout(() => {}, 1500)"] } });
  assert.deepEqual(r, { ok: true });
});
