import ora, { type Ora } from "ora";
import type { Io } from "../io.js";

/** A spinner on stderr, only when stderr is a terminal; otherwise every call does nothing. */
export interface Spinner {
  start(text: string): void;
  stop(): void;
}

export const noSpinner: Spinner = { start() {}, stop() {} };

/** Linkerd's frames (`|/-\` every 100 ms); the text says what a retried check waits for. */
export function spinner(io: Io): Spinner {
  if (!io.isErrTTY) return noSpinner;
  let s: Ora | undefined;
  return {
    start(text) {
      s ??= ora({
        stream: io.stderr as unknown as NodeJS.WritableStream,
        spinner: { interval: 100, frames: ["|", "/", "-", "\\"] },
        color: false,
        discardStdin: false,
        isEnabled: true,
      });
      s.text = text;
      if (!s.isSpinning) s.start();
    },
    stop() {
      if (s?.isSpinning) s.stop();
    },
  };
}
