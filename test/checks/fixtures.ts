// A healthy Linkerd stable-2.14.10 install as the objects the API server would return, built
// from the committed certificate fixtures, and helpers to run checks against it.
import { certFixture, FIXTURE_NOW } from "../fixtures/certs/fixtures.js";
import { checkEnv, type CheckConfig, type CheckMode, type CheckWorld } from "../../src/checks/context.js";
import { selectCategories, hintBaseUrl } from "../../src/checks/index.js";
import { runChecks } from "../../src/checks/runner.js";
import type { Category, CheckResult, Clock } from "../../src/checks/types.js";
import type { CheckContext } from "../../src/checks/context.js";
import type { KubeObject, Pod } from "../../src/kube/types.js";
import { FakeApi, type FakeApiOptions } from "../kube/fake-api.js";

export { FIXTURE_NOW };
export const VERSION = "stable-2.14.10";
const b64 = (s: string) => Buffer.from(s).toString("base64");
const CP_LABELS = { "linkerd.io/control-plane-ns": "linkerd" };
const CLUSTER_NETWORKS = "10.0.0.0/8,100.64.0.0/10,172.16.0.0/12,192.168.0.0/16";

export function linkerdValues(overrides: Record<string, unknown> = {}): string {
  const v: Record<string, unknown> = {
    linkerdVersion: VERSION,
    clusterDomain: "cluster.local",
    clusterNetworks: CLUSTER_NETWORKS,
    cniEnabled: false,
    highAvailability: false,
    disableHeartBeat: false,
    identityTrustDomain: "cluster.local",
    identityTrustAnchorsPEM: certFixture("ca.crt"),
    identity: { issuer: { scheme: "linkerd.io/tls" } },
    proxyInit: { runAsRoot: false },
    ...overrides,
  };
  // YAML is a superset of JSON: good enough for the checks' parser
  return JSON.stringify(v, null, 2);
}

export interface PodSpec {
  name: string;
  namespace: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  containers?: string[];
  proxyImage?: string;
  ready?: boolean;
  phase?: string;
  ip?: string;
  owner?: { kind: string; name: string };
  anchors?: string;
  /** Containers whose state is terminated (exit 0). */
  terminated?: string[];
  ports?: { name?: string; containerPort: number }[];
}

export function pod(p: PodSpec): Pod {
  const app = p.containers ?? ["app"];
  const names = [...app, "linkerd-proxy"];
  const ready = p.ready ?? true;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: p.name,
      namespace: p.namespace,
      labels: { "linkerd.io/control-plane-ns": "linkerd", ...(p.labels ?? {}) },
      annotations: p.annotations,
      ownerReferences: p.owner ? [{ apiVersion: "apps/v1", kind: p.owner.kind, name: p.owner.name, controller: true }] : undefined,
    },
    spec: {
      containers: names.map((n) =>
        n === "linkerd-proxy"
          ? {
              name: n,
              image: p.proxyImage ?? `cr.l5d.io/linkerd/proxy:${VERSION}`,
              env: p.namespace === "linkerd" ? [] : [{ name: "LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS", value: p.anchors ?? certFixture("ca.crt") }],
              ports: [
                { name: "linkerd-proxy", containerPort: 4143 },
                { name: "linkerd-admin", containerPort: 4191 },
              ],
            }
          : { name: n, image: "example/app:1", ports: n === app[0] ? p.ports : undefined },
      ),
    },
    status: {
      phase: p.phase ?? "Running",
      podIP: p.ip ?? "10.244.0.10",
      conditions: [{ type: "Ready", status: ready ? "True" : "False" }],
      containerStatuses: names.map((n) => {
        const done = p.terminated?.includes(n);
        return {
          name: n,
          ready: done ? false : n === "linkerd-proxy" ? ready : true,
          started: !done,
          state: done ? { terminated: { exitCode: 0, reason: "Completed" } } : { running: { startedAt: "2025-12-31T23:00:00Z" } },
        };
      }),
    },
  };
}

