/**
 * THE definition of what Linkerd adds to a pod: the `linkerd-proxy` sidecar, the
 * `linkerd-init` (or, under CNI, `linkerd-network-validator`) init container, the
 * optional `linkerd-debug` container and the proxy volumes. `mesh inject --manual`
 * and `mesh install` (the control-plane Deployments) both build them here.
 *
 * Input
 * - `values: ProxyTemplateValues` — the subset of Linkerd's values these containers
 *   read, with linkerd-config key names (a full install `Values` is assignable). Missing
 *   keys are Go zero values, as when Linkerd unmarshals linkerd-config. Pass the values
 *   *after* per-workload overrides: inject applies the pod's `config.linkerd.io/*`
 *   annotations and sets `proxy.podInboundPorts`, `proxy.capabilities` (the first app
 *   container's), `proxy.saMountPath`/`proxyInit.saMountPath` and
 *   `proxyInit.closeWaitTimeoutSecs` before calling.
 * - `ctx: ProxyContext` — `namespace`, the control-plane namespace (Helm's
 *   `.Release.Namespace`), and `emptyResources`: `"omit"` (inject, default: an empty
 *   `resources` is left out, as Linkerd's re-serialised inject output does) or `"null"`
 *   (install: the key is always present, `null` when empty, as the raw chart renders it).
 *
 * Control-plane specifics (spec §2.13.4) are plain values, as in Linkerd's templates:
 * - `proxy.component: "linkerd-identity" | "linkerd-destination"` switches
 *   LINKERD2_PROXY_IDENTITY_SVC_ADDR to `localhost.:8080`, or the DESTINATION/POLICY
 *   addresses to `localhost.:8086` / `localhost.:8090`;
 * - `proxy.loadTrustBundleFromConfigMap: true` reads the anchors through
 *   `configMapKeyRef {linkerd-identity-trust-roots, ca-bundle.crt}` instead of a literal;
 * - `proxy.capabilities: { drop: ["ALL"] }`, `proxy.podInboundPorts: "8080,9990"`,
 *   `proxy.requireTLSOnInboundPorts: "8080"`, `proxy.await: false`,
 *   `proxy.waitBeforeExitSeconds: 0`, `proxy.resources` merged with the component's
 *   `<component>ProxyResources`;
 * - `proxyInit.ignoreOutboundPorts: values.proxyInit.kubeAPIServerPorts` for the init container.
 *
 * Output: plain Kubernetes objects (keys in a readable order: name first), ready to be
 * serialised by the caller. The functions are pure and throw `MeshError` only for values
 * Linkerd's templates also reject (no trust anchors, unknown iptablesMode).
 */
import { MeshError } from "../errors.js";
import type {
  CapabilitiesValues,
  Container,
  EnvVar,
  ProxyTemplateValues,
  ResourceRequirements,
  ResourcesValues,
  Volume,
  VolumeMount,
} from "./types.js";

export type * from "./types.js";

export interface ProxyContext {
  /** The control-plane namespace (`-L/--linkerd-namespace`, default `linkerd`). */
  namespace: string;
  /** What to do with an empty `resources`: leave the key out (inject) or render `null` (install). */
  emptyResources?: "omit" | "null";
}

export const PROXY_CONTAINER_NAME = "linkerd-proxy";
export const INIT_CONTAINER_NAME = "linkerd-init";
export const NETWORK_VALIDATOR_NAME = "linkerd-network-validator";
export const DEBUG_CONTAINER_NAME = "linkerd-debug";
export const XTABLES_VOLUME_NAME = "linkerd-proxy-init-xtables-lock";
export const END_ENTITY_VOLUME_NAME = "linkerd-identity-end-entity";
export const TOKEN_VOLUME_NAME = "linkerd-identity-token";
export const END_ENTITY_MOUNT_PATH = "/var/run/linkerd/identity/end-entity";
export const TOKEN_MOUNT_PATH = "/var/run/secrets/tokens";

