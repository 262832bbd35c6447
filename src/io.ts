import { Readable, type Writable } from "node:stream";

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
    stdin: process.stdin,
    isTTY,
    isErrTTY: Boolean(process.stderr.isTTY),
    color: noColor || "NO_COLOR" in process.env || !isTTY ? 0 : 1,
  };
}

/** An in-memory Io for tests: stdin from a string, stdout and stderr collected. */
export function memoryIo(stdin = "", opts: Partial<Pick<Io, "isTTY" | "isErrTTY" | "color">> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = {
    stdout: { write: (s: string | Uint8Array) => (out.push(typeof s === "string" ? s : Buffer.from(s).toString()), true) },
    stderr: { write: (s: string | Uint8Array) => (err.push(typeof s === "string" ? s : Buffer.from(s).toString()), true) },
    stdin: Readable.from([stdin]),
    isTTY: opts.isTTY ?? false,
    isErrTTY: opts.isErrTTY ?? false,
    color: opts.color ?? 0,
  };
  return { io, stdout: () => out.join(""), stderr: () => err.join("") };
}
