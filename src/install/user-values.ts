import { UsageError } from "../errors.js";
import { sanitize } from "../output/sanitize.js";
import { parseSetInto, StrvalsError, typedValue } from "./strvals.js";
import { isTree, mergeTrees, type Tree } from "./values.js";

/** The values options of install, in Helm's vocabulary. */
export interface ValueOptions {
  /** `-f/--values`: YAML files, merged in order (`-` is stdin). */
  values: string[];
  /** `--set` */
  set: string[];
  /** `--set-string` */
  setString: string[];
  /** `--set-file` */
  setFile: string[];
}

export const noValueOptions = (): ValueOptions => ({ values: [], set: [], setString: [], setFile: [] });

/** Reads a file named by the user (or stdin for `-`); throws a MeshError the user can act on. */
export type ReadUserFile = (path: string, flag: string) => string;

/**
 * Merges the user's overrides the way Helm does: values files in order (maps merge deeply,
 * later files win), then every `--set`, then `--set-string`, then `--set-file`, whatever order
 * they were given in on the command line.
 */
/** Parses a values file (YAML 1.1, like Helm's parser: `yes`/`on` are booleans there too). */
export type ParseValuesFile = (text: string) => unknown;

export function mergeUserValues(opts: ValueOptions, readFile: ReadUserFile, parseFile: ParseValuesFile): Tree {
  let base: Tree = {};
  for (const path of opts.values) {
    const text = readFile(path, "--values");
    let doc: unknown;
    try {
      doc = parseFile(text);
    } catch (err) {
      throw new UsageError(`cannot parse values file ${path}: ${(err as Error).message.split("\n")[0]}`);
    }
    if (doc === null || doc === undefined) continue;
    if (!isTree(doc)) throw new UsageError(`values file ${path} must hold a map of values`);
    base = mergeTrees(base, doc);
  }
  const apply = (flag: string, list: string[], read: (raw: string) => unknown) => {
    for (const expr of list) {
      try {
        parseSetInto(expr, base, read);
      } catch (err) {
        if (err instanceof StrvalsError) throw new UsageError(`cannot parse ${flag} "${sanitize(expr, 100)}": ${err.message}`);
        throw err;
      }
    }
  };
  apply("--set", opts.set, typedValue);
  apply("--set-string", opts.setString, (raw) => raw);
  apply("--set-file", opts.setFile, (raw) => readFile(raw, "--set-file"));
  return base;
}