const fieldRef = (name: string, fieldPath: string): EnvVar => ({ name, valueFrom: { fieldRef: { fieldPath } } });
const env = (name: string, value: string): EnvVar => ({ name, value });

/** Helm's `default`: the first argument unless it is empty. */
const orDefault = (v: string | undefined | null, d: string | undefined): string => (v ? v : (d ?? ""));

/** `<name>:<version or linkerdVersion>` of the proxy image (also the network validator's). */
export function proxyImage(v: ProxyTemplateValues): string {
  return `${v.proxy?.image?.name ?? ""}:${orDefault(v.proxy?.image?.version, v.linkerdVersion)}`;
}

/** The proxy version Linkerd records in `linkerd.io/proxy-version`. */
export function proxyVersion(v: ProxyTemplateValues): string {
  return orDefault(v.proxy?.image?.version, v.linkerdVersion);
}

/** The identity trust domain: `identityTrustDomain`, else `clusterDomain`. */
export function trustDomain(v: ProxyTemplateValues): string {
  return orDefault(v.identityTrustDomain, v.clusterDomain);
}

/** `partials.resources`: only non-empty limits/requests; undefined (or null) when nothing is set. */
export function renderResources(r: ResourcesValues | null | undefined): ResourceRequirements | undefined {
  if (!r) return undefined;
  const kinds = ["cpu", "memory", "ephemeral-storage"] as const;
  const limits: Record<string, string> = {};
  const requests: Record<string, string> = {};
  for (const k of kinds) {
    const c = r[k];
    if (c?.limit) limits[k] = String(c.limit);
    if (c?.request) requests[k] = String(c.request);
  }
  const out: ResourceRequirements = {};
  if (Object.keys(limits).length) out.limits = limits;
  if (Object.keys(requests).length) out.requests = requests;
  return out.limits || out.requests ? out : undefined;
}

function withResources(c: Container, r: ResourcesValues | null | undefined, ctx: ProxyContext): void {
  const rendered = renderResources(r);
  if (rendered) c.resources = rendered;
  else if (ctx.emptyResources === "null") c.resources = null;
}

function nonEmpty(list: string[] | null | undefined): list is string[] {
  return Array.isArray(list) && list.length > 0;
}

function proxyCapabilities(caps: CapabilitiesValues | null | undefined): Record<string, string[]> | undefined {
  if (!caps) return undefined;
  const out: Record<string, string[]> = {};
  if (nonEmpty(caps.add)) out.add = [...caps.add];
  if (nonEmpty(caps.drop)) out.drop = [...caps.drop];
  return Object.keys(out).length ? out : undefined;
}

