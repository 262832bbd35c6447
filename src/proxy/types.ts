/**
 * The slice of Linkerd's values that the proxy, proxy-init, network-validator and
 * debug containers are rendered from. Field names are those of `linkerd-config`'s
 * `values` (and of templates/values.yaml), so a full install `Values` is assignable.
 * Every field is optional: a missing key means Go's zero value (0, "", false), which
 * is what Linkerd gets when it unmarshals an older or partial linkerd-config.
 */

export interface ImageValues {
  name?: string;
  pullPolicy?: string;
  version?: string;
}

export interface ConstraintValues {
  limit?: string;
  request?: string;
}

export interface ResourcesValues {
  cpu?: ConstraintValues | null;
  memory?: ConstraintValues | null;
  "ephemeral-storage"?: ConstraintValues | null;
}

export interface CapabilitiesValues {
  add?: string[] | null;
  drop?: string[] | null;
}

export interface VolumeMountPathValues {
  name?: string;
  mountPath?: string;
  readOnly?: boolean;
}

export interface PortsValues {
  admin?: number;
  control?: number;
  inbound?: number;
  outbound?: number;
}

export interface ProxyValues {
  capabilities?: CapabilitiesValues | null;
  /** Whole CPU cores (the CPU limit rounded up); 0 or absent: no LINKERD2_PROXY_CORES. */
  cores?: number;
  enableExternalProfiles?: boolean;
  image?: ImageValues | null;
  logLevel?: string;
  logFormat?: string;
  /** The app container's service-account token mount, copied onto the proxy (inject sets it). */
  saMountPath?: VolumeMountPathValues | null;
  ports?: PortsValues | null;
  resources?: ResourcesValues | null;
  uid?: number;
  waitBeforeExitSeconds?: number;
  isGateway?: boolean;
  isIngress?: boolean;
  requireIdentityOnInboundPorts?: string;
  outboundConnectTimeout?: string;
  inboundConnectTimeout?: string;
  outboundDiscoveryCacheUnusedTimeout?: string;
  inboundDiscoveryCacheUnusedTimeout?: string;
  disableOutboundProtocolDetectTimeout?: boolean;
  disableInboundProtocolDetectTimeout?: boolean;
  /** LINKERD2_PROXY_INBOUND_PORTS: inject computes it per pod; control-plane pods fix it. */
  podInboundPorts?: string;
  opaquePorts?: string;
  await?: boolean;
  defaultInboundPolicy?: string;
  accessLog?: string;
  shutdownGracePeriod?: string;

  // Set only by the control-plane templates (never stored in linkerd-config):
  /** `linkerd-identity` or `linkerd-destination` switch the matching service address to localhost. */
  component?: string;
  /** Read the trust anchors from the linkerd-identity-trust-roots ConfigMap instead of a literal. */
  loadTrustBundleFromConfigMap?: boolean;
  /** LINKERD2_PROXY_INBOUND_PORTS_REQUIRE_TLS (identity: "8080"). */
  requireTLSOnInboundPorts?: string;
}

export interface ProxyInitValues {
  capabilities?: CapabilitiesValues | null;
  ignoreInboundPorts?: string;
  ignoreOutboundPorts?: string;
  kubeAPIServerPorts?: string;
  skipSubnets?: string;
  logLevel?: string;
  logFormat?: string;
  image?: ImageValues | null;
  saMountPath?: VolumeMountPathValues | null;
  xtMountPath?: VolumeMountPathValues | null;
  resources?: ResourcesValues | null;
  closeWaitTimeoutSecs?: number;
  privileged?: boolean;
  runAsRoot?: boolean;
  runAsUser?: number;
  iptablesMode?: string;
}

export interface NetworkValidatorValues {
  logLevel?: string;
  logFormat?: string;
  connectAddr?: string;
  listenAddr?: string;
  timeout?: string;
  enableSecurityContext?: boolean;
}

export interface DebugContainerValues {
  image?: ImageValues | null;
}

/** Everything the proxy partials read. A full install `Values` satisfies it. */
export interface ProxyTemplateValues {
  linkerdVersion?: string;
  clusterDomain?: string;
  clusterNetworks?: string;
  identityTrustDomain?: string;
  identityTrustAnchorsPEM?: string;
  imagePullPolicy?: string;
  cniEnabled?: boolean;
  identity?: { serviceAccountTokenProjection?: boolean } | null;
  proxy?: ProxyValues | null;
  proxyInit?: ProxyInitValues | null;
  networkValidator?: NetworkValidatorValues | null;
  debugContainer?: DebugContainerValues | null;
}

/** Kubernetes shapes produced by the builders (only the fields they use). */
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string }; configMapKeyRef?: { name: string; key: string } };
}

export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
}

export interface ResourceRequirements {
  limits?: Record<string, string>;
  requests?: Record<string, string>;
}

export interface Container {
  name: string;
  image: string;
  imagePullPolicy?: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  ports?: { containerPort: number; name: string }[];
  livenessProbe?: { httpGet: { path: string; port: number }; initialDelaySeconds: number };
  readinessProbe?: { httpGet: { path: string; port: number }; initialDelaySeconds: number };
  /** null only when the caller asked for `resources` to be always present. */
  resources?: ResourceRequirements | null;
  securityContext?: Record<string, unknown>;
  lifecycle?: Record<string, unknown>;
  terminationMessagePolicy?: string;
  volumeMounts?: VolumeMount[];
}

export interface Volume {
  name: string;
  emptyDir?: { medium?: string };
  projected?: { sources: { serviceAccountToken: { path: string; expirationSeconds: number; audience: string } }[] };
}
