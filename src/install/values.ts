import { readFileSync } from "node:fs";
import { MeshError } from "../errors.js";
import { templatesDir } from "../paths.js";
import { CREATED_BY, LINKERD_VERSION } from "../version.js";
import { readYamlDocuments } from "./yaml-read.js";

/** A YAML/JSON map as it comes out of a parser. */
export type Tree = { [key: string]: unknown };

export interface Constraint {
  limit?: string;
  request?: string;
}

/** Requests and limits; "" (or a missing entry) leaves one out. */
export interface Resources {
  cpu?: Constraint;
  memory?: Constraint;
  "ephemeral-storage"?: Constraint;
}

export interface Image {
  name: string;
  pullPolicy: string;
  version: string;
}

export interface Capabilities {
  add?: string[];
  drop?: string[];
}

export interface VolumeMountPath {
  name: string;
  mountPath: string;
  readOnly: boolean;
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export interface WebhookValues {
  externalSecret: boolean;
  crtPEM: string;
  keyPEM: string;
  caBundle: string;
  injectCaFrom: string;
  injectCaFromSecret: string;
  namespaceSelector: LabelSelector;
  objectSelector?: LabelSelector | null;
}

export interface ProxyValues {
  image: Image;
  logLevel: string;
  logFormat: string;
  ports: { admin: number; control: number; inbound: number; outbound: number };
  cores: number;
  resources: Resources;
  uid: number;
  capabilities: Capabilities | null;
  saMountPath: VolumeMountPath | null;
  waitBeforeExitSeconds: number;
  await: boolean;
  requireIdentityOnInboundPorts: string;
  podInboundPorts: string;
  opaquePorts: string;
  outboundConnectTimeout: string;
  inboundConnectTimeout: string;
  outboundDiscoveryCacheUnusedTimeout: string;
  inboundDiscoveryCacheUnusedTimeout: string;
  disableOutboundProtocolDetectTimeout: boolean;
  disableInboundProtocolDetectTimeout: boolean;
  enableExternalProfiles: boolean;
  isGateway: boolean;
  isIngress: boolean;
  accessLog: string;
  shutdownGracePeriod: string;
  defaultInboundPolicy: string;
}

export interface ProxyInitValues {
  iptablesMode: string;
  ignoreInboundPorts: string;
  ignoreOutboundPorts: string;
  kubeAPIServerPorts: string;
  skipSubnets: string;
  logLevel: string;
  logFormat: string;
  image: Image;
  resources: Resources;
  capabilities: Capabilities | null;
  closeWaitTimeoutSecs: number;
  privileged: boolean;
  runAsRoot: boolean;
  runAsUser: number;
  saMountPath: VolumeMountPath | null;
  xtMountPath: VolumeMountPath;
}

/**
 * The values of the control plane: the shape of templates/values.yaml (which documents every
 * key). After `--set`/`-f` overrides a value may hold another type than declared here; code that
 * reads user-reachable values tolerates that (see validate.ts).
 */
export interface Values {
  linkerdVersion: string;
  cliVersion: string;
  proxyContainerName: string;
  clusterDomain: string;
  identityTrustDomain: string;
  clusterNetworks: string;
  imagePullPolicy: string;
  imagePullSecrets: { name: string }[] | null;
  controllerImage: string;
  controllerImageVersion: string;
  controllerReplicas: number;
  controllerUID: number;
  controllerLogLevel: string;
  controllerLogFormat: string;
  controlPlaneTracing: boolean;
  controlPlaneTracingNamespace: string;
  deploymentStrategy: Tree;
  enableEndpointSlices: boolean;
  enableH2Upgrade: boolean;
  enablePodAntiAffinity: boolean;
  enablePodDisruptionBudget: boolean;
  enablePprof: boolean;
  enablePSP: boolean;
  highAvailability: boolean;
  cniEnabled: boolean;
  webhookFailurePolicy: string;
  disableHeartBeat: boolean;
  heartbeatSchedule: string;
  prometheusUrl: string;
  identityTrustAnchorsPEM: string;
  podAnnotations: Record<string, string>;
  podLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  priorityClassName: string;
  runtimeClassName: string;
  nodeSelector: Record<string, string>;
  nodeAffinity: Tree | null;
  tolerations: Tree[] | null;
  destinationResources: Resources | null;
  identityResources: Resources | null;
  heartbeatResources: Resources | null;
  proxyInjectorResources: Resources | null;
  spValidatorResources: Resources | null;
  destinationProxyResources: Resources | null;
  identityProxyResources: Resources | null;
  proxyInjectorProxyResources: Resources | null;
  identity: {
    externalCA: boolean;
    serviceAccountTokenProjection: boolean;
    issuer: {
      scheme: string;
      clockSkewAllowance: string;
      issuanceLifetime: string;
      tls: { crtPEM: string; keyPEM: string };
    };
    kubeAPI: { clientQPS: number; clientBurst: number };
  };
  policyController: { image: Image; logLevel: string; probeNetworks: string[]; resources: Resources };
  proxy: ProxyValues;
  proxyInit: ProxyInitValues;
  networkValidator: {
    logLevel: string;
    logFormat: string;
    connectAddr: string;
    listenAddr: string;
    timeout: string;
    enableSecurityContext: boolean;
  };
  debugContainer: { image: Image };
  proxyInjector: WebhookValues;
  profileValidator: WebhookValues;
  policyValidator: WebhookValues;
  podMonitor: {
    enabled: boolean;
    scrapeInterval: string;
    scrapeTimeout: string;
    labels: Record<string, string>;
    controller: { enabled: boolean; namespaceSelector: string };
    serviceMirror: { enabled: boolean };
    proxy: { enabled: boolean };
  };
  enableHttpRoutes: boolean;
}

export const isTree = (v: unknown): v is Tree => typeof v === "object" && v !== null && !Array.isArray(v);

/** A deep copy of plain data (maps, lists, scalars). */
export function cloneTree<T>(v: T): T {
  if (Array.isArray(v)) return v.map(cloneTree) as T;
  if (isTree(v)) {
    const out: Tree = {};
    for (const [k, x] of Object.entries(v)) out[k] = cloneTree(x);
    return out as T;
  }
  return v;
}

const cache = new Map<string, Tree>();

function readValuesFile(name: string): Tree {
  let tree = cache.get(name);
  if (!tree) {
    const path = templatesDir(name);
    const parsed: unknown = readYamlDocuments(readFileSync(path, "utf8"), path)[0];
    if (!isTree(parsed)) throw new MeshError(`${path} is not a map of values`);
    cache.set(name, (tree = parsed));
  }
  return cloneTree(tree);
}

/** The built-in defaults: templates/values.yaml with the version fields filled in. */
export function defaultValues(): Values {
  const v = readValuesFile("values.yaml") as unknown as Values;
  v.linkerdVersion = LINKERD_VERSION;
  v.cliVersion = CREATED_BY;
  v.debugContainer.image.version = LINKERD_VERSION;
  return v;
}

/** The `--ha` overlay (templates/values-ha.yaml). */
export function haValues(): Tree {
  return readValuesFile("values-ha.yaml");
}

/**
 * Merges `overlay` into a copy of `base`: maps merge key by key, anything else in the overlay
 * replaces what is in the base. This is how Helm combines `-f` files, and how `--ha` is applied.
 */
export function mergeTrees<T extends object>(base: T, overlay: Tree): T {
  const out: Tree = { ...(base as Tree) };
  for (const [k, v] of Object.entries(overlay)) {
    const current = out[k];
    out[k] = isTree(v) && isTree(current) ? mergeTrees(current, v) : cloneTree(v);
  }
  return out as T;
}

/**
 * Helm's coalescing of user overrides over chart values: overrides win; maps merge deeply; an
 * override of `null` deletes a key that has a default. Where a map meets a non-map the override
 * is kept and a warning is returned, as Helm does.
 */
export function coalesce<T extends object>(defaults: T, overrides: Tree, warnings: string[] = []): T {
  const out = cloneTree(overrides);
  coalesceInto(out, defaults as Tree, "", warnings);
  return out as T;
}

function coalesceInto(dst: Tree, src: Tree, prefix: string, warnings: string[]): void {
  for (const [key, val] of Object.entries(src)) {
    const full = prefix ? `${prefix}.${key}` : key;
    if (!(key in dst)) {
      dst[key] = cloneTree(val);
      continue;
    }
    const dv = dst[key];
    if (dv === null) delete dst[key];
    else if (isTree(dv)) {
      if (isTree(val)) coalesceInto(dv, val, full, warnings);
      else if (val !== null) warnings.push(`${full}: a map replaces the default ${JSON.stringify(val)}`);
    } else if (isTree(val)) warnings.push(`${full}: ${JSON.stringify(dv)} replaces a map of defaults`);
  }
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isTree(a) && isTree(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

/**
 * What `actual` changes relative to `defaults`, as an override tree: changed leaves (lists are
 * compared whole), and `null` for keys that were deleted. Applying it with `coalesce` over the
 * defaults gives back `actual`. This is the content of Secret `linkerd-config-overrides`.
 */
export function diffValues(defaults: Tree, actual: Tree): Tree {
  const out: Tree = {};
  for (const [k, v] of Object.entries(actual)) {
    if (!(k in defaults)) {
      out[k] = cloneTree(v);
      continue;
    }
    const d = defaults[k];
    if (isTree(d) && isTree(v)) {
      const sub = diffValues(d, v);
      if (Object.keys(sub).length) out[k] = sub;
    } else if (!deepEqual(d, v)) out[k] = cloneTree(v);
  }
  for (const k of Object.keys(defaults)) if (!(k in actual)) out[k] = null;
  return out;
}

/** A copy with map keys sorted at every level, as Go's YAML and JSON encoders write them. */
export function sortKeys<T>(v: T): T {
  if (Array.isArray(v)) return v.map(sortKeys) as T;
  if (isTree(v)) {
    const out: Tree = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys(v[k]);
    return out as T;
  }
  return v;
}

/** The value at a dotted path, or undefined. */
export function getPath(tree: unknown, path: string): unknown {
  let cur = tree;
  for (const part of path.split(".")) {
    if (!isTree(cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}
