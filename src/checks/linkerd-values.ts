/**
 * linkerd-config's values for the checks (and the commands that borrow this module): parsed by
 * the one reader in src/kube/linkerd-config.ts. The checks read the map synchronously, so this
 * module binds the `yaml` library statically; it is itself loaded only by the commands that
 * read linkerd-config.
 */
import * as yamlModule from "yaml";
import { configOf, type LinkerdValues } from "../kube/linkerd-config.js";
import type { ConfigMap } from "../kube/types.js";
import { namedExports } from "../yaml-lib.js";

export type { LinkerdValues };

const library = namedExports(yamlModule);

/** The typed values of `linkerd-config`; undefined when its `values` key is empty. Throws on bad YAML. */
export function parseLinkerdValues(cm: ConfigMap): LinkerdValues | undefined {
  return configOf(cm, library).typed;
}
