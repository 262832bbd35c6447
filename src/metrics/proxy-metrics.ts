import type { ClusterApi as Cluster } from "../kube/cluster.js";

/** The proxy's admin port, where `/metrics` is served. */
export const PROXY_ADMIN_PORT = 4191;

/** A proxy's Prometheus text from its admin endpoint, through the API server's pod proxy (RBAC: get pods/proxy). */
export function fetchProxyMetrics(cluster: Cluster, namespace: string, pod: string): Promise<string> {
  return cluster.podProxyText(namespace, pod, PROXY_ADMIN_PORT, "/metrics");
}

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** The samples of one metric family in Prometheus text exposition format. */
export function samples(text: string, name: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith(name) || line.startsWith("#")) continue;
    const rest = line.slice(name.length);
    const m = /^(?:\{(.*)\})?\s+(\S+)/.exec(rest);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const lm of (m[1] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[lm[1]] = lm[2];
    const value = m[2] === "+Inf" ? Infinity : m[2] === "-Inf" ? -Infinity : Number(m[2]);
    out.push({ labels, value });
  }
  return out;
}

export interface ProxyIdentity {
  /** When the proxy's current mTLS certificate expires; undefined before it has one (gauge 0) or when the metric is absent. */
  certExpiry?: Date;
  /** `proxy_build_info{version}` (e.g. `2.210.4`). */
  buildVersion?: string;
}

export function proxyIdentity(text: string): ProxyIdentity {
  const expiry = samples(text, "identity_cert_expiration_timestamp_seconds")[0]?.value;
  const build = samples(text, "proxy_build_info")[0]?.labels.version;
  return { certExpiry: expiry && Number.isFinite(expiry) ? new Date(expiry * 1000) : undefined, buildVersion: build };
}
