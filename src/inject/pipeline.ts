/** Runs inject or uninject over a sequence of inputs, writing to a held output. */
import { HeldOutput, type Input } from "./io.js";
import type { Report } from "./report.js";
import { addOutcome, DocSplitter, loadYamlLib, MAX_LIST_BYTES, NeedYamlLib, transformDocument, type DocResult, type Mode, type RawDoc } from "./stream.js";
import type { InjectConfig } from "./transform.js";
import type { Json } from "./yaml/tree.js";

export interface PipelineResult {
  reports: Report[];
  failures: string[];
  warnings: string[];
}

export interface Sink {
  write(s: string): void;
  readonly endsWithNewline: boolean;
  readonly empty: boolean;
}

export async function runPipeline(inputs: Input[], mode: Mode, cfg: InjectConfig | undefined, out: Sink, format: "yaml" | "json"): Promise<PipelineResult> {
  const result: PipelineResult = { reports: [], failures: [], warnings: [] };
  let endsWithSeparator = false;
  for (const input of inputs) {
    // a List in kubectl's layout may be up to MAX_LIST_BYTES; transformDocument refuses other documents past MAX_DOCUMENT_BYTES
    const splitter = new DocSplitter(input.name, MAX_LIST_BYTES);
    let first = true;
    const handle = async (docs: RawDoc[]) => {
      for (let di = 0; di < docs.length; di++) {
        const d = docs[di];
        let r: DocResult;
        try {
          r = transformDocument(d, input.name, mode, cfg, format === "json");
        } catch (e) {
          if (!(e instanceof NeedYamlLib)) throw e;
          await loadYamlLib();
          r = transformDocument(d, input.name, mode, cfg, format === "json");
        }
        addOutcome(result, r);
        if (result.failures.length) continue; // the run fails: stop producing output
        if (format === "json") {
          if (r.value !== undefined) out.write(`${JSON.stringify(r.value as Json, null, 2)}\n`);
          continue;
        }
        if (first && !out.empty) {
          if (!out.endsWithNewline) out.write("\n");
          if (!d.sep && !endsWithSeparator) out.write("---\n");
        }
        first = false;
        out.write(r.sep ?? d.sep);
        const parts = r.parts;
        for (let i = 0; i < parts.length; i++) out.write(parts[i]);
        endsWithSeparator = d.text === "" && d.sep !== "";
      }
    };
    for await (const chunk of input.chunks()) await handle(splitter.push(chunk));
    await handle(splitter.end());
  }
  return result;
}

/**
 * Runs the pipeline into held output, as inject and uninject do: nothing reaches stdout until
 * the caller flushes, and on a throw the held output is discarded.
 */
export async function runHeld(inputs: Input[], mode: Mode, cfg: InjectConfig | undefined, format: "yaml" | "json"): Promise<{ result: PipelineResult; out: HeldOutput }> {
  const out = new HeldOutput();
  try {
    return { result: await runPipeline(inputs, mode, cfg, out, format), out };
  } catch (err) {
    out.discard();
    throw err;
  }
}
