/**
 * The handle test files use to reach the shared real test cluster
 * (test/cluster/). The runner (scripts/test.mjs) starts one cluster per run and
 * sets MESH_TEST_CLUSTER; without it, a cluster started with `npm run cluster:up`
 * is used, else (if the binaries are built and we are root) a private one is
 * started for this process and stopped when it exits.
 *
 *   const c = await connectTestCluster();
 *   const ns = await c.newNamespace("viz");
 *   await c.kubectl(["apply", "-n", ns, "-f", "-"], { stdin: yaml });
 *   const [pod] = await c.waitForPods(ns, "app=web", { count: 1 });
 *   const text = await c.proxyMetrics(ns, pod.metadata.name);
 *   const fp = await c.startFaultProxy();  fp.setFaults([{ path: /\/pods/, status: 500 }]);
 */
import { existsSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { isBuilt } from "../cluster/build.js";
import { kubeconfigYaml } from "../cluster/control-plane.js";
import { FaultProxy, type FaultRule, type ProxiedRequest } from "../cluster/fault-proxy.js";
import { CLUSTER_ENV, startSharedCluster } from "../cluster/global.js";
import { KubeRest, KubeRestError } from "../cluster/kube-rest.js";
import type { Pod } from "../cluster/kubelet.js";
import { KUBE_BINARIES, binPath, defaultStatePath } from "../cluster/paths.js";
import { run, type RunResult } from "../cluster/proc.js";
import { isAlive, readState, type ClusterState } from "../cluster/state.js";

export type { FaultRule, ProxiedRequest, Pod, ClusterState };
export { FaultProxy, KubeRest, KubeRestError };

export type UserName = "admin" | "nobody" | "viewer";

export interface KubectlOptions {
  stdin?: string;
  /** Which token user runs it (default admin); ignored when `kubeconfig` is given. */
  user?: UserName;
  kubeconfig?: string;
  /** Resolve with a non-zero exit code instead of rejecting. */
  allowFail?: boolean;
  timeoutMs?: number;
}

export interface WaitForPodsOptions {
  /** Wait until exactly this many (non-terminating) pods match. */
  count?: number;
  /** `ready` (default): condition Ready=True; `running`: phase Running; `scheduled`: has an IP or is Pending with a node; `any`: just exist. */
  until?: "ready" | "running" | "scheduled" | "any";
  timeoutMs?: number;
}

export interface TestFaultProxy {
  proxy: FaultProxy;
  /** https://127.0.0.1:PORT */
  url: string;
  /** A kubeconfig for the proxy (same user as requested, same CA). */
  kubeconfig: string;
  setFaults(rules: FaultRule[]): void;
  addFault(rule: FaultRule): void;
  clearFaults(): void;
  /** Requests that went through the proxy (optionally only those whose path matches). */
  count(path?: RegExp | string): number;
  requests: ProxiedRequest[];
  resetCounts(): void;
  close(): Promise<void>;
}

export interface TestCluster {
  state: ClusterState;
  server: string;
  /** Admin kubeconfig (system:masters). */
  kubeconfig: string;
  /** Kubeconfigs per token user: admin, nobody (no RBAC at all), viewer (ClusterRole view). */
  kubeconfigs: Record<UserName, string>;
  /** The API as admin (a tiny REST client; mesh itself uses src/kube). */
  api: KubeRest;
  /** The API as another user. */
  apiAs(user: UserName): KubeRest;
  /** Runs the kubectl built with the cluster (same version). Rejects on a non-zero exit unless `allowFail`. */
  kubectl(args: string[], opts?: KubectlOptions): Promise<RunResult>;
  /** Applies YAML (kubectl apply -f -), optionally into a namespace. */
  apply(yaml: string, namespace?: string): Promise<void>;
  /** Creates a namespace `<prefix>-<random>` and waits for its default service account. */
  newNamespace(prefix?: string, labels?: Record<string, string>): Promise<string>;
  deleteNamespace(name: string): Promise<void>;
  /** Polls until pods matching `selector` (label selector) in `namespace` reach the state. */
  waitForPods(namespace: string, selector: string, opts?: WaitForPodsOptions): Promise<Pod[]>;
  /** GET a pod's proxy admin path through the API server's pod proxy (default /metrics). */
  proxyMetrics(namespace: string, pod: string, path?: string): Promise<string>;
  /** A fault-injecting proxy in front of the API server; closed by `close()` (do close it). */
  startFaultProxy(opts?: { user?: UserName }): Promise<TestFaultProxy>;
}

let connecting: Promise<TestCluster> | undefined;

/** Why cluster tests cannot run here, or undefined if they can (for `test(name, { skip })`). */
export function testClusterSkipReason(): string | undefined {
  // In CI (CI=true) the cluster is part of the setup: a missing one fails the tests, never skips them.
  if (process.env[CLUSTER_ENV] || process.env.CI) return undefined;
  const up = defaultStatePath();
  if (existsSync(up) && isAlive(readState(up).pid)) return undefined;
  if (process.getuid?.() !== 0) return "the test cluster needs root (network namespaces)";
  if (!KUBE_BINARIES.every((b) => existsSync(binPath(b)))) return "test cluster binaries are not built (node --import tsx test/cluster/cli.ts build)";
  return undefined;
}

/** The shared test cluster (memoised per process). */
export function connectTestCluster(): Promise<TestCluster> {
  return (connecting ??= connect());
}

async function connect(): Promise<TestCluster> {
  let statePath = process.env[CLUSTER_ENV];
  if (!statePath) {
    const up = defaultStatePath();
    if (existsSync(up) && isAlive(readState(up).pid)) statePath = up;
  }
  if (!statePath) {
    if (!(await isBuilt()))
      throw new Error(
        `no test cluster: ${CLUSTER_ENV} is unset, none is up, and the binaries are not built; run \`node --import tsx test/cluster/cli.ts build\` (or \`npm run cluster:up\`)`,
      );
    // A private cluster for this process; the supervisor stops when we exit.
    const shared = await startSharedCluster({ unref: true });
    statePath = shared.env[CLUSTER_ENV];
  }
  if (!existsSync(statePath)) throw new Error(`${CLUSTER_ENV}=${statePath} does not exist: the test cluster has stopped`);
  return makeHandle(readState(statePath));
}

function makeHandle(state: ClusterState): TestCluster {
  const ca = readFileSync(state.caFile, "utf8");
  const clients = new Map<UserName, KubeRest>();
  const apiAs = (user: UserName): KubeRest => {
    let c = clients.get(user);
    if (!c) clients.set(user, (c = new KubeRest(state.server, state.users[user].token, ca)));
    return c;
  };
  const api = apiAs("admin");
  const kubeconfigs = {
    admin: state.users.admin.kubeconfig,
    nobody: state.users.nobody.kubeconfig,
    viewer: state.users.viewer.kubeconfig,
  };

  const kubectl = (args: string[], opts: KubectlOptions = {}): Promise<RunResult> => {
    const kubeconfig = opts.kubeconfig ?? kubeconfigs[opts.user ?? "admin"];
    return run(state.kubectl, ["--kubeconfig", kubeconfig, ...args], {
      input: opts.stdin,
      allowFail: opts.allowFail,
      timeoutMs: opts.timeoutMs ?? 60_000,
      env: { ...process.env, KUBECONFIG: kubeconfig },
    });
  };

  return {
    state,
    server: state.server,
    kubeconfig: kubeconfigs.admin,
    kubeconfigs,
    api,
    apiAs,
    kubectl,

    async apply(yaml, namespace) {
      await kubectl(["apply", ...(namespace ? ["-n", namespace] : []), "-f", "-"], { stdin: yaml });
    },

    async newNamespace(prefix = "test", labels = {}) {
      const name = `${prefix}-${randomBytes(3).toString("hex")}`.toLowerCase();
      await api.json("POST", "/api/v1/namespaces", {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name, labels: { "mesh.test/namespace": "true", ...labels } },
      });
      // Pods cannot be admitted until the service-account controller created `default` (their
      // tokens are projected at admission since 1.24, so no token secret is waited for).
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        if (await api.find(`/api/v1/namespaces/${name}/serviceaccounts/default`)) return name;
        await sleep(100);
      }
      throw new Error(`namespace ${name}: no default service account after 20s`);
    },

    async deleteNamespace(name) {
      try {
        await api.json("DELETE", `/api/v1/namespaces/${name}`);
      } catch (e) {
        if (!(e instanceof KubeRestError && e.status === 404)) throw e;
      }
    },

    async waitForPods(namespace, selector, opts = {}) {
      const until = opts.until ?? "ready";
      const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
      let last: Pod[] = [];
      for (;;) {
        const list = await api.get<{ items: Pod[] }>(
          `/api/v1/namespaces/${namespace}/pods?labelSelector=${encodeURIComponent(selector)}`,
        );
        last = list.items.filter((p) => !p.metadata.deletionTimestamp);
        const countOk = opts.count === undefined ? last.length > 0 : last.length === opts.count;
        if (countOk && last.every((p) => podIs(p, until))) return last;
        if (Date.now() > deadline)
          throw new Error(
            `pods ${namespace}/${selector} not ${until} after ${(opts.timeoutMs ?? 30_000) / 1000}s (want ${opts.count ?? ">0"}): ${
              last.map((p) => `${p.metadata.name}=${(p.status as { phase?: string })?.phase ?? "?"}`).join(", ") || "none"
            }`,
          );
        await sleep(150);
      }
    },

    async proxyMetrics(namespace, pod, path = "/metrics") {
      const res = await api.raw("GET", `/api/v1/namespaces/${namespace}/pods/${pod}:4191/proxy${path}`);
      if (res.status !== 200) throw new KubeRestError(res.status, "GET", `pods/${pod}:4191/proxy${path}`, res.body);
      return res.body;
    },

    async startFaultProxy(opts = {}) {
      const user = state.users[opts.user ?? "admin"];
      const proxy = await new FaultProxy({
        upstream: state.server,
        ca,
        cert: readFileSync(state.certFile, "utf8"),
        key: readFileSync(state.keyFile, "utf8"),
      }).start();
      const kubeconfig = join(state.runDir, `fault-proxy-${process.pid}-${randomBytes(3).toString("hex")}.kubeconfig`);
      await writeFile(kubeconfig, kubeconfigYaml(proxy.url, ca, user.name, user.token));
      return {
        proxy,
        url: proxy.url,
        kubeconfig,
        setFaults: (r) => proxy.setFaults(r),
        addFault: (r) => proxy.addFault(r),
        clearFaults: () => proxy.clearFaults(),
        count: (p) => proxy.count(p),
        requests: proxy.requests,
        resetCounts: () => proxy.resetCounts(),
        close: () => proxy.close(),
      };
    },
  };
}

function podIs(p: Pod, until: NonNullable<WaitForPodsOptions["until"]>): boolean {
  const status = p.status as { phase?: string; podIP?: string; conditions?: { type: string; status: string }[] } | undefined;
  switch (until) {
    case "any":
      return true;
    case "scheduled":
      return !!p.spec.nodeName;
    case "running":
      return status?.phase === "Running";
    case "ready":
      return !!status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
