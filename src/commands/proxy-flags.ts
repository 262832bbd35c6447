/**
 * The proxy flags shared by `install` and `inject` (spec §2.2, Linkerd's makeProxyFlags)
 * and inject's own flags (makeInjectFlags). Each flag is declared once, with the function
 * that applies it to values; `applySetFlags` applies only the flags the user set, in
 * declaration order, so explicit flags override whatever the values held before.
 */
import { Command, InvalidArgumentError, Option } from "commander";
import { UsageError } from "../errors.js";
import type { ProxyTemplateValues } from "../proxy/types.js";
import { wholeCores } from "../proxy/quantity.js";

/** What the flags write to: the proxy slice of the values plus the two other images `--registry` rewrites. */
export type FlagValues = ProxyTemplateValues & {
  controllerImage?: string;
  policyController?: { image?: { name?: string } | null } | null;
};

type Kind = "string" | "uint" | "int" | "bool" | "list";

export interface FlagSpec {
  /** Long name without dashes, e.g. `proxy-cpu-limit`. */
  name: string;
  short?: string;
  kind: Kind;
  description: string;
  /** Shown as the default in help. */
  defaultText?: string;
  hidden?: boolean;
  /** Replacement advice: the flag still works, with a warning. */
  deprecated?: string;
  /** Read from this environment variable when the flag is not given. */
  env?: string;
  apply: (v: FlagValues, value: never) => void;
}

const obj = <T extends object>(parent: Record<string, unknown>, key: string): T => {
  if (parent[key] === null || typeof parent[key] !== "object") parent[key] = {};
  return parent[key] as T;
};
const proxy = (v: FlagValues) => obj<NonNullable<FlagValues["proxy"]>>(v as Record<string, unknown>, "proxy");
const proxyInit = (v: FlagValues) => obj<NonNullable<FlagValues["proxyInit"]>>(v as Record<string, unknown>, "proxyInit");
const image = (parent: object) => obj<{ name?: string; version?: string; pullPolicy?: string }>(parent as Record<string, unknown>, "image");
const ports = (v: FlagValues) => obj<Record<string, number>>(proxy(v) as Record<string, unknown>, "ports");
const constraint = (v: FlagValues, kind: "cpu" | "memory") =>
  obj<{ limit?: string; request?: string }>(obj<Record<string, unknown>>(proxy(v) as Record<string, unknown>, "resources"), kind);

/** Replaces the registry part (everything before the last `/`) of an image name. */
export function registryOverride(img: string | undefined, registry: string): string | undefined {
  if (!img) return img;
  const prefix = registry && !registry.endsWith("/") ? `${registry}/` : registry;
  return prefix + img.slice(img.lastIndexOf("/") + 1);
}

const str = (name: string, description: string, apply: (v: FlagValues, s: string) => void, extra: Partial<FlagSpec> = {}): FlagSpec =>
  ({ name, kind: "string", description, apply: apply as FlagSpec["apply"], ...extra });
const num = (name: string, kind: "uint" | "int", description: string, apply: (v: FlagValues, n: number) => void, extra: Partial<FlagSpec> = {}): FlagSpec =>
  ({ name, kind, description, apply: apply as FlagSpec["apply"], ...extra });
const list = (name: string, description: string, apply: (v: FlagValues, l: string[]) => void, extra: Partial<FlagSpec> = {}): FlagSpec =>
  ({ name, kind: "list", description, apply: apply as FlagSpec["apply"], ...extra });
const bool = (name: string, description: string, apply: (v: FlagValues, b: boolean) => void, extra: Partial<FlagSpec> = {}): FlagSpec =>
  ({ name, kind: "bool", description, apply: apply as FlagSpec["apply"], ...extra });

