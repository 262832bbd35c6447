/**
 * SPDY/3.1 as Kubernetes' streaming subresources speak it (`pods/portforward` with subprotocol
 * `portforward.k8s.io`): frames, zlib-compressed header blocks with the SPDY/3 dictionary, and a
 * session of bidirectional streams. Only what the Go peers (moby/spdystream behind the kubelet and
 * the API server) use is implemented: SYN_STREAM, SYN_REPLY, DATA, RST_STREAM, PING, GOAWAY.
 * Like spdystream, there is no flow control: WINDOW_UPDATE and SETTINGS are read and ignored.
 */
import { EventEmitter } from "node:events";
import { Duplex } from "node:stream";
import { constants as zc, createDeflate, createInflate, type Deflate, type Inflate } from "node:zlib";

export const SPDY_VERSION = 3;
export const FrameType = { synStream: 1, synReply: 2, rstStream: 3, settings: 4, ping: 6, goAway: 7, headers: 8, windowUpdate: 9 } as const;
export const FLAG_FIN = 0x01;
/** RST_STREAM status codes used here. */
export const RstStatus = { protocolError: 1, refusedStream: 3, cancel: 5, internalError: 6 } as const;

/** Largest frame payload mesh accepts (the format allows 16 MiB; the Go peers write at most 32 KiB of data). */
export const MAX_FRAME_PAYLOAD = 1024 * 1024;
/** Largest control frame payload (header blocks are compressed; Go's are tens of bytes): bounds what one block can inflate to. */
export const MAX_CONTROL_PAYLOAD = 16 * 1024;
/** Largest header block, after decompression. */
export const MAX_HEADER_BLOCK_BYTES = 64 * 1024;
/** Most data frames a DATA write is cut into: this many bytes each. */
const DATA_CHUNK = 32 * 1024;

/** The SPDY/3 header compression dictionary (draft-mbelshe-httpbis-spdy-00, 2.6.10.1): length-prefixed tokens, then a run of common text. */
export const SPDY3_DICTIONARY: Buffer = (() => {
  const tokens = (
    "options head post put delete trace accept accept-charset accept-encoding accept-language accept-ranges age allow " +
    "authorization cache-control connection content-base content-encoding content-language content-length content-location " +
    "content-md5 content-range content-type date etag expect expires from host if-match if-modified-since if-none-match " +
    "if-range if-unmodified-since last-modified location max-forwards pragma proxy-authenticate proxy-authorization range " +
    "referer retry-after server te trailer transfer-encoding upgrade user-agent vary via warning www-authenticate method get " +
    "status 200_OK version HTTP/1.1 url public set-cookie keep-alive origin"
  )
    .split(" ")
    .map((t) => t.replace("_", " "));
  const text =
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505" +
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized" +
    "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable" +
    "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT" +
    "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,text/javascript," +
    "publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.";
  const parts: Buffer[] = [];
  for (const t of tokens) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(t.length);
    parts.push(len, Buffer.from(t, "latin1"));
  }
  parts.push(Buffer.from(text, "latin1"));
  return Buffer.concat(parts);
})();

export class SpdyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SpdyError";
  }
}

export type Frame =
  | { control: false; streamId: number; flags: number; data: Buffer }
  | { control: true; type: number; flags: number; payload: Buffer };

export function encodeDataFrame(streamId: number, data: Uint8Array, flags = 0): Buffer {
  const out = Buffer.alloc(8 + data.length);
  out.writeUInt32BE(streamId & 0x7fffffff, 0);
  out.writeUInt32BE(((flags & 0xff) << 24) | data.length, 4);
  out.set(data, 8);
  return out;
}

export function encodeControlFrame(type: number, flags: number, payload: Uint8Array): Buffer {
  if (payload.length > 0xffffff) throw new SpdyError("control frame too large");
  const out = Buffer.alloc(8 + payload.length);
  out.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  out.writeUInt16BE(type, 2);
  out.writeUInt32BE((((flags & 0xff) << 24) | payload.length) >>> 0, 4);
  out.set(payload, 8);
  return out;
}

