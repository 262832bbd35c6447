import type { CheckResult } from "../checks/types.js";
import type { Io } from "../io.js";
import { goJsonIndent } from "./go-json.js";
import { noSpinner, type Spinner } from "./spinner.js";
import { plainTheme, type Theme } from "./theme.js";

/**
 * Linkerd's check report formats, byte for byte:
 * - table: a section per category (title, dashes), one `√|‼|× description` line per check, the
 *   error and `see <hint> for hints` under failures, an empty line after the run;
 * - short: only failures and warnings (a healthy run prints nothing but the status line);
 * - json: one document per run, `{ success, categories: [{ categoryName, checks: [...] }] }`.
 * `Status check results are √|×` ends table and short output.
 */
export type CheckFormat = "table" | "short" | "json";

interface JsonCheck {
  description: string;
  hint?: string;
  error?: string;
  result: "success" | "warning" | "error";
}

/** Renders one run incrementally: feed results in order, write what `push` returns. */
export class RunRenderer {
  private lastCategory = "";
  private readonly json: { categoryName: string; checks: JsonCheck[] }[] = [];
  private success = true;
  private warning = false;

  constructor(
    readonly format: CheckFormat,
    private readonly theme: Theme = plainTheme,
    /** "warning": a warning fails the run too (`mesh check --fail-on warning`). */
    private readonly failOn: "error" | "warning" = "error",
  ) {}

  /** The text to write for this result; `wait` is set for an interim (retry) result: what to show on the spinner. */
  push(r: CheckResult): { text: string; wait?: string } {
    if (r.status === "skipped") return { text: "" };
    if (this.format === "json") {
      const last = this.json[this.json.length - 1];
      if (!last || last.categoryName !== r.category) this.json.push({ categoryName: r.category, checks: [] });
      if (r.retry) return { text: "", wait: undefined };
      this.count(r);
      const failed = r.status !== "ok";
      this.json[this.json.length - 1].checks.push({
        description: r.description,
        hint: failed && r.hintUrl ? r.hintUrl : undefined,
        error: failed ? (r.error ?? "") : undefined,
        result: r.status === "ok" ? "success" : r.status,
      });
      return { text: "" };
    }
    const failed = r.status !== "ok";
    if (this.format === "short" && !failed) return { text: "" };
    let text = "";
    if (r.category !== this.lastCategory) {
      if (this.lastCategory !== "") text += "\n";
      text += `${r.category}\n${"-".repeat(r.category.length)}\n`;
      this.lastCategory = r.category;
    }
    if (r.retry) return { text, wait: ` ${r.error ?? ""}` };
    this.count(r);
    const glyph = r.status === "ok" ? this.theme.ok : r.status === "warning" ? this.theme.warn : this.theme.fail;
    text += `${glyph} ${r.description}\n`;
    if (failed) {
      text += `    ${r.error ?? ""}\n`;
      if (r.hintUrl) text += `    see ${r.hintUrl} for hints\n`;
    }
    return { text };
  }

  private count(r: CheckResult): void {
    if (r.status === "error") this.success = false;
    if (r.status === "warning") {
      this.warning = true;
      if (this.failOn === "warning") this.success = false;
    }
  }

  /** The outcome so far, without closing the run. */
  status(): { success: boolean; warning: boolean } {
    return { success: this.success, warning: this.warning };
  }

  /** Closes the run: the trailing empty line (table, or short with problems) or the JSON document. */
  end(): { text: string; success: boolean; warning: boolean } {
    const { success, warning } = this;
    if (this.format === "json") return { text: `${goJsonIndent({ success, categories: this.json.length ? this.json : null })}\n`, success, warning };
    const text = this.format !== "short" || !success || warning ? "\n" : "";
    return { text, success, warning };
  }
}

export function formatStatus(success: boolean, theme: Theme = plainTheme): string {
  return `Status check results are ${success ? theme.ok : theme.fail}\n`;
}

/** A whole run as text (for goldens and tests). */
export function formatRun(results: Iterable<CheckResult>, format: CheckFormat, theme: Theme = plainTheme): { text: string; success: boolean; warning: boolean } {
  const r = new RunRenderer(format, theme);
  let text = "";
  for (const result of results) text += r.push(result).text;
  const end = r.end();
  return { ...end, text: text + end.text };
}

/**
 * Writes a run to stdout as its results arrive; retries show on the spinner (a TTY's stderr only).
 * With `into`, the results join that renderer's run, which the caller closes (one JSON document
 * for `mesh check` and its extensions together).
 */
export async function printRun(
  results: AsyncIterable<CheckResult>,
  io: Pick<Io, "stdout">,
  format: CheckFormat,
  theme: Theme = plainTheme,
  spin: Spinner = noSpinner,
  { into, failOn }: { into?: RunRenderer; failOn?: "error" | "warning" } = {},
): Promise<{ success: boolean; warning: boolean }> {
  const r = into ?? new RunRenderer(format, theme, failOn);
  try {
    for await (const result of results) {
      const out = r.push(result);
      if (result.status !== "skipped" && !(format === "short" && !result.retry && result.status === "ok")) spin.stop();
      if (out.text) io.stdout.write(out.text);
      if (out.wait !== undefined && format !== "json") spin.start(out.wait.trimStart());
    }
  } finally {
    spin.stop();
  }
  if (into) return r.status();
  const end = r.end();
  if (end.text) io.stdout.write(end.text);
  return { success: end.success, warning: end.warning };
}