/** Proxy flags of install, upgrade and inject, in Linkerd's order. */
export const PROXY_FLAGS: FlagSpec[] = [
  str("proxy-image", "Linkerd proxy container image name", (v, s) => void (image(proxy(v)).name = s), { hidden: true, defaultText: "cr.l5d.io/linkerd/proxy" }),
  str("init-image", "Linkerd init container image name", (v, s) => void (image(proxyInit(v)).name = s), { hidden: true, defaultText: "cr.l5d.io/linkerd/proxy-init" }),
  str("init-image-version", "Linkerd init container image version", (v, s) => void (image(proxyInit(v)).version = s), { hidden: true, defaultText: "v2.2.3" }),
  str(
    "image-pull-policy",
    "Docker image pull policy",
    (v, s) => {
      v.imagePullPolicy = s;
      image(proxy(v)).pullPolicy = s;
      image(proxyInit(v)).pullPolicy = s;
      image(obj(v as Record<string, unknown>, "debugContainer")).pullPolicy = s;
    },
    { hidden: true, defaultText: "IfNotPresent" },
  ),
  num("inbound-port", "uint", "Proxy port to use for inbound traffic", (v, n) => void (ports(v).inbound = n), { defaultText: "4143" }),
  num("outbound-port", "uint", "Proxy port to use for outbound traffic", (v, n) => void (ports(v).outbound = n), { defaultText: "4140" }),
  list("skip-inbound-ports", "Ports and/or port ranges (inclusive) that should skip the proxy and send directly to the application", (v, l) => void (proxyInit(v).ignoreInboundPorts = l.join(","))),
  list("skip-outbound-ports", "Outbound ports and/or port ranges (inclusive) that should skip the proxy", (v, l) => void (proxyInit(v).ignoreOutboundPorts = l.join(","))),
  num("proxy-uid", "int", "Run the proxy under this user ID", (v, n) => void (proxy(v).uid = n), { defaultText: "2102" }),
  str("proxy-log-level", "Log level for the proxy", (v, s) => void (proxy(v).logLevel = s), { defaultText: "warn,linkerd=info,trust_dns=error" }),
  num("control-port", "uint", "Proxy port to use for control", (v, n) => void (ports(v).control = n), { defaultText: "4190" }),
  num("admin-port", "uint", "Proxy port to serve metrics on", (v, n) => void (ports(v).admin = n), { defaultText: "4191" }),
  str("proxy-cpu-request", "Amount of CPU units that the proxy sidecar requests", (v, s) => void (constraint(v, "cpu").request = s)),
  str("proxy-memory-request", "Amount of Memory that the proxy sidecar requests", (v, s) => void (constraint(v, "memory").request = s)),
  str("proxy-cpu-limit", "Maximum amount of CPU units that the proxy sidecar can use", (v, s) => {
    const cores = wholeCores(s);
    if (cores === undefined) throw new UsageError(`invalid value "${s}" for --proxy-cpu-limit: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`);
    proxy(v).cores = cores;
    constraint(v, "cpu").limit = s;
  }),
  str("proxy-memory-limit", "Maximum amount of Memory that the proxy sidecar can use", (v, s) => void (constraint(v, "memory").limit = s)),
  bool("enable-external-profiles", "Enable service profiles for non-Kubernetes services", (v, b) => void (proxy(v).enableExternalProfiles = b)),
  str("default-inbound-policy", "Inbound policy to use to control inbound access to the proxy", (v, s) => void (proxy(v).defaultInboundPolicy = s), { defaultText: "all-unauthenticated" }),
  str("proxy-memory", "Amount of Memory that the proxy sidecar requests", (v, s) => void (constraint(v, "memory").request = s), { deprecated: "use --proxy-memory-request instead", hidden: true }),
  str("proxy-cpu", "Amount of CPU units that the proxy sidecar requests", (v, s) => void (constraint(v, "cpu").request = s), { deprecated: "use --proxy-cpu-request instead", hidden: true }),
  str("proxy-version", "Tag to be used for the Linkerd proxy images", (v, s) => void (image(proxy(v)).version = s), { short: "v", deprecated: "use --set proxy.image.version=<version>", hidden: true }),
  str(
    "registry",
    "Docker registry to pull images from ($LINKERD_DOCKER_REGISTRY)",
    (v, s) => {
      v.controllerImage = registryOverride(v.controllerImage, s);
      const pc = obj<Record<string, unknown>>(v as Record<string, unknown>, "policyController");
      image(pc).name = registryOverride(image(pc).name, s);
      const dc = obj<Record<string, unknown>>(v as Record<string, unknown>, "debugContainer");
      image(dc).name = registryOverride(image(dc).name, s);
      image(proxy(v)).name = registryOverride(image(proxy(v)).name, s);
      image(proxyInit(v)).name = registryOverride(image(proxyInit(v)).name, s);
    },
    { env: "LINKERD_DOCKER_REGISTRY", defaultText: "cr.l5d.io/linkerd" },
  ),
];

