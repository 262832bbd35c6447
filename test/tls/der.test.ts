import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DerError,
  bitString,
  children,
  decode,
  integer,
  oid,
  readBitString,
  readInteger,
  readNode,
  readOid,
  seq,
  tlv,
  Tag,
} from "../../src/tls/der.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const unhex = (s: string) => new Uint8Array(Buffer.from(s, "hex"));

const integers: Array<[bigint | number, string]> = [
  [0, "020100"],
  [1, "020101"],
  [127, "02017f"],
  [128, "02020080"],
  [255, "020200ff"],
  [256, "02020100"],
  [-1, "0201ff"],
  [-128, "020180"],
  [-129, "0202ff7f"],
  [65537, "0203010001"],
];
for (const [value, encoded] of integers) {
  test(`INTEGER ${value} encodes as ${encoded} and decodes back`, () => {
    assert.equal(hex(integer(value)), encoded);
    assert.equal(readInteger(decode(unhex(encoded))), BigInt(value));
  });
}

test("INTEGER from an unsigned magnitude gets a sign octet only when needed", () => {
  assert.equal(hex(integer(unhex("00007f"))), "02017f");
  assert.equal(hex(integer(unhex("fdc1"))), "020300fdc1");
});

test("non-minimal INTEGERs are rejected", () => {
  assert.throws(() => readInteger(decode(unhex("0202007f"))), DerError);
  assert.throws(() => readInteger(decode(unhex("0202ff80"))), DerError);
});

const oids = ["1.2.840.10045.3.1.7", "2.5.29.19", "1.3.6.1.4.1.311.60.2.1.3", "2.999.1", "0.9.2342.19200300.100.1.25"];
for (const o of oids) {
  test(`OID ${o} round-trips`, () => assert.equal(readOid(decode(oid(o))), o));
}
test("OID encoding matches the known bytes", () => assert.equal(hex(oid("1.2.840.10045.2.1")), "06072a8648ce3d0201"));

test("lengths: short and long form, and the DER restrictions", () => {
  const long = tlv(Tag.OctetString, new Uint8Array(300));
  assert.equal(hex(long.subarray(0, 4)), "0482012c");
  assert.equal(decode(long).value.length, 300);
  assert.throws(() => decode(unhex("0480")), /indefinite/);
  assert.throws(() => decode(unhex("04810100")), /non-minimal/);
  assert.throws(() => decode(unhex("0405aabb")), /truncated/);
  assert.throws(() => decode(unhex("0401aabb")), /trailing/);
});

test("constructed values list their children", () => {
  const s = seq(integer(1), oid("2.5.29.19"), bitString(unhex("06"), 1));
  const [a, b, c] = children(decode(s));
  assert.equal(readInteger(a), 1n);
  assert.equal(readOid(b), "2.5.29.19");
  assert.deepEqual(readBitString(c), { unused: 1, bytes: unhex("06") });
  assert.throws(() => children(readNode(integer(1))), /constructed/);
});
