import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, connect, type Socket } from "node:net";
import { constants as zc, inflateSync } from "node:zlib";
import {
  FLAG_FIN,
  FrameReader,
  FrameType,
  HeaderCodec,
  SPDY3_DICTIONARY,
  SpdyError,
  SpdySession,
  decodeHeaderBlock,
  encodeControlFrame,
  encodeDataFrame,
  encodeHeaderBlock,
  type SpdyStream,
} from "../../src/kube/spdy.js";

test("the SPDY/3 dictionary is the specification's: 1423 bytes with Adler-32 0xe3c6a7c2 (the id in every header block's zlib header)", async () => {
  assert.equal(SPDY3_DICTIONARY.length, 1423);
  assert.equal(SPDY3_DICTIONARY.subarray(0, 11).toString("hex"), "000000076f7074696f6e73"); // \0\0\0\7options
  assert.ok(SPDY3_DICTIONARY.toString("latin1").endsWith("utf-,*,enq=0."));
  const block = await new HeaderCodec("compress").run(encodeHeaderBlock({ port: "4191" }));
  // zlib header: CMF, FLG with FDICT set, then the dictionary's Adler-32.
  assert.equal(block[1]! & 0x20, 0x20);
  assert.equal(block.subarray(2, 6).toString("hex"), "e3c6a7c2");
});

test("header blocks: lower-case names, length-prefixed, several values joined by NUL", () => {
  const raw = encodeHeaderBlock({ StreamType: "data", port: "4191", multi: ["a", "b"] });
  assert.equal(raw.readUInt32BE(0), 3);
  assert.equal(raw.subarray(4, 8).readUInt32BE(0), "streamtype".length);
  assert.equal(raw.subarray(8, 18).toString(), "streamtype");
  assert.deepEqual(decodeHeaderBlock(raw), { streamtype: ["data"], port: ["4191"], multi: ["a", "b"] });
});

test("malformed header blocks are refused", () => {
  const upper = Buffer.concat([Buffer.from([0, 0, 0, 1, 0, 0, 0, 4]), Buffer.from("Port"), Buffer.from([0, 0, 0, 1]), Buffer.from("1")]);
  assert.throws(() => decodeHeaderBlock(upper), SpdyError);
  assert.throws(() => decodeHeaderBlock(Buffer.from([0, 0, 0, 2, 0, 0, 0, 9, 1])), /truncated/);
  assert.throws(() => decodeHeaderBlock(Buffer.concat([encodeHeaderBlock({ a: "b" }), Buffer.from([0])])), /trailing/);
});

test("one compression context per direction: later blocks need the earlier ones' state, and inflate with the dictionary alone reads the first", async () => {
  const deflate = new HeaderCodec("compress");
  const inflate = new HeaderCodec("decompress");
  const a = encodeHeaderBlock({ streamtype: "error", port: "4191", requestid: "0" });
  const b = encodeHeaderBlock({ streamtype: "data", port: "4191", requestid: "0" });
  const ca = await deflate.run(a);
  const cb = await deflate.run(b);
  // Z_SYNC_FLUSH ends each block with the empty stored block 00 00 ff ff.
  assert.equal(ca.subarray(-4).toString("hex"), "0000ffff");
  assert.deepEqual(inflateSync(ca, { dictionary: SPDY3_DICTIONARY, finishFlush: zc.Z_SYNC_FLUSH }), a);
  assert.ok(cb.length < b.length, "the second block refers back to the first");
  assert.deepEqual(await inflate.run(ca), a);
  assert.deepEqual(await inflate.run(cb), b);
});

test("frames: control and data headers as the specification lays them out, cut from any chunking", () => {
  const ping = encodeControlFrame(FrameType.ping, 0, Buffer.from([0, 0, 0, 7]));
  assert.equal(ping.toString("hex"), "8003000600000004" + "00000007");
  const data = encodeDataFrame(5, Buffer.from("hi"), FLAG_FIN);
  assert.equal(data.toString("hex"), "00000005" + "01000002" + "6869");
  const all = Buffer.concat([ping, data]);
  for (let cut = 0; cut <= all.length; cut++) {
    const r = new FrameReader();
    const frames = [...r.push(all.subarray(0, cut)), ...r.push(all.subarray(cut))];
    assert.deepEqual(frames, [
      { control: true, type: FrameType.ping, flags: 0, payload: Buffer.from([0, 0, 0, 7]) },
      { control: false, streamId: 5, flags: FLAG_FIN, data: Buffer.from("hi") },
    ]);
  }
});