function controlPlanePod(component: string, hash: string, id: string, ip: string, containers: string[]): Pod {
  const p = pod({
    name: `linkerd-${component}-${hash}-${id}`,
    namespace: "linkerd",
    labels: { "linkerd.io/control-plane-component": component, "pod-template-hash": hash },
    containers,
    ip,
    owner: { kind: "ReplicaSet", name: `linkerd-${component}-${hash}` },
  });
  p.metadata.ownerReferences![0].apiVersion = "apps/v1";
  return p;
}

const crd = (name: string, versions: string[]): KubeObject & { spec: unknown } => ({
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name, labels: CP_LABELS },
  spec: { group: name.split(".").slice(1).join("."), versions: versions.map((v) => ({ name: v, served: true, storage: false })) },
});

const webhookConfig = (kind: string, name: string, cert: string, failurePolicy = "Ignore"): KubeObject => ({
  apiVersion: "admissionregistration.k8s.io/v1",
  kind,
  metadata: { name, labels: CP_LABELS },
  webhooks: [{ name: `${name}.linkerd.io`, clientConfig: { caBundle: b64(certFixture(cert)), service: { name: "x", namespace: "linkerd" } }, failurePolicy }],
} as KubeObject);

const tlsSecret = (name: string, cert: string): KubeObject =>
  ({ apiVersion: "v1", kind: "Secret", metadata: { name, namespace: "linkerd", labels: CP_LABELS }, type: "kubernetes.io/tls", data: { "tls.crt": b64(certFixture(`${cert}.crt`)), "tls.key": b64(certFixture(`${cert}.key`)) } }) as KubeObject;

const service = (name: string, namespace: string, clusterIP: string, extra: Partial<KubeObject> & { ports?: unknown[] } = {}): KubeObject =>
  ({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace, ...(extra.metadata ?? {}) },
    spec: { clusterIP, ports: extra.ports ?? [{ name: "http", port: 80, targetPort: 8080 }] },
  }) as KubeObject;

const endpoints = (name: string, namespace: string, pods: string[]): KubeObject =>
  ({ apiVersion: "v1", kind: "Endpoints", metadata: { name, namespace }, subsets: pods.length ? [{ addresses: pods.map((p, i) => ({ ip: `10.244.0.${50 + i}`, targetRef: { kind: "Pod", name: p, namespace } })) }] : [] }) as KubeObject;

