/**
 * Checks of the final values before anything renders (Linkerd's validateValues and
 * validateProxyValues, spec §2.17, plus the chart's webhook rules). Unlike Linkerd, which
 * checks only what flags set, these run on the merged values, so `--set` and `-f` values are
 * checked too. Integer fields given as strings (`--set-string controllerReplicas=3`) become
 * numbers, so that linkerd-config keeps the types Linkerd's controllers parse.
 */
import { isIP } from "node:net";
import { isQuantity } from "../proxy/quantity.js";
import { MeshError } from "../errors.js";
import { truthy, WEBHOOKS } from "./context.js";
import { getPath, isTree, type Tree, type Values } from "./values.js";

const VERSION_RE = /^[.a-zA-Z0-9-]+$/;
const LOG_LEVELS = ["panic", "fatal", "error", "warn", "warning", "info", "debug", "trace"];
const PROXY_LOG_LEVEL_RE = /^(((trace|debug|warn|info|error)|(\w|::)+|((\w|::)+=(trace|debug|warn|info|error)))(?:,|$))+$/;
const POLICIES = ["all-authenticated", "all-unauthenticated", "cluster-authenticated", "cluster-unauthenticated", "deny"];
const PULL_POLICIES = ["Always", "IfNotPresent", "Never"];
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Integer fields of the values (paths), coerced from numeric strings. */
const INTEGER_PATHS = [
  "controllerReplicas",
  "controllerUID",
  "proxy.uid",
  "proxy.cores",
  "proxy.waitBeforeExitSeconds",
  "proxy.ports.admin",
  "proxy.ports.control",
  "proxy.ports.inbound",
  "proxy.ports.outbound",
  "proxyInit.runAsUser",
  "proxyInit.closeWaitTimeoutSecs",
  "identity.kubeAPI.clientBurst",
];

const fail = (message: string, hint?: string): never => {
  throw new MeshError(message, hint);
};

function coerceIntegers(v: Values): void {
  for (const path of INTEGER_PATHS) {
    const parts = path.split(".");
    const parent = getPath(v, parts.slice(0, -1).join(".")) ?? (parts.length === 1 ? v : undefined);
    const key = parts[parts.length - 1];
    if (!isTree(parent) || !(key in parent)) continue;
    const x = parent[key];
    if (typeof x === "number" && Number.isInteger(x)) continue;
    if (typeof x === "string" && /^[+-]?\d+$/.test(x.trim())) parent[key] = Number(x.trim());
    else fail(`${path}: ${JSON.stringify(x)} is not an integer`);
  }
}

/** Is `s` a valid IPv4/IPv6 CIDR, as Go's net.ParseCIDR accepts it? */
export function isCidr(s: string): boolean {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
  if (!m) return false;
  const family = isIP(m[1]);
  return family !== 0 && Number(m[2]) <= (family === 4 ? 32 : 128) && !(family === 4 && /(^|\.)0\d/.test(m[1]));
}

/** A DNS-1123 subdomain, as Kubernetes' IsDNS1123Subdomain checks it. */
export function dns1123SubdomainError(s: string): string | undefined {
  if (s.length > 253) return "must be no more than 253 characters";
  if (!s.split(".").every((l) => DNS1123_LABEL.test(l)))
    return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
  return undefined;
}

/** Ports and port ranges (`80`, `1000-2000`), as Linkerd's validateRangeSlice. */
export function portRangeError(entry: string): string | undefined {
  const port = (s: string) => /^\d+$/.test(s) && Number(s) <= 65535;
  if (entry.includes("-")) {
    const bounds = entry.split("-");
    if (bounds.length !== 2) return "ranges expected as <lower>-<upper>";
    if (!port(bounds[0])) return `"${bounds[0]}" is not a valid lower-bound`;
    if (!port(bounds[1])) return `"${bounds[1]}" is not a valid upper-bound`;
    if (Number(bounds[1]) < Number(bounds[0])) return `"${entry}": upper-bound must be greater than or equal to lower-bound`;
    return undefined;
  }
  return port(entry) ? undefined : `"${entry}" is not a valid port nor port-range`;
}

/** A quantity's value in milli-units, for comparing requests with limits. */
function milli(q: string): number {
  const m = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(.*)$/.exec(q)!;
  const scale: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
  const suffix = m[2];
  const factor = suffix in scale ? scale[suffix] : 10 ** Number(suffix.slice(1));
  return Number(m[1]) * factor * 1000;
}

const s = (x: unknown): string => (x === undefined || x === null ? "" : String(x));

