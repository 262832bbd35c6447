/**
 * A small DER codec. The reader walks only what Node's crypto does not expose (a certificate's
 * raw names, signature algorithm and extensions; an EC key's scalar, see keys.ts), strictly:
 * definite, minimal lengths and low tag numbers only. The writer builds what mesh generates
 * (certificates, SEC 1 keys).
 */

export const Tag = {
  Boolean: 0x01,
  Integer: 0x02,
  BitString: 0x03,
  OctetString: 0x04,
  Null: 0x05,
  Oid: 0x06,
  Utf8String: 0x0c,
  PrintableString: 0x13,
  UtcTime: 0x17,
  GeneralizedTime: 0x18,
  Sequence: 0x30,
  Set: 0x31,
} as const;

/** Malformed DER. Callers turn it into a message about the input it came from. */
export class DerError extends Error {
  override name = "DerError";
}

/** One decoded TLV. `bytes` is the whole element, `value` its contents. */
export interface DerNode {
  /** The identifier octet (class, constructed bit and tag number). */
  readonly tag: number;
  readonly bytes: Uint8Array;
  readonly value: Uint8Array;
}

/** Context-specific tag byte: `[n]`, constructed (explicit or constructed implicit) by default. */
export const context = (n: number, constructed = true): number => 0x80 | (constructed ? 0x20 : 0) | n;

/** Reads the element starting at `offset`. */
export function readNode(buf: Uint8Array, offset = 0): DerNode {
  if (offset + 2 > buf.length) throw new DerError("truncated element");
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError("high tag numbers are not supported");
  let pos = offset + 1;
  const first = buf[pos++]!;
  let length: number;
  if (first < 0x80) {
    length = first;
  } else {
    const n = first & 0x7f;
    if (n === 0) throw new DerError("indefinite length is not DER");
    if (n > 4) throw new DerError("length too large");
    if (pos + n > buf.length) throw new DerError("truncated length");
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + buf[pos++]!;
    if (length < 0x80 || buf[pos - n] === 0) throw new DerError("non-minimal length");
  }
  const end = pos + length;
  if (end > buf.length) throw new DerError("truncated element");
  return { tag, bytes: buf.subarray(offset, end), value: buf.subarray(pos, end) };
}

/** Decodes a buffer that must hold exactly one element. */
export function decode(buf: Uint8Array): DerNode {
  const node = readNode(buf);
  if (node.bytes.length !== buf.length) throw new DerError("trailing data after element");
  return node;
}

/** The elements inside a constructed node. */
export function children(node: DerNode): DerNode[] {
  if ((node.tag & 0x20) === 0) throw new DerError("expected a constructed element");
  const out: DerNode[] = [];
  let offset = 0;
  while (offset < node.value.length) {
    const child = readNode(node.value, offset);
    out.push(child);
    offset += child.bytes.length;
  }
  return out;
}

/** Asserts the tag and returns the node, for readable parsers. */
export function expect(node: DerNode | undefined, tag: number, what: string): DerNode {
  if (!node) throw new DerError(`missing ${what}`);
  if (node.tag !== tag) throw new DerError(`${what}: unexpected tag 0x${node.tag.toString(16)}`);
  return node;
}

/** The children of a SEQUENCE, checking the tag. */
export function sequence(node: DerNode | undefined, what: string): DerNode[] {
  return children(expect(node, Tag.Sequence, what));
}

export function readInteger(node: DerNode | undefined, what = "integer"): bigint {
  const v = expect(node, Tag.Integer, what).value;
  if (v.length === 0) throw new DerError(`${what}: empty integer`);
  if (v.length > 1 && ((v[0] === 0 && v[1]! < 0x80) || (v[0] === 0xff && v[1]! >= 0x80))) {
    throw new DerError(`${what}: non-minimal integer`);
  }
  let n = 0n;
  for (const b of v) n = (n << 8n) | BigInt(b);
  if (v[0]! >= 0x80) n -= 1n << BigInt(8 * v.length);
  return n;
}

