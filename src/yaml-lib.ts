/**
 * The `yaml` library, loaded on first use (it costs tens of milliseconds, and most runs of
 * install and inject never need it). Every module that needs it loads it here.
 */
type YamlLibrary = typeof import("yaml");
let library: YamlLibrary | undefined;

export async function loadYaml(): Promise<YamlLibrary> {
  return (library ??= namedExports(await import("yaml")));
}

/** The library if loadYaml() has finished, for synchronous readers. */
export function loadedYaml(): YamlLibrary | undefined {
  return library;
}

/**
 * The module's named exports. Bundled (dist/), `yaml` is its CommonJS build and a dynamic import
 * gives `{ default: exports }`; under plain Node the names are on the namespace itself.
 */
export function namedExports<T extends object>(ns: T): T {
  const d = (ns as { default?: unknown }).default;
  return d && typeof d === "object" && !("parse" in ns) ? (d as T) : ns;
}
