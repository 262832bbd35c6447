/**
 * A real Prometheus (Debian's `prometheus` package, installed by .ci/cluster-deps.sh) that scrapes
 * the test cluster's meshed proxies the way Linkerd-viz's Prometheus does: pods discovered through
 * the API server (admin token), only containers `linkerd-proxy` with port `linkerd-admin` and the
 * control-plane label, each pod's IP:4191 scraped directly (the pods' network namespace is
 * reachable from the host), and Linkerd-viz's target labels attached by relabelling (`namespace`,
 * `pod`, `<kind>` from `linkerd.io/proxy-<kind>`, `k8s_job`, the other pod labels).
 *
 * Discovery: Debian builds Prometheus without its Kubernetes service discovery, so this module
 * runs a small HTTP service-discovery endpoint (`http_sd_configs`) that lists the namespaces'
 * pods from the API server and publishes one target per container port with the same
 * `__meta_kubernetes_pod_*` labels Kubernetes discovery would; the relabel rules are the ones a
 * `kubernetes_sd_configs` job would use.
 *
 *   const prom = await startPrometheus(c.state, { namespaces: [ns], scrapeIntervalS: 2 });
 *   await prom.waitFor(`count(up{namespace="${ns}"} == 1)`, (v) => v >= 3, 60_000);
 *   ... mesh viz stat --prometheus-url prom.url ...
 *   await prom.stop();
 *
 * Each instance listens on 127.0.0.1 on a free port, keeps its TSDB in a temporary directory
 * (removed by stop()), logs to `<dir>/prometheus.log`, and is killed if this process exits first.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { createServer as createHttpServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { PrometheusClient, type PromSample } from "../../src/viz/prometheus.js";
import { KubeRest } from "./kube-rest.js";
import type { ClusterState } from "./state.js";

export interface PrometheusOptions {
  /** Namespaces whose pods are discovered (the harness never scrapes the whole shared cluster). */
  namespaces: string[];
  /** Scrape interval in seconds (Linkerd-viz uses 10; tests want samples quickly). Default 2. */
  scrapeIntervalS?: number;
  /** Value of `linkerd.io/control-plane-ns` that marks a meshed pod. Default `linkerd`. */
  controlPlaneNamespace?: string;
  /** How long to wait for `/-/ready`. Default 30 s. */
  readyTimeoutMs?: number;
}

export interface RunningPrometheus {
  /** http://127.0.0.1:PORT */
  url: string;
  dir: string;
  logFile: string;
  pid: number;
  client: PrometheusClient;
  /** An instant query. */
  query(promql: string): Promise<PromSample[]>;
  /**
   * Polls a query until `ok` holds for the first sample's value (NaN when there is none), at
   * most `timeoutMs`; rejects with the last value and the log's tail.
   */
  waitFor(promql: string, ok: (value: number) => boolean, timeoutMs: number): Promise<number>;
  /** The last lines of the log (for failure messages). */
  logTail(lines?: number): string;
  /** SIGTERM, then SIGKILL after 5 s; removes the directory. Idempotent. */
  stop(): Promise<void>;
}

/** The Prometheus binary, or undefined if the package is not installed. */
export function prometheusBinary(): string | undefined {
  for (const p of ["/usr/bin/prometheus", "/usr/local/bin/prometheus"]) if (existsSync(p)) return p;
  const r = spawnSync("sh", ["-c", "command -v prometheus"], { encoding: "utf8" });
  const p = r.stdout.trim();
  return r.status === 0 && p ? p : undefined;
}

/** Why Prometheus tests cannot run here, or undefined. */
export function prometheusSkipReason(): string | undefined {
  // In CI a missing Prometheus is a failure of the setup, never a reason to skip.
  if (process.env.CI) return undefined;
  return prometheusBinary() ? undefined : "prometheus is not installed (sudo sh .ci/cluster-deps.sh installs Debian's package)";
}

/**
 * The scrape configuration: Linkerd-viz's `linkerd-proxy` job in spirit (our own rules), pointed
 * at the test cluster's API server with the admin token.
 */
