/**
 * The I/O edge of inject/uninject: reading the inputs (files, directories, https URLs,
 * stdin) as streams of text, and holding the output until the whole input is known to be
 * valid (spilling to a temporary file past a threshold, so memory stays flat).
 */
import { createReadStream, fstatSync, mkdtempSync, openSync, readdirSync, realpathSync, rmSync, statSync, writeSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StringDecoder } from "node:string_decoder";
import type { Readable, Writable } from "node:stream";
import { MeshError } from "../errors.js";
import { sanitize } from "../output/sanitize.js";
import { writevAll } from "../io.js";
import { namedExports } from "../yaml-lib.js";

export interface Input {
  /** How messages name it: a path, a URL, or `stdin`. */
  name: string;
  /** Text chunks (UTF-8 decoded). */
  chunks: () => AsyncIterable<string>;
}

const EXTENSIONS = /\.(ya?ml|json)$/i;

/** Why reading failed, in words (no stack, no errno prefix). */
function readFailure(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === "ENOENT") return "no such file or directory";
  if (code === "EISDIR") return "it is a directory";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "ELOOP") return "too many levels of symbolic links";
  return sanitize(err instanceof Error ? err.message : String(err), 200);
}

async function* decode(stream: AsyncIterable<Buffer | string>, name: string): AsyncIterable<string> {
  const dec = new StringDecoder("utf8");
  try {
    for await (const chunk of stream) {
      const s = typeof chunk === "string" ? chunk : dec.write(chunk);
      if (s) yield s;
    }
  } catch (err) {
    if (err instanceof MeshError) throw err;
    throw new MeshError(`cannot read ${name}: ${readFailure(err)}`, undefined, 1, err);
  }
  const rest = dec.end();
  if (rest) yield rest;
}

/** A directory entry that was not read, and why. */
export interface Skipped {
  path: string;
  why: string;
}

/**
 * The .yaml/.yml/.json regular files under `dir`, sorted, recursively. Anything else named like
 * a manifest (a FIFO, a socket, a device: reading one could block forever) is skipped, and so
 * is a directory reached a second time through a symbolic link.
 */
function walk(dir: string, skipped: Skipped[], seen = new Set<string>()): string[] {
  const out: string[] = [];
  try {
    seen.add(realpathSync(dir));
  } catch {
    // unreadable: readdirSync says why
  }
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (err) {
    throw new MeshError(`cannot read directory ${dir}: ${readFailure(err)}`, undefined, 1, err);
  }
  for (const name of names) {
    const p = join(dir, name);
    let st;
    try {
      st = statSync(p);
    } catch (err) {
      if (EXTENSIONS.test(name)) skipped.push({ path: p, why: readFailure(err) });
      continue;
    }
    if (st.isDirectory()) {
      let real = p;
      try {
        real = realpathSync(p);
      } catch {
        // keep p
      }
      if (seen.has(real)) {
        skipped.push({ path: p, why: "a directory already read (a symbolic link loop?)" });
        continue;
      }
      out.push(...walk(p, skipped, seen));
    } else if (EXTENSIONS.test(name)) {
      if (st.isFile()) out.push(p);
      else skipped.push({ path: p, why: st.isFIFO() ? "a FIFO, not a regular file" : st.isSocket() ? "a socket, not a regular file" : "not a regular file" });
    }
  }
  return out;
}

export interface InputDeps {
  stdin: Readable;
  /** Fetches a URL's body as a stream (undici in production). */
  fetchUrl: (url: string) => Promise<AsyncIterable<Buffer | string>>;
  /** Told about each directory entry that was skipped (printed as a warning). */
  warn?: (message: string) => void;
}

/** A URL for messages: without its user and password, printable, not too long. */
export function displayUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.username || u.password) {
      u.username = "";
      u.password = "";
    }
    return sanitize(u.toString(), 300);
  } catch {
    return sanitize(raw, 300);
  }
}

/** Reading stdin: a directory (`inject - < dir`) reads as empty in Node, so it is refused here. */
async function* readStdin(stdin: Readable): AsyncIterable<string> {
  const fd = (stdin as { fd?: unknown }).fd;
  if (typeof fd === "number") {
    let isDir = false;
    try {
      isDir = fstatSync(fd).isDirectory();
    } catch {
      // not a file descriptor fstat understands: read it as usual
    }
    if (isDir) throw new MeshError("cannot read stdin: it is a directory", "pass the directory as an argument instead: mesh inject DIR");
  }
  yield* decode(stdin, "stdin");
}

