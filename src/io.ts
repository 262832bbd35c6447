import { writeSync } from "node:fs";
import { isatty } from "node:tty";
import type { Readable, Writable } from "node:stream";

/** Where a command reads and writes. stdout is the product; stderr is for people. */
export interface Io {
  stdout: Pick<Writable, "write">;
  stderr: Pick<Writable, "write">;
  stdin: Readable;
  /** stdout is a terminal. */
  isTTY: boolean;
  /** stderr is a terminal (spinners only then). */
  isErrTTY: boolean;
  /** colour level: 0 none, 1 basic. */
  color: 0 | 1;
}

let stderrWatched = false;

export function processIo(noColor: boolean): Io {
  const isTTY = isatty(1);
  return {
    stdout: fdWriter(1),
    // process.stderr and process.stdin build stream objects on first touch: only commands that use them pay.
    get stderr() {
      if (!stderrWatched) {
        stderrWatched = true;
        // `mesh check 2>&1 | head`: a reader that went away is not worth a stack trace.
        process.stderr.on("error", (err: NodeJS.ErrnoException) => {
          if (err.code !== "EPIPE") throw err;
        });
      }
      return process.stderr;
    },
    get stdin() {
      return process.stdin;
    },
    isTTY,
    isErrTTY: isatty(2),
    color: noColor || "NO_COLOR" in process.env || !isTTY ? 0 : 1,
  };
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * A file descriptor as a blocking writer. mesh's stdout is its product, written in order and in
 * full before exit; writing to the descriptor directly skips building a stream object for it
 * (a few ms of every start-up). A reader that went away (`mesh install | head`) is not an error:
 * the rest of the output is dropped, as a closed pipe would.
 */
export function fdWriter(fd: number): Pick<Writable, "write"> {
  let closed = false;
  const write = (chunk: string | Uint8Array, encoding?: unknown, cb?: unknown): boolean => {
    const done = (typeof encoding === "function" ? encoding : cb) as ((err?: Error | null) => void) | undefined;
    const buf = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
    for (let off = 0; !closed && off < buf.length; ) {
      try {
        off += writeSync(fd, buf, off);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "EAGAIN") Atomics.wait(pause, 0, 0, 1); // a non-blocking descriptor that is full
        else if (code === "EPIPE") closed = true;
        else throw err;
      }
    }
    done?.(null);
    return true;
  };
  return { write: write as Writable["write"] };
}

/** An in-memory Io (tests, and commands that run another in-process): stdin from a string, output collected. */
export function memoryIo(stdin = "", opts: Partial<Pick<Io, "isTTY" | "isErrTTY" | "color">> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const text = (s: string | Uint8Array) => (typeof s === "string" ? s : Buffer.from(s).toString());
  let input: Readable | undefined;
  const io: Io = {
    stdout: { write: (s: string | Uint8Array) => (out.push(text(s)), true) },
    stderr: { write: (s: string | Uint8Array) => (err.push(text(s)), true) },
    // node:stream is loaded only when a command reads stdin, keeping it off the start-up path.
    get stdin() {
      return (input ??= process.getBuiltinModule("node:stream").Readable.from([stdin]));
    },
    isTTY: opts.isTTY ?? false,
    isErrTTY: opts.isErrTTY ?? false,
    color: opts.color ?? 0,
  };
  return { io, stdout: () => out.join(""), stderr: () => err.join("") };
}
