/** Runs analyzers over a World: findings located, suppressions applied, in a stable order. */
import type { Analyzer, Emit } from "./analyzer.js";
import type { World } from "./context.js";
import { MESSAGES } from "./messages.js";
import { lineOf, objectRef, str, path, type Finding, type Obj } from "./model.js";
import { serviceProfileAnalyzer } from "./service-profile.js";
import { httpRouteAnalyzer } from "./http-route.js";
import { serverAnalyzer } from "./server.js";
import { authorizationAnalyzer } from "./authorization.js";
import { annotationAnalyzer } from "./annotations.js";

/** The annotation that suppresses codes for the object carrying it: a comma-separated list of codes. */
export const SUPPRESS_ANNOTATION = "analyze.mesh/suppress";

/** The analyzers of files and cluster objects (the control plane's need the cluster: see control-plane.ts). */
export const OBJECT_ANALYZERS: readonly Analyzer[] = [serviceProfileAnalyzer, httpRouteAnalyzer, serverAnalyzer, authorizationAnalyzer, annotationAnalyzer];

/** `--suppress CODE` or `--suppress CODE=Kind/namespace/name` (`Kind/name` for cluster-scoped objects). */
export interface Suppression {
  code: string;
  object?: string;
}

export function parseSuppression(s: string): Suppression {
  const i = s.indexOf("=");
  const code = (i < 0 ? s : s.slice(0, i)).trim().toUpperCase();
  if (!/^MESH\d{3}$/.test(code)) throw new Error(`"${s}" does not start with a code like MESH201`);
  if (i < 0) return { code };
  const object = s.slice(i + 1).trim();
  if (!/^[A-Za-z]+\/[^/\s]+(\/[^/\s]+)?$/.test(object)) throw new Error(`"${s}": the object must be written Kind/namespace/name (or Kind/name)`);
  return { code, object: object.toLowerCase() };
}

function suppressedBy(o: Obj): Set<string> {
  const raw = str(path(o.value, "metadata", "annotations", SUPPRESS_ANNOTATION));
  return new Set(raw.split(",").map((c) => c.trim().toUpperCase()).filter(Boolean));
}

export async function runAnalyzers(world: World, analyzers: readonly Analyzer[], suppress: readonly Suppression[] = []): Promise<Finding[]> {
  const findings: Finding[] = [];
  const seen = new Set<string>();
  const emit: Emit = (id, o, at, message, fix, severity) => {
    const m = MESSAGES[id];
    const ref = objectRef(o);
    if (suppressedBy(o).has(m.code)) return;
    if (suppress.some((s) => s.code === m.code && (!s.object || s.object === ref.toLowerCase()))) return;
    const line = lineOf(o, at);
    const f: Finding = { code: m.code, severity: severity ?? m.severity, object: ref, kind: o.kind, namespace: o.namespace, name: o.name, message, fix };
    if (o.src) {
      f.file = o.src.file;
      f.line = line;
    }
    const key = `${f.code}\0${ref}\0${f.line ?? ""}\0${message}`;
    if (seen.has(key)) return;
    seen.add(key);
    findings.push(f);
  };
  for (const a of analyzers) await a.run(world, emit);
  return findings.sort(
    (a, b) => (a.file ?? "\uffff").localeCompare(b.file ?? "\uffff") || (a.line ?? 0) - (b.line ?? 0) || a.code.localeCompare(b.code) || a.object.localeCompare(b.object) || a.message.localeCompare(b.message),
  );
}