export function prometheusConfig(o: { discoveryUrl: string; scrapeIntervalS: number; controlPlaneNamespace: string }): string {
  const interval = `${o.scrapeIntervalS}s`;
  const meta = "__meta_kubernetes_pod_label_";
  const config = {
    global: { scrape_interval: interval, scrape_timeout: `${Math.max(1, o.scrapeIntervalS - 1)}s`, evaluation_interval: interval },
    scrape_configs: [
      {
        job_name: "linkerd-proxy",
        honor_labels: false,
        http_sd_configs: [{ url: o.discoveryUrl, refresh_interval: interval }],
        relabel_configs: [
          // Only the proxy's admin port of pods meshed by this control plane.
          {
            source_labels: ["__meta_kubernetes_pod_container_name", "__meta_kubernetes_pod_container_port_name", `${meta}linkerd_io_control_plane_ns`],
            regex: `linkerd-proxy;linkerd-admin;${o.controlPlaneNamespace}`,
            action: "keep",
          },
          // `linkerd.io/proxy-job` becomes k8s_job (`job` is Prometheus' own label).
          { source_labels: [`${meta}linkerd_io_proxy_job`], regex: "(.+)", target_label: "k8s_job", replacement: "$1", action: "replace" },
          { regex: `${meta}linkerd_io_proxy_job`, action: "labeldrop" },
          // `linkerd.io/proxy-<kind>` → `<kind>` (deployment, statefulset, daemonset, replicaset, …).
          { regex: `${meta}linkerd_io_proxy_(.+)`, replacement: "$1", action: "labelmap" },
          { regex: `${meta}linkerd_io_proxy_(.+)`, action: "labeldrop" },
          // Other `linkerd.io/<x>` labels without the prefix (control_plane_ns, workload_ns), then the rest as they are.
          { regex: `${meta}linkerd_io_(.+)`, replacement: "$1", action: "labelmap" },
          { regex: `${meta}linkerd_io_(.+)`, action: "labeldrop" },
          { regex: `${meta}(.+)`, replacement: "$1", action: "labelmap" },
          // namespace and pod last, so that no pod label can shadow them.
          { source_labels: ["__meta_kubernetes_namespace"], target_label: "namespace", action: "replace" },
          { source_labels: ["__meta_kubernetes_pod_name"], target_label: "pod", action: "replace" },
        ],
      },
    ],
  };
  return stringify(config);
}

/** A Kubernetes label name as Prometheus writes it into `__meta_*` label names (invalid characters become `_`). */
const metaName = (k: string) => k.replace(/[^a-zA-Z0-9_]/g, "_");

interface SdPod {
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  spec: { nodeName?: string; containers: { name: string; ports?: { name?: string; containerPort: number; protocol?: string }[] }[] };
  status?: { phase?: string; podIP?: string };
}

/**
 * HTTP service discovery for the pods of some namespaces: target groups with one target per
 * container port (`<pod IP>:<port>`) and the `__meta_kubernetes_*` labels of Prometheus'
 * Kubernetes pod discovery. Pods without an IP are left out, as Kubernetes discovery does.
 */
export function podTargetGroups(pods: SdPod[]): { targets: string[]; labels: Record<string, string> }[] {
  const out: { targets: string[]; labels: Record<string, string> }[] = [];
  for (const pod of pods) {
    const ip = pod.status?.podIP;
    if (!ip) continue;
    const base: Record<string, string> = {
      __meta_kubernetes_namespace: pod.metadata.namespace,
      __meta_kubernetes_pod_name: pod.metadata.name,
      __meta_kubernetes_pod_ip: ip,
      __meta_kubernetes_pod_phase: pod.status?.phase ?? "",
      __meta_kubernetes_pod_node_name: pod.spec.nodeName ?? "",
    };
    for (const [k, v] of Object.entries(pod.metadata.labels ?? {})) {
      base[`__meta_kubernetes_pod_label_${metaName(k)}`] = v;
      base[`__meta_kubernetes_pod_labelpresent_${metaName(k)}`] = "true";
    }
    for (const c of pod.spec.containers)
      for (const port of c.ports ?? [])
        out.push({
          targets: [`${ip}:${port.containerPort}`],
          labels: { ...base, __meta_kubernetes_pod_container_name: c.name, __meta_kubernetes_pod_container_port_name: port.name ?? "", __meta_kubernetes_pod_container_port_number: String(port.containerPort), __meta_kubernetes_pod_container_port_protocol: port.protocol ?? "TCP" },
        });
  }
  return out;
}

