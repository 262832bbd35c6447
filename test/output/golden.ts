import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const GOLDEN_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "golden");

/** Compares `actual` byte for byte with test/golden/<name>; UPDATE_GOLDEN=1 rewrites the file instead. */
export function expectGolden(name: string, actual: string): void {
  const file = join(GOLDEN_DIR, name);
  if (process.env.UPDATE_GOLDEN === "1" || !existsSync(file)) {
    if (process.env.UPDATE_GOLDEN !== "1" && process.env.CI) assert.fail(`golden ${name} is missing (run with UPDATE_GOLDEN=1)`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  assert.equal(actual, readFileSync(file, "utf8"), `output differs from golden ${name} (UPDATE_GOLDEN=1 rewrites it)`);
}
