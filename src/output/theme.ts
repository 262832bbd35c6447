import { Chalk } from "chalk";

/** Colours of check output: glyphs are bold green/yellow/red on a colour terminal, plain otherwise. */
export interface Theme {
  ok: string;
  warn: string;
  fail: string;
}

export const OK_GLYPH = "\u221A"; // √
export const WARN_GLYPH = "\u203C"; // ‼
export const FAIL_GLYPH = "\u00D7"; // ×

export function theme(color: 0 | 1): Theme {
  const c = new Chalk({ level: color });
  return { ok: c.bold.green(OK_GLYPH), warn: c.bold.yellow(WARN_GLYPH), fail: c.bold.red(FAIL_GLYPH) };
}

export const plainTheme: Theme = theme(0);