export function readOid(node: DerNode | undefined, what = "object identifier"): string {
  const v = expect(node, Tag.Oid, what).value;
  if (v.length === 0) throw new DerError(`${what}: empty`);
  const arcs: bigint[] = [];
  let acc = 0n;
  for (let i = 0; i < v.length; i++) {
    const b = v[i]!;
    if (acc === 0n && b === 0x80) throw new DerError(`${what}: non-minimal arc`);
    acc = (acc << 7n) | BigInt(b & 0x7f);
    if ((b & 0x80) === 0) {
      arcs.push(acc);
      acc = 0n;
    } else if (i === v.length - 1) {
      throw new DerError(`${what}: truncated`);
    }
  }
  const first = arcs[0]!;
  const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n];
  return [...head, ...arcs.slice(1)].join(".");
}

export function readBoolean(node: DerNode | undefined, what = "boolean"): boolean {
  const v = expect(node, Tag.Boolean, what).value;
  if (v.length !== 1 || (v[0] !== 0 && v[0] !== 0xff)) throw new DerError(`${what}: invalid boolean`);
  return v[0] === 0xff;
}

export function readBitString(node: DerNode | undefined, what = "bit string"): { unused: number; bytes: Uint8Array } {
  const v = expect(node, Tag.BitString, what).value;
  if (v.length === 0 || v[0]! > 7 || (v.length === 1 && v[0] !== 0)) throw new DerError(`${what}: invalid bit string`);
  return { unused: v[0]!, bytes: v.subarray(1) };
}

export function readOctets(node: DerNode | undefined, what = "octet string"): Uint8Array {
  return expect(node, Tag.OctetString, what).value;
}

// --- encoding ---

function encodeLength(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** One TLV whose contents are the given parts, concatenated. */
export function tlv(tag: number, ...content: Uint8Array[]): Uint8Array {
  const body = concat(...content);
  return concat(Uint8Array.of(tag), encodeLength(body.length), body);
}

export const seq = (...items: Uint8Array[]): Uint8Array => tlv(Tag.Sequence, ...items);
export const octets = (b: Uint8Array): Uint8Array => tlv(Tag.OctetString, b);
export const nul = (): Uint8Array => Uint8Array.of(Tag.Null, 0);
export const bool = (v: boolean): Uint8Array => Uint8Array.of(Tag.Boolean, 1, v ? 0xff : 0);
export const bitString = (b: Uint8Array, unused = 0): Uint8Array => tlv(Tag.BitString, Uint8Array.of(unused), b);
export const explicit = (n: number, inner: Uint8Array): Uint8Array => tlv(context(n), inner);

/** INTEGER from a bigint, or from an unsigned big-endian magnitude. */
export function integer(v: bigint | number | Uint8Array): Uint8Array {
  if (v instanceof Uint8Array) {
    let i = 0;
    while (i < v.length - 1 && v[i] === 0) i++;
    const mag = v.length ? v.subarray(i) : Uint8Array.of(0);
    return mag[0]! >= 0x80 ? tlv(Tag.Integer, Uint8Array.of(0), mag) : tlv(Tag.Integer, mag);
  }
  let n = BigInt(v);
  const bytes: number[] = [];
  // Two's complement, minimal.
  for (;;) {
    const b = Number(n & 0xffn);
    bytes.unshift(b);
    n >>= 8n;
    if ((n === 0n && b < 0x80) || (n === -1n && b >= 0x80)) break;
  }
  return tlv(Tag.Integer, Uint8Array.from(bytes));
}

export function oid(dotted: string): Uint8Array {
  const arcs = dotted.split(".").map((a) => BigInt(a));
  if (arcs.length < 2) throw new DerError(`invalid object identifier "${dotted}"`);
  const values = [arcs[0]! * 40n + arcs[1]!, ...arcs.slice(2)];
  const out: number[] = [];
  for (const v of values) {
    const group: number[] = [Number(v & 0x7fn)];
    for (let r = v >> 7n; r > 0n; r >>= 7n) group.unshift(Number(r & 0x7fn) | 0x80);
    out.push(...group);
  }
  return tlv(Tag.Oid, Uint8Array.from(out));
}

export function bytesToBigint(b: Uint8Array): bigint {
  let n = 0n;
  for (const x of b) n = (n << 8n) | BigInt(x);
  return n;
}
