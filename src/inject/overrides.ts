/**
 * How flags and pod annotations change the proxy values: the override annotations
 * inject writes for flags that differ from the base config (Linkerd's
 * getOverrideAnnotations), and the per-pod annotation overrides the injector honours
 * (applyAnnotationOverrides), with Linkerd's parsing rules and its silent ignoring of
 * invalid values (reported here as warnings).
 */
import type { ProxyTemplateValues } from "../proxy/types.js";
import { isQuantity, wholeCores } from "../proxy/quantity.js";
import { A, INBOUND_POLICIES, INJECT } from "./annotations.js";
import { atoi, parseBool, parseGoDuration, parseInt10, parseUint10 } from "./go.js";

/** The values injection works on: a private deep copy of the proxy slice of the config. */
export type InjectValues = ProxyTemplateValues;

type Obj = Record<string, unknown>;

/** Copies the keys injection needs from a full values object (linkerd-config or install Values). */
export function pickInjectValues(v: ProxyTemplateValues): InjectValues {
  const keys: (keyof ProxyTemplateValues)[] = [
    "linkerdVersion", "clusterDomain", "clusterNetworks", "identityTrustDomain", "identityTrustAnchorsPEM",
    "imagePullPolicy", "cniEnabled", "identity", "proxy", "proxyInit", "networkValidator", "debugContainer",
  ];
  const out: Obj = {};
  for (const k of keys) if (v[k] !== undefined) out[k] = structuredClone(k === "identity" ? { serviceAccountTokenProjection: v.identity?.serviceAccountTokenProjection } : v[k]);
  return out as InjectValues;
}

const str = (v: unknown): string => (v === undefined || v === null ? "" : String(v));
const num = (v: unknown): number => (typeof v === "number" ? v : 0);

/** The `config.linkerd.io/*` annotations for the values that flags changed (spec §4.3). */
export function overrideAnnotations(values: InjectValues, base: InjectValues): Record<string, string> {
  const out: Record<string, string> = {};
  const p = values.proxy ?? {};
  const bp = base.proxy ?? {};
  const pi = values.proxyInit ?? {};
  const bpi = base.proxyInit ?? {};
  const cmp = (a: unknown, b: unknown, key: string, val: string) => {
    if (a !== b) out[key] = val;
  };
  cmp(str(p.image?.version), str(bp.image?.version), A.proxyVersion, str(p.image?.version));
  cmp(str(pi.ignoreInboundPorts), str(bpi.ignoreInboundPorts), A.skipInboundPorts, str(pi.ignoreInboundPorts));
  cmp(str(pi.ignoreOutboundPorts), str(bpi.ignoreOutboundPorts), A.skipOutboundPorts, str(pi.ignoreOutboundPorts));
  cmp(num(p.ports?.admin), num(bp.ports?.admin), A.adminPort, String(num(p.ports?.admin)));
  cmp(num(p.ports?.control), num(bp.ports?.control), A.controlPort, String(num(p.ports?.control)));
  cmp(num(p.ports?.inbound), num(bp.ports?.inbound), A.inboundPort, String(num(p.ports?.inbound)));
  cmp(num(p.ports?.outbound), num(bp.ports?.outbound), A.outboundPort, String(num(p.ports?.outbound)));
  cmp(str(p.opaquePorts), str(bp.opaquePorts), A.opaquePorts, str(p.opaquePorts));
  cmp(str(p.image?.name), str(bp.image?.name), A.proxyImage, str(p.image?.name));
  cmp(str(pi.image?.name), str(bpi.image?.name), A.initImage, str(pi.image?.name));
  cmp(str(values.debugContainer?.image?.name), str(base.debugContainer?.image?.name), A.debugImage, str(values.debugContainer?.image?.name));
  cmp(str(pi.image?.version), str(bpi.image?.version), A.initImageVersion, str(pi.image?.version));
  cmp(str(values.debugContainer?.image?.version), str(base.debugContainer?.image?.version), A.debugImageVersion, str(values.debugContainer?.image?.version));
  cmp(str(p.image?.pullPolicy), str(bp.image?.pullPolicy), A.imagePullPolicy, str(p.image?.pullPolicy));
  cmp(num(p.uid), num(bp.uid), A.proxyUid, String(num(p.uid)));
  cmp(str(p.logLevel), str(bp.logLevel), A.logLevel, str(p.logLevel));
  cmp(str(p.logFormat), str(bp.logFormat), A.logFormat, str(p.logFormat));
  cmp(str(p.requireIdentityOnInboundPorts), str(bp.requireIdentityOnInboundPorts), A.requireIdentity, str(p.requireIdentityOnInboundPorts));
  cmp(Boolean(p.enableExternalProfiles), Boolean(bp.enableExternalProfiles), A.enableExternalProfiles, String(Boolean(p.enableExternalProfiles)));
  if (Boolean(p.isIngress) !== Boolean(bp.isIngress)) out[INJECT] = "ingress";
  const r = (v: InjectValues, k: "cpu" | "memory", f: "request" | "limit") => str(v.proxy?.resources?.[k]?.[f]);
  cmp(r(values, "cpu", "request"), r(base, "cpu", "request"), A.cpuRequest, r(values, "cpu", "request"));
  cmp(r(values, "cpu", "limit"), r(base, "cpu", "limit"), A.cpuLimit, r(values, "cpu", "limit"));
  cmp(r(values, "memory", "request"), r(base, "memory", "request"), A.memoryRequest, r(values, "memory", "request"));
  cmp(r(values, "memory", "limit"), r(base, "memory", "limit"), A.memoryLimit, r(values, "memory", "limit"));
  cmp(num(p.waitBeforeExitSeconds), num(bp.waitBeforeExitSeconds), A.waitBeforeExitSeconds, String(num(p.waitBeforeExitSeconds)));
  if (Boolean(p.await) !== Boolean(bp.await)) out[A.proxyAwait] = p.await ? "enabled" : "disabled";
  cmp(str(p.defaultInboundPolicy), str(bp.defaultInboundPolicy), A.defaultInboundPolicy, str(p.defaultInboundPolicy));
  cmp(str(p.accessLog), str(bp.accessLog), A.accessLog, str(p.accessLog));
  cmp(str(p.shutdownGracePeriod), str(bp.shutdownGracePeriod), A.shutdownGracePeriod, str(p.shutdownGracePeriod));
  return out;
}