/** The proxy's environment, in Linkerd's order (spec §4.6). */
export function proxyEnv(v: ProxyTemplateValues, ctx: ProxyContext): EnvVar[] {
  const p = v.proxy ?? {};
  const ns = ctx.namespace;
  const cd = v.clusterDomain ?? "";
  const td = trustDomain(v);
  const ports = p.ports ?? {};
  const nets = v.clusterNetworks ?? "";
  const out: EnvVar[] = [fieldRef("_pod_name", "metadata.name"), fieldRef("_pod_ns", "metadata.namespace"), fieldRef("_pod_nodeName", "spec.nodeName")];
  if (p.cores) out.push(env("LINKERD2_PROXY_CORES", String(p.cores)));
  if (p.requireIdentityOnInboundPorts) out.push(env("LINKERD2_PROXY_INBOUND_PORTS_REQUIRE_IDENTITY", p.requireIdentityOnInboundPorts));
  if (p.requireTLSOnInboundPorts) out.push(env("LINKERD2_PROXY_INBOUND_PORTS_REQUIRE_TLS", p.requireTLSOnInboundPorts));
  out.push(env("LINKERD2_PROXY_LOG", p.logLevel ?? ""));
  out.push(env("LINKERD2_PROXY_LOG_FORMAT", p.logFormat ?? ""));
  out.push(env("LINKERD2_PROXY_DESTINATION_SVC_ADDR", p.component === "linkerd-destination" ? "localhost.:8086" : `linkerd-dst-headless.${ns}.svc.${cd}.:8086`));
  out.push(env("LINKERD2_PROXY_DESTINATION_PROFILE_NETWORKS", nets));
  out.push(env("LINKERD2_PROXY_POLICY_SVC_ADDR", p.component === "linkerd-destination" ? "localhost.:8090" : `linkerd-policy.${ns}.svc.${cd}.:8090`));
  out.push(env("LINKERD2_PROXY_POLICY_WORKLOAD", "$(_pod_ns):$(_pod_name)"));
  out.push(env("LINKERD2_PROXY_INBOUND_DEFAULT_POLICY", p.defaultInboundPolicy ?? ""));
  out.push(env("LINKERD2_PROXY_POLICY_CLUSTER_NETWORKS", nets));
  if (p.inboundConnectTimeout) out.push(env("LINKERD2_PROXY_INBOUND_CONNECT_TIMEOUT", p.inboundConnectTimeout));
  if (p.outboundConnectTimeout) out.push(env("LINKERD2_PROXY_OUTBOUND_CONNECT_TIMEOUT", p.outboundConnectTimeout));
  if (p.outboundDiscoveryCacheUnusedTimeout) out.push(env("LINKERD2_PROXY_OUTBOUND_DISCOVERY_IDLE_TIMEOUT", p.outboundDiscoveryCacheUnusedTimeout));
  if (p.inboundDiscoveryCacheUnusedTimeout) out.push(env("LINKERD2_PROXY_INBOUND_DISCOVERY_IDLE_TIMEOUT", p.inboundDiscoveryCacheUnusedTimeout));
  if (p.disableOutboundProtocolDetectTimeout) out.push(env("LINKERD2_PROXY_OUTBOUND_DETECT_TIMEOUT", "365d"));
  if (p.disableInboundProtocolDetectTimeout) out.push(env("LINKERD2_PROXY_INBOUND_DETECT_TIMEOUT", "365d"));
  out.push(env("LINKERD2_PROXY_CONTROL_LISTEN_ADDR", `0.0.0.0:${ports.control ?? 0}`));
  out.push(env("LINKERD2_PROXY_ADMIN_LISTEN_ADDR", `0.0.0.0:${ports.admin ?? 0}`));
  out.push(env("LINKERD2_PROXY_OUTBOUND_LISTEN_ADDR", `127.0.0.1:${ports.outbound ?? 0}`));
  out.push(env("LINKERD2_PROXY_INBOUND_LISTEN_ADDR", `0.0.0.0:${ports.inbound ?? 0}`));
  out.push(fieldRef("LINKERD2_PROXY_INBOUND_IPS", "status.podIPs"));
  out.push(env("LINKERD2_PROXY_INBOUND_PORTS", p.podInboundPorts ?? ""));
  if (p.isGateway) out.push(env("LINKERD2_PROXY_INBOUND_GATEWAY_SUFFIXES", `svc.${cd}.`));
  if (p.isIngress) out.push(env("LINKERD2_PROXY_INGRESS_MODE", "true"));
  out.push(env("LINKERD2_PROXY_DESTINATION_PROFILE_SUFFIXES", p.enableExternalProfiles ? "." : `svc.${cd}.`));
  out.push(env("LINKERD2_PROXY_INBOUND_ACCEPT_KEEPALIVE", "10000ms"));
  out.push(env("LINKERD2_PROXY_OUTBOUND_CONNECT_KEEPALIVE", "10000ms"));
  if (p.opaquePorts) out.push(env("LINKERD2_PROXY_INBOUND_PORTS_DISABLE_PROTOCOL_DETECTION", p.opaquePorts));
  out.push(env("LINKERD2_PROXY_DESTINATION_CONTEXT", '{"ns":"$(_pod_ns)", "nodeName":"$(_pod_nodeName)", "pod":"$(_pod_name)"}\n'));
  out.push(fieldRef("_pod_sa", "spec.serviceAccountName"));
  out.push(env("_l5d_ns", ns));
  out.push(env("_l5d_trustdomain", td));
  out.push(env("LINKERD2_PROXY_IDENTITY_DIR", END_ENTITY_MOUNT_PATH));
  if (p.loadTrustBundleFromConfigMap) {
    out.push({ name: "LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS", valueFrom: { configMapKeyRef: { name: "linkerd-identity-trust-roots", key: "ca-bundle.crt" } } });
  } else {
    const pem = (v.identityTrustAnchorsPEM ?? "").trim();
    if (!pem)
      throw new MeshError(
        "please provide the identity trust anchors",
        "read them from the cluster (drop --ignore-cluster), or pass --identity-trust-anchors-file or --values with a linkerd-config values file",
      );
    out.push(env("LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS", `${pem}\n`));
  }
  const projection = Boolean(v.identity?.serviceAccountTokenProjection);
  out.push(env("LINKERD2_PROXY_IDENTITY_TOKEN_FILE", projection ? `${TOKEN_MOUNT_PATH}/linkerd-identity-token` : "/var/run/secrets/kubernetes.io/serviceaccount/token"));
  out.push(env("LINKERD2_PROXY_IDENTITY_SVC_ADDR", p.component === "linkerd-identity" ? "localhost.:8080" : `linkerd-identity-headless.${ns}.svc.${cd}.:8080`));
  out.push(env("LINKERD2_PROXY_IDENTITY_LOCAL_NAME", `$(_pod_sa).$(_pod_ns).serviceaccount.identity.${ns}.${td}`));
  out.push(env("LINKERD2_PROXY_IDENTITY_SVC_NAME", `linkerd-identity.${ns}.serviceaccount.identity.${ns}.${td}`));
  out.push(env("LINKERD2_PROXY_DESTINATION_SVC_NAME", `linkerd-destination.${ns}.serviceaccount.identity.${ns}.${td}`));
  out.push(env("LINKERD2_PROXY_POLICY_SVC_NAME", `linkerd-destination.${ns}.serviceaccount.identity.${ns}.${td}`));
  if (p.accessLog) out.push(env("LINKERD2_PROXY_ACCESS_LOG", p.accessLog));
  if (p.shutdownGracePeriod) out.push(env("LINKERD2_PROXY_SHUTDOWN_GRACE_PERIOD", p.shutdownGracePeriod));
  return out;
}

