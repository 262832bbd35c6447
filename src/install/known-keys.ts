/**
 * Values no template reads: `--set bogus.key=1` (or a typo in a `-f` file) would otherwise be
 * accepted silently and stored in linkerd-config. templates/values.yaml documents every value a
 * template reads; a user's key outside it is named, with the closest known key.
 */
import { isTree, type Tree } from "./values.js";

/**
 * Maps whose keys are the user's own (labels, annotations, selectors, Kubernetes objects passed
 * through): anything below them is accepted. Values whose default is not a non-empty map (null,
 * `{}`, a list, a scalar) accept anything below them too.
 */
const FREE_FORM = new Set([
  "nodeSelector",
  "podLabels",
  "podAnnotations",
  "commonLabels",
  "podMonitor.labels",
  "deploymentStrategy",
  "nodeAffinity",
  "proxyInjector.namespaceSelector",
  "proxyInjector.objectSelector",
  "profileValidator.namespaceSelector",
  "policyValidator.namespaceSelector",
]);

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}

/** Every known dotted path of `defaults` (maps only; what FREE_FORM holds is not listed). */
function knownPaths(defaults: Tree, prefix = ""): string[] {
  return Object.entries(defaults).flatMap(([k, v]) => {
    const path = prefix ? `${prefix}.${k}` : k;
    return isTree(v) && Object.keys(v).length && !FREE_FORM.has(path) ? [path, ...knownPaths(v, path)] : [path];
  });
}

/** The known path closest to `path`: among its siblings first, then anywhere. */
export function closestKnownKey(path: string, defaults: Tree): string | undefined {
  const known = knownPaths(defaults);
  const parent = path.includes(".") ? path.slice(0, path.lastIndexOf(".") + 1) : "";
  const leaf = path.slice(parent.length);
  const pick = (candidates: string[], of: (c: string) => string, target: string, max: number) => {
    let best: { c: string; d: number } | undefined;
    for (const c of candidates) {
      const d = distance(target, of(c));
      if (d <= max && (!best || d < best.d)) best = { c, d };
    }
    return best?.c;
  };
  const siblings = known.filter((k) => k.startsWith(parent) && !k.slice(parent.length).includes("."));
  return (
    pick(siblings, (c) => c.slice(parent.length), leaf, Math.max(2, Math.floor(leaf.length / 3))) ??
    // the same key elsewhere (`logLevel` at the top level means `proxy.logLevel`?), then the whole path
    pick(known, (c) => c.slice(c.lastIndexOf(".") + 1), leaf, Math.max(1, Math.floor(leaf.length / 4))) ??
    pick(known, (c) => c, path, Math.max(2, Math.floor(path.length / 4)))
  );
}

/** The dotted paths of `overrides` that no template reads. */
export function unknownKeys(overrides: Tree, defaults: Tree, prefix = ""): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(overrides)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (!(k in defaults)) {
      out.push(path);
      continue;
    }
    const d = defaults[k];
    if (isTree(v) && isTree(d) && Object.keys(d).length && !FREE_FORM.has(path)) out.push(...unknownKeys(v, d, path));
  }
  return out;
}

/** The leaf paths under `path` in `tree` (`bogus.key` for `--set bogus.key=1`). */
function leaves(tree: Tree, path: string): string[] {
  let v: unknown = tree;
  for (const p of path.split(".")) v = isTree(v) ? v[p] : undefined;
  if (!isTree(v) || Object.keys(v).length === 0) return [path];
  return Object.keys(v).flatMap((k) => leaves(tree, `${path}.${k}`));
}

/** One warning per value no template reads (at most `max`), naming the closest known key. */
export function unknownKeyWarnings(overrides: Tree, defaults: Tree, max = 20): string[] {
  const out: string[] = [];
  for (const path of unknownKeys(overrides, defaults)) {
    const near = closestKnownKey(path, defaults);
    for (const leaf of leaves(overrides, path)) out.push(`no template reads the value ${leaf}${near ? ` (did you mean ${near}?)` : ""}: it is only stored in linkerd-config`);
  }
  return out.length > max ? [...out.slice(0, max), `${out.length - max} more values no template reads`] : out;
}