/** Every object of a healthy cluster with Linkerd installed and one meshed workload (emojivoto/web). */
export function healthyCluster(): KubeObject[] {
  const ns = (name: string, labels: Record<string, string> = {}): KubeObject => ({ apiVersion: "v1", kind: "Namespace", metadata: { name, labels } });
  const sa = (name: string): KubeObject => ({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace: "linkerd", labels: CP_LABELS } });
  const rbac = (kind: string, name: string): KubeObject => ({ apiVersion: "rbac.authorization.k8s.io/v1", kind, metadata: { name, labels: CP_LABELS } });
  const web = pod({ name: "web-5f86686c4d-58p7k", namespace: "emojivoto", labels: { app: "web", "pod-template-hash": "5f86686c4d" }, ip: "10.244.0.21", owner: { kind: "ReplicaSet", name: "web-5f86686c4d" }, ports: [{ name: "http", containerPort: 8080 }] });
  return [
    ns("default"),
    ns("kube-system"),
    ns("linkerd", { "linkerd.io/is-control-plane": "true", "config.linkerd.io/admission-webhooks": "disabled", "linkerd.io/control-plane-ns": "linkerd" }),
    ns("emojivoto"),
    {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: "node-1" },
      spec: { podCIDR: "10.244.0.0/24" },
      status: { conditions: [{ type: "Ready", status: "True", lastHeartbeatTime: FIXTURE_NOW.toISOString() }], nodeInfo: { containerRuntimeVersion: "containerd://1.7.2" } },
    } as KubeObject,
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "linkerd-config", namespace: "linkerd", uid: "8a3e2c1e-0000-4000-8000-000000000001", labels: CP_LABELS }, data: { values: linkerdValues() } } as KubeObject,
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "linkerd-identity-trust-roots", namespace: "linkerd", labels: CP_LABELS }, data: { "ca-bundle.crt": certFixture("ca.crt") } } as KubeObject,
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "extension-apiserver-authentication", namespace: "kube-system" }, data: { "requestheader-client-ca-file": "-----BEGIN CERTIFICATE-----\n" } } as KubeObject,
    { apiVersion: "v1", kind: "Secret", metadata: { name: "linkerd-identity-issuer", namespace: "linkerd", labels: CP_LABELS }, data: { "crt.pem": b64(certFixture("issuer.crt")), "key.pem": b64(certFixture("issuer.key")) } } as KubeObject,
    tlsSecret("linkerd-proxy-injector-k8s-tls", "webhook-proxy-injector"),
    tlsSecret("linkerd-sp-validator-k8s-tls", "webhook-sp-validator"),
    tlsSecret("linkerd-policy-validator-k8s-tls", "webhook-policy-validator"),
    webhookConfig("MutatingWebhookConfiguration", "linkerd-proxy-injector-webhook-config", "webhook-proxy-injector.crt"),
    webhookConfig("ValidatingWebhookConfiguration", "linkerd-sp-validator-webhook-config", "webhook-sp-validator.crt"),
    webhookConfig("ValidatingWebhookConfiguration", "linkerd-policy-validator-webhook-config", "webhook-policy-validator.crt"),
    rbac("ClusterRole", "linkerd-linkerd-identity"),
    rbac("ClusterRole", "linkerd-linkerd-proxy-injector"),
    rbac("ClusterRole", "linkerd-linkerd-destination"),
    rbac("ClusterRoleBinding", "linkerd-linkerd-identity"),
    rbac("ClusterRoleBinding", "linkerd-linkerd-proxy-injector"),
    rbac("ClusterRoleBinding", "linkerd-linkerd-destination"),
    sa("linkerd-destination"),
    sa("linkerd-identity"),
    sa("linkerd-proxy-injector"),
    sa("linkerd-heartbeat"),
    crd("authorizationpolicies.policy.linkerd.io", ["v1alpha1"]),
    crd("httproutes.policy.linkerd.io", ["v1alpha1", "v1beta1", "v1beta2", "v1beta3"]),
    crd("meshtlsauthentications.policy.linkerd.io", ["v1alpha1"]),
    crd("networkauthentications.policy.linkerd.io", ["v1alpha1"]),
    crd("serverauthorizations.policy.linkerd.io", ["v1alpha1", "v1beta1"]),
    crd("servers.policy.linkerd.io", ["v1alpha1", "v1beta1"]),
    crd("serviceprofiles.linkerd.io", ["v1alpha1", "v1alpha2"]),
    crd("httproutes.gateway.networking.k8s.io", ["v1alpha2", "v1beta1"]),
    controlPlanePod("destination", "7c4f9d8b6", "x2k4p", "10.244.0.11", ["destination", "sp-validator", "policy"]),
    controlPlanePod("identity", "5d8c7b9f4", "q9w8e", "10.244.0.12", ["identity"]),
    controlPlanePod("proxy-injector", "6b9d5c8f7", "m3n4b", "10.244.0.13", ["proxy-injector"]),
    web,
    service("linkerd-dst", "linkerd", "10.96.10.1", { ports: [{ name: "grpc", port: 8086, targetPort: 8086 }] }),
    service("linkerd-identity", "linkerd", "10.96.10.2", { ports: [{ name: "grpc", port: 8080, targetPort: 8080 }] }),
    service("linkerd-policy", "linkerd", "None", { ports: [{ name: "grpc", port: 8090, targetPort: 8090 }] }),
    service("kubernetes", "default", "10.96.0.1", { ports: [{ name: "https", port: 443, targetPort: 6443 }] }),
    service("web-svc", "emojivoto", "10.96.20.1"),
    endpoints("linkerd-dst", "linkerd", ["linkerd-destination-7c4f9d8b6-x2k4p"]),
    endpoints("linkerd-identity", "linkerd", ["linkerd-identity-5d8c7b9f4-q9w8e"]),
    endpoints("kubernetes", "default", []),
    endpoints("web-svc", "emojivoto", ["web-5f86686c4d-58p7k"]),
  ];
}

