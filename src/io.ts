import { write as fsWrite, writeSync, writevSync } from "node:fs";
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
  /** stdout's file descriptor when it is the process's own (liveWriter writes it without blocking). */
  stdoutFd?: number;
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
    stdoutFd: 1,
    color: colorLevel(noColor, isTTY, process.env),
  };
}

/**
 * Colour, as no-color.org and FORCE_COLOR have it: `--no-color` or a non-empty NO_COLOR turns it
 * off (an empty NO_COLOR does not); FORCE_COLOR (other than "0" or "false") turns it on in a pipe.
 */
export function colorLevel(noColor: boolean, isTTY: boolean, env: NodeJS.ProcessEnv): 0 | 1 {
  if (noColor || env.NO_COLOR) return 0;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== "0" && force !== "false") return 1;
  return isTTY ? 1 : 0;
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
    if (!closed) closed = !writevAll(fd, [typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk]);
    done?.(null);
    return true;
  };
  return { write: write as Writable["write"] };
}

/**
 * Writes `bufs` to `fd` in order, as one gather write where the kernel takes them all (no copy
 * into one buffer first), blocking: a non-blocking descriptor that is full is waited on. Returns
 * false when the reader went away (EPIPE): the rest is dropped.
 */
export function writevAll(fd: number, bufs: Uint8Array[]): boolean {
  let list = bufs;
  while (list.length) {
    let n: number;
    try {
      n = writevSync(fd, list);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EAGAIN") {
        Atomics.wait(pause, 0, 0, 1); // a non-blocking descriptor that is full
        continue;
      }
      if (code === "EPIPE") return false;
      throw err;
    }
    // a partial write (a full pipe): go on from the first byte that did not go
    let i = 0;
    while (i < list.length && n >= list[i].length) n -= list[i++].length;
    list = n > 0 ? [list[i].subarray(n), ...list.slice(i + 1)] : list.slice(i);
  }
  return true;
}

/** Output of a long-running command (`viz tap`, `viz top`) that must not stall what feeds it. */
export interface LiveWriter {
  /**
   * Queues `text` for stdout and returns at once. Returns false when the text was dropped: stdout
   * is closed, or the queue is at its bound because the reader is slower than the input.
   */
  write(text: string): boolean;
  /** Resolves when everything queued has been written, or stdout closed. */
  flush(): Promise<void>;
  /** stdout's reader went away (EPIPE); nothing more will be written. */
  readonly closed: boolean;
  /** Aborts when stdout closes, so a command can stop its work and exit 0. */
  readonly signal: AbortSignal;
  /** Writes dropped because of the bound, in total. */
  readonly dropped: number;
}

export interface LiveWriterOptions {
  /** Most bytes waiting to be written (default 4 MiB); more is dropped and reported. */
  maxQueuedBytes?: number;
  /** Called once the queue has drained after drops, with how many writes were dropped since the last call. */
  onDropped?: (count: number) => void;
}

/**
 * A non-blocking stdout for long-running commands. Writes queue in memory and go to the
 * descriptor through libuv's thread pool, so a slow terminal or a full pipe stalls neither the
 * event loop nor the streams being read; the queue is bounded, and what does not fit is dropped
 * and counted (`onDropped`), never silently. A reader that goes away (EPIPE) closes the writer
 * and aborts its `signal`. Without a descriptor (tests), writes go to `io.stdout` directly.
 */
