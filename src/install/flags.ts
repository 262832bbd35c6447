/**
 * The install-only and install/upgrade flags (Linkerd's makeInstallFlags and
 * makeInstallUpgradeFlags, spec §2.2). Each flag is declared once with the function that
 * applies it; only flags the user set are applied, in this order, so `--ha` comes before the
 * flags that may override what it sets. The proxy flags shared with inject live in
 * src/commands/proxy-flags.ts and are applied after these.
 */
import { UsageError } from "../errors.js";
import { formatGoDuration, parseGoDuration } from "./duration.js";
import { haValues, mergeTrees, type Values } from "./values.js";

/** Paths of the identity credential files given on the command line. */
export interface CredentialFiles {
  trustAnchors?: string;
  issuerCrt?: string;
  issuerKey?: string;
}

/** What install flags write to. */
export interface FlagTarget {
  values: Values;
  files: CredentialFiles;
}

export type InstallFlagKind = "string" | "uint" | "int" | "bool" | "duration" | "file";

export interface InstallFlag {
  /** Long name without dashes. */
  name: string;
  kind: InstallFlagKind;
  description: string;
  /** Shown as the default in help. */
  defaultText?: string;
  hidden?: boolean;
  apply: (t: FlagTarget, value: never) => void;
}

const flag = <T>(name: string, kind: InstallFlagKind, description: string, apply: (t: FlagTarget, value: T) => void, extra: Partial<InstallFlag> = {}): InstallFlag => ({
  name,
  kind,
  description,
  apply: apply as InstallFlag["apply"],
  ...extra,
});

function duration(name: string, value: string): string {
  const ns = parseGoDuration(value);
  if (ns === undefined) throw new UsageError(`--${name} "${value}" is not a duration`, "use a Go duration such as 24h, 90m or 1h30m");
  return formatGoDuration(ns);
}

/** Flags only `install` has. */
export const INSTALL_ONLY_FLAGS: InstallFlag[] = [
  flag<string>("cluster-domain", "string", "DNS domain of the cluster's services", (t, s) => void (t.values.clusterDomain = s), { defaultText: "cluster.local" }),
  flag<string>("identity-trust-domain", "string", "name suffix of workload identities (default: the cluster domain)", (t, s) => void (t.values.identityTrustDomain = s)),
  flag<boolean>("identity-external-issuer", "bool", "take the identity issuer from secret linkerd-identity-issuer (kubernetes.io/tls, e.g. made by cert-manager) instead of rendering one", (t, b) => {
    t.values.identity.issuer.scheme = b ? "kubernetes.io/tls" : "linkerd.io/tls";
  }),
  flag<boolean>("identity-external-ca", "bool", "do not render the linkerd-identity-trust-roots ConfigMap: something else provides it", (t, b) => void (t.values.identity.externalCA = b)),
];

/** Flags `install` shares with `upgrade`. */
export const INSTALL_UPGRADE_FLAGS: InstallFlag[] = [
  flag<boolean>(
    "linkerd-cni-enabled",
    "bool",
    "the linkerd-cni plugin (installed beforehand) sets up pod networking: no privileged linkerd-init container",
    (t, b) => void (t.values.cniEnabled = b),
  ),
  flag<string>("controller-log-level", "string", "log level of the controllers", (t, s) => void (t.values.controllerLogLevel = s), { defaultText: "info" }),
  flag<boolean>("ha", "bool", "high availability: 3 replicas, anti-affinity, disruption budgets, resource requests", (t, b) => {
    t.values.highAvailability = b;
    if (b) Object.assign(t.values, mergeTrees(t.values, haValues()));
  }),
  flag<number>("controller-replicas", "uint", "replicas of each control-plane Deployment", (t, n) => void (t.values.controllerReplicas = n), { defaultText: "1" }),
  flag<number>("controller-uid", "int", "user id of the controller containers", (t, n) => void (t.values.controllerUID = n), { defaultText: "2103" }),
  flag<boolean>("disable-h2-upgrade", "bool", "do not let proxies upgrade HTTP/1.1 to HTTP/2 between meshed pods", (t, b) => void (t.values.enableH2Upgrade = !b)),
  flag<boolean>("disable-heartbeat", "bool", "do not render the heartbeat CronJob", (t, b) => void (t.values.disableHeartBeat = b)),
  flag<string>(
    "identity-issuance-lifetime",
    "duration",
    "lifetime of the certificates the identity controller issues (a Go duration)",
    (t, s) => void (t.values.identity.issuer.issuanceLifetime = duration("identity-issuance-lifetime", s)),
    { defaultText: "24h0m0s" },
  ),
  flag<string>(
    "identity-clock-skew-allowance",
    "duration",
    "clock skew tolerated when checking certificates (a Go duration)",
    (t, s) => void (t.values.identity.issuer.clockSkewAllowance = duration("identity-clock-skew-allowance", s)),
    { defaultText: "20s" },
  ),
  flag<boolean>("control-plane-tracing", "bool", "send control-plane traces to the linkerd-jaeger collector", (t, b) => void (t.values.controlPlaneTracing = b), { hidden: true }),
  flag<string>(
    "control-plane-tracing-namespace",
    "string",
    "namespace of the tracing collector",
    (t, s) => void (t.values.controlPlaneTracingNamespace = s),
    { hidden: true, defaultText: "linkerd-jaeger" },
  ),
  flag<string>(
    "identity-issuer-certificate-file",
    "file",
    "PEM file of the identity issuer certificate (generated when not given)",
    (t, s) => void (t.files.issuerCrt = s || undefined),
  ),
  flag<string>(
    "identity-issuer-key-file",
    "file",
    "PEM file of the identity issuer private key (generated when not given)",
    (t, s) => void (t.files.issuerKey = s || undefined),
  ),
  flag<string>(
    "identity-trust-anchors-file",
    "file",
    "PEM file of the identity trust anchors (generated when not given)",
    (t, s) => void (t.files.trustAnchors = s || undefined),
  ),
  flag<boolean>(
    "enable-endpoint-slices",
    "bool",
    "let the destination controller watch EndpointSlices instead of Endpoints",
    (t, b) => void (t.values.enableEndpointSlices = b),
    { defaultText: "true" },
  ),
];

/** Applies the flags the user set, in declaration order. `given` maps a flag name to its parsed value. */
export function applyInstallFlags(target: FlagTarget, flags: InstallFlag[], given: (name: string) => unknown): void {
  for (const f of flags) {
    const value = given(f.name);
    if (value !== undefined) f.apply(target, value as never);
  }
}
