import type { ClusterApi as Cluster } from "../kube/cluster.js";
import { ExpositionParser, type LabelSet } from "../viz/exposition.js";

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

/**
 * The samples of one metric (exact name) in Prometheus text exposition format, in document order
 * (a series written twice keeps its later value). Malformed lines are skipped.
 */
export function samples(text: string, name: string): Sample[] {
  const out = new Map<LabelSet, Sample>();
  const p = new ExpositionParser(
    (n, _family, labels, value) => {
      if (n !== name) return;
      const prev = out.get(labels);
      if (prev) prev.value = value;
      else out.set(labels, { labels: { ...labels }, value });
    },
    { families: [name], onError: "skip" },
  );
  p.write(text);
  p.end();
  return [...out.values()];
}

export interface ProxyIdentity {
  /** When the proxy's current mTLS certificate expires; undefined before it has one (gauge 0) or when the metric is absent. */
  certExpiry?: Date;
  /** `proxy_build_info{version}` (e.g. `2.210.4`). */
  buildVersion?: string;
}

export function proxyIdentity(text: string): ProxyIdentity {
  let expiry: number | undefined;
  let build: string | undefined;
  const p = new ExpositionParser(
    (name, _family, labels, value) => {
      if (name === "identity_cert_expiration_timestamp_seconds") expiry ??= value;
      else if (name === "proxy_build_info") build ??= labels.version;
    },
    { families: ["identity_cert_expiration_timestamp_seconds", "proxy_build_info"], onError: "skip" },
  );
  p.write(text);
  p.end();
  return { certExpiry: expiry && Number.isFinite(expiry) ? new Date(expiry * 1000) : undefined, buildVersion: build };
}