/** Cuts a byte stream into frames; throws a SpdyError on a frame larger than `maxPayload` or of another SPDY version. */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly maxPayload = MAX_FRAME_PAYLOAD) {}

  push(chunk: Buffer): Frame[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const frames: Frame[] = [];
    let at = 0;
    while (this.pending.length - at >= 8) {
      const word = this.pending.readUInt32BE(at);
      const flags = this.pending[at + 4]!;
      const length = this.pending.readUInt32BE(at + 4) & 0xffffff;
      const control = (word & 0x80000000) !== 0;
      const max = control ? Math.min(this.maxPayload, MAX_CONTROL_PAYLOAD) : this.maxPayload;
      if (length > max) throw new SpdyError(`a ${control ? "control " : ""}frame of ${length} bytes is larger than the ${max} accepted`);
      if (this.pending.length - at < 8 + length) break;
      const body = this.pending.subarray(at + 8, at + 8 + length);
      if (control) {
        const version = (word >>> 16) & 0x7fff;
        if (version !== SPDY_VERSION) throw new SpdyError(`unsupported SPDY version ${version}`);
        frames.push({ control: true, type: word & 0xffff, flags, payload: Buffer.from(body) });
      } else frames.push({ control: false, streamId: word & 0x7fffffff, flags, data: Buffer.from(body) });
      at += 8 + length;
    }
    this.pending = this.pending.subarray(at);
    return frames;
  }
}

export type Headers = Record<string, string[]>;

