import { execFile } from "node:child_process";
import { accessSync, constants, readdirSync } from "node:fs";
import { delimiter, join } from "node:path";
import type { Io } from "../io.js";
import { RunRenderer, type CheckFormat } from "../output/check-report.js";
import type { Spinner } from "../output/spinner.js";
import type { Theme } from "../output/theme.js";
import type { CheckContext } from "./context.js";
import type { RunEnv } from "./runner.js";
import type { CheckResult } from "./types.js";

/**
 * Extension checks after the core run, as `linkerd check` does them: every namespace label
 * `linkerd.io/extension=<name>` names an extension; an executable `linkerd-<name>` on $PATH is
 * run as `linkerd-<name> check ... --output=json` and its results re-rendered here (as are
 * executables that announce `"checks": "always"` through `_extension-metadata`). An extension
 * without an executable is a warning. Each extension is its own run: its own section, its own
 * JSON document.
 */
export const EXTENSION_LABEL = "linkerd.io/extension";

interface Found {
  path: string;
  name: string;
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `linkerd-*` executables on PATH, the first of each name. */
export function findExtensionExecutables(pathEnv: string | undefined): Found[] {
  const seen = new Set<string>();
  const out: Found[] = [];
  for (const dir of (pathEnv ?? "").split(delimiter).filter(Boolean)) {
    let names: string[];
    try {
      names = readdirSync(dir).filter((n) => n.startsWith("linkerd-")).sort();
    } catch {
      continue;
    }
    for (const file of names) {
      const name = file.slice("linkerd-".length);
      if (seen.has(name) || !isExecutable(join(dir, file))) continue;
      seen.add(name);
      out.push({ path: join(dir, file), name });
    }
  }
  return out;
}

function exec(path: string, args: string[], timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(path, args, { timeout: timeoutMs, maxBuffer: 16 << 20 }, (_err, stdout, stderr) => resolve({ stdout: String(stdout), stderr: String(stderr) }));
  });
}

/** Parses an extension's `check -o json` output into results; throws when it is not a check document. */
export function parseCheckJson(text: string): CheckResult[] {
  const doc = JSON.parse(text) as { categories?: { categoryName: string; checks: { description: string; hint?: string; error?: string; result: string }[] }[] | null };
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) throw new Error("JSON object expected");
  return (doc.categories ?? []).flatMap((c) =>
    (c.checks ?? []).map((k) => ({
      category: c.categoryName,
      checkId: "",
      description: k.description,
      hintUrl: k.hint ?? "",
      status: k.error ? (k.result === "warning" ? "warning" : "error") : "ok",
      retry: false,
      error: k.error || undefined,
    })),
  );
}

export interface ExtensionRunOptions {
  io: Pick<Io, "stdout">;
  env: Record<string, string | undefined>;
  format: CheckFormat;
  theme: Theme;
  hintBase: string;
  /** Flags forwarded to extension checks. */
  argv: string[];
  spinner?: Spinner;
  timeoutMs?: number;
  /** "warning": warnings fail the run (`--fail-on warning`). */
  failOn?: "error" | "warning";
  /** The run to add the results to (JSON: one document for mesh's checks and the extensions'). */
  into?: RunRenderer;
}

/** Runs the extension checks and writes their reports; the overall success of all of them. */
export async function runExtensionChecks(env: RunEnv<CheckContext>, o: ExtensionRunOptions): Promise<{ success: boolean; warning: boolean }> {
  const { ctx } = env.attempt();
  // The extensions are found by their namespaces' labels. When those cannot be listed (a broken
  // or hostile answer), that is one failed check of the report, which still ends with its status.
  let namespaces: Awaited<ReturnType<typeof ctx.namespaces>> = [];
  let listFailure: string | undefined;
  try {
    namespaces = await ctx.namespaces(EXTENSION_LABEL);
  } catch (e) {
    listFailure = e instanceof Error ? e.message : String(e);
  }
  const labels = new Set(namespaces.map((n) => n.metadata.labels?.[EXTENSION_LABEL] ?? "").filter(Boolean));
  const executables = findExtensionExecutables(o.env.PATH);
  const runs: { found: Found }[] = [];
  const always = new Set<string>();
  for (const f of executables) {
    if (labels.has(f.name)) continue;
    const meta = await exec(f.path, ["_extension-metadata"], 10_000);
    try {
      const m = JSON.parse(meta.stdout) as { name?: string; checks?: string };
      if (m.name?.toLowerCase() === `linkerd-${f.name}`.toLowerCase() && m.checks === "always") always.add(f.name);
    } catch {
      // not an extension that always runs
    }
  }
  for (const f of executables) if (labels.has(f.name) || always.has(f.name)) runs.push({ found: f });
  runs.sort((a, b) => (a.found.path.split("/").pop()! < b.found.path.split("/").pop()! ? -1 : 1));
  const missing = [...labels].filter((l) => !executables.some((f) => f.name === l)).sort();

  let success = true;
  let warning = false;
  const render = (results: CheckResult[]) => {
    if (o.into) {
      for (const res of results) o.into.push(res);
      ({ success, warning } = o.into.status());
      return;
    }
    const r = new RunRenderer(o.format, o.theme, o.failOn);
    let text = "";
    for (const res of results) text += r.push(res).text;
    const end = r.end();
    o.io.stdout.write(text + end.text);
    success &&= end.success;
    warning ||= end.warning;
  };

  if (listFailure !== undefined)
    render([
      {
        category: "linkerd-extensions",
        checkId: "extension-namespaces",
        description: "can list the namespaces of Linkerd extensions",
        hintUrl: `${o.hintBase}extensions`,
        status: "error",
        retry: false,
        error: listFailure,
      },
    ]);
  for (const { found } of runs) {
    const args = ["check", ...o.argv];
    o.spinner?.start(`Running ${found.name} extension check`);
    const out = await exec(found.path, args, o.timeoutMs ?? 10 * 60_000);
    o.spinner?.stop();
    let results: CheckResult[];
    try {
      results = parseCheckJson(out.stdout);
    } catch (e) {
      const command = `${found.path} ${args.join(" ")}`;
      results = [
        {
          category: found.path.split("/").pop()!,
          checkId: "",
          description: `Running: ${command}`,
          hintUrl: `${o.hintBase}extensions`,
          status: "error",
          retry: false,
          error: out.stderr || `invalid extension check output from "${command}" (JSON object expected):\n${out.stdout}\n[${(e as Error).message}]`,
        },
      ];
    }
    render(results);
  }
  for (const name of missing) {
    const cmd = `linkerd-${name}`;
    render([
      {
        category: cmd,
        checkId: "",
        description: `Linkerd extension command ${cmd} exists`,
        hintUrl: `${o.hintBase}extensions`,
        status: "warning",
        retry: false,
        error: `exec: "${cmd}": executable file not found in $PATH`,
      },
    ]);
  }
  return { success, warning };
}
