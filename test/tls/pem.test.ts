import { test } from "node:test";
import assert from "node:assert/strict";
import { decodePem, encodePem } from "../../src/tls/pem.js";

const body = "MAMCAQE="; // SEQUENCE { INTEGER 1 }
const block = (type = "X", b = body) => `-----BEGIN ${type}-----\n${b}\n-----END ${type}-----\n`;

test("encodePem writes Go's layout: 64 columns, LF, trailing newline", () => {
  const pem = encodePem("CERTIFICATE", new Uint8Array(100).fill(0xab));
  const lines = pem.split("\n");
  assert.equal(lines[0], "-----BEGIN CERTIFICATE-----");
  assert.deepEqual(lines.slice(1, 4).map((l) => l.length), [64, 64, 136 - 128]);
  assert.equal(lines[4], "-----END CERTIFICATE-----");
  assert.equal(lines[5], "");
  assert.equal(lines.length, 6);
});

test("decodePem returns the block and exactly what follows its END line", () => {
  const { block: b, rest } = decodePem(block() + "tail");
  assert.equal(b?.type, "X");
  assert.deepEqual([...b!.bytes], [0x30, 0x03, 0x02, 0x01, 0x01]);
  assert.equal(rest, "tail");
});

test("the newline after END is consumed; a second newline is left over", () => {
  assert.equal(decodePem(block()).rest, "");
  assert.equal(decodePem(block() + "\n").rest, "\n");
  assert.equal(decodePem(block().slice(0, -1)).rest, "");
});

test("text before the first block is skipped", () => {
  const r = decodePem("Bag Attributes\n  friendlyName: x\n" + block("CERTIFICATE"));
  assert.equal(r.block?.type, "CERTIFICATE");
});

test("no block: nothing decoded and the whole input returned", () => {
  assert.deepEqual(decodePem("hello\n"), { rest: "hello\n" });
  assert.deepEqual(decodePem(""), { rest: "" });
});

test("CRLF line ends and trailing spaces are accepted", () => {
  const crlf = block().replace(/\n/g, "\r\n").replace("-----END X-----", "-----END X-----  ");
  assert.equal(decodePem(crlf).block?.type, "X");
});

test("headers are read", () => {
  const r = decodePem(`-----BEGIN X-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES\n\n${body}\n-----END X-----\n`);
  assert.deepEqual(r.block?.headers, { "Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES" });
});

test("malformed blocks are skipped in favour of a later good one", () => {
  const bad = "-----BEGIN X-----\n!!!!\n-----END X-----\n";
  const mismatched = "-----BEGIN A-----\nMAMCAQE=\n-----END B-----\n";
  const r = decodePem(bad + mismatched + block("GOOD"));
  assert.equal(r.block?.type, "GOOD");
});

test("base64 must be padded", () => {
  assert.equal(decodePem(block("X", "MAMCAQE")).block, undefined);
});

test("an empty block decodes to no bytes", () => {
  const r = decodePem("-----BEGIN X-----\n-----END X-----\n");
  assert.equal(r.block?.bytes.length, 0);
});
