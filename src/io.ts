import type { Readable, Writable } from "node:stream";

/** Where a command reads and writes. stdout is the product; stderr is for people. */
export interface Io {
  stdout: Pick<Writable, "write">;
  stderr: Pick<Writable, "write">;
  stdin: Readable;
  /** stdout is a terminal (colour, tables sized to it). */
  isTTY: boolean;
  /** stderr is a terminal (spinners). */
  isErrTTY: boolean;
  /** colour level: 0 none, 1 basic. */
  color: 0 | 1;
}

export function processIo(noColor: boolean): Io {
  const isTTY = Boolean(process.stdout.isTTY);
  const color = noColor || "NO_COLOR" in process.env || !isTTY ? 0 : 1;
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    isTTY,
    isErrTTY: Boolean(process.stderr.isTTY),
    color,
  };
}

/** An in-memory Io for tests: collects what a command writes. */
export function memoryIo(stdinText = "", opts: Partial<Pick<Io, "isTTY" | "isErrTTY" | "color">> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  // Lazy import keeps node:stream out of the start-up path of the real CLI.
  const io = {
    stdout: { write: (s: string | Uint8Array) => (out.push(String(s)), true) },
    stderr: { write: (s: string | Uint8Array) => (err.push(String(s)), true) },
    stdin: undefined as unknown as Readable,
    isTTY: opts.isTTY ?? false,
    isErrTTY: opts.isErrTTY ?? false,
    color: opts.color ?? 0,
  } satisfies Io;
  return {
    io,
    setStdin(stream: Readable) {
      io.stdin = stream;
    },
    stdinText,
    stdout: () => out.join(""),
    stderr: () => err.join(""),
  };
}
