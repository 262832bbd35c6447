// A small fake of a meshed namespace for the viz routes/edges/list/check tests: objects served
// by path through a getText-only Cluster, and proxy payloads per pod and per scrape round.
import type { Cluster } from "../../src/kube/cluster.js";
import { apiError } from "../../src/kube/errors.js";
import { LE } from "./payload.js";

export const T0 = 1_717_171_300_000;

const meta = (ns: string, name: string, labels: Record<string, string>, owner?: string) => ({
  name,
  namespace: ns,
  uid: `uid-${name}`,
  labels,
  ...(owner ? { ownerReferences: [{ kind: "X", name: owner, uid: `uid-${owner}` }] } : {}),
});

export const deployment = (ns: string, app: string) => ({ metadata: meta(ns, app, { app }), spec: { selector: { matchLabels: { app } } } });
export const replicaSet = (ns: string, app: string) => ({ metadata: meta(ns, `${app}-rs`, { app }, app), spec: { selector: { matchLabels: { app } } } });
export const service = (ns: string, name: string, app: string) => ({ metadata: { name, namespace: ns, uid: `uid-svc-${name}` }, spec: { selector: { app } } });

export interface PodOptions {
  sa?: string;
  accessLog?: string;
  annotations?: Record<string, string>;
  meshed?: boolean;
  phase?: string;
}

export const pod = (ns: string, name: string, app: string, o: PodOptions = {}) => ({
  metadata: {
    ...meta(ns, name, { app, ...(o.meshed === false ? {} : { "linkerd.io/control-plane-ns": "linkerd", "linkerd.io/proxy-deployment": app }) }, `${app}-rs`),
    annotations: o.annotations ?? {},
  },
  spec: {
    serviceAccountName: o.sa ?? app,
    containers: [
      { name: app },
      ...(o.meshed === false
        ? []
        : [
            {
              name: "linkerd-proxy",
              ports: [{ name: "linkerd-admin", containerPort: 4191 }],
              env: [
                { name: "LINKERD2_PROXY_IDENTITY_LOCAL_NAME", value: "$(_pod_sa).$(_pod_ns).serviceaccount.identity.linkerd.cluster.local" },
                ...(o.accessLog ? [{ name: "LINKERD2_PROXY_ACCESS_LOG", value: o.accessLog }] : []),
              ],
            },
          ]),
    ],
  },
  status: { phase: o.phase ?? "Running", podIP: "10.42.0.1", containerStatuses: [{ name: "linkerd-proxy", ready: true, state: { running: {} } }] },
});

/** Exposition lines of one histogram series: cumulative counts by `le` (missing bounds repeat the previous count). */
export function histogram(name: string, labels: string, counts: Record<string, number>): string {
  let c = 0;
  return LE.map((le) => {
    if (counts[le] !== undefined) c = counts[le];
    return `${name}_bucket{${labels},le="${le}"} ${c}`;
  }).join("\n");
}

export interface FakeOptions {
  /** Path (without query) → JSON body. */
  objects: Record<string, unknown>;
  /** `ns/pod` → payload per scrape round (the last one repeats). */
  metrics: Record<string, string[]>;
  fail?: (path: string) => { status: number; body: string } | undefined;
  /** POST answers (SelfSubjectAccessReview), given the body. */
  post?: (path: string, body: string) => unknown;
}

export interface Fake {
  cluster: Cluster;
  now: () => Date;
  paths: string[];
}

/** The fake; `now` moves 10 s on once a pod is scraped the second time. */
export function fakeMesh(o: FakeOptions): Fake {
  const fetches = new Map<string, number>();
  let phase = 0;
  const paths: string[] = [];
  const cluster: Cluster = {
    server: "https://fake",
    async getJson() {
      throw new Error("unused");
    },
    async controlPlaneVersion() {
      return "stable-2.14.10";
    },
    async getText(path: string) {
      paths.push(path);
      const failure = o.fail?.(path);
      if (failure) throw apiError(failure.status, "GET", path, failure.body);
      const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/:]+):4191\/proxy\/metrics$/.exec(path);
      if (m) {
        const key = `${m[1]}/${m[2]}`;
        const n = fetches.get(key) ?? 0;
        fetches.set(key, n + 1);
        const rounds = o.metrics[key];
        if (!rounds) throw apiError(404, "GET", path, JSON.stringify({ message: `pods "${m[2]}" not found` }));
        phase = Math.max(phase, Math.min(n, 1));
        return rounds[Math.min(n, rounds.length - 1)];
      }
      const body = o.objects[path.split("?")[0]];
      if (body === undefined) throw apiError(404, "GET", path, JSON.stringify({ message: "the server could not find the requested resource" }));
      return JSON.stringify(body);
    },
  };
  return { cluster, now: () => new Date(T0 + phase * 10_000), paths };
}

export const list = (items: unknown[]) => ({ items });
