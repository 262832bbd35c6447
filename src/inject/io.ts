/**
 * The I/O edge of inject/uninject: reading the inputs (files, directories, https URLs,
 * stdin) as streams of text, and holding the output until the whole input is known to be
 * valid (spilling to a temporary file past a threshold, so memory stays flat).
 */
import { createReadStream, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StringDecoder } from "node:string_decoder";
import type { Readable, Writable } from "node:stream";
import { MeshError } from "../errors.js";

export interface Input {
  /** How messages name it: a path, a URL, or `stdin`. */
  name: string;
  /** Text chunks (UTF-8 decoded). */
  chunks: () => AsyncIterable<string>;
}

const EXTENSIONS = /\.(ya?ml|json)$/i;

async function* decode(stream: AsyncIterable<Buffer | string>): AsyncIterable<string> {
  const dec = new StringDecoder("utf8");
  for await (const chunk of stream) {
    const s = typeof chunk === "string" ? chunk : dec.write(chunk);
    if (s) yield s;
  }
  const rest = dec.end();
  if (rest) yield rest;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...walk(p));
    else if (EXTENSIONS.test(name)) out.push(p);
  }
  return out;
}

export interface InputDeps {
  stdin: Readable;
  /** Fetches a URL's body as a stream (undici in production). */
  fetchUrl: (url: string) => Promise<AsyncIterable<Buffer | string>>;
}

/** Resolves the command's arguments to inputs, in order (directories walked recursively, sorted). */
export function resolveInputs(args: string[], deps: InputDeps): Input[] {
  const out: Input[] = [];
  let stdinUsed = false;
  for (const arg of args) {
    if (arg === "-") {
      if (stdinUsed) throw new MeshError("stdin (-) can be read only once", "pass `-` a single time");
      stdinUsed = true;
      out.push({ name: "stdin", chunks: () => decode(deps.stdin) });
      continue;
    }
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(arg)) {
      const url = new URL(arg);
      if (url.protocol !== "https:")
        throw new MeshError(`only HTTPS URLs are allowed: ${arg}`, "manifests fetched over plain http can be altered in transit; use https://, or download the file and pass its path");
      out.push({ name: arg, chunks: async function* () { yield* decode(await deps.fetchUrl(arg)); } });
      continue;
    }
    let st;
    try {
      st = statSync(arg);
    } catch {
      throw new MeshError(`cannot read ${arg}: no such file or directory`, "pass a file, a directory, an https:// URL, or - for stdin");
    }
    if (st.isDirectory()) {
      const files = walk(arg);
      if (!files.length) throw new MeshError(`directory ${arg} has no .yaml, .yml or .json files`);
      for (const f of files) out.push({ name: f, chunks: () => decode(createReadStream(f, { highWaterMark: 256 * 1024 })) });
    } else out.push({ name: arg, chunks: () => decode(createReadStream(arg, { highWaterMark: 256 * 1024 })) });
  }
  return out;
}

/** Production fetch: undici, status checked, body streamed. */
export async function fetchWithUndici(url: string): Promise<AsyncIterable<Buffer>> {
  const { request } = await import("undici");
  let res;
  try {
    res = await request(url, { maxRedirections: 5, headersTimeout: 30_000, bodyTimeout: 60_000 } as never);
  } catch (err) {
    throw new MeshError(`cannot fetch ${url}: ${(err as Error).message}`, "check the URL and your network", 1, err);
  }
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new MeshError(`unable to read URL ${url}: the server answered ${res.statusCode}`, "check the URL");
  }
  return res.body as AsyncIterable<Buffer>;
}

/**
 * Collects output; nothing reaches stdout until `flush`, so a failure midway leaves stdout
 * empty. Writers hand it many pieces: slices of the input, and the same large sidecar
 * texts again and again. It holds them compactly: small pieces joined into strings of
 * ~64K characters, large ones encoded once and held by reference (so 40 MB of injected
 * output costs a few MB of memory, and no page of it is touched before `flush`). Past
 * `threshold` bytes held it moves everything to a temporary file, so memory stays flat.
 */
const JOIN_CHARS = 64 * 1024;
const ENCODED_MIN_CHARS = 1024;
const ENCODED_MAX_BYTES = 8 * 1024 * 1024;
const STAGE_BYTES = 1024 * 1024;

export class HeldOutput {
  /** The output so far, in order: joined small pieces and encoded large ones. */
  private segs: (string | Buffer)[] = [];
  private pending: string[] = [];
  private pendingChars = 0;
  /** Encoded large pieces, by text (V8 keeps a string's hash, so a repeated piece is found at once). */
  private encoded = new Map<string, Buffer>();
  private encodedBytes = 0;
  /** Memory held (string characters, bytes of distinct buffers). */
  private held = 0;
  private fd: number | undefined;
  private dir: string | undefined;
  /** The staging buffer of the file (after spilling). */
  private stage: Buffer | undefined;
  private stageOff = 0;
  private lastChar = -1;

