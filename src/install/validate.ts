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
import { sanitize } from "../output/sanitize.js";
import { truthy, WEBHOOKS } from "./context.js";
import { getPath, isTree, type Tree, type Values } from "./values.js";

const VERSION_RE = /^[.a-zA-Z0-9-]+$/;
const LOG_LEVELS = ["panic", "fatal", "error", "warn", "warning", "info", "debug", "trace"];
const PROXY_LOG_LEVEL_RE = /^(((trace|debug|warn|info|error)|(\w|::)+|((\w|::)+=(trace|debug|warn|info|error)))(?:,|$))+$/;
const POLICIES = ["all-authenticated", "all-unauthenticated", "cluster-authenticated", "cluster-unauthenticated", "deny"];
const PULL_POLICIES = ["Always", "IfNotPresent", "Never"];
const VERSION_HINT = "versions hold only letters, digits, '.' and '-'";
const QUANTITY_HINT = "use a quantity such as 100m, 1, 64Mi or 1Gi";
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const INT32_MAX = 2147483647;
const PORT: [number, number] = [1, 65535];
/** Kubernetes' range of a user or group id (runAsUser). */
const UID: [number, number] = [0, INT32_MAX];
const COUNT: [number, number] = [0, INT32_MAX];

/**
 * Integer fields of the values (paths) and the range of the Kubernetes field (or flag) each
 * becomes; numeric strings are coerced, anything else, and anything out of range, is an error.
 */
const INTEGER_PATHS: [path: string, range: [number, number]][] = [
  ["controllerReplicas", COUNT],
  ["controllerUID", UID],
  ["proxy.uid", UID],
  ["proxy.cores", COUNT],
  ["proxy.waitBeforeExitSeconds", COUNT],
  ["proxy.ports.admin", PORT],
  ["proxy.ports.control", PORT],
  ["proxy.ports.inbound", PORT],
  ["proxy.ports.outbound", PORT],
  ["proxyInit.runAsUser", UID],
  ["proxyInit.closeWaitTimeoutSecs", COUNT],
  ["identity.kubeAPI.clientBurst", COUNT],
];

/** A value for a message: printable, one line, short (a --set value can be any length). */
const shown = (x: unknown): string => sanitize(typeof x === "string" ? JSON.stringify(x) : String(JSON.stringify(x) ?? x), 60);

const fail = (message: string, hint?: string): never => {
  throw new MeshError(message, hint);
};

