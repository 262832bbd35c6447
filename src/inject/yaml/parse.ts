/** Parses YAML to plain data: the fast scanner when it can, the `yaml` package otherwise. */
import { loadYaml } from "../../yaml-lib.js";
import { ScanBail, ScanError, scanDocument } from "./scan.js";
import { toJS, type Json } from "./tree.js";

export async function parseYaml(text: string): Promise<Json> {
  try {
    return toJS(scanDocument(text));
  } catch (e) {
    if (!(e instanceof ScanBail || e instanceof ScanError)) throw e;
    const { parse } = await loadYaml();
    return parse(text, { merge: true }) as Json;
  }
}