/** The `linkerd-proxy` container (`partials.proxy`). */
export function proxyContainer(v: ProxyTemplateValues, ctx: ProxyContext): Container {
  const p = v.proxy ?? {};
  const admin = p.ports?.admin ?? 0;
  const c: Container = {
    name: PROXY_CONTAINER_NAME,
    image: proxyImage(v),
    imagePullPolicy: orDefault(p.image?.pullPolicy, v.imagePullPolicy),
    env: proxyEnv(v, ctx),
    ports: [
      { containerPort: p.ports?.inbound ?? 0, name: "linkerd-proxy" },
      { containerPort: admin, name: "linkerd-admin" },
    ],
    livenessProbe: { httpGet: { path: "/live", port: admin }, initialDelaySeconds: 10 },
    readinessProbe: { httpGet: { path: "/ready", port: admin }, initialDelaySeconds: 2 },
  };
  withResources(c, p.resources, ctx);
  const sc: Record<string, unknown> = { allowPrivilegeEscalation: false };
  const caps = proxyCapabilities(p.capabilities);
  if (caps) sc.capabilities = caps;
  sc.readOnlyRootFilesystem = true;
  sc.runAsNonRoot = true;
  sc.runAsUser = p.uid ?? 0;
  sc.seccompProfile = { type: "RuntimeDefault" };
  c.securityContext = sc;
  if (p.await || p.waitBeforeExitSeconds) {
    const lifecycle: Record<string, unknown> = {};
    if (p.await) lifecycle.postStart = { exec: { command: ["/usr/lib/linkerd/linkerd-await", "--timeout=2m", `--port=${admin}`] } };
    if (p.waitBeforeExitSeconds) lifecycle.preStop = { exec: { command: ["/bin/sleep", String(p.waitBeforeExitSeconds)] } };
    c.lifecycle = lifecycle;
  }
  c.terminationMessagePolicy = "FallbackToLogsOnError";
  const mounts: VolumeMount[] = [{ mountPath: END_ENTITY_MOUNT_PATH, name: END_ENTITY_VOLUME_NAME } as VolumeMount];
  if (v.identity?.serviceAccountTokenProjection) mounts.push({ mountPath: TOKEN_MOUNT_PATH, name: TOKEN_VOLUME_NAME } as VolumeMount);
  if (p.saMountPath) mounts.push(saMount(p.saMountPath));
  c.volumeMounts = mounts;
  return c;
}

