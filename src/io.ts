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

export function processIo(noColor: boolean): Io {
  const isTTY = Boolean(process.stdout.isTTY);
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    // process.stdin builds a socket or file stream on first touch: only commands that read it pay.
    get stdin() {
      return process.stdin;
    },
    isTTY,
    isErrTTY: Boolean(process.stderr.isTTY),
    color: noColor || "NO_COLOR" in process.env || !isTTY ? 0 : 1,
  };
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