/** Serves podTargetGroups() of the namespaces' pods, read from the API server on every request. */
async function startDiscovery(state: Pick<ClusterState, "server" | "caFile" | "users">, namespaces: string[]): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  const api = new KubeRest(state.server, state.users.admin.token, readFileSync(state.caFile, "utf8"));
  let requests = 0;
  const server: Server = createHttpServer((_req, res) => {
    requests++;
    Promise.all(namespaces.map((ns) => api.get<{ items: SdPod[] }>(`/api/v1/namespaces/${ns}/pods`)))
      .then((lists) => {
        const body = JSON.stringify(podTargetGroups(lists.flatMap((l) => l.items)));
        res.writeHead(200, { "content-type": "application/json" });
        res.end(body);
      })
      .catch((e: Error) => {
        // Prometheus keeps the previous targets when discovery fails.
        res.writeHead(500, { "content-type": "text/plain" });
        res.end(e.message);
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/targets`,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts a Prometheus for the test cluster; see the module comment. */
export async function startPrometheus(state: Pick<ClusterState, "server" | "caFile" | "users">, o: PrometheusOptions): Promise<RunningPrometheus> {
  const bin = prometheusBinary();
  if (!bin) throw new Error(prometheusSkipReason());
  if (!o.namespaces.length) throw new Error("startPrometheus: name at least one namespace to discover");
  const dir = mkdtempSync(join(tmpdir(), "mesh-prometheus-"));
  const discovery = await startDiscovery(state, o.namespaces);
  const configFile = join(dir, "prometheus.yml");
  writeFileSync(configFile, prometheusConfig({ discoveryUrl: discovery.url, scrapeIntervalS: o.scrapeIntervalS ?? 2, controlPlaneNamespace: o.controlPlaneNamespace ?? "linkerd" }));
  const logFile = join(dir, "prometheus.log");
  const logTail = (n = 30) => {
    try {
      return readFileSync(logFile, "utf8").trimEnd().split("\n").slice(-n).join("\n");
    } catch {
      return "(no log)";
    }
  };

  // A free port can be taken between probing and binding: try a few.
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const log = openSync(logFile, "a");
    const child: ChildProcess = spawn(
      bin,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        "--storage.tsdb.retention.time=2h",
        `--web.listen-address=127.0.0.1:${port}`,
        "--web.console.templates=/etc/prometheus/consoles",
        "--web.console.libraries=/etc/prometheus/console_libraries",
        "--log.level=info",
      ],
      { stdio: ["ignore", log, log] },
    );
    closeSync(log);
    const pid = child.pid!;
    let exited: string | undefined;
    child.once("exit", (code, signal) => (exited = signal ?? String(code)));
    child.once("error", (e) => (exited = e.message));
    // Never leave it behind: kill exactly this process when the test process goes away.
    const killOnExit = () => {
      if (exited === undefined) child.kill("SIGKILL");
    };
    process.once("exit", killOnExit);

    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + (o.readyTimeoutMs ?? 30_000);
    let ready = false;
    while (Date.now() < deadline && exited === undefined) {
      try {
        const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (res.status === 200) {
          ready = true;
          break;
        }
      } catch {
        // not listening yet
      }
      await sleep(200);
    }
    if (!ready) {
      if (exited === undefined) child.kill("SIGKILL");
      process.removeListener("exit", killOnExit);
      lastError = new Error(`prometheus (pid ${pid}) ${exited !== undefined ? `exited (${exited})` : "was not ready in time"}; log ${logFile}:\n${logTail()}`);
      if (/address already in use/.test(logTail())) continue;
      break;
    }

    const client = new PrometheusClient(url, { timeoutMs: 10_000 });
    let stopped: Promise<void> | undefined;
    const running: RunningPrometheus = {
      url,
      dir,
      logFile,
      pid,
      client,
      query: (q) => client.query(q),
      logTail,
      async waitFor(promql, ok, timeoutMs) {
        const end = Date.now() + timeoutMs;
        let last = NaN;
        let lastErr = "";
        for (;;) {
          try {
            const r = await client.query(promql);
            last = r.length ? r[0].value : NaN;
            lastErr = "";
            if (ok(last)) return last;
          } catch (e) {
            lastErr = (e as Error).message;
          }
          if (Date.now() > end) throw new Error(`prometheus: ${promql} → ${last}${lastErr ? ` (${lastErr})` : ""} after ${timeoutMs / 1000}s; log:\n${logTail(15)}`);
          await sleep(500);
        }
      },
      stop() {
        return (stopped ??= (async () => {
          if (exited === undefined) {
            child.kill("SIGTERM");
            const end = Date.now() + 5000;
            while (exited === undefined && Date.now() < end) await sleep(50);
            if (exited === undefined) child.kill("SIGKILL");
            const end2 = Date.now() + 2000;
            while (exited === undefined && Date.now() < end2) await sleep(50);
          }
          process.removeListener("exit", killOnExit);
          await discovery.close();
          if (!process.env.MESH_KEEP_PROMETHEUS) rmSync(dir, { recursive: true, force: true });
        })());
      },
    };
    return running;
  }
  await discovery.close();
  rmSync(dir, { recursive: true, force: true });
  throw lastError ?? new Error("prometheus did not start");
}
