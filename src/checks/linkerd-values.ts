import * as yamlModule from "yaml";
import { namedExports, parseYamlSafe, YamlInputError } from "../yaml-lib.js";
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
  let doc: unknown;
  try {
    // the cluster's text: parsed with the rules for hostile input (bounded nesting, no excerpts)
    doc = scanValues(raw) ?? parseYamlSafe(raw, {}, namedExports(yamlModule))[0];
  } catch (err) {
    if (err instanceof YamlInputError) throw new Error(`the values of linkerd-config are not valid YAML: ${err.message}`);
    throw err;
  }
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

/** The paths of `values` the checks read; the scanner below extracts only these. */
const WANTED = new Set([
  "linkerdVersion",
  "clusterNetworks",
  "clusterDomain",
  "highAvailability",
  "disableHeartBeat",
  "cniEnabled",
  "identityTrustAnchorsPEM",
  "identityTrustDomain",
  "identity.issuer.scheme",
  "proxyInit.runAsRoot",
]);

/**
 * A quick read of the block-style YAML Helm and `mesh install` write (a full YAML parse of the
 * 6 kB values costs tens of milliseconds on a cold start): keys by indentation, plain and quoted
 * scalars, `|` block scalars. Returns undefined, so that the caller parses for real, on anything
 * else that touches a wanted key or on a legacy top-level `global` map.
 */
export function scanValues(raw: string): Tree | undefined {
  const lines = raw.split("\n");
  const out: Tree = {};
  const stack: { indent: number; key: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (/^\s*(#.*)?$/.test(line)) continue;
    const indent = line.length - line.trimStart().length;
    const body = line.slice(indent);
    if (body.startsWith("- ") || body === "-") continue; // sequence items: nothing wanted lives in one
    const m = /^([A-Za-z0-9_.\/-]+|"[^"]*"):(?:\s+(.*))?$/.exec(body);
    if (!m) {
      if (indent === 0) return undefined;
      continue; // continuation of a flow or multi-line value we do not need
    }
    while (stack.length && stack[stack.length - 1].indent >= indent) stack.pop();
    const key = m[1].replace(/^"|"$/g, "");
    if (indent === 0 && key === "global") return undefined;
    const path = [...stack.map((f) => f.key), key].join(".");
    const value = m[2] ?? "";
    const block = /^\|([+-]?)\s*$/.exec(value);
    if (block) {
      // block scalar: the following lines indented deeper than the key
      const text: string[] = [];
      let inner = -1;
      while (i + 1 < lines.length) {
        const next = lines[i + 1];
        const ni = next.length - next.trimStart().length;
        if (next.trim() !== "" && ni <= indent) break;
        if (inner < 0 && next.trim() !== "") inner = ni;
        text.push(next.trim() === "" ? "" : next.slice(inner));
        i++;
      }
      if (WANTED.has(path)) {
        let t = text.join("\n");
        if (block[1] === "-") t = t.replace(/\n+$/, "");
        else if (block[1] === "") t = t.replace(/\n*$/, "\n");
        set(out, path, t);
      }
      continue;
    }
    if (value === "") {
      stack.push({ indent, key });
      continue;
    }
    if (!WANTED.has(path)) continue;
    const scalar = scalarValue(value);
    if (scalar === undefined) return undefined;
    set(out, path, scalar);
  }
  return out;
}

function scalarValue(v: string): unknown {
  const t = v.replace(/\s+#.*$/, "").trim();
  if (/^"(?:[^"\\]|\\.)*"$/.test(t)) return JSON.parse(t) as string;
  if (/^'(?:[^']|'')*'$/.test(t)) return t.slice(1, -1).replace(/''/g, "'");
  if (/^[&*!|>{[\]'"%@`]/.test(t)) return undefined;
  if (t === "true" || t === "false") return t === "true";
  if (t === "null" || t === "~") return null;
  return t;
}

function set(out: Tree, path: string, value: unknown): void {
  const parts = path.split(".");
  let cur = out;
  for (const p of parts.slice(0, -1)) cur = (isTree(cur[p]) ? cur[p] : (cur[p] = {})) as Tree;
  cur[parts[parts.length - 1]] = value;
}