export interface PortsOwner {
  ports?: { name?: unknown; containerPort?: unknown }[] | null;
}

/** `config.linkerd.io/opaque-ports`: names of container ports become numbers, `a-b` ranges stay, the rest is dropped. */
export function parseOpaquePorts(value: string, containers: PortsOwner[], warn: (m: string) => void): string {
  const out: string[] = [];
  const entries = (value.endsWith(",") ? value.slice(0, -1) : value).split(",").map((s) => s.trim());
  for (const pr of entries) {
    let named: number | undefined;
    for (const c of containers) for (const p of c.ports ?? []) if (named === undefined && p && p.name === pr) named = Number(p.containerPort) || 0;
    if (named !== undefined) {
      out.push(String(named));
      continue;
    }
    const bounds = pr.split("-");
    const lo = bounds.length <= 2 ? atoi(bounds[0]) : undefined;
    const hi = bounds.length === 2 ? atoi(bounds[1]) : lo;
    const ok = (x: number | undefined): x is number => x !== undefined && x >= 0 && x <= 65535;
    if (!ok(lo) || !ok(hi) || hi < lo) {
      warn(`invalid port range [${pr}]`);
      continue;
    }
    out.push(lo === hi ? String(lo) : `${lo}-${hi}`);
  }
  return out.join(",");
}

const ms = (ns: number) => `${Math.trunc(ns / 1e6)}ms`;
const secs = (ns: number) => `${Math.trunc(ns / 1e9)}s`;

function ensure(o: Obj, k: string): Obj {
  if (o[k] === null || typeof o[k] !== "object") o[k] = {};
  return o[k] as Obj;
}

/**
 * Applies a pod's `config.linkerd.io/*` annotations to (a copy of) the values, as the
 * injector does. Invalid values are ignored; `warn` hears about them.
 */