export function liveWriter(io: Io, opts: LiveWriterOptions = {}): LiveWriter {
  const max = opts.maxQueuedBytes ?? 4 * 1024 * 1024;
  const fd = io.stdoutFd;
  const ac = new AbortController();
  const queue: Buffer[] = [];
  let queued = 0;
  let writing = false;
  let closed = false;
  let dropped = 0;
  let unreported = 0;
  let idle: (() => void)[] = [];

  const settle = () => {
    if (unreported && !closed) {
      const n = unreported;
      unreported = 0;
      opts.onDropped?.(n);
    }
    const waiting = idle;
    idle = [];
    for (const w of waiting) w();
  };
  const close = () => {
    closed = true;
    queue.length = 0;
    queued = 0;
    ac.abort();
  };
  const pump = () => {
    if (writing) return;
    if (closed || !queue.length) return settle();
    writing = true;
    const chunk = queue.length === 1 ? queue[0] : Buffer.concat(queue);
    queue.length = 0;
    const send = (off: number) => {
      fsWrite(fd!, chunk, off, chunk.length - off, null, (err, n) => {
        if (err) {
          if (err.code === "EAGAIN") return void setTimeout(send, 5, off); // a non-blocking descriptor that is full
          // EPIPE: the reader went away (`mesh viz tap … | head`). Any other failure ends output the same way.
          writing = false;
          close();
          return settle();
        }
        queued -= n;
        if (off + n < chunk.length) return send(off + n);
        writing = false;
        pump();
      });
    };
    send(0);
  };

  return {
    write(text: string): boolean {
      if (closed) return false;
      if (fd === undefined) {
        io.stdout.write(text);
        return true;
      }
      const buf = Buffer.from(text, "utf8");
      if (queued + buf.length > max) {
        dropped++;
        unreported++;
        return false;
      }
      queue.push(buf);
      queued += buf.length;
      pump();
      return true;
    },
    flush(): Promise<void> {
      if (fd === undefined || closed || (!writing && !queue.length)) {
        settle();
        return Promise.resolve();
      }
      return new Promise<void>((r) => idle.push(r));
    },
    get closed() {
      return closed;
    },
    signal: ac.signal,
    get dropped() {
      return dropped;
    },
  };
}

/**
 * Stops a long-running command on SIGINT or SIGTERM: the first signal calls `stop` (which aborts
 * the command's work so it ends, restores the terminal and exits normally); a second SIGINT
 * while stopping kills the process the default way. Returns the function that removes the
 * handlers. Installed only by the commands that run until interrupted.
 */
export function onInterrupt(stop: (signal: "SIGINT" | "SIGTERM") => void): () => void {
  let stopping = false;
  const handler = (signal: "SIGINT" | "SIGTERM") => {
    if (stopping) {
      dispose();
      process.kill(process.pid, signal);
      return;
    }
    stopping = true;
    stop(signal);
  };
  const dispose = () => {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return dispose;
}

/** Terminal control for full-screen output (`viz top`): alternate screen, hidden cursor, raw keys. */
export const TERMINAL = {
  enter: "\x1b[?1049h\x1b[?25l",
  leave: "\x1b[?25h\x1b[?1049l",
  home: "\x1b[H",
  clearBelow: "\x1b[J",
  clearLine: "\x1b[K",
};

/**
 * Switches a terminal to full-screen mode and reads keys raw (so Ctrl-C arrives as a key). The
 * returned function restores the terminal (idempotent); it also runs on process exit, so an
 * error on the way out cannot leave the terminal in the alternate screen without a cursor.
 */
export function fullScreen(io: Io, onKey: (key: string) => void): () => void {
  const stdin = io.stdin as NodeJS.ReadStream;
  const raw = stdin.isTTY && typeof stdin.setRawMode === "function";
  let restored = false;
  const onData = (d: Buffer | string) => onKey(typeof d === "string" ? d : d.toString("utf8"));
  const restore = () => {
    if (restored) return;
    restored = true;
    process.off("exit", restore);
    if (raw) {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
    }
    if (io.stdoutFd !== undefined) {
      try {
        writeSync(io.stdoutFd, TERMINAL.leave);
      } catch {
        // the terminal went away: nothing to restore
      }
    } else io.stdout.write(TERMINAL.leave);
  };
  if (io.stdoutFd !== undefined) writeSync(io.stdoutFd, TERMINAL.enter);
  else io.stdout.write(TERMINAL.enter);
  if (raw) {
    stdin.setRawMode(true);
    stdin.on("data", onData);
    stdin.resume();
  }
  process.on("exit", restore);
  return restore;
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