/** Resolves the command's arguments to inputs, in order (directories walked recursively, sorted). */
export function resolveInputs(args: string[], deps: InputDeps): Input[] {
  const out: Input[] = [];
  let stdinUsed = false;
  for (const arg of args) {
    if (arg === "-") {
      if (stdinUsed) throw new MeshError("stdin (-) can be read only once", "pass `-` a single time");
      stdinUsed = true;
      out.push({ name: "stdin", chunks: () => readStdin(deps.stdin) });
      continue;
    }
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(arg)) {
      let url: URL;
      try {
        url = new URL(arg);
      } catch {
        throw new MeshError(`"${sanitize(arg, 200)}" is not a valid URL`, "pass a file, a directory, an https:// URL, or - for stdin");
      }
      const shown = displayUrl(arg);
      if (url.protocol !== "https:")
        throw new MeshError(`only HTTPS URLs are allowed: ${shown}`, "manifests fetched over plain http can be altered in transit; use https://, or download the file and pass its path");
      out.push({ name: shown, chunks: async function* () { yield* decode(await deps.fetchUrl(arg), shown); } });
      continue;
    }
    let st;
    try {
      st = statSync(arg);
    } catch (err) {
      throw new MeshError(`cannot read ${arg}: ${readFailure(err)}`, "pass a file, a directory, an https:// URL, or - for stdin");
    }
    if (st.isDirectory()) {
      const skipped: Skipped[] = [];
      const files = walk(arg, skipped);
      for (const s of skipped) deps.warn?.(`skipped ${s.path}: ${s.why}`);
      if (!files.length) throw new MeshError(`directory ${arg} has no .yaml, .yml or .json files${skipped.length ? ` that are regular files (${skipped.length} skipped)` : ""}`);
      for (const f of files) out.push({ name: f, chunks: () => decode(createReadStream(f, { highWaterMark: 256 * 1024 }), f) });
    } else out.push({ name: arg, chunks: () => decode(createReadStream(arg, { highWaterMark: 256 * 1024 }), arg) });
  }
  return out;
}

/** Limits of fetching a manifest by URL. */
export interface FetchOptions {
  /** Most bytes read of the body. */
  maxBytes?: number;
  /** Time allowed to connect and receive the headers. */
  headersTimeoutMs?: number;
  /** Time allowed without a byte of the body. */
  idleTimeoutMs?: number;
  /** Time allowed for the whole exchange (a server trickling bytes never trips the idle timeout). */
  totalTimeoutMs?: number;
  /** Redirects followed (each must stay on https). */
  maxRedirects?: number;
  /** Extra CA certificates to trust (PEM), besides the system's. */
  ca?: string | Buffer;
}