export function applyAnnotationOverrides(v: InjectValues, ann: Record<string, string>, containers: PortsOwner[], warn: (m: string) => void): void {
  const proxy = ensure(v as Obj, "proxy");
  const proxyInit = ensure(v as Obj, "proxyInit");
  const ports = ensure(proxy, "ports");
  const pImage = ensure(proxy, "image");
  const iImage = ensure(proxyInit, "image");
  const has = (k: string) => Object.prototype.hasOwnProperty.call(ann, k);
  const get = (k: string) => ann[k];
  if (has(INJECT) && get(INJECT) === "ingress") proxy.isIngress = true;
  if (has(A.proxyImage)) pImage.name = get(A.proxyImage);
  if (has(A.proxyVersion)) pImage.version = get(A.proxyVersion);
  if (has(A.imagePullPolicy)) pImage.pullPolicy = get(A.imagePullPolicy);
  if (has(A.initImageVersion)) iImage.version = get(A.initImageVersion);
  for (const [key, field] of [[A.controlPort, "control"], [A.inboundPort, "inbound"], [A.adminPort, "admin"], [A.outboundPort, "outbound"]] as const) {
    if (!has(key)) continue;
    const n = parseInt10(get(key), 32);
    if (n !== undefined) ports[field] = n;
  }
  if (has(A.podInboundPorts)) proxy.podInboundPorts = get(A.podInboundPorts);
  if (has(A.logLevel)) proxy.logLevel = get(A.logLevel);
  if (has(A.logFormat)) proxy.logFormat = get(A.logFormat);
  if (has(A.requireIdentity)) proxy.requireIdentityOnInboundPorts = get(A.requireIdentity);
  const duration = (key: string, field: string, fmt: (ns: number) => string) => {
    if (!has(key)) return;
    const d = parseGoDuration(get(key));
    if (d === undefined) warn(`unrecognized duration value used on pod annotation ${key}: ${get(key)}`);
    else proxy[field] = fmt(d);
  };
  duration(A.outboundConnectTimeout, "outboundConnectTimeout", ms);
  duration(A.inboundConnectTimeout, "inboundConnectTimeout", ms);
  duration(A.outboundDiscoveryCacheUnusedTimeout, "outboundDiscoveryCacheUnusedTimeout", secs);
  duration(A.inboundDiscoveryCacheUnusedTimeout, "inboundDiscoveryCacheUnusedTimeout", secs);
  const flag = (key: string, field: string, warnInvalid: boolean) => {
    if (!has(key)) return;
    const b = parseBool(get(key));
    if (b === undefined) {
      if (warnInvalid) warn(`unrecognised value used on pod annotation ${key}: ${get(key)}`);
    } else proxy[field] = b;
  };
  flag(A.disableOutboundDetectTimeout, "disableOutboundProtocolDetectTimeout", true);
  flag(A.disableInboundDetectTimeout, "disableInboundProtocolDetectTimeout", true);
  duration(A.shutdownGracePeriod, "shutdownGracePeriod", ms);
  flag(A.enableGateway, "isGateway", false);
  if (has(A.waitBeforeExitSeconds)) {
    const n = parseUint10(get(A.waitBeforeExitSeconds));
    if (n === undefined) warn(`unrecognized value used for the ${A.waitBeforeExitSeconds} annotation, uint64 is expected: ${get(A.waitBeforeExitSeconds)}`);
    else proxy.waitBeforeExitSeconds = n;
  }
  const resources = () => ensure(proxy, "resources");
  const quantity = (key: string, kind: string, field: "request" | "limit") => {
    if (!has(key)) return false;
    if (!isQuantity(get(key))) {
      warn(`quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$' (${key})`);
      return false;
    }
    ensure(resources(), kind)[field] = get(key);
    return true;
  };
  quantity(A.cpuRequest, "cpu", "request");
  quantity(A.memoryRequest, "memory", "request");
  quantity(A.ephemeralStorageRequest, "ephemeral-storage", "request");
  if (quantity(A.cpuLimit, "cpu", "limit")) proxy.cores = wholeCores(get(A.cpuLimit)) ?? 0;
  quantity(A.memoryLimit, "memory", "limit");
  quantity(A.ephemeralStorageLimit, "ephemeral-storage", "limit");
  if (has(A.proxyUid)) {
    const n = parseInt10(get(A.proxyUid), 64);
    if (n !== undefined) proxy.uid = n;
  }
  flag(A.enableExternalProfiles, "enableExternalProfiles", false);
  if (has(A.initImage)) iImage.name = get(A.initImage);
  if (has(A.imagePullPolicy)) iImage.pullPolicy = get(A.imagePullPolicy);
  if (has(A.skipInboundPorts)) proxyInit.ignoreInboundPorts = get(A.skipInboundPorts);
  if (has(A.skipOutboundPorts)) proxyInit.ignoreOutboundPorts = get(A.skipOutboundPorts);
  if (has(A.opaquePorts)) proxy.opaquePorts = parseOpaquePorts(get(A.opaquePorts), containers, warn);
  const debugImage = ensure(ensure(v as Obj, "debugContainer"), "image");
  if (has(A.debugImage)) debugImage.name = get(A.debugImage);
  if (has(A.debugImageVersion)) debugImage.version = get(A.debugImageVersion);
  if (has(A.debugImagePullPolicy)) debugImage.pullPolicy = get(A.debugImagePullPolicy);
  if (has(A.proxyAwait)) {
    const a = get(A.proxyAwait);
    if (a === "enabled" || a === "disabled") proxy.await = a === "enabled";
    else warn(`unrecognized value used for the ${A.proxyAwait} annotation, valid values are: [enabled, disabled]`);
  }
  if (has(A.defaultInboundPolicy)) {
    const p = get(A.defaultInboundPolicy);
    if (INBOUND_POLICIES.includes(p)) proxy.defaultInboundPolicy = p;
    else warn(`unrecognized value used for the ${A.defaultInboundPolicy} annotation, valid values are: [${INBOUND_POLICIES.join(", ")}]`);
  }
  if (has(A.skipSubnets)) proxyInit.skipSubnets = get(A.skipSubnets);
  if (has(A.accessLog)) proxy.accessLog = get(A.accessLog);
}
