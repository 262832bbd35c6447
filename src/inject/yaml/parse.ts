/** Parses YAML to plain data: the fast scanner when it can, the `yaml` package otherwise. */
import { loadYaml, parseYamlSafe } from "../../yaml-lib.js";
import { ScanBail, ScanError, scanDocument } from "./scan.js";
import { toJS, type Json } from "./tree.js";

export async function parseYaml(text: string): Promise<Json> {
  try {
    return toJS(scanDocument(text));
  } catch (e) {
    if (!(e instanceof ScanBail || e instanceof ScanError)) throw e;
    // the first document, with the rules for hostile input (bounded nesting, linear duplicate-key check)
    return (parseYamlSafe(text, { merge: true }, await loadYaml())[0] ?? null) as Json;
  }
}