/** `/metrics` of a proxy whose certificate expires at `expiry`. */
export function proxyMetricsText(expiry: Date): string {
  return [
    "# HELP identity_cert_expiration_timestamp_seconds Time when the this proxy's current mTLS identity certificate will expire (in seconds since the UNIX epoch).",
    "# TYPE identity_cert_expiration_timestamp_seconds gauge",
    `identity_cert_expiration_timestamp_seconds ${Math.floor(expiry.getTime() / 1000)}`,
    "# HELP proxy_build_info Proxy build info",
    "# TYPE proxy_build_info gauge",
    'proxy_build_info{version="2.210.4",git_sha="5a910be",profile="release",date="2023-11-22T17:21:08Z",vendor="linkerd"} 1',
    "",
  ].join("\n");
}

/** Metrics for every running proxy of `objects`: certificates valid for another day. */
export function healthyMetrics(objects: KubeObject[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const o of objects) if (o.kind === "Pod") out[`${o.metadata.namespace}/${o.metadata.name}`] = proxyMetricsText(new Date(FIXTURE_NOW.getTime() + 86_400_000));
  return out;
}

/** A fake clock: `sleep` advances time at once. */
export function fakeClock(start = FIXTURE_NOW.getTime()): Clock & { slept: number[] } {
  let t = start;
  const slept: number[] = [];
  return {
    slept,
    now: () => t,
    sleep: async (ms, signal) => {
      if (signal) return new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
      slept.push(ms);
      t += ms;
    },
  };
}

export interface RunOptions {
  mode?: CheckMode;
  config?: Partial<CheckConfig>;
  api?: FakeApi;
  objects?: KubeObject[];
  apiOptions?: FakeApiOptions;
  world?: Partial<CheckWorld>;
  wait?: number;
  clock?: Clock;
  categories?: Category<CheckContext>[];
}

/** Runs the checks of a mode against a fake cluster and returns the results (skips included). */
export async function runAgainst(o: RunOptions = {}): Promise<{ results: CheckResult[]; api: FakeApi }> {
  const objects = o.objects ?? healthyCluster();
  const api = o.api ?? new FakeApi(objects, { metrics: healthyMetrics(objects), ...(o.apiOptions ?? {}) });
  const mode = o.mode ?? "default";
  const config: CheckConfig = { mode, controlPlaneNamespace: "linkerd", cniNamespace: "linkerd-cni", dataPlaneNamespace: "", cniEnabled: false, cliVersion: VERSION, ...(o.config ?? {}) };
  const clock = o.clock ?? fakeClock();
  const world: CheckWorld = {
    connect: async () => api.cluster(),
    now: () => new Date(clock.now()),
    fetchLatestVersions: async () => ({ stable: VERSION, edge: "edge-24.2.4" }),
    installObjects: async () => [],
    ...(o.world ?? {}),
  };
  const env = checkEnv(config, world);
  const results: CheckResult[] = [];
  for await (const r of runChecks(o.categories ?? selectCategories(mode, config.cliVersion), env, { deadline: clock.now() + (o.wait ?? 0), clock, hintBase: hintBaseUrl(config.cliVersion) })) results.push(r);
  return { results, api };
}

/** `"<category> <description>: <error>"` for every final failure or warning (Linkerd's test idiom). */
export function problems(results: CheckResult[]): string[] {
  return results.filter((r) => !r.retry && (r.status === "error" || r.status === "warning")).map((r) => `${r.category} ${r.description}: ${r.error}`);
}

export function statusOf(results: CheckResult[], description: string): string | undefined {
  return results.filter((r) => !r.retry && r.description === description).pop()?.status;
}