function coerceIntegers(v: Values): void {
  for (const [path, [min, max]] of INTEGER_PATHS) {
    const parts = path.split(".");
    const parent = getPath(v, parts.slice(0, -1).join(".")) ?? (parts.length === 1 ? v : undefined);
    const key = parts[parts.length - 1];
    if (!isTree(parent) || !(key in parent)) continue;
    const x = parent[key];
    let n: number;
    if (typeof x === "number" && Number.isInteger(x)) n = x;
    else if (typeof x === "string" && /^[+-]?\d+$/.test(x.trim())) n = Number(x.trim());
    else return fail(`${path}: ${shown(x)} is not an integer`);
    if (!Number.isSafeInteger(n) || n < min || n > max) fail(`${path}: ${shown(x)} is out of range (${min} to ${max})`, `set ${path} to an integer from ${min} to ${max}`);
    parent[key] = n;
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
  if (s.length > 253) return "is longer than 253 characters";
  if (!s.split(".").every((l) => DNS1123_LABEL.test(l)))
    return "may hold only lower-case letters, digits, '-' and '.', and each part must start and end with a letter or digit";
  return undefined;
}

/** Ports and port ranges (`80`, `1000-2000`), as Linkerd's validateRangeSlice. */
export function portRangeError(entry: string): string | undefined {
  const port = (s: string) => /^\d+$/.test(s) && Number(s) <= 65535;
  if (entry.includes("-")) {
    const bounds = entry.split("-");
    if (bounds.length !== 2 || !port(bounds[0]) || !port(bounds[1])) return `"${entry}" is not a port range`;
    if (Number(bounds[1]) < Number(bounds[0])) return `range "${entry}" ends before it starts`;
    return undefined;
  }
  return port(entry) ? undefined : `"${entry}" is not a port or a port range`;
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
  if (injectFrom && injectSecret) fail(`${name}: injectCaFrom and injectCaFromSecret are both set`, "cert-manager injects the CA bundle from one source: keep one");
  if ((injectFrom || injectSecret) && bundle) fail(`${name}: a caBundle is given and cert-manager is asked to inject one`, "drop caBundle, or injectCaFrom/injectCaFromSecret");
  if (truthy(w.externalSecret) && !bundle && !injectFrom && !injectSecret)
    fail(`${name}: with externalSecret, the API server needs a CA bundle`, `set ${name}.caBundle, ${name}.injectCaFrom or ${name}.injectCaFromSecret`);
  if ((bundle || injectFrom || injectSecret) && !truthy(w.externalSecret))
    fail(`${name}: a CA bundle is configured but mesh generates the webhook's certificate`, `set ${name}.externalSecret=true and provide the secret yourself, or drop the CA bundle settings`);
  if (truthy(w.crtPEM) !== truthy(w.keyPEM)) fail(`${name}: crtPEM and keyPEM must be given together`);
}

/**
 * Validates (and normalises, see coerceIntegers) the final values. Throws a MeshError naming the
 * first problem. Identity credentials are checked separately (src/tls).
 */
export function validateValues(v: Values): void {
  coerceIntegers(v);
  if (!VERSION_RE.test(s(v.linkerdVersion))) fail(`linkerdVersion "${s(v.linkerdVersion)}" is not a valid version`, VERSION_HINT);
  if (!LOG_LEVELS.includes(s(v.controllerLogLevel).toLowerCase()))
    fail(`controller log level "${s(v.controllerLogLevel)}" is not one of panic, fatal, error, warn, info, debug, trace`, "set it with --controller-log-level");
  const proxy = v.proxy ?? ({} as Values["proxy"]);
  if (!s(proxy.logLevel)) fail("the proxy log level is empty", "set it with --proxy-log-level, e.g. warn,linkerd=info");
  if (truthy(v.identityTrustDomain)) {
    const err = dns1123SubdomainError(s(v.identityTrustDomain));
    if (err) fail(`trust domain "${s(v.identityTrustDomain)}" is not a DNS subdomain: it ${err}`, "set it with --identity-trust-domain");
  }
  for (const net of s(v.clusterNetworks).split(","))
    if (!isCidr(net)) fail(`clusterNetworks entry "${net}" is not a CIDR`, "clusterNetworks is a comma-separated list such as 10.0.0.0/8,192.168.0.0/16");
  const proxyVersion = s(proxy.image?.version);
  if (proxyVersion && !VERSION_RE.test(proxyVersion)) fail(`proxy image version "${proxyVersion}" is not a valid version`, VERSION_HINT);
  const initVersion = s(v.proxyInit?.image?.version);
  if (!VERSION_RE.test(initVersion)) fail(`proxy-init image version "${initVersion}" is not a valid version`, VERSION_HINT);
  if (!PULL_POLICIES.includes(s(v.imagePullPolicy))) fail(`image pull policy "${s(v.imagePullPolicy)}" is not one of Always, IfNotPresent, Never`);
  const r = proxy.resources ?? {};
  for (const kind of ["cpu", "memory"] as const) {
    const flag = kind === "cpu" ? "cpu" : "memory";
    const request = s(r[kind]?.request);
    const limit = s(r[kind]?.limit);
    if (request && !isQuantity(request)) fail(`proxy ${flag} request "${request}" is not a Kubernetes quantity`, QUANTITY_HINT);
    if (limit && !isQuantity(limit)) fail(`proxy ${flag} limit "${limit}" is not a Kubernetes quantity`, QUANTITY_HINT);
    if (request && limit && milli(request) > milli(limit))
      fail(`proxy ${flag} limit ${limit} is lower than its request ${request}`, `raise --proxy-${flag}-limit or lower --proxy-${flag}-request`);
  }
  if (!PROXY_LOG_LEVEL_RE.test(s(proxy.logLevel)))
    fail(`proxy log level "${s(proxy.logLevel)}" is not valid`, "use comma-separated levels, targets or target=level pairs, e.g. warn,linkerd=info");
  for (const key of ["ignoreInboundPorts", "ignoreOutboundPorts"] as const) {
    const list = s(v.proxyInit?.[key]);
    if (!list) continue;
    for (const entry of list.split(",")) {
      const err = portRangeError(entry);
      if (err) fail(`proxyInit.${key}: ${err}`, "list ports (0-65535) or ranges such as 8000-8100, separated by commas");
    }
  }
  if (!POLICIES.includes(s(proxy.defaultInboundPolicy)))
    fail(`default inbound policy "${s(proxy.defaultInboundPolicy)}" is not one of ${POLICIES.join(", ")}`, "set it with --default-inbound-policy");
  const mode = s(v.proxyInit?.iptablesMode) || "legacy";
  if (mode !== "legacy" && mode !== "nft") fail(`unsupported value "${mode}" for proxyInit.iptablesMode`, 'valid values are "nft" and "legacy"');
  for (const { values } of Object.values(WEBHOOKS)) validateWebhook(values, v[values] as unknown as Tree | undefined);
  const scheme = s(v.identity?.issuer?.scheme);
  if (scheme !== "linkerd.io/tls" && scheme !== "kubernetes.io/tls")
    fail(`identity issuer scheme "${scheme}" is neither linkerd.io/tls nor kubernetes.io/tls`, "use --identity-external-issuer for kubernetes.io/tls");
}
