import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let root: string | undefined;

/** The package root (the folder with package.json and templates/), from src/ or from the dist/ bundle alike. */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("mesh: cannot find its package root");
    dir = up;
  }
  return (root = dir);
}

export function templatesDir(...parts: string[]): string {
  return join(packageRoot(), "templates", ...parts);
}
