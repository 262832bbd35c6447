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
  if (ns === undefined) throw new UsageError(`invalid argument "${value}" for "--${name}" flag: time: invalid duration "${value}"`, "use a Go duration such as 24h, 90m or 1h30m");
  return formatGoDuration(ns);
}

/** Flags only `install` has. */
export const INSTALL_ONLY_FLAGS: InstallFlag[] = [
  flag<string>("cluster-domain", "string", "Set custom cluster domain", (t, s) => void (t.values.clusterDomain = s), { defaultText: "cluster.local" }),
  flag<string>("identity-trust-domain", "string", "Configures the name suffix used for identities", (t, s) => void (t.values.identityTrustDomain = s)),
  flag<boolean>("identity-external-issuer", "bool", "Whether to use an external identity issuer", (t, b) => {
    t.values.identity.issuer.scheme = b ? "kubernetes.io/tls" : "linkerd.io/tls";
  }),
  flag<boolean>("identity-external-ca", "bool", "Whether to use an external CA provider", (t, b) => void (t.values.identity.externalCA = b)),
];

/** Flags `install` shares with `upgrade`. */
export const INSTALL_UPGRADE_FLAGS: InstallFlag[] = [
  flag<boolean>(
    "linkerd-cni-enabled",
    "bool",
    "Omit the NET_ADMIN capability in the PSP and the proxy-init container when injecting the proxy; requires the linkerd-cni plugin to already be installed",
    (t, b) => void (t.values.cniEnabled = b),
  ),
  flag<string>("controller-log-level", "string", "Log level for the controller and web components", (t, s) => void (t.values.controllerLogLevel = s), { defaultText: "info" }),
  flag<boolean>("ha", "bool", "Enable HA deployment config for the control plane", (t, b) => {
    t.values.highAvailability = b;
    if (b) Object.assign(t.values, mergeTrees(t.values, haValues()));
  }),
  flag<number>("controller-replicas", "uint", "Replicas of the controller to deploy", (t, n) => void (t.values.controllerReplicas = n), { defaultText: "1" }),
  flag<number>("controller-uid", "int", "Run the control plane components under this user ID", (t, n) => void (t.values.controllerUID = n), { defaultText: "2103" }),
  flag<boolean>("disable-h2-upgrade", "bool", "Prevents the controller from instructing proxies to perform transparent HTTP/2 upgrading", (t, b) => void (t.values.enableH2Upgrade = !b)),
  flag<boolean>("disable-heartbeat", "bool", "Disables the heartbeat cronjob", (t, b) => void (t.values.disableHeartBeat = b)),
  flag<string>(
    "identity-issuance-lifetime",
    "duration",
    "The amount of time for which the Identity issuer should certify identity",
    (t, s) => void (t.values.identity.issuer.issuanceLifetime = duration("identity-issuance-lifetime", s)),
    { defaultText: "24h0m0s" },
  ),
  flag<string>(
    "identity-clock-skew-allowance",
    "duration",
    "The amount of time to allow for clock skew within a Linkerd cluster",
    (t, s) => void (t.values.identity.issuer.clockSkewAllowance = duration("identity-clock-skew-allowance", s)),
    { defaultText: "20s" },
  ),
  flag<boolean>("control-plane-tracing", "bool", "Enables Control Plane Tracing with the defaults", (t, b) => void (t.values.controlPlaneTracing = b), { hidden: true }),
  flag<string>(
    "control-plane-tracing-namespace",
    "string",
    "Send control plane traces to Linkerd-Jaeger extension in this namespace",
    (t, s) => void (t.values.controlPlaneTracingNamespace = s),
    { hidden: true, defaultText: "linkerd-jaeger" },
  ),
  flag<string>(
    "identity-issuer-certificate-file",
    "file",
    "A path to a PEM-encoded file containing the Linkerd Identity issuer certificate (generated by default)",
    (t, s) => void (t.files.issuerCrt = s || undefined),
  ),
  flag<string>(
    "identity-issuer-key-file",
    "file",
    "A path to a PEM-encoded file containing the Linkerd Identity issuer private key (generated by default)",
    (t, s) => void (t.files.issuerKey = s || undefined),
  ),
  flag<string>(
    "identity-trust-anchors-file",
    "file",
    "A path to a PEM-encoded file containing Linkerd Identity trust anchors (generated by default)",
    (t, s) => void (t.files.trustAnchors = s || undefined),
  ),
  flag<boolean>(
    "enable-endpoint-slices",
    "bool",
    "Enables the usage of EndpointSlice informers and resources for destination service",
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
