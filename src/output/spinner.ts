import type { Ora } from "ora";
import type { Io } from "../io.js";

/** A spinner on stderr, only when stderr is a terminal; otherwise every call does nothing. */
export interface Spinner {
  start(text: string): void;
  stop(): void;
}

export const noSpinner: Spinner = { start() {}, stop() {} };

/**
 * Linkerd's frames (`|/-\` every 100 ms); the text says what a retried check waits for. ora is
 * loaded the first time a spinner starts (most runs never retry and never need it).
 */
export function spinner(io: Io): Spinner {
  if (!io.isErrTTY) return noSpinner;
  let s: Ora | undefined;
  let loading: Promise<void> | undefined;
  let wanted: string | undefined;
  const show = () => {
    if (!s) return;
    if (wanted === undefined) {
      if (s.isSpinning) s.stop();
      return;
    }
    s.text = wanted;
    if (!s.isSpinning) s.start();
  };
  return {
    start(text) {
      wanted = text;
      if (s) return show();
      loading ??= import("ora").then(({ default: ora }) => {
        s = ora({
          stream: withColumns(io.stderr as unknown as NodeJS.WriteStream),
          spinner: { interval: 100, frames: ["|", "/", "-", "\\"] },
          color: false,
          discardStdin: false,
          isEnabled: true,
        });
        show();
      });
    },
    stop() {
      wanted = undefined;
      show();
    },
  };
}

/** ora divides by the terminal's width; a pseudo-terminal may report 0 columns. */
function withColumns(stream: NodeJS.WriteStream): NodeJS.WriteStream {
  return new Proxy(stream, {
    get(target, prop) {
      if (prop === "columns") return target.columns || 80;
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
