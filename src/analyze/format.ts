/** The outputs of `mesh analyze`: a table for people, JSON for scripts, SARIF 2.1.0 for CI annotations. */
import { sanitize } from "../output/sanitize.js";
import { MESSAGES } from "./messages.js";
import type { Finding, Severity } from "./model.js";

export interface Summary {
  error: number;
  warning: number;
  info: number;
}

export function summarize(findings: readonly Finding[]): Summary {
  const s: Summary = { error: 0, warning: 0, info: 0 };
  for (const f of findings) s[f.severity]++;
  return s;
}

const where = (f: Finding) => (f.file ? `${f.file}:${f.line ?? 1}` : "cluster");

/** One block per finding: location, severity, code, object; the message; the fix. Every text is sanitised. */
export function formatTable(findings: readonly Finding[], color: 0 | 1): string {
  const paint = (sev: Severity, s: string) => (color ? `\x1b[${sev === "error" ? "31" : sev === "warning" ? "33" : "36"}m${s}\x1b[0m` : s);
  let out = "";
  for (const f of findings) {
    out += `${sanitize(where(f), 300)}  ${paint(f.severity, f.severity.padEnd(7))}  ${f.code}  ${sanitize(f.object, 300)}\n`;
    out += `    ${sanitize(f.message, 1000)}\n`;
    out += `    fix: ${sanitize(f.fix, 500)}\n`;
  }
  return out;
}

export function formatSummary(s: Summary): string {
  const total = s.error + s.warning + s.info;
  if (!total) return "no findings";
  const part = (n: number, w: string) => (n ? [`${n} ${w}${n === 1 ? "" : "s"}`] : []);
  return `${total} finding${total === 1 ? "" : "s"}: ${[...part(s.error, "error"), ...part(s.warning, "warning"), ...part(s.info, "info")].join(", ")}`;
}

const clean = (f: Finding): Finding => ({
  ...f,
  object: sanitize(f.object, 0),
  namespace: sanitize(f.namespace, 0),
  name: sanitize(f.name, 0),
  message: sanitize(f.message, 0),
  fix: sanitize(f.fix, 0),
  ...(f.file ? { file: sanitize(f.file, 0) } : {}),
});

export function formatJson(findings: readonly Finding[], source: string): string {
  return `${JSON.stringify({ source, summary: summarize(findings), findings: findings.map(clean) }, null, 2)}\n`;
}

const LEVEL: Record<Severity, "note" | "warning" | "error"> = { info: "note", warning: "warning", error: "error" };

/** A file name as a SARIF artifact URI: relative paths stay relative, with forward slashes, percent-encoded. */
export function artifactUri(file: string): string {
  if (/^https:\/\//.test(file)) return file;
  return file.replace(/\\/g, "/").split("/").map((s) => encodeURIComponent(s)).join("/");
}

/** SARIF 2.1.0: one run, every code of the catalogue as a rule, one result per finding. */
export function formatSarif(findings: readonly Finding[], version: string): string {
  const rules = Object.values(MESSAGES).map((m) => ({
    id: m.code,
    name: m.code,
    shortDescription: { text: m.title },
    defaultConfiguration: { level: LEVEL[m.severity] },
    helpUri: "https://linkerd.io/2.14/reference/",
  }));
  const index = new Map(rules.map((r, i) => [r.id, i]));
  const results = findings.map((raw) => {
    const f = clean(raw);
    const logical = [{ fullyQualifiedName: f.object, kind: "resource" }];
    const location = f.file
      ? { physicalLocation: { artifactLocation: { uri: artifactUri(f.file) }, region: { startLine: f.line ?? 1 } }, logicalLocations: logical }
      : { logicalLocations: logical };
    return {
      ruleId: f.code,
      ruleIndex: index.get(f.code) ?? 0,
      level: LEVEL[f.severity],
      message: { text: `${f.object}: ${f.message}. Fix: ${f.fix}` },
      locations: [location],
    };
  });
  const log = {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [{ tool: { driver: { name: "mesh analyze", semanticVersion: version, informationUri: "https://linkerd.io/2.14/", rules } }, results }],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