/** A name/value header block before compression: names lower-cased, several values joined by NUL. */
export function encodeHeaderBlock(headers: Record<string, string | string[]>): Buffer {
  const entries = Object.entries(headers);
  const parts: Buffer[] = [u32(entries.length)];
  for (const [name, value] of entries) {
    const n = Buffer.from(name.toLowerCase(), "utf8");
    const v = Buffer.from((Array.isArray(value) ? value : [value]).join("\0"), "utf8");
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

/** Reads a decompressed header block; throws a SpdyError when it is malformed. */
export function decodeHeaderBlock(block: Buffer): Headers {
  const out: Headers = {};
  let at = 0;
  const take = (what: string): Buffer => {
    if (block.length - at < 4) throw new SpdyError(`header block truncated in ${what}`);
    const len = block.readUInt32BE(at);
    at += 4;
    if (block.length - at < len) throw new SpdyError(`header block truncated in ${what}`);
    const b = block.subarray(at, at + len);
    at += len;
    return b;
  };
  if (block.length < 4) throw new SpdyError("header block truncated");
  const count = block.readUInt32BE(0);
  at = 4;
  for (let i = 0; i < count; i++) {
    const name = take("a name").toString("utf8");
    if (!name || name !== name.toLowerCase()) throw new SpdyError(`invalid header name ${JSON.stringify(name.slice(0, 40))}`);
    const value = take("a value").toString("utf8");
    (out[name] ??= []).push(...value.split("\0"));
  }
  if (at !== block.length) throw new SpdyError("header block has trailing bytes");
  return out;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/**
 * One direction's header compression: a single zlib stream over the connection, primed with the
 * SPDY/3 dictionary, flushed (Z_SYNC_FLUSH) after each block. Calls are serialised.
 */
export class HeaderCodec {
  private readonly z: Deflate | Inflate;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly mode: "compress" | "decompress") {
    this.z = mode === "compress" ? createDeflate({ dictionary: SPDY3_DICTIONARY }) : createInflate({ dictionary: SPDY3_DICTIONARY });
    this.z.on("error", () => undefined); // surfaced through the flush callback
  }

  run(input: Buffer): Promise<Buffer> {
    const next = this.queue.then(
      () =>
        new Promise<Buffer>((resolve, reject) => {
          const z = this.z;
          const fail = (e: Error) => reject(new SpdyError(`header block ${this.mode === "compress" ? "compression" : "decompression"} failed: ${e.message}`));
          z.once("error", fail);
          z.write(input);
          z.flush(zc.Z_SYNC_FLUSH, () => {
            z.off("error", fail);
            const chunks: Buffer[] = [];
            let n = 0;
            for (let c = z.read() as Buffer | null; c; c = z.read() as Buffer | null) {
              chunks.push(c);
              n += c.length;
            }
            if (this.mode === "decompress" && n > MAX_HEADER_BLOCK_BYTES) return reject(new SpdyError(`a header block is larger than ${MAX_HEADER_BLOCK_BYTES} bytes`));
            resolve(Buffer.concat(chunks));
          });
        }),
    );
    this.queue = next.catch(() => undefined);
    return next;
  }

  close(): void {
    this.z.destroy();
  }
}

export interface SessionOptions {
  /** Client streams have odd ids, server streams even. */
  client: boolean;
  /** A stream the peer opened: call `stream.reply()` to accept it or `stream.reset()` to refuse it. */
  onStream?: (stream: SpdyStream) => void;
}

/** A SPDY session over a connected, upgraded socket. Emits `close` once, with the error that ended it, if any. */
export class SpdySession extends EventEmitter {
  private readonly reader = new FrameReader();
  private readonly deflate = new HeaderCodec("compress");
  private readonly inflate = new HeaderCodec("decompress");
  private readonly streams = new Map<number, SpdyStream>();
  private nextId: number;
  private out: Promise<void> = Promise.resolve();
  private inbox: Promise<void> = Promise.resolve();
  private ended = false;
  private goneAway = false;
  private lastRemoteId = 0;

  constructor(
    readonly socket: Duplex,
    private readonly o: SessionOptions,
  ) {
    super();
    this.nextId = o.client ? 1 : 2;
    socket.on("data", (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = this.reader.push(chunk);
      } catch (e) {
        return this.destroy(e as Error);
      }
      for (const f of frames) this.inbox = this.inbox.then(() => this.handle(f)).catch((e: Error) => this.destroy(e));
    });
    socket.on("error", (e: Error) => this.destroy(e));
    socket.on("close", () => this.destroy(new SpdyError("the connection closed")));
    socket.on("end", () => this.destroy(new SpdyError("the connection closed")));
  }

  get closed(): boolean {
    return this.ended;
  }

  /** Opens a stream and waits (at most `timeoutMs`) for the peer's SYN_REPLY. */
  async openStream(headers: Record<string, string | string[]>, timeoutMs: number): Promise<SpdyStream> {
    if (this.ended || this.goneAway) throw new SpdyError("the connection is closed");
    const id = this.nextId;
    this.nextId += 2;
    const stream = new SpdyStream(this, id, {});
    this.streams.set(id, stream);
    const early = () => undefined; // a reset before the reply rejects below instead
    stream.on("error", early);
    const replied = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new SpdyError(`no reply to stream ${id} within ${timeoutMs} ms`)), timeoutMs);
      stream.once("spdy-reply", () => {
        clearTimeout(timer);
        resolve();
      });
      stream.once("close", () => {
        clearTimeout(timer);
        reject(new SpdyError(`stream ${id} was closed before the peer replied`));
      });
    });
    replied.catch(() => undefined); // awaited below, unless sending fails first
    const block = encodeHeaderBlock(headers);
    try {
      // Stream id, associated-to id 0, priority 0 and slot 0, then the header block.
      await this.send(async () => {
        const compressed = await this.deflate.run(block);
        const head = Buffer.alloc(10);
        head.writeUInt32BE(id, 0);
        return encodeControlFrame(FrameType.synStream, 0, Buffer.concat([head, compressed]));
      });
      await replied;
    } catch (e) {
      stream.destroy();
      throw e;
    } finally {
      stream.off("error", early);
    }
    return stream;
  }

  /** Queues a frame; resolves once the socket took it (after `drain` when it was full). */
  send(build: () => Buffer | Promise<Buffer>): Promise<void> {
    const next = this.out.then(async () => {
      if (this.ended) throw new SpdyError("the connection is closed");
      const frame = await build();
      if (!this.socket.write(frame)) await new Promise<void>((resolve) => this.socket.once("drain", resolve).once("close", resolve));
    });
    this.out = next.catch(() => undefined);
    return next;
  }

  /** @internal */
  sendData(id: number, data: Uint8Array, fin: boolean): Promise<void> {
    if (data.length <= DATA_CHUNK) return this.send(() => encodeDataFrame(id, data, fin ? FLAG_FIN : 0));
    let p: Promise<void> = Promise.resolve();
    for (let at = 0; at < data.length; at += DATA_CHUNK) {
      const last = at + DATA_CHUNK >= data.length;
      const piece = data.subarray(at, at + DATA_CHUNK);
      p = this.send(() => encodeDataFrame(id, piece, fin && last ? FLAG_FIN : 0));
    }
    return p;
  }

  /** @internal */
  sendReply(id: number): Promise<void> {
    return this.send(async () => {
      const compressed = await this.deflate.run(encodeHeaderBlock({}));
      return encodeControlFrame(FrameType.synReply, 0, Buffer.concat([u32(id), compressed]));
    });
  }

  /** @internal */
  sendReset(id: number, status: number): void {
    this.send(() => encodeControlFrame(FrameType.rstStream, 0, Buffer.concat([u32(id), u32(status)]))).catch(() => undefined);
  }

  /** @internal */
  forget(id: number): void {
    this.streams.delete(id);
  }

  /** Streams whose reader is behind: the socket is paused while there is any (@internal). */
  private readonly full = new Set<SpdyStream>();

  /** @internal */
  backpressure(s: SpdyStream, on: boolean): void {
    if (on) this.full.add(s);
    else this.full.delete(s);
    if (this.full.size > 0) this.socket.pause();
    else if (this.socket.isPaused()) this.socket.resume();
  }

  /** Sends GOAWAY and ends the connection once the queued frames are written. */
  close(): void {
    if (this.ended) return;
    this.goneAway = true;
    this.send(() => encodeControlFrame(FrameType.goAway, 0, Buffer.concat([u32(this.lastRemoteId), u32(0)])))
      .catch(() => undefined)
      .finally(() => {
        this.socket.end();
        this.destroy();
      });
  }

  /** Ends the session now: every open stream is destroyed (with `err` when given: a failure rather than our own close). */
  destroy(err?: Error): void {
    if (this.ended) return;
    this.ended = true;
    for (const s of this.streams.values()) s.remoteClosed(err);
    this.streams.clear();
    this.deflate.close();
    this.inflate.close();
    if (!this.socket.destroyed) this.socket.destroy();
    this.emit("close", err);
  }

  private async handle(f: Frame): Promise<void> {
    if (this.ended) return;
    if (!f.control) {
      const s = this.streams.get(f.streamId);
      if (!s) return; // a stream already reset or finished: dropped, as spdystream does
      if (f.data.length) s.received(f.data);
      if (f.flags & FLAG_FIN) s.remoteFin();
      return;
    }
    const p = f.payload;
    const need = (n: number) => {
      if (p.length < n) throw new SpdyError(`control frame of type ${f.type} is too short`);
    };
    switch (f.type) {
      case FrameType.synStream: {
        need(10);
        const id = p.readUInt32BE(0) & 0x7fffffff;
        const headers = decodeHeaderBlock(await this.inflate.run(p.subarray(10)));
        const remoteParity = this.o.client ? 0 : 1;
        if (id === 0 || id % 2 !== remoteParity || id <= this.lastRemoteId || this.goneAway || !this.o.onStream) {
          this.sendReset(id, RstStatus.protocolError);
          return;
        }
        this.lastRemoteId = id;
        const stream = new SpdyStream(this, id, headers);
        this.streams.set(id, stream);
        if (f.flags & FLAG_FIN) stream.remoteFin();
        this.o.onStream(stream);
        return;
      }
      case FrameType.synReply: {
        need(4);
        const id = p.readUInt32BE(0) & 0x7fffffff;
        await this.inflate.run(p.subarray(4)); // keeps the shared zlib state in step; no header is used
        const s = this.streams.get(id);
        if (!s) return;
        s.emit("spdy-reply");
        if (f.flags & FLAG_FIN) s.remoteFin();
        return;
      }
      case FrameType.headers: {
        need(4);
        await this.inflate.run(p.subarray(4));
        const s = this.streams.get(p.readUInt32BE(0) & 0x7fffffff);
        if (s && f.flags & FLAG_FIN) s.remoteFin();
        return;
      }
      case FrameType.rstStream: {
        need(8);
        const s = this.streams.get(p.readUInt32BE(0) & 0x7fffffff);
        s?.remoteClosed(new SpdyError(`the peer reset stream ${s.id} (status ${p.readUInt32BE(4)})`));
        return;
      }
      case FrameType.ping: {
        need(4);
        // Pings the peer started (the other parity) are echoed; answers to ours are not expected.
        if ((p.readUInt32BE(0) % 2 === 1) !== this.o.client) await this.send(() => encodeControlFrame(FrameType.ping, 0, p));
        return;
      }
      case FrameType.goAway:
        this.goneAway = true;
        if (this.streams.size === 0) this.destroy();
        return;
      default:
        return; // SETTINGS, WINDOW_UPDATE and unknown types: ignored
    }
  }
}