export const FETCH_DEFAULTS: Required<Omit<FetchOptions, "ca">> = {
  maxBytes: 64 * 1024 * 1024,
  headersTimeoutMs: 30_000,
  idleTimeoutMs: 30_000,
  totalTimeoutMs: 300_000,
  maxRedirects: 5,
};

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms} ms`;
}

/** A failed fetch in words: refused, unresolved, untrusted, silent, too slow. */
function fetchError(err: unknown, shown: string, o: Required<Omit<FetchOptions, "ca">>, totalExpired: boolean): MeshError {
  if (err instanceof MeshError) return err;
  const e = err as { code?: string; name?: string; message?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code ?? "";
  const host = (() => {
    try {
      return new URL(shown).host;
    } catch {
      return shown;
    }
  })();
  if (totalExpired || e.name === "AbortError" || code === "ABORT_ERR")
    return new MeshError(`cannot fetch ${shown}: it did not finish within ${formatMs(o.totalTimeoutMs)}`, "the server is too slow; download the file and pass its path", 1, err);
  if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_CONNECT_TIMEOUT")
    return new MeshError(`cannot fetch ${shown}: no answer within ${formatMs(o.headersTimeoutMs)}`, "check the URL and your network", 1, err);
  if (code === "UND_ERR_BODY_TIMEOUT") return new MeshError(`cannot fetch ${shown}: the server sent nothing for ${formatMs(o.idleTimeoutMs)}`, "check the URL and your network", 1, err);
  if (code === "ECONNREFUSED") return new MeshError(`cannot fetch ${shown}: connection refused`, "check the URL and your network", 1, err);
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return new MeshError(`cannot fetch ${shown}: cannot resolve ${host}`, "check the URL and your network", 1, err);
  if (code === "ECONNRESET" || code === "UND_ERR_SOCKET" || code === "EPIPE") return new MeshError(`cannot fetch ${shown}: the connection was reset`, "check the URL and your network", 1, err);
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|SSL/.test(code))
    return new MeshError(`cannot fetch ${shown}: the TLS certificate of ${host} is not trusted (${sanitize(code, 60)})`, "the server's certificate must be valid for its name and signed by a trusted CA (NODE_EXTRA_CA_CERTS adds one)", 1, err);
  return new MeshError(`cannot fetch ${shown}: ${sanitize(e.message ?? String(err), 200)}`, "check the URL and your network", 1, err);
}

/**
 * Production fetch: undici, https only (also after redirects, which are followed by hand so
 * that none leads to plain http), status checked, the body streamed with a size cap, an idle
 * timeout and a deadline for the whole exchange. Failures are MeshErrors naming the URL.
 */
export async function fetchWithUndici(url: string, options: FetchOptions = {}): Promise<AsyncIterable<Buffer>> {
  const o = { ...FETCH_DEFAULTS, ...options };
  const shown = displayUrl(url);
  const undici = namedExports(await import("undici"));
  const dispatcher = new undici.Agent({
    headersTimeout: o.headersTimeoutMs,
    bodyTimeout: o.idleTimeoutMs,
    connectTimeout: o.headersTimeoutMs,
    ...(options.ca ? { connect: { ca: [...(await import("node:tls")).rootCertificates, String(options.ca)] } } : {}),
  });
  const stop = new AbortController();
  let totalExpired = false;
  const deadline = setTimeout(() => {
    totalExpired = true;
    stop.abort();
  }, o.totalTimeoutMs);
  const cleanup = () => {
    clearTimeout(deadline);
    void dispatcher.close().catch(() => undefined);
  };
  let current = url;
  let res: Awaited<ReturnType<typeof undici.request>>;
  try {
    for (let redirects = 0; ; redirects++) {
      res = await undici.request(current, { dispatcher, signal: stop.signal, method: "GET" });
      if (res.statusCode >= 300 && res.statusCode < 400 && res.headers.location) {
        await res.body.dump().catch(() => undefined);
        if (redirects >= o.maxRedirects) throw new MeshError(`cannot fetch ${shown}: more than ${o.maxRedirects} redirects`, "check the URL");
        const location = Array.isArray(res.headers.location) ? res.headers.location[0] : res.headers.location;
        let next: URL;
        try {
          next = new URL(location, current);
        } catch {
          throw new MeshError(`cannot fetch ${shown}: the server redirected to an invalid URL`, "check the URL");
        }
        if (next.protocol !== "https:")
          throw new MeshError(`cannot fetch ${shown}: the server redirected to ${displayUrl(next.toString())}, which is not https`, "manifests fetched over plain http can be altered in transit; mesh (like linkerd) only reads https URLs");
        current = next.toString();
        continue;
      }
      break;
    }
  } catch (err) {
    cleanup();
    throw fetchError(err, shown, o, totalExpired);
  }
  if (res.statusCode !== 200) {
    await res.body.dump().catch(() => undefined);
    cleanup();
    throw new MeshError(`unable to read URL ${shown}: the server answered ${res.statusCode}`, "check the URL");
  }
  const body = res.body;
  async function* capped(): AsyncIterable<Buffer> {
    let n = 0;
    try {
      for await (const chunk of body) {
        n += (chunk as Buffer).length;
        if (n > o.maxBytes) throw new MeshError(`cannot fetch ${shown}: the body is larger than ${o.maxBytes / 1024 / 1024} MiB; mesh stops reading there`, "download the file and split it, or pass its path");
        yield chunk as Buffer;
      }
    } catch (err) {
      throw fetchError(err, shown, o, totalExpired);
    } finally {
      body.destroy();
      cleanup();
    }
  }
  return capped();
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
   * anything else gets a fresh buffer per chunk. Given `fd` (stdout's own descriptor, which
   * `out` writes), everything in memory goes there by gather writes instead (see gatherWrite).
   */
  async flush(out: Pick<Writable, "write">, fd?: number): Promise<void> {
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
    if (fd !== undefined) return gatherWrite(fd, segs);
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

/**
 * Writes the segments to a descriptor by gather writes: strings are encoded into a staging
 * buffer, held buffers (the repeated sidecar texts) are written from where they are.
 */
function gatherWrite(fd: number, segs: (string | Buffer)[]): void {
  const stage = Buffer.allocUnsafe(STAGE_BYTES);
  let start = 0; // of the stage's part not yet in the batch
  let off = 0;
  let batch: Uint8Array[] = [];
  let bytes = 0;
  const cut = () => {
    if (off > start) batch.push(stage.subarray(start, off));
    start = off;
  };
  const send = (): boolean => {
    cut();
    const ok = batch.length === 0 || writevAll(fd, batch);
    batch = [];
    bytes = 0;
    start = off = 0;
    return ok;
  };
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i];
    if (typeof seg === "string") {
      if (seg.length * 3 > stage.length - off && !send()) return;
      if (seg.length * 3 > stage.length) {
        batch.push(Buffer.from(seg, "utf8"));
        if (!send()) return;
      } else off += stage.write(seg, off);
    } else {
      cut();
      batch.push(seg);
      bytes += seg.length;
    }
    if ((batch.length >= 256 || bytes >= STAGE_BYTES) && !send()) return;
  }
  send();
}

function writeAll(fd: number, b: Buffer): void {
  for (let o = 0; o < b.length; ) o += writeSync(fd, b, o, b.length - o);
}
