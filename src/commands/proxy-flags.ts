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
  /** Accepted range of an integer flag (the range of the Kubernetes field it becomes). */
  range?: [min: number, max: number];
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
const PORT_RANGE: [number, number] = [1, 65535];
const UID_RANGE: [number, number] = [0, 2147483647];
const num = (name: string, kind: "uint" | "int", description: string, apply: (v: FlagValues, n: number) => void, extra: Partial<FlagSpec> = {}): FlagSpec =>
  ({ name, kind, description, apply: apply as FlagSpec["apply"], ...extra });
const list = (name: string, description: string, apply: (v: FlagValues, l: string[]) => void, extra: Partial<FlagSpec> = {}): FlagSpec =>
  ({ name, kind: "list", description, apply: apply as FlagSpec["apply"], ...extra });
const bool = (name: string, description: string, apply: (v: FlagValues, b: boolean) => void, extra: Partial<FlagSpec> = {}): FlagSpec =>
  ({ name, kind: "bool", description, apply: apply as FlagSpec["apply"], ...extra });

/** Proxy flags of install, upgrade and inject, in Linkerd's order. */
export const PROXY_FLAGS: FlagSpec[] = [
  str("proxy-image", "image of the proxy container, without its tag", (v, s) => void (image(proxy(v)).name = s), { hidden: true, defaultText: "cr.l5d.io/linkerd/proxy" }),
  str("init-image", "image of the linkerd-init container, without its tag", (v, s) => void (image(proxyInit(v)).name = s), { hidden: true, defaultText: "cr.l5d.io/linkerd/proxy-init" }),
  str("init-image-version", "tag of the linkerd-init image", (v, s) => void (image(proxyInit(v)).version = s), { hidden: true, defaultText: "v2.2.3" }),
  str(
    "image-pull-policy",
    "imagePullPolicy of Linkerd's containers",
    (v, s) => {
      v.imagePullPolicy = s;
      image(proxy(v)).pullPolicy = s;
      image(proxyInit(v)).pullPolicy = s;
      image(obj(v as Record<string, unknown>, "debugContainer")).pullPolicy = s;
    },
    { hidden: true, defaultText: "IfNotPresent" },
  ),
  num("inbound-port", "uint", "port the proxy receives inbound connections on", (v, n) => void (ports(v).inbound = n), { range: PORT_RANGE, defaultText: "4143" }),
  num("outbound-port", "uint", "port the proxy receives the pod's outbound connections on", (v, n) => void (ports(v).outbound = n), { range: PORT_RANGE, defaultText: "4140" }),
  list("skip-inbound-ports", "inbound ports or ranges (a-b) that go straight to the application, bypassing the proxy", (v, l) => void (proxyInit(v).ignoreInboundPorts = l.join(","))),
  list("skip-outbound-ports", "outbound ports or ranges (a-b) that bypass the proxy", (v, l) => void (proxyInit(v).ignoreOutboundPorts = l.join(","))),
  num("proxy-uid", "int", "user id the proxy runs as", (v, n) => void (proxy(v).uid = n), { range: UID_RANGE, defaultText: "2102" }),
  str("proxy-log-level", "the proxy's log filter", (v, s) => void (proxy(v).logLevel = s), { defaultText: "warn,linkerd=info,trust_dns=error" }),
  num("control-port", "uint", "the proxy's control port", (v, n) => void (ports(v).control = n), { range: PORT_RANGE, defaultText: "4190" }),
  num("admin-port", "uint", "the proxy's admin port (metrics, health)", (v, n) => void (ports(v).admin = n), { range: PORT_RANGE, defaultText: "4191" }),
  str("proxy-cpu-request", "CPU request of the proxy container", (v, s) => void (constraint(v, "cpu").request = s)),
  str("proxy-memory-request", "memory request of the proxy container", (v, s) => void (constraint(v, "memory").request = s)),
  str("proxy-cpu-limit", "CPU limit of the proxy container (also sets its worker threads)", (v, s) => {
    const cores = wholeCores(s);
    if (cores === undefined) throw new UsageError(`invalid value "${s}" for --proxy-cpu-limit: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`);
    proxy(v).cores = cores;
    constraint(v, "cpu").limit = s;
  }),
  str("proxy-memory-limit", "memory limit of the proxy container", (v, s) => void (constraint(v, "memory").limit = s)),
  bool("enable-external-profiles", "let proxies look up ServiceProfiles for destinations outside the cluster", (v, b) => void (proxy(v).enableExternalProfiles = b)),
  str("default-inbound-policy", "who may connect to meshed pods when no policy says otherwise", (v, s) => void (proxy(v).defaultInboundPolicy = s), { defaultText: "all-unauthenticated" }),
  str("proxy-memory", "memory request of the proxy container", (v, s) => void (constraint(v, "memory").request = s), { deprecated: "use --proxy-memory-request instead", hidden: true }),
  str("proxy-cpu", "CPU request of the proxy container", (v, s) => void (constraint(v, "cpu").request = s), { deprecated: "use --proxy-cpu-request instead", hidden: true }),
  str("proxy-version", "tag of the proxy image", (v, s) => void (image(proxy(v)).version = s), { short: "v", deprecated: "use --set proxy.image.version=<version>", hidden: true }),
  str(
    "registry",
    "registry of Linkerd's images (also $LINKERD_DOCKER_REGISTRY)",
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
  num("wait-before-exit-seconds", "int", "seconds the proxy keeps running after its pod is asked to stop (keep below terminationGracePeriodSeconds)", (v, n) => {
    if (n < 0) throw new UsageError(`invalid value "${n}" for --wait-before-exit-seconds: must not be negative`);
    proxy(v).waitBeforeExitSeconds = n;
  }, { defaultText: "0" }),
  bool("disable-identity", "not supported: identity is required", () => {
    throw new UsageError("--disable-identity is no longer supported; identity is always required");
  }, { hidden: true }),
  list("require-identity-on-inbound-ports", "inbound ports that accept only meshed (identified) clients", (v, l) => void (proxy(v).requireIdentityOnInboundPorts = l.join(","))),
  bool("ingress", "run the proxy in ingress mode (for ingress controllers)", (v, b) => void (proxy(v).isIngress = b)),
  list("opaque-ports", "ports whose traffic the proxy forwards as opaque TCP, without protocol detection", (v, l) => void (proxy(v).opaquePorts = l.join(",")), { defaultText: "25,587,3306,4444,5432,6379,9300,11211" }),
  // Not a linkerd inject flag (Linkerd sets it with the config.linkerd.io/access-log annotation or
  // proxy.accessLog); mesh adds it because `mesh viz tap`/`top` read the access log.
  str("access-log", "the proxy's HTTP access log format, apache or json (needed by `mesh viz tap` and `top`)", (v, s) => {
    const format = s.toLowerCase();
    if (format !== "apache" && format !== "json") throw new UsageError(`invalid value "${s}" for --access-log: must be apache or json`);
    proxy(v).accessLog = format;
  }),
];

function parseUint(flag: string, signed: boolean, range?: [number, number]) {
  return (s: string): number => {
    const re = signed ? /^[+-]?\d+$/ : /^\+?\d+$/;
    const shown = s.length > 40 ? `${s.slice(0, 40)}…` : s;
    if (!re.test(s.trim())) throw new InvalidArgumentError(`"${shown}" is not ${signed ? "an integer" : "a non-negative integer"} (--${flag})`);
    const n = Number(s);
    if (!Number.isSafeInteger(n) || (range && (n < range[0] || n > range[1])))
      throw new InvalidArgumentError(`"${shown}" is out of range (--${flag}${range ? `: ${range[0]} to ${range[1]}` : ""})`);
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
    if (f.kind === "uint" || f.kind === "int") opt.argParser(parseUint(f.name, f.kind === "int", f.range));
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
