import { request as httpsRequest, type RequestOptions } from "node:https";
import { request as httpRequest } from "node:http";
import { KubeConfig } from "@kubernetes/client-node";
import { MeshError } from "../errors.js";
import type { GlobalOptions } from "../deps.js";
import { apiError, transportError, KubeApiError } from "./errors.js";

/** The narrow view of the Kubernetes API that mesh's commands use. */
export interface Cluster {
  /** The API server URL from the kubeconfig. */
  readonly server: string;
  /** GET a path (e.g. `/api/v1/namespaces/linkerd/configmaps/linkerd-config`); undefined on 404. */
  getJson<T = unknown>(path: string): Promise<T | undefined>;
  /** GET a path as text (pod proxy, logs); throws on any non-2xx. */
  getText(path: string): Promise<string>;
  /** The Linkerd version recorded in `<ns>/linkerd-config`, or undefined when none is installed. */
  controlPlaneVersion(namespace: string): Promise<string | undefined>;
}

export interface ConnectOptions {
  /** Per-request timeout in milliseconds. */
  timeoutMs?: number;
}

/** Loads the kubeconfig named by the global flags (or $KUBECONFIG, or ~/.kube/config). */
export function loadKubeConfig(g: Pick<GlobalOptions, "kubeconfig" | "context">): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (g.kubeconfig) kc.loadFromFile(g.kubeconfig);
    else kc.loadFromDefault();
  } catch (err) {
    throw new MeshError(`cannot load kubeconfig${g.kubeconfig ? ` ${g.kubeconfig}` : ""}: ${(err as Error).message}`, "pass a valid file with --kubeconfig or set KUBECONFIG", 1, err);
  }
  if (g.context) {
    if (!kc.getContexts().some((c) => c.name === g.context))
      throw new MeshError(`context "${g.context}" not found in kubeconfig`, `available contexts: ${kc.getContexts().map((c) => c.name).join(", ") || "none"}`);
    kc.setCurrentContext(g.context);
  }
  if (!kc.getCurrentCluster())
    throw new MeshError("no Kubernetes cluster is configured", "set KUBECONFIG, pass --kubeconfig, or pick a context with --context");
  return kc;
}

export async function connect(g: GlobalOptions, opts: ConnectOptions = {}): Promise<Cluster> {
  return new HttpCluster(loadKubeConfig(g), g, opts.timeoutMs ?? 30_000);
}

class HttpCluster implements Cluster {
  readonly server: string;
  private readonly url: URL;

  constructor(
    private readonly kc: KubeConfig,
    private readonly g: Pick<GlobalOptions, "as" | "asGroup">,
    private readonly timeoutMs: number,
  ) {
    this.server = kc.getCurrentCluster()!.server;
    this.url = new URL(this.server);
  }

  async getJson<T>(path: string): Promise<T | undefined> {
    try {
      return JSON.parse(await this.getText(path)) as T;
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  async getText(path: string): Promise<string> {
    const opts: RequestOptions = {
      method: "GET",
      hostname: this.url.hostname,
      port: this.url.port || (this.url.protocol === "https:" ? 443 : 80),
      path: this.url.pathname.replace(/\/$/, "") + path,
      headers: { Accept: "application/json" } as Record<string, string | string[]>,
    };
    await this.kc.applyToHTTPSOptions(opts);
    const headers = opts.headers as Record<string, string | string[]>;
    if (this.g.as) headers["Impersonate-User"] = this.g.as;
    if (this.g.asGroup?.length) headers["Impersonate-Group"] = this.g.asGroup;
    const send = this.url.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise<string>((resolve, reject) => {
      const req = send(opts, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", (e) => reject(transportError(e, this.server)));
        res.on("end", () => {
          const body = Buffer.concat(chunks).toString("utf8");
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve(body);
          else reject(apiError(status, "GET", path, body));
        });
      });
      req.setTimeout(this.timeoutMs, () => req.destroy(Object.assign(new Error("timeout"), { code: "MESH_TIMEOUT" })));
      req.on("error", (e) => reject(transportError(e, this.server, this.timeoutMs)));
      req.end();
    });
  }

  async controlPlaneVersion(namespace: string): Promise<string | undefined> {
    const cm = await this.getJson<{ data?: Record<string, string> }>(`/api/v1/namespaces/${namespace}/configmaps/linkerd-config`);
    const values = cm?.data?.values;
    if (!values) return undefined;
    return /^linkerdVersion:\s*(\S+)/m.exec(values)?.[1];
  }
}
