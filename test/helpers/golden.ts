import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** test/golden/ */
export const GOLDEN_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "golden");

/**
 * Compares `actual` byte for byte with test/golden/<name>. With UPDATE_GOLDEN=1 the file is
 * (re)written instead, and the test passes: review the diff and commit it with the code.
 */
export function expectGolden(name: string, actual: string): void {
  const path = join(GOLDEN_DIR, name);
  if (process.env.UPDATE_GOLDEN === "1") {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  if (!existsSync(path)) assert.fail(`golden file test/golden/${name} does not exist; run with UPDATE_GOLDEN=1 to create it`);
  const expected = readFileSync(path, "utf8");
  if (actual === expected) return;
  const a = actual.split("\n");
  const e = expected.split("\n");
  let i = 0;
  while (i < a.length && i < e.length && a[i] === e[i]) i++;
  const context = (lines: string[]) => lines.slice(Math.max(0, i - 3), i + 4).map((l, k) => `  ${Math.max(0, i - 3) + k + 1}: ${l}`).join("\n");
  assert.fail(
    `output differs from test/golden/${name} at line ${i + 1} (UPDATE_GOLDEN=1 rewrites it)\n` +
      `expected:\n${context(e)}\nactual:\n${context(a)}`,
  );
}
