/**
 * The one reader of ConfigMap `<ns>/linkerd-config`: its `values` parsed once per object with
 * the `yaml` library (loaded on first use), read as Linkerd's Go code reads it (YAML 1.1: `True`,
 * `yes` and `on` are booleans; flow maps are maps; a legacy top-level `global` map is folded
 * into the top level), with typed accessors for what mesh reads.
 *
 * install, upgrade, prune, inject and version fetch it here; `mesh check` (through its memoised,
 * retry-aware getters), viz and diagnostics fetch it themselves and parse it here.
 */
import { loadYaml, loadedYaml, parseYamlSafe, YamlInputError } from "../yaml-lib.js";
import type { ConfigMap } from "./types.js";

type Tree = Record<string, unknown>;
type YamlLibrary = NonNullable<ReturnType<typeof loadedYaml>>;

/** The fields of `values` that the checks and commands read, typed. */
export interface LinkerdValues {
  linkerdVersion: string;
  clusterNetworks: string;
  clusterDomain: string;
  highAvailability: boolean;
  disableHeartBeat: boolean;
  cniEnabled: boolean;
  identityTrustAnchorsPEM: string;
  identityTrustDomain: string;
  issuerScheme: string;
  proxyInitRunAsRoot: boolean;
}

/** What the loader returns: the map, the whole values tree, and the typed view of it. */
export interface LinkerdConfig {
  configMap: ConfigMap;
  /** Every value (legacy `global` folded in); undefined when the `values` key is empty. */
  values: Tree | undefined;
  /** The typed view of `values`; undefined when the key is empty. */
  typed: LinkerdValues | undefined;
}

/** The narrow view of the API the loader needs (src/kube/cluster.ts's Cluster has it). */
export interface ConfigReader {
  getJson<T = unknown>(path: string): Promise<T | undefined>;
}

const isTree = (v: unknown): v is Tree => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown) => (typeof v === "string" ? v : v === undefined || v === null ? "" : String(v));
/** Booleans as Go's decoder gives them; a string "true" counts too (an old `--set-string`). */
const bool = (v: unknown) => v === true || v === "true";

/**
 * Parses the text of `values` into a tree. Throws an Error naming what is wrong (never quoting
 * the text: it holds certificates) when it is not YAML or not a map.
 */
export function parseValuesText(text: string, lib: YamlLibrary | undefined = loadedYaml(), what = "the values of linkerd-config"): Tree {
  if (!lib) throw new Error("internal: the yaml library is not loaded (use readValuesText)");
  let doc: unknown;
  try {
    doc = parseYamlSafe(text, { version: "1.1", merge: true }, lib).find((d) => d !== null && d !== undefined) ?? {};
  } catch (err) {
    if (err instanceof YamlInputError) throw new Error(`${what} are not valid YAML: ${err.message}`);
    throw err;
  }
  if (!isTree(doc)) throw new Error(`error unmarshaling JSON: ${what} are not a map`);
  const v: Tree = { ...doc };
  if ("global" in v) {
    if (isTree(v.global)) Object.assign(v, v.global);
    delete v.global;
  }
  return v;
}

/** parseValuesText, loading the library first. */
export async function readValuesText(text: string, what?: string): Promise<Tree> {
  return parseValuesText(text, await loadYaml(), what);
}

/** The typed view of a values tree. */
export function typedValues(v: Tree): LinkerdValues {
  const identity = isTree(v.identity) ? v.identity : {};
  const issuer = isTree(identity.issuer) ? identity.issuer : {};
  const proxyInit = isTree(v.proxyInit) ? v.proxyInit : {};
  return {
    linkerdVersion: str(v.linkerdVersion),
    clusterNetworks: str(v.clusterNetworks),
    clusterDomain: str(v.clusterDomain) || "cluster.local",
    highAvailability: bool(v.highAvailability),
    disableHeartBeat: bool(v.disableHeartBeat),
    cniEnabled: bool(v.cniEnabled),
    identityTrustAnchorsPEM: str(v.identityTrustAnchorsPEM),
    identityTrustDomain: str(v.identityTrustDomain),
    issuerScheme: str(issuer.scheme),
    proxyInitRunAsRoot: bool(proxyInit.runAsRoot),
  };
}

const parsed = new WeakMap<ConfigMap, LinkerdConfig>();

/**
 * The config of a ConfigMap already in hand (fetched by `mesh check`'s getters, or read from a
 * file), parsed once per object. Synchronous: needs the library loaded (`lib`, or loadYaml()).
 */
export function configOf(cm: ConfigMap, lib: YamlLibrary | undefined = loadedYaml()): LinkerdConfig {
  let c = parsed.get(cm);
  if (!c) {
    const raw = cm.data?.values;
    const values = raw ? parseValuesText(raw, lib) : undefined;
    c = { configMap: cm, values, typed: values && typedValues(values) };
    parsed.set(cm, c);
  }
  return c;
}

/** configOf, loading the library first. */
export async function readConfigOf(cm: ConfigMap): Promise<LinkerdConfig> {
  return configOf(cm, await loadYaml());
}

export const linkerdConfigPath = (namespace: string) => `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps/linkerd-config`;

const inFlight = new WeakMap<ConfigReader, Map<string, Promise<ConfigMap | undefined>>>();

/**
 * GETs `<ns>/linkerd-config`; undefined when it does not exist. Callers asking at the same time
 * share one request; a later call asks again (a long-running command sees an upgrade).
 */
export function fetchLinkerdConfigMap(cluster: ConfigReader, namespace: string): Promise<ConfigMap | undefined> {
  let byNs = inFlight.get(cluster);
  if (!byNs) inFlight.set(cluster, (byNs = new Map()));
  let p = byNs.get(namespace);
  if (!p) {
    const pending = cluster.getJson<ConfigMap>(linkerdConfigPath(namespace));
    p = pending;
    byNs.set(namespace, p);
    const done = () => void (byNs!.get(namespace) === pending && byNs!.delete(namespace));
    pending.then(done, done);
  }
  return p;
}

/** The installed config of the control plane in `namespace`, or undefined when there is none. */
export async function loadLinkerdConfig(cluster: ConfigReader, namespace: string): Promise<LinkerdConfig | undefined> {
  const cm = await fetchLinkerdConfigMap(cluster, namespace);
  return cm ? readConfigOf(cm) : undefined;
}