/** One SPDY stream as a Duplex: writes become DATA frames, `end()` sends FIN, the peer's FIN ends the readable side. */
export class SpdyStream extends Duplex {
  private localFin = false;
  private peerFin = false;

  constructor(
    private readonly session: SpdySession,
    readonly id: number,
    readonly headers: Headers,
  ) {
    super({ allowHalfOpen: true });
    // A stream read to its end, or dropped, no longer holds the connection back.
    const release = () => session.backpressure(this, false);
    this.once("end", release);
    this.once("close", release);
  }

  /** The first value of a request header (lower-case name). */
  header(name: string): string | undefined {
    return this.headers[name]?.[0];
  }

  /** Accepts a stream the peer opened. */
  reply(): Promise<void> {
    return this.session.sendReply(this.id);
  }

  /** Resets the stream (RST_STREAM) and destroys it. */
  reset(status: number = RstStatus.cancel): void {
    if (!this.localFin || !this.peerFin) this.session.sendReset(this.id, status);
    this.localFin = this.peerFin = true;
    this.session.forget(this.id);
    this.destroy();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.session.sendData(this.id, chunk, false).then(() => cb(), cb);
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.localFin = true;
    this.session.sendData(this.id, Buffer.alloc(0), true).then(() => {
      this.settle();
      cb();
    }, cb);
  }

  override _read(): void {
    this.session.backpressure(this, false);
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    if (!this.localFin || !this.peerFin) {
      if (!this.session.closed) this.session.sendReset(this.id, RstStatus.cancel);
      this.localFin = this.peerFin = true;
    }
    this.session.forget(this.id);
    cb(err);
  }

  /** @internal */
  received(data: Buffer): void {
    if (this.peerFin) return;
    if (!this.push(data)) this.session.backpressure(this, true);
  }

  /** @internal */
  remoteFin(): void {
    if (this.peerFin) return;
    this.peerFin = true;
    this.push(null);
    this.settle();
  }

  /** @internal The connection ended or the peer reset the stream. */
  remoteClosed(err?: Error): void {
    const clean = this.peerFin && this.localFin;
    this.localFin = this.peerFin = true;
    this.session.forget(this.id);
    if (clean) return;
    this.destroy(err);
  }

  private settle(): void {
    if (this.localFin && this.peerFin) this.session.forget(this.id);
  }
}