  constructor(private readonly threshold = 64 * 1024 * 1024) {}

  write(s: string): void {
    const len = s.length;
    if (len === 0) return;
    this.lastChar = s.charCodeAt(len - 1);
    if (len < ENCODED_MIN_CHARS) {
      this.pending.push(s);
      this.pendingChars += len;
      if (this.pendingChars >= JOIN_CHARS) this.joinPending();
      return;
    }
    this.joinPending();
    let b = this.encoded.get(s);
    if (b === undefined) {
      b = Buffer.from(s, "utf8");
      if (this.encodedBytes + b.length > ENCODED_MAX_BYTES) {
        this.encoded.clear();
        this.encodedBytes = 0;
      }
      this.encoded.set(s, b);
      this.encodedBytes += b.length;
      this.held += b.length;
    }
    this.hold(b);
  }

  private joinPending(): void {
    if (this.pendingChars === 0) return;
    const s = this.pending.length === 1 ? this.pending[0] : this.pending.join("");
    this.pending = [];
    this.pendingChars = 0;
    this.held += s.length;
    this.hold(s);
  }

  private hold(seg: string | Buffer): void {
    if (this.fd !== undefined) {
      this.toFile(seg);
      return;
    }
    this.segs.push(seg);
    if (this.held > this.threshold) {
      this.dir = mkdtempSync(join(tmpdir(), "mesh-inject-"));
      this.fd = openSync(join(this.dir, "out"), "w");
      this.stage = Buffer.allocUnsafe(STAGE_BYTES);
      for (const x of this.segs) this.toFile(x);
      this.segs = [];
    }
  }

  /** Appends a segment to the temporary file, through the staging buffer. */
  private toFile(seg: string | Buffer): void {
    const stage = this.stage!;
    const max = typeof seg === "string" ? seg.length * 3 : seg.length;
    if (max > stage.length - this.stageOff) {
      writeAll(this.fd!, stage.subarray(0, this.stageOff));
      this.stageOff = 0;
      if (max > stage.length) {
        writeAll(this.fd!, typeof seg === "string" ? Buffer.from(seg, "utf8") : seg);
        return;
      }
    }
    this.stageOff += typeof seg === "string" ? stage.write(seg, this.stageOff) : seg.copy(stage, this.stageOff);
  }

  get endsWithNewline(): boolean {
    return this.lastChar === -1 || this.lastChar === 10;
  }

  get empty(): boolean {
    return this.lastChar === -1;
  }

  /**
   * Writes everything to `out` in chunks of about 1 MB, honouring back-pressure. A real
   * stream gets one reused buffer (each chunk is written before the next is copied in);
   * anything else gets a fresh buffer per chunk.
   */
  async flush(out: Pick<Writable, "write">): Promise<void> {
    const w = out as Partial<Writable> & Pick<Writable, "write">;
    const stream = typeof w.once === "function" && typeof w.writableLength === "number";
    const put = (b: Buffer): Promise<void> | undefined => {
      // a failed write (EPIPE…) is the stream's 'error' event to report, not ours
      if (stream) return new Promise<void>((resolve) => void w.write(b, () => resolve()));
      if (!w.write(b) && typeof w.once === "function") return new Promise<void>((r) => w.once!("drain", () => r()));
      return undefined;
    };
    this.joinPending();
    if (this.fd !== undefined) {
      writeAll(this.fd, this.stage!.subarray(0, this.stageOff));
      closeSync(this.fd);
      this.fd = undefined;
      this.stage = undefined;
      for await (const chunk of createReadStream(join(this.dir!, "out"), { highWaterMark: 4 * 1024 * 1024 })) await put(chunk as Buffer);
      this.discard();
      return;
    }
    const segs = this.segs;
    this.segs = [];
    this.encoded.clear();
    let buf = Buffer.allocUnsafe(STAGE_BYTES);
    let off = 0;
    const send = async () => {
      if (off === 0) return;
      await put(buf.subarray(0, off));
      if (!stream) buf = Buffer.allocUnsafe(STAGE_BYTES);
      off = 0;
    };
    for (let i = 0; i < segs.length; i++) {
      const seg = segs[i];
      const max = typeof seg === "string" ? seg.length * 3 : seg.length;
      if (max > buf.length - off) {
        await send();
        if (max > buf.length) {
          await put(typeof seg === "string" ? Buffer.from(seg, "utf8") : seg);
          continue;
        }
      }
      off += typeof seg === "string" ? buf.write(seg, off) : seg.copy(buf, off);
    }
    await send();
  }

  discard(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.stage = undefined;
    this.segs = [];
    this.pending = [];
    this.pendingChars = 0;
    this.encoded.clear();
    this.encodedBytes = 0;
    this.held = 0;
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}

function writeAll(fd: number, b: Buffer): void {
  for (let o = 0; o < b.length; ) o += writeSync(fd, b, o, b.length - o);
}