function saMount(m: { name?: string; mountPath?: string; readOnly?: boolean }): VolumeMount {
  const out = { mountPath: m.mountPath ?? "", name: m.name ?? "" } as VolumeMount;
  if (m.readOnly) out.readOnly = true;
  return out;
}

/** The `linkerd-init` container (`partials.proxy-init`). */
export function proxyInitContainer(v: ProxyTemplateValues, ctx: ProxyContext): Container {
  const p = v.proxy ?? {};
  const pi = v.proxyInit ?? {};
  const ports = p.ports ?? {};
  const args: string[] = [];
  const mode = pi.iptablesMode || "legacy";
  if (mode === "nft") args.push("--firewall-bin-path", "iptables-nft", "--firewall-save-bin-path", "iptables-nft-save");
  else if (mode !== "legacy")
    throw new MeshError(`unsupported value "${pi.iptablesMode}" for proxyInit.iptablesMode`, 'valid values are "nft" and "legacy"');
  args.push("--incoming-proxy-port", String(ports.inbound ?? 0));
  args.push("--outgoing-proxy-port", String(ports.outbound ?? 0));
  args.push("--proxy-uid", String(p.uid ?? 0));
  const ignoreIn = pi.ignoreInboundPorts ? `,${pi.ignoreInboundPorts}` : "";
  args.push("--inbound-ports-to-ignore", `${ports.control ?? 0},${ports.admin ?? 0}${ignoreIn}`);
  if (pi.ignoreOutboundPorts) args.push("--outbound-ports-to-ignore", pi.ignoreOutboundPorts);
  if (pi.closeWaitTimeoutSecs) args.push("--timeout-close-wait-secs", String(pi.closeWaitTimeoutSecs));
  if (pi.logFormat) args.push("--log-format", pi.logFormat);
  if (pi.logLevel) args.push("--log-level", pi.logLevel);
  if (pi.skipSubnets) args.push("--subnets-to-ignore", pi.skipSubnets);
  const c: Container = {
    name: INIT_CONTAINER_NAME,
    image: `${pi.image?.name ?? ""}:${pi.image?.version ?? ""}`,
    imagePullPolicy: orDefault(pi.image?.pullPolicy, v.imagePullPolicy),
    args,
  };
  withResources(c, pi.resources, ctx);
  const privileged = Boolean(pi.closeWaitTimeoutSecs || pi.privileged);
  const capabilities: Record<string, string[]> = { add: ["NET_ADMIN", "NET_RAW"] };
  if (nonEmpty(pi.capabilities?.add)) capabilities.add.push(...pi.capabilities!.add!);
  if (nonEmpty(pi.capabilities?.drop)) capabilities.drop = [...pi.capabilities!.drop!];
  const sc: Record<string, unknown> = { allowPrivilegeEscalation: privileged, capabilities, privileged };
  if (pi.runAsRoot) {
    sc.runAsNonRoot = false;
    sc.runAsUser = 0;
  } else {
    sc.runAsNonRoot = true;
    sc.runAsUser = pi.runAsUser ? pi.runAsUser : 65534;
  }
  sc.readOnlyRootFilesystem = true;
  sc.seccompProfile = { type: "RuntimeDefault" };
  c.securityContext = sc;
  c.terminationMessagePolicy = "FallbackToLogsOnError";
  const mounts: VolumeMount[] = [];
  if (!v.cniEnabled) mounts.push({ mountPath: pi.xtMountPath?.mountPath || "/run", name: pi.xtMountPath?.name || XTABLES_VOLUME_NAME } as VolumeMount);
  if (pi.saMountPath) mounts.push(saMount(pi.saMountPath));
  if (mounts.length) c.volumeMounts = mounts;
  return c;
}