/** Flags only inject has: per-workload proxy settings. */
export const INJECT_FLAGS: FlagSpec[] = [
  num("wait-before-exit-seconds", "int", "The period during which the proxy sidecar must stay alive while its pod is terminating. Must be smaller than terminationGracePeriodSeconds for the pod", (v, n) => {
    if (n < 0) throw new UsageError(`invalid value "${n}" for --wait-before-exit-seconds: must not be negative`);
    proxy(v).waitBeforeExitSeconds = n;
  }, { defaultText: "0" }),
  bool("disable-identity", "Disables resources from participating in TLS identity", () => {
    throw new UsageError("--disable-identity is no longer supported; identity is always required");
  }, { hidden: true }),
  list("require-identity-on-inbound-ports", "Inbound ports on which the proxy should require identity", (v, l) => void (proxy(v).requireIdentityOnInboundPorts = l.join(","))),
  bool("ingress", "Enable ingress mode in the linkerd proxy", (v, b) => void (proxy(v).isIngress = b)),
  list("opaque-ports", "Set opaque ports on the proxy", (v, l) => void (proxy(v).opaquePorts = l.join(",")), { defaultText: "25,587,3306,4444,5432,6379,9300,11211" }),
];

function parseUint(flag: string, signed: boolean) {
  return (s: string): number => {
    const re = signed ? /^[+-]?\d+$/ : /^\+?\d+$/;
    if (!re.test(s.trim())) throw new InvalidArgumentError(`"${s}" is not ${signed ? "an integer" : "a non-negative integer"} (--${flag})`);
    const n = Number(s);
    if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`"${s}" is out of range (--${flag})`);
    return n;
  };
}

/** pflag StringSlice semantics: comma-separated, repeatable, values accumulate. */
function collectList(value: string, previous: string[] | undefined): string[] {
  const parts = value === "" ? [] : value.split(",").map((p) => p.trim());
  return [...(previous ?? []), ...parts];
}

/** Adds the flags to `cmd` (no commander defaults: unset flags stay undefined). */
export function addFlags(cmd: Command, specs: FlagSpec[]): Command {
  for (const f of specs) {
    const arg = f.kind === "bool" ? "" : f.kind === "list" ? " <list>" : f.kind === "string" ? " <value>" : " <n>";
    const desc = f.defaultText ? `${f.description} (default ${f.defaultText})` : f.description;
    const opt = new Option(`${f.short ? `-${f.short}, ` : ""}--${f.name}${arg}`, f.deprecated ? `${desc} [deprecated: ${f.deprecated}]` : desc);
    if (f.kind === "uint" || f.kind === "int") opt.argParser(parseUint(f.name, f.kind === "int"));
    if (f.kind === "list") opt.argParser(collectList);
    if (f.hidden) opt.hideHelp();
    cmd.addOption(opt);
  }
  return cmd;
}

/**
 * Applies the flags the user set (on the command line, or through their environment
 * variable) to `values`, in declaration order. Returns deprecation warnings to print.
 */
export function applySetFlags(values: FlagValues, cmd: Command, specs: FlagSpec[], env: Record<string, string | undefined> = {}): string[] {
  const opts = cmd.opts() as Record<string, unknown>;
  const warnings: string[] = [];
  for (const f of specs) {
    const key = camel(f.name);
    let value = cmd.getOptionValueSource(key) === "cli" ? opts[key] : undefined;
    if (value === undefined && f.env && env[f.env]) value = env[f.env];
    if (value === undefined) continue;
    if (f.deprecated) warnings.push(`Flag --${f.name} has been deprecated, ${f.deprecated}`);
    f.apply(values, value as never);
  }
  return warnings;
}

/** Names of the flags the user set on the command line. */
export function setFlagNames(cmd: Command, specs: FlagSpec[]): string[] {
  return specs.filter((f) => cmd.getOptionValueSource(camel(f.name)) === "cli").map((f) => f.name);
}

function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}
