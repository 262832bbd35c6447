import { podProxyPath, type BodyStreamOptions, type ClusterApi } from "../kube/cluster.js";
import { apiError, KubeApiError } from "../kube/errors.js";
import { PortForwardPool } from "../kube/portforward.js";
import { MeshError } from "../errors.js";
import { sanitize } from "../output/sanitize.js";
import type { Via } from "./via-option.js";

export { VIA_CHOICES, viaOption, type Via } from "./via-option.js";

/**
 * How mesh reaches a pod's port for a GET (a proxy's `/metrics` on the admin port): through the
 * API server's pod proxy (`pods/proxy`, the fast path: one HTTP request), or through a
 * port-forward (`pods/portforward`: an upgrade to SPDY, then the request over a stream the kubelet
 * joins to the pod). The pod proxy needs the API server to connect to pod IPs, which a firewall
 * between the control plane and the nodes often forbids (private GKE and EKS clusters); the
 * port-forward goes through the kubelet, which the API server always reaches.
 *
 * `auto` (the default) uses the pod proxy and, on the first answer that looks like such a
 * firewall (the API server's 502/503/504, or no answer in time), says so once on stderr and reads
 * every pod from then on through port-forward.
 */

/** A pod proxy path: namespace, pod, numeric port, then the path on the pod. */
const POD_PROXY = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/:]+):(\d+)\/proxy(\/[^?]*(?:\?.*)?)?$/;

/** Would a port-forward help? The API server's proxy could not reach the pod: bad gateway, unavailable, gateway timeout, or no answer in time. */
export function looksFirewalled(err: unknown): boolean {
  if (err instanceof KubeApiError) return err.status === 502 || err.status === 503 || err.status === 504;
  if (!(err instanceof MeshError)) return false;
  const code = (err.cause as { code?: string } | undefined)?.code;
  return code === "MESH_TIMEOUT" || code === "ETIMEDOUT" || code === "MESH_IDLE";
}

/** The stderr lines said when `auto` falls back, naming the firewall rule that would make the pod proxy work. */
export function fallbackMessage(namespace: string, pod: string, port: number, err: unknown): string {
  const why = err instanceof KubeApiError ? `the API server answered ${err.status}${err.serverMessage ? `: ${sanitize(err.serverMessage, 160)}` : ""}` : sanitize(err instanceof Error ? err.message : String(err), 160);
  return (
    `warning: the API server's pod proxy cannot reach pod ${sanitize(namespace, 63)}/${sanitize(pod, 253)} on port ${port} (${why}); reading the proxies through port-forward instead (slower)\n` +
    `hint: allow TCP from the API server to pod IPs on port ${port} (the proxies' admin port) in the firewall between the control plane and the nodes to use the faster pod proxy; --via proxy|port-forward picks a transport explicitly\n`
  );
}

interface State {
  mode: "proxy" | "port-forward";
  announced: boolean;
  /** Port-forward sessions, one per pod, shared by every view; closed with the cluster. */
  pool: PortForwardPool;
}

/**
 * A view of `cluster` whose pod-proxy GETs (`podProxyText`, and `getStream` of a pod proxy path)
 * go the way `via` says. Everything else, and every view from `withTimeout`, behaves as `cluster`.
 */
export function withVia(cluster: ClusterApi, via: Via, stderr: { write(s: string): unknown }): ClusterApi {
  if (via === "proxy") return cluster;
  const state: State = { mode: via === "port-forward" ? "port-forward" : "proxy", announced: false, pool: new PortForwardPool(cluster) };
  return wrap(cluster, via, state, stderr, 30_000);
}

function wrap(target: ClusterApi, via: Via, state: State, stderr: { write(s: string): unknown }, timeoutMs: number): ClusterApi {
  /** Whether to retry a failed pod-proxy GET through port-forward (and from now on use it). */
  const fallBack = (err: unknown, ns: string, pod: string, port: number): boolean => {
    if (via !== "auto" || !looksFirewalled(err)) return false;
    state.mode = "port-forward";
    if (!state.announced) {
      state.announced = true;
      stderr.write(fallbackMessage(ns, pod, port, err));
    }
    return true;
  };

  const forwarded = async (ns: string, pod: string, port: number, path: string, opts: BodyStreamOptions = {}): Promise<Buffer> => {
    const res = await state.pool.get(ns, pod, port, path, { timeoutMs, maxBytes: opts.maxBytes, gzip: opts.gzip, onWireBytes: opts.onWireBytes, signal: opts.signal });
    if (res.status < 200 || res.status >= 300) throw apiError(res.status, "GET", podProxyPath(ns, pod, port, path), res.body.subarray(0, 64 * 1024).toString("utf8"));
    return res.body;
  };

  async function* getStream(path: string, opts: BodyStreamOptions = {}): AsyncGenerator<Uint8Array, void, undefined> {
    const m = POD_PROXY.exec(path);
    if (!m) return yield* target.getStream(path, opts);
    const [ns, pod] = [decodeURIComponent(m[1]!), decodeURIComponent(m[2]!)];
    const port = Number(m[3]);
    const sub = m[4] ?? "/";
    if (state.mode === "proxy") {
      let started = false;
      try {
        for await (const chunk of target.getStream(path, opts)) {
          started = true;
          yield chunk;
        }
        return;
      } catch (err) {
        if (started || !fallBack(err, ns, pod, port)) throw err;
      }
    }
    yield await forwarded(ns, pod, port, sub, opts);
  }

  const podProxyText = async (ns: string, pod: string, port: number | string, path: string): Promise<string> => {
    const n = typeof port === "number" ? port : /^\d+$/.test(port) ? Number(port) : undefined;
    if (n === undefined) return target.podProxyText(ns, pod, port, path);
    if (state.mode === "proxy") {
      try {
        return await target.podProxyText(ns, pod, port, path);
      } catch (err) {
        if (!fallBack(err, ns, pod, n)) throw err;
      }
    }
    return (await forwarded(ns, pod, n, path.startsWith("/") ? path : `/${path}`)).toString("utf8");
  };

  return new Proxy(target, {
    get(t, prop) {
      if (prop === "getStream") return getStream;
      if (prop === "podProxyText") return podProxyText;
      if (prop === "withTimeout") return (ms: number) => wrap(t.withTimeout(ms), via, state, stderr, ms);
      if (prop === "close")
        return () => {
          state.pool.close();
          t.close();
        };
      const v = Reflect.get(t, prop, t) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}