/** The `linkerd-network-validator` init container used instead of linkerd-init under CNI. */
export function networkValidatorContainer(v: ProxyTemplateValues, ctx: ProxyContext): Container {
  const nv = v.networkValidator ?? {};
  const c: Container = {
    name: NETWORK_VALIDATOR_NAME,
    image: proxyImage(v),
    imagePullPolicy: orDefault(v.proxy?.image?.pullPolicy, v.imagePullPolicy),
  };
  withResources(c, v.proxyInit?.resources, ctx);
  if (nv.enableSecurityContext)
    c.securityContext = {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      runAsUser: 65534,
      seccompProfile: { type: "RuntimeDefault" },
    };
  c.command = ["/usr/lib/linkerd/linkerd2-network-validator"];
  c.args = [
    "--log-format", nv.logFormat ?? "",
    "--log-level", nv.logLevel ?? "",
    "--connect-addr", nv.connectAddr ?? "",
    "--listen-addr", nv.listenAddr ?? "",
    "--timeout", nv.timeout ?? "",
  ];
  return c;
}

/** The init container of a meshed pod: the network validator under CNI, else linkerd-init. */
export function initContainer(v: ProxyTemplateValues, ctx: ProxyContext): Container {
  return v.cniEnabled ? networkValidatorContainer(v, ctx) : proxyInitContainer(v, ctx);
}

/** The `linkerd-debug` container (`partials.debug`). */
export function debugContainer(v: ProxyTemplateValues): Container {
  const img = v.debugContainer?.image ?? {};
  return {
    name: DEBUG_CONTAINER_NAME,
    image: `${img.name ?? ""}:${orDefault(img.version, v.linkerdVersion)}`,
    imagePullPolicy: orDefault(img.pullPolicy, v.imagePullPolicy),
    terminationMessagePolicy: "FallbackToLogsOnError",
  };
}

export function xtablesVolume(v: ProxyTemplateValues): Volume {
  return { name: v.proxyInit?.xtMountPath?.name || XTABLES_VOLUME_NAME, emptyDir: {} };
}

export function endEntityVolume(): Volume {
  return { name: END_ENTITY_VOLUME_NAME, emptyDir: { medium: "Memory" } };
}

export function serviceAccountTokenVolume(): Volume {
  return {
    name: TOKEN_VOLUME_NAME,
    projected: { sources: [{ serviceAccountToken: { path: "linkerd-identity-token", expirationSeconds: 86400, audience: "identity.l5d.io" } }] },
  };
}

/**
 * The volumes the proxy and init container mount, in inject's order: xtables lock
 * (not under CNI), identity end-entity, service-account token (with projection).
 * The control-plane templates list token before end-entity; order has no effect.
 */
export function proxyVolumes(v: ProxyTemplateValues): Volume[] {
  const out: Volume[] = [];
  if (!v.cniEnabled) out.push(xtablesVolume(v));
  out.push(endEntityVolume());
  if (v.identity?.serviceAccountTokenProjection) out.push(serviceAccountTokenVolume());
  return out;
}
