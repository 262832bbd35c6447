/** Linkerd's annotation and label keys (pkg/k8s/labels.go) that injection reads or writes. */

export const PREFIX = "linkerd.io";
export const INJECT = "linkerd.io/inject";
export const CREATED_BY = "linkerd.io/created-by";
export const PROXY_VERSION = "linkerd.io/proxy-version";
export const TRUST_ROOT_SHA = "linkerd.io/trust-root-sha256";
export const CONTROL_PLANE_NS_LABEL = "linkerd.io/control-plane-ns";
export const WORKLOAD_NS_LABEL = "linkerd.io/workload-ns";
export const CONTROL_PLANE_COMPONENT_LABEL = "linkerd.io/control-plane-component";

const C = "config.linkerd.io/";
export const A = {
  proxyImage: `${C}proxy-image`,
  proxyVersion: `${C}proxy-version`,
  imagePullPolicy: `${C}image-pull-policy`,
  initImage: `${C}init-image`,
  initImageVersion: `${C}init-image-version`,
  debugImage: `${C}debug-image`,
  debugImageVersion: `${C}debug-image-version`,
  debugImagePullPolicy: `${C}debug-image-pull-policy`,
  controlPort: `${C}control-port`,
  inboundPort: `${C}inbound-port`,
  adminPort: `${C}admin-port`,
  outboundPort: `${C}outbound-port`,
  podInboundPorts: `${C}pod-inbound-ports`,
  logLevel: `${C}proxy-log-level`,
  logFormat: `${C}proxy-log-format`,
  requireIdentity: `${C}proxy-require-identity-inbound-ports`,
  outboundConnectTimeout: `${C}proxy-outbound-connect-timeout`,
  inboundConnectTimeout: `${C}proxy-inbound-connect-timeout`,
  outboundDiscoveryCacheUnusedTimeout: `${C}proxy-outbound-discovery-cache-unused-timeout`,
  inboundDiscoveryCacheUnusedTimeout: `${C}proxy-inbound-discovery-cache-unused-timeout`,
  disableOutboundDetectTimeout: `${C}proxy-disable-outbound-protocol-detect-timeout`,
  disableInboundDetectTimeout: `${C}proxy-disable-inbound-protocol-detect-timeout`,
  shutdownGracePeriod: `${C}shutdown-grace-period`,
  enableGateway: `${C}enable-gateway`,
  waitBeforeExitSeconds: "config.alpha.linkerd.io/proxy-wait-before-exit-seconds",
  cpuRequest: `${C}proxy-cpu-request`,
  memoryRequest: `${C}proxy-memory-request`,
  ephemeralStorageRequest: `${C}proxy-ephemeral-storage-request`,
  cpuLimit: `${C}proxy-cpu-limit`,
  memoryLimit: `${C}proxy-memory-limit`,
  ephemeralStorageLimit: `${C}proxy-ephemeral-storage-limit`,
  proxyUid: `${C}proxy-uid`,
  enableExternalProfiles: `${C}enable-external-profiles`,
  skipInboundPorts: `${C}skip-inbound-ports`,
  skipOutboundPorts: `${C}skip-outbound-ports`,
  skipSubnets: `${C}skip-subnets`,
  opaquePorts: `${C}opaque-ports`,
  proxyAwait: `${C}proxy-await`,
  defaultInboundPolicy: `${C}default-inbound-policy`,
  accessLog: `${C}access-log`,
  enableDebugSidecar: `${C}enable-debug-sidecar`,
  closeWaitTimeout: `${C}close-wait-timeout`,
} as const;

export const INBOUND_POLICIES = ["all-unauthenticated", "all-authenticated", "cluster-unauthenticated", "cluster-authenticated", "deny"];

/** The workload label naming the owner kind, per injectable kind. */
export const WORKLOAD_LABEL: Record<string, string> = {
  deployment: "linkerd.io/proxy-deployment",
  replicationcontroller: "linkerd.io/proxy-replicationcontroller",
  replicaset: "linkerd.io/proxy-replicaset",
  job: "linkerd.io/proxy-job",
  daemonset: "linkerd.io/proxy-daemonset",
  statefulset: "linkerd.io/proxy-statefulset",
  cronjob: "linkerd.io/proxy-cronjob",
};
