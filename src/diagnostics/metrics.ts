import { createHash } from "node:crypto";
import { sanitize } from "../output/sanitize.js";

/**
 * `diagnostics proxy-metrics` and `controller-metrics`: the raw `/metrics` text of pods, one block
 * per pod (and container) with Linkerd's `# POD …` headers, and `--obfuscate`. Pure.
 */

/**
 * Labels whose values `--obfuscate` hashes: Linkerd's (authorities, identities, addresses,
 * destination services and namespaces) and the ones that name pods and paths.
 */
export const OBFUSCATED_LABELS: ReadonlySet<string> = new Set(["authority", "client_id", "server_id", "target_addr", "dst_service", "dst_namespace", "pod", "dst_pod", "src_pod", "path", "dst_path"]);

/** A value's stand-in: the first 4 bytes of its SHA-256, in hex (as Linkerd hashes it). */
export function obfuscateValue(s: string): string {
  return createHash("sha256").update(s, "utf8").digest("hex").slice(0, 8);
}

/**
 * Exposition text with the values of OBFUSCATED_LABELS hashed. Sample lines are rewritten in
 * place (comments, order and the other labels unchanged). A sample line whose labels cannot be
 * read throws: printing it unhashed could leak what was to be hidden.
 */
export function obfuscateMetrics(text: string): string {
  const lines = text.split("\n");
  return lines.map((line, i) => (line.startsWith("#") || line.trim() === "" ? line : obfuscateLine(line, i + 1))).join("\n");
}

function obfuscateLine(line: string, n: number): string {
  const open = line.indexOf("{");
  const space = line.search(/[ \t]/);
  if (open < 0 || (space >= 0 && space < open)) return line; // no labels
  const bad = () => new Error(`line ${n} is not valid exposition text`);
  let out = line.slice(0, open + 1);
  let i = open + 1;
  for (;;) {
    while (line[i] === " " || line[i] === ",") out += line[i++];
    if (line[i] === "}") break;
    const m = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i));
    if (!m) throw bad();
    const name = m[0];
    i += name.length;
    while (line[i] === " ") i++;
    if (line[i] !== "=") throw bad();
    i++;
    while (line[i] === " ") i++;
    if (line[i] !== '"') throw bad();
    let j = i + 1;
    let raw = "";
    for (; j < line.length && line[j] !== '"'; j++) {
      if (line[j] === "\\") raw += line[j++];
      raw += line[j] ?? "";
    }
    if (j >= line.length) throw bad();
    const value = OBFUSCATED_LABELS.has(name) ? obfuscateValue(unescape(raw)) : raw;
    out += `${name}="${value}"`;
    i = j + 1;
  }
  return out + line.slice(i);
}

const unescape = (s: string) => s.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));

export interface MetricsResult {
  pod: string;
  container?: string;
  metrics?: string;
  error?: string;
}

/** Linkerd's order: by pod, then container. */
export function sortResults(results: MetricsResult[]): MetricsResult[] {
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...results].sort((a, b) => cmp(a.pod, b.pod) || cmp(a.container ?? "", b.container ?? ""));
}

/** Server-sent text made inert line by line (escape sequences and control characters dropped). */
export function inertText(text: string): string {
  const body = text.split("\n").map((l) => sanitize(l, 0)).join("\n");
  return body === "" || body.endsWith("\n") ? body : `${body}\n`;
}

/** `proxy-metrics` output: a `# POD name (i of n)` header per pod, then its metrics or `# ERROR: …`. */
export function formatProxyMetrics(results: MetricsResult[], obfuscate: boolean): string {
  return results
    .map((r, i) => {
      let out = `#\n# POD ${sanitize(r.pod, 253)} (${i + 1} of ${results.length})\n#\n`;
      if (r.error !== undefined) return `${out}# ERROR: ${sanitize(r.error, 500)}\n`;
      const text = r.metrics ?? "";
      if (!obfuscate) return out + inertText(text);
      try {
        out += inertText(obfuscateMetrics(text));
      } catch (e) {
        out += `# ERROR: cannot obfuscate: ${(e as Error).message}\n`;
      }
      return out;
    })
    .join("");
}

/** `controller-metrics` output: a `# POD` header, then `# CONTAINER name` and its metrics, or `# ERROR …`. */
export function formatControllerMetrics(results: MetricsResult[]): string {
  return results
    .map((r, i) => {
      const out = `#\n# POD ${sanitize(r.pod, 253)} (${i + 1} of ${results.length})\n`;
      if (r.error !== undefined) return `${out}# ERROR ${sanitize(r.error, 500)}\n`;
      return `${out}# CONTAINER ${sanitize(r.container ?? "", 253)} \n#\n${inertText(r.metrics ?? "")}`;
    })
    .join("");
}
