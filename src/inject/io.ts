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
 * Collects output, encoded into large buffers (off the JavaScript heap, so holding tens of
 * megabytes costs the garbage collector nothing); past `threshold` bytes it moves to a
 * temporary file. Nothing reaches stdout until `flush`, so a failure midway leaves stdout
 * empty. Callers write many small pieces (slices of the input, shared sidecar text): they
 * are copied straight into the current buffer, never concatenated into strings.
 */
const PENDING_CHARS = 256 * 1024;

export class HeldOutput {
  private chunks: Buffer[] = [];
  private buf: Buffer;
  private off = 0;
  private size = 0;
  private fd: number | undefined;
  private dir: string | undefined;
  private lastChar = -1;
  private pending: string[] = [];
  private pendingChars = 0;

  constructor(
    private readonly threshold = 64 * 1024 * 1024,
    private readonly chunkSize = 4 * 1024 * 1024,
  ) {
    this.buf = Buffer.allocUnsafe(chunkSize);
  }

  write(s: string): void {
    const len = s.length;
    if (len === 0) return;
    this.lastChar = s.charCodeAt(len - 1);
    this.pending.push(s);
    this.pendingChars += len;
    if (this.pendingChars >= PENDING_CHARS) this.encodePending();
  }

  /** Encodes the pending pieces: one join and one copy into the buffer for many small writes. */
  private encodePending(): void {
    if (this.pendingChars === 0) return;
    const s = this.pending.length === 1 ? this.pending[0] : this.pending.join("");
    this.pending = [];
    this.pendingChars = 0;
    const len = s.length;
    // a UTF-16 code unit is at most 3 bytes of UTF-8
    if (len * 3 > this.buf.length - this.off) {
      this.seal();
      if (len * 3 > this.chunkSize) {
        const b = Buffer.from(s, "utf8");
        this.size += b.length;
        this.keep(b);
        return;
      }
    }
    const n = this.buf.write(s, this.off);
    this.off += n;
    this.size += n;
  }

  /** Ends the current buffer (keeping what it holds) and starts a new one. */
  private seal(): void {
    if (this.off === 0) return;
    const used = this.buf.subarray(0, this.off);
    this.buf = Buffer.allocUnsafe(this.chunkSize);
    this.off = 0;
    this.keep(used);
  }

  private keep(b: Buffer): void {
    if (this.fd === undefined && this.size > this.threshold) {
      this.dir = mkdtempSync(join(tmpdir(), "mesh-inject-"));
      this.fd = openSync(join(this.dir, "out"), "w");
      for (const c of this.chunks) writeAll(this.fd, c);
      this.chunks = [];
    }
    if (this.fd !== undefined) writeAll(this.fd, b);
    else this.chunks.push(b);
  }

  get endsWithNewline(): boolean {
    return this.lastChar === -1 || this.lastChar === 10;
  }

  get empty(): boolean {
    return this.lastChar === -1;
  }

  /** Writes everything to `out`, honouring back-pressure. */
  async flush(out: Pick<Writable, "write">): Promise<void> {
    const w = out as Partial<Writable> & Pick<Writable, "write">;
    const put = async (b: Buffer) => {
      if (!w.write(b) && typeof w.once === "function") await new Promise<void>((r) => w.once!("drain", () => r()));
    };
    this.encodePending();
    this.seal();
    if (this.fd === undefined) {
      const chunks = this.chunks;
      this.chunks = [];
      for (const c of chunks) await put(c);
      return;
    }
    closeSync(this.fd);
    this.fd = undefined;
    for await (const chunk of createReadStream(join(this.dir!, "out"), { highWaterMark: 4 * 1024 * 1024 })) await put(chunk as Buffer);
    this.discard();
  }

  discard(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.chunks = [];
    this.pending = [];
    this.pendingChars = 0;
    this.off = 0;
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}

function writeAll(fd: number, b: Buffer): void {
  for (let o = 0; o < b.length; ) o += writeSync(fd, b, o, b.length - o);
}