function validateWebhook(name: string, w: Tree | undefined): void {
  if (!w) return;
  const injectFrom = truthy(w.injectCaFrom);
  const injectSecret = truthy(w.injectCaFromSecret);
  const bundle = truthy(w.caBundle);
  if (injectFrom && injectSecret) fail(`${name}: injectCaFrom and injectCaFromSecret cannot both be set`);
  if ((injectFrom || injectSecret) && bundle) fail(`${name}: injectCaFrom or injectCaFromSecret cannot be set if providing a caBundle`);
  if (truthy(w.externalSecret) && !bundle && !injectFrom && !injectSecret)
    fail(`${name}: if externalSecret is set, then caBundle, injectCaFrom, or injectCaFromSecret must be set`);
  if ((bundle || injectFrom || injectSecret) && !truthy(w.externalSecret))
    fail(`${name}: if caBundle, injectCaFrom, or injectCaFromSecret is set, then externalSecret must be set`);
  if (truthy(w.crtPEM) !== truthy(w.keyPEM)) fail(`${name}: crtPEM and keyPEM must be given together`);
}

/**
 * Validates (and normalises, see coerceIntegers) the final values. Throws a MeshError naming the
 * first problem. Identity credentials are checked separately (src/tls).
 */
export function validateValues(v: Values): void {
  coerceIntegers(v);
  if (!VERSION_RE.test(s(v.linkerdVersion))) fail(`${s(v.linkerdVersion)} is not a valid version`);
  if (!LOG_LEVELS.includes(s(v.controllerLogLevel).toLowerCase()))
    fail("--controller-log-level must be one of: panic, fatal, error, warn, info, debug, trace", `got "${s(v.controllerLogLevel)}"`);
  const proxy = v.proxy ?? ({} as Values["proxy"]);
  if (!s(proxy.logLevel)) fail("--proxy-log-level must not be empty");
  if (truthy(v.identityTrustDomain)) {
    const err = dns1123SubdomainError(s(v.identityTrustDomain));
    if (err) fail(`invalid trust domain '${s(v.identityTrustDomain)}': ${err}`);
  }
  for (const net of s(v.clusterNetworks).split(","))
    if (!isCidr(net)) fail(`cannot parse destination get networks: invalid CIDR address: ${net}`, "clusterNetworks is a comma-separated list of CIDRs");
  const proxyVersion = s(proxy.image?.version);
  if (proxyVersion && !VERSION_RE.test(proxyVersion)) fail(`${proxyVersion} is not a valid version`);
  const initVersion = s(v.proxyInit?.image?.version);
  if (!VERSION_RE.test(initVersion)) fail(`${initVersion} is not a valid version`);
  if (!PULL_POLICIES.includes(s(v.imagePullPolicy))) fail("--image-pull-policy must be one of: Always, IfNotPresent, Never", `got "${s(v.imagePullPolicy)}"`);
  const r = proxy.resources ?? {};
  for (const kind of ["cpu", "memory"] as const) {
    const flag = kind === "cpu" ? "cpu" : "memory";
    const request = s(r[kind]?.request);
    const limit = s(r[kind]?.limit);
    if (request && !isQuantity(request)) fail(`Invalid ${flag} request '${request}' for --proxy-${flag}-request flag`);
    if (limit && !isQuantity(limit)) fail(`Invalid ${flag} limit '${limit}' for --proxy-${flag}-limit flag`);
    if (request && limit && milli(request) > milli(limit)) fail(`The ${flag} limit '${limit}' cannot be lower than the ${flag} request '${request}'`);
  }
  if (!PROXY_LOG_LEVEL_RE.test(s(proxy.logLevel)))
    fail(`"${s(proxy.logLevel)}" is not a valid proxy log level`, "for the syntax see https://docs.rs/env_logger/0.6.0/env_logger/#enabling-logging");
  for (const key of ["ignoreInboundPorts", "ignoreOutboundPorts"] as const) {
    const list = s(v.proxyInit?.[key]);
    if (!list) continue;
    for (const entry of list.split(",")) {
      const err = portRangeError(entry);
      if (err) fail(`proxyInit.${key}: ${err}`);
    }
  }
  if (!POLICIES.includes(s(proxy.defaultInboundPolicy)))
    fail(`--default-inbound-policy must be one of: ${POLICIES.join(", ")} (got ${s(proxy.defaultInboundPolicy)})`);
  const mode = s(v.proxyInit?.iptablesMode) || "legacy";
  if (mode !== "legacy" && mode !== "nft") fail(`unsupported value "${mode}" for proxyInit.iptablesMode`, 'valid values are "nft" and "legacy"');
  for (const { values } of Object.values(WEBHOOKS)) validateWebhook(values, v[values] as unknown as Tree | undefined);
  const scheme = s(v.identity?.issuer?.scheme);
  if (scheme !== "linkerd.io/tls" && scheme !== "kubernetes.io/tls")
    fail(`unknown identity issuer scheme "${scheme}"`, "identity.issuer.scheme is linkerd.io/tls, or kubernetes.io/tls with --identity-external-issuer");
}