test("frames larger than the cap and other SPDY versions are refused", () => {
  assert.throws(() => new FrameReader(1024).push(encodeDataFrame(1, Buffer.alloc(2000))), /a frame of 2000 bytes is larger than the 1024/);
  // A header block small on the wire may inflate a thousandfold: control frames have a lower cap.
  assert.throws(() => new FrameReader().push(encodeControlFrame(FrameType.headers, 0, Buffer.alloc(20_000))), /control frame of 20000 bytes is larger than the 16384/);
  const v2 = encodeControlFrame(FrameType.ping, 0, Buffer.alloc(4));
  v2.writeUInt16BE(0x8002, 0);
  assert.throws(() => new FrameReader().push(v2), /version 2/);
});

async function socketPair(): Promise<[Socket, Socket]> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const accepted = new Promise<Socket>((r) => server.once("connection", r));
  const client = connect((server.address() as { port: number }).port, "127.0.0.1");
  const s = await accepted;
  server.close();
  return [client, s];
}

test("a session: the client opens a stream, the server replies, bytes flow both ways, FIN ends each side, pings are answered", async () => {
  const [a, b] = await socketPair();
  const got: SpdyStream[] = [];
  const server = new SpdySession(b, {
    client: false,
    onStream: (s) => {
      got.push(s);
      s.on("error", () => undefined);
      void s.reply();
      // An echo that upper-cases, then half-closes.
      const chunks: Buffer[] = [];
      s.on("data", (c: Buffer) => chunks.push(c));
      s.on("end", () => s.end(Buffer.concat(chunks).toString().toUpperCase()));
    },
  });
  const client = new SpdySession(a, { client: true });
  const big = "x".repeat(200_000); // several DATA frames
  const stream = await client.openStream({ streamtype: "data", port: "80", requestid: "0" }, 5000);
  assert.equal(stream.id, 1);
  stream.end(`hello ${big}`);
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  assert.equal(Buffer.concat(chunks).toString(), `HELLO ${big.toUpperCase()}`);
  assert.deepEqual(got[0]!.headers, { streamtype: ["data"], port: ["80"], requestid: ["0"] });
  const second = await client.openStream({ streamtype: "error" }, 5000);
  assert.equal(second.id, 3);
  // A ping from the server (even id) comes back.
  const echoed = new Promise<Buffer>((resolve) => {
    b.on("data", (d: Buffer) => {
      if (d.readUInt16BE(0) === 0x8003 && d.readUInt16BE(2) === FrameType.ping) resolve(d);
    });
  });
  await server.send(() => encodeControlFrame(FrameType.ping, 0, Buffer.from([0, 0, 0, 2])));
  assert.equal((await echoed).subarray(8).readUInt32BE(0), 2);
  client.close();
  await new Promise((r) => server.once("close", r));
  assert.ok(server.closed);
});

test("a stream the server resets fails the open, and a missing reply times out", async () => {
  const [a, b] = await socketPair();
  const resets: string[] = [];
  new SpdySession(b, {
    client: false,
    onStream: (s) => {
      s.on("error", (e: Error) => resets.push(e.message));
      if (s.header("port") === "1") s.reset();
    },
  });
  const client = new SpdySession(a, { client: true });
  await assert.rejects(client.openStream({ port: "1" }, 5000), /closed before the peer replied/);
  await assert.rejects(client.openStream({ port: "2" }, 200), /no reply to stream 3 within 200 ms/);
  // The client gave up on stream 3 and reset it: the server's stream fails with that.
  for (let i = 0; i < 50 && !resets.length; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(resets, ["the peer reset stream 3 (status 5)"]);
  client.destroy();
});
