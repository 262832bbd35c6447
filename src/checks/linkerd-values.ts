import { parse } from "yaml";
import type { ConfigMap } from "../kube/types.js";

/** The fields of `linkerd-config`'s `values` that the checks read. */
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

type Tree = Record<string, unknown>;
const isTree = (v: unknown): v is Tree => typeof v === "object" && v !== null && !Array.isArray(v);
const s = (v: unknown) => (typeof v === "string" ? v : v === undefined || v === null ? "" : String(v));
const b = (v: unknown) => v === true || v === "true";

/**
 * Parses the `values` key of `linkerd-config` (YAML). A legacy top-level `global` map is folded
 * into the top level first, as Linkerd does. Undefined when the key is empty.
 */
export function parseLinkerdValues(cm: ConfigMap): LinkerdValues | undefined {
  // The same ConfigMap object is shared by every check of a run: parse its YAML once.
  if (parsed.has(cm)) return parsed.get(cm);
  const v = parseValues(cm);
  parsed.set(cm, v);
  return v;
}

const parsed = new WeakMap<ConfigMap, LinkerdValues | undefined>();

function parseValues(cm: ConfigMap): LinkerdValues | undefined {
  const raw = cm.data?.values;
  if (!raw) return undefined;
  const doc = parse(raw) as unknown;
  if (!isTree(doc)) throw new Error("error unmarshaling JSON: the values of linkerd-config are not a map");
  const v: Tree = { ...doc };
  if ("global" in v) {
    if (isTree(v.global)) Object.assign(v, v.global);
    delete v.global;
  }
  const identity = isTree(v.identity) ? v.identity : {};
  const issuer = isTree(identity.issuer) ? identity.issuer : {};
  const proxyInit = isTree(v.proxyInit) ? v.proxyInit : {};
  return {
    linkerdVersion: s(v.linkerdVersion),
    clusterNetworks: s(v.clusterNetworks),
    clusterDomain: s(v.clusterDomain) || "cluster.local",
    highAvailability: b(v.highAvailability),
    disableHeartBeat: b(v.disableHeartBeat),
    cniEnabled: b(v.cniEnabled),
    identityTrustAnchorsPEM: s(v.identityTrustAnchorsPEM),
    identityTrustDomain: s(v.identityTrustDomain),
    issuerScheme: s(issuer.scheme),
    proxyInitRunAsRoot: b(proxyInit.runAsRoot),
  };
}
