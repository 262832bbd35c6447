import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from "node:https";
import { Agent as HttpAgent, request as httpRequest, type ClientRequest } from "node:http";
import { createSecureContext } from "node:tls";
import type { KubeConfig } from "@kubernetes/client-node";
import { MeshError } from "../errors.js";
import type { GlobalOptions } from "../deps.js";
import { apiError, transportError, KubeApiError } from "./errors.js";
import { readSimpleKubeconfig, type SimpleKubeconfig } from "./kubeconfig.js";
import type {
  AccessReviewStatus,
  APIService,
  ConfigMap,
  CustomResourceDefinition,
  DaemonSet,
  Deployment,
  Endpoints,
  KubeObject,
  List,
  Namespace,
  Node,
  Pod,
  ReplicaSet,
  ResourceAttributes,
  Secret,
  ServerVersion,
  Service,
  ServiceProfile,
  WebhookConfiguration,
} from "./types.js";

export type * from "./types.js";

/**
 * The narrow view of the Kubernetes API that mesh's commands use. Failures throw a MeshError
 * (a KubeApiError for HTTP answers) whose message a user can act on.
 */
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

/**
 * The typed getters `mesh check` reads the cluster with (what `connect()` returns). Getters of
 * single objects return undefined when the object does not exist (404).
 */
export interface ClusterApi extends Cluster {
  /** GET /version. */
  serverVersion(): Promise<ServerVersion>;
  getNamespace(name: string): Promise<Namespace | undefined>;
  listNamespaces(selector?: string): Promise<Namespace[]>;
  /** Pods of one namespace, or of all namespaces when `namespace` is undefined or "". */
  listPods(namespace?: string, selector?: string): Promise<Pod[]>;
  listServices(namespace?: string, selector?: string): Promise<Service[]>;
  listEndpoints(namespace?: string): Promise<Endpoints[]>;
  listReplicaSets(namespace: string): Promise<ReplicaSet[]>;
  getDeployment(namespace: string, name: string): Promise<Deployment | undefined>;
  getDaemonSet(namespace: string, name: string): Promise<DaemonSet | undefined>;
  listServiceAccounts(namespace: string, selector?: string): Promise<KubeObject[]>;
  getServiceAccount(namespace: string, name: string): Promise<KubeObject | undefined>;
  getConfigMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  listConfigMaps(namespace: string, selector?: string): Promise<ConfigMap[]>;
  getSecret(namespace: string, name: string): Promise<Secret | undefined>;
  listNodes(): Promise<Node[]>;
  listClusterRoles(selector?: string): Promise<KubeObject[]>;
  getClusterRole(name: string): Promise<KubeObject | undefined>;
  listClusterRoleBindings(selector?: string): Promise<KubeObject[]>;
  getClusterRoleBinding(name: string): Promise<KubeObject | undefined>;
  getCustomResourceDefinition(name: string): Promise<CustomResourceDefinition | undefined>;
  listCustomResourceDefinitions(selector?: string): Promise<CustomResourceDefinition[]>;
  listMutatingWebhookConfigurations(selector?: string): Promise<WebhookConfiguration[]>;
  getMutatingWebhookConfiguration(name: string): Promise<WebhookConfiguration | undefined>;
  listValidatingWebhookConfigurations(selector?: string): Promise<WebhookConfiguration[]>;
  getValidatingWebhookConfiguration(name: string): Promise<WebhookConfiguration | undefined>;
  getAPIService(name: string): Promise<APIService | undefined>;
  /** ServiceProfiles of one or all namespaces; undefined when the CRD is not installed. */
  listServiceProfiles(namespace?: string): Promise<ServiceProfile[] | undefined>;
  /** POST a SelfSubjectAccessReview: may the current user do this? */
  selfSubjectAccessReview(attributes: ResourceAttributes): Promise<AccessReviewStatus>;
  /** Server-side dry-run create (`dryRun=All`) of a cluster-scoped or namespaced object; throws why it would fail. */
  dryRunCreate(object: KubeObject): Promise<void>;
  /** GET a path of a pod's port through the API server's pod proxy (`pods/proxy`), e.g. the proxy's `/metrics` on 4191. */
  podProxyText(namespace: string, pod: string, port: number | string, path: string): Promise<string>;

  /** How many HTTP requests this cluster has sent. */
  requestCount(): number;
  /** A view of the same cluster whose requests time out after `ms`. */
  withTimeout(ms: number): ClusterApi;
  /** Cancels requests still in flight and releases connections. */
  close(): void;
}

export interface ConnectOptions {
  /** Per-request timeout in milliseconds. */
  timeoutMs?: number;
}

/** One HTTP exchange with the API server. */
export interface TransportRequest {
  method: "GET" | "POST";
  path: string;
  body?: string;
  accept?: string;
  timeoutMs: number;
}

export interface TransportResponse {
  status: number;
  body: string;
}

/** Sends one request; rejects (with a MeshError) only when no HTTP answer arrived. */
export type Transport = ((req: TransportRequest) => Promise<TransportResponse>) & { close?: () => void };

/**
 * The typed API over any Cluster: itself when it is one, else the typed getters on top of its
 * `getText` (GET only; a fake Cluster of a test, say).
 */
export function clusterApi(c: Cluster): ClusterApi {
  if (c instanceof RestCluster || ["listPods", "selfSubjectAccessReview", "withTimeout", "close"].every((m) => typeof (c as unknown as Record<string, unknown>)[m] === "function"))
    return c as ClusterApi;
  const transport: Transport = async (req) => {
    if (req.method !== "GET") return { status: 405, body: JSON.stringify({ message: `${req.method} is not supported by this cluster` }) };
    try {
      return { status: 200, body: await c.getText(req.path) };
    } catch (e) {
      if (e instanceof KubeApiError) return { status: e.status, body: JSON.stringify({ message: e.serverMessage || e.message }) };
      throw e;
    }
  };
  return new RestCluster(c.server, transport);
}

/** Loads the kubeconfig named by the global flags (or $KUBECONFIG, or ~/.kube/config) with client-node. */
export async function loadKubeConfig(g: Pick<GlobalOptions, "kubeconfig" | "context">): Promise<KubeConfig> {
  const { KubeConfig } = await import("@kubernetes/client-node");
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

function parseServer(server: string): URL {
  try {
    return new URL(server);
  } catch {
    throw new MeshError(`the kubeconfig names an invalid API server address "${server}"`, "fix the cluster's server field in your kubeconfig");
  }
}

/**
 * Connects to the cluster of the kubeconfig named by the global flags. Common kubeconfigs are
 * read directly (see kubeconfig.ts); exec plugins, auth providers, proxies, merged KUBECONFIG
 * lists and in-cluster configuration go through @kubernetes/client-node.
 */
export async function connect(g: GlobalOptions, opts: ConnectOptions = {}): Promise<ClusterApi> {
  const timeout = opts.timeoutMs ?? 30_000;
  const simple = readSimpleKubeconfig(g);
  if (simple) return new RestCluster(simple.server, httpTransport(simpleOptions(simple, parseServer(simple.server)), parseServer(simple.server), g), timeout);
  const kc = await loadKubeConfig(g);
  const server = kc.getCurrentCluster()!.server;
  const url = parseServer(server);
  return new RestCluster(server, httpTransport(clientNodeOptions(kc, url), url, g), timeout);
}

const enc = encodeURIComponent;
const query = (selector?: string) => (selector ? `?labelSelector=${enc(selector)}` : "");
const core = (namespace: string | undefined, resource: string) => (namespace ? `/api/v1/namespaces/${enc(namespace)}/${resource}` : `/api/v1/${resource}`);
const grouped = (gv: string, namespace: string | undefined, resource: string) => (namespace ? `/apis/${gv}/namespaces/${enc(namespace)}/${resource}` : `/apis/${gv}/${resource}`);

/** The plural resource path of an object, from its apiVersion and kind (the way kubectl guesses it). */
export function resourcePath(obj: KubeObject): string {
  const apiVersion = obj.apiVersion ?? "v1";
  const kind = obj.kind ?? "";
  const lower = kind.toLowerCase();
  const plural = lower.endsWith("s") ? `${lower}es` : lower.endsWith("y") && !/[aeiou]y$/.test(lower) ? `${lower.slice(0, -1)}ies` : `${lower}s`;
  const base = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const ns = obj.metadata.namespace;
  return ns ? `${base}/namespaces/${enc(ns)}/${plural}` : `${base}/${plural}`;
}

/** The Cluster interface over any transport: the real HTTPS one, or an in-memory fake in tests. */
export class RestCluster implements ClusterApi {
  private count = { n: 0 };

  constructor(
    readonly server: string,
    private readonly transport: Transport,
    private readonly timeoutMs = 30_000,
    shared?: { n: number },
  ) {
    if (shared) this.count = shared;
  }

  requestCount(): number {
    return this.count.n;
  }

  withTimeout(ms: number): ClusterApi {
    return new RestCluster(this.server, this.transport, ms, this.count);
  }

  close(): void {
    this.transport.close?.();
  }

  private async send(method: "GET" | "POST", path: string, body?: string, accept = "application/json"): Promise<string> {
    this.count.n++;
    const res = await this.transport({ method, path, body, accept, timeoutMs: this.timeoutMs });
    if (res.status >= 200 && res.status < 300) return res.body;
    throw apiError(res.status, method, path, res.body);
  }

  async getJson<T>(path: string): Promise<T | undefined> {
    try {
      return JSON.parse(await this.send("GET", path)) as T;
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return undefined;
      if (err instanceof SyntaxError) throw new MeshError(`the API server sent invalid JSON for GET ${path}`, "is the server in your kubeconfig a Kubernetes API server?", 1, err);
      throw err;
    }
  }

  getText(path: string): Promise<string> {
    return this.send("GET", path, undefined, "*/*");
  }

  private async list<T>(path: string): Promise<T[]> {
    const list = await this.getJson<List<T>>(path);
    if (!list) throw apiError(404, "GET", path, `the server could not find the requested resource (${path})`);
    return list.items ?? [];
  }

  async controlPlaneVersion(namespace: string): Promise<string | undefined> {
    const cm = await this.getConfigMap(namespace, "linkerd-config");
    const values = cm?.data?.values;
    if (!values) return undefined;
    return /^linkerdVersion:\s*(\S+)/m.exec(values)?.[1];
  }

  async serverVersion(): Promise<ServerVersion> {
    const v = await this.getJson<ServerVersion>("/version");
    if (!v || typeof v.gitVersion !== "string") throw new MeshError(`the API server at ${this.server} did not report its version`, "is the server in your kubeconfig a Kubernetes API server?");
    return v;
  }

  getNamespace(name: string) {
    return this.getJson<Namespace>(`/api/v1/namespaces/${enc(name)}`);
  }
  listNamespaces(selector?: string) {
    return this.list<Namespace>(`/api/v1/namespaces${query(selector)}`);
  }
  listPods(namespace?: string, selector?: string) {
    return this.list<Pod>(core(namespace, "pods") + query(selector));
  }
  listServices(namespace?: string, selector?: string) {
    return this.list<Service>(core(namespace, "services") + query(selector));
  }
  listEndpoints(namespace?: string) {
    return this.list<Endpoints>(core(namespace, "endpoints"));
  }
  listReplicaSets(namespace: string) {
    return this.list<ReplicaSet>(grouped("apps/v1", namespace, "replicasets"));
  }
  getDeployment(namespace: string, name: string) {
    return this.getJson<Deployment>(`${grouped("apps/v1", namespace, "deployments")}/${enc(name)}`);
  }
  getDaemonSet(namespace: string, name: string) {
    return this.getJson<DaemonSet>(`${grouped("apps/v1", namespace, "daemonsets")}/${enc(name)}`);
  }
  listServiceAccounts(namespace: string, selector?: string) {
    return this.list<KubeObject>(core(namespace, "serviceaccounts") + query(selector));
  }
  getServiceAccount(namespace: string, name: string) {
    return this.getJson<KubeObject>(`${core(namespace, "serviceaccounts")}/${enc(name)}`);
  }
  getConfigMap(namespace: string, name: string) {
    return this.getJson<ConfigMap>(`${core(namespace, "configmaps")}/${enc(name)}`);
  }
  listConfigMaps(namespace: string, selector?: string) {
    return this.list<ConfigMap>(core(namespace, "configmaps") + query(selector));
  }
  getSecret(namespace: string, name: string) {
    return this.getJson<Secret>(`${core(namespace, "secrets")}/${enc(name)}`);
  }
  listNodes() {
    return this.list<Node>("/api/v1/nodes");
  }
  listClusterRoles(selector?: string) {
    return this.list<KubeObject>(`/apis/rbac.authorization.k8s.io/v1/clusterroles${query(selector)}`);
  }
  getClusterRole(name: string) {
    return this.getJson<KubeObject>(`/apis/rbac.authorization.k8s.io/v1/clusterroles/${enc(name)}`);
  }
  listClusterRoleBindings(selector?: string) {
    return this.list<KubeObject>(`/apis/rbac.authorization.k8s.io/v1/clusterrolebindings${query(selector)}`);
  }
  getClusterRoleBinding(name: string) {
    return this.getJson<KubeObject>(`/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${enc(name)}`);
  }
  getCustomResourceDefinition(name: string) {
    return this.getJson<CustomResourceDefinition>(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${enc(name)}`);
  }
  listCustomResourceDefinitions(selector?: string) {
    return this.list<CustomResourceDefinition>(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions${query(selector)}`);
  }
  listMutatingWebhookConfigurations(selector?: string) {
    return this.list<WebhookConfiguration>(`/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations${query(selector)}`);
  }
  getMutatingWebhookConfiguration(name: string) {
    return this.getJson<WebhookConfiguration>(`/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${enc(name)}`);
  }
  listValidatingWebhookConfigurations(selector?: string) {
    return this.list<WebhookConfiguration>(`/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations${query(selector)}`);
  }
  getValidatingWebhookConfiguration(name: string) {
    return this.getJson<WebhookConfiguration>(`/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/${enc(name)}`);
  }
  getAPIService(name: string) {
    return this.getJson<APIService>(`/apis/apiregistration.k8s.io/v1/apiservices/${enc(name)}`);
  }
  async listServiceProfiles(namespace?: string) {
    const list = await this.getJson<List<ServiceProfile>>(grouped("linkerd.io/v1alpha2", namespace, "serviceprofiles"));
    return list ? (list.items ?? []) : undefined;
  }

  async selfSubjectAccessReview(attributes: ResourceAttributes): Promise<AccessReviewStatus> {
    const body = JSON.stringify({ apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview", spec: { resourceAttributes: attributes } });
    const path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
    let text: string;
    try {
      text = await this.send("POST", path, body);
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 403)
        throw new KubeApiError(403, "POST", path, `${err.message} (mesh needs "create" on selfsubjectaccessreviews.authorization.k8s.io to test permissions)`, err.hint);
      throw err;
    }
    const parsed = JSON.parse(text) as { status?: AccessReviewStatus };
    return parsed.status ?? { allowed: false };
  }

  async dryRunCreate(object: KubeObject): Promise<void> {
    await this.send("POST", `${resourcePath(object)}?dryRun=All`, JSON.stringify(object));
  }

  podProxyText(namespace: string, pod: string, port: number | string, path: string): Promise<string> {
    return this.getText(`/api/v1/namespaces/${enc(namespace)}/pods/${enc(pod)}:${port}/proxy${path.startsWith("/") ? path : `/${path}`}`);
  }
}

type BaseOptions = () => Promise<{ opts: RequestOptions; agent: HttpsAgent | HttpAgent }>;

/** TLS and credentials from a kubeconfig read without client-node. */
function simpleOptions(k: SimpleKubeconfig, url: URL): BaseOptions {
  // One TLS context for every connection: building one per socket (Node's default when `ca` is
  // given) parses the CA again each time, which adds up over a run's parallel first requests.
  const secureContext = url.protocol === "https:" ? createSecureContext({ ca: k.ca, cert: k.cert, key: k.key }) : undefined;
  const tls = { secureContext, rejectUnauthorized: !k.insecure, servername: k.serverName };
  const agent = url.protocol === "https:" ? new HttpsAgent({ ...tls, keepAlive: true, maxSockets: 64 }) : new HttpAgent({ keepAlive: true, maxSockets: 64 });
  const result = Promise.resolve({ opts: { ...tls, headers: { ...k.headers } } as RequestOptions, agent });
  return () => result;
}

/** TLS and credentials (tokens, client certificates, exec plugins) from client-node, resolved once per run. */
function clientNodeOptions(kc: KubeConfig, url: URL): BaseOptions {
  const isHttps = url.protocol === "https:";
  let base: ReturnType<BaseOptions> | undefined;
  return () =>
    (base ??= (async () => {
      const opts: RequestOptions = { headers: {} };
      try {
        await kc.applyToHTTPSOptions(opts);
      } catch (err) {
        // client-node refuses plain-HTTP servers unless TLS verification is skipped; the
        // credentials it already applied are still good for an http:// server.
        if (isHttps) throw new MeshError(`cannot use the kubeconfig credentials: ${(err as Error).message}`, "check the user entry of your kubeconfig context", 1, err);
      }
      const headers = (opts.headers ?? {}) as Record<string, string | string[]>;
      if (opts.auth) {
        headers.Authorization = `Basic ${Buffer.from(opts.auth).toString("base64")}`;
        delete opts.auth;
      }
      opts.headers = headers;
      const given = opts.agent as (HttpsAgent & { options?: object }) | undefined;
      let agent: HttpsAgent | HttpAgent;
      if (kc.getCurrentCluster()?.proxyUrl && given) agent = given; // a proxy agent: keep it
      else {
        const o = (given?.options ?? {}) as { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer };
        const agentOptions = { ...o, ...(isHttps ? { secureContext: createSecureContext({ ca: o.ca, cert: o.cert, key: o.key }) } : {}), keepAlive: true, maxSockets: 64 };
        agent = isHttps ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
      }
      return { opts, agent };
    })());
}

/** HTTPS (or HTTP) to the API server, with keep-alive connections and per-request timeouts. */
function httpTransport(baseOptions: BaseOptions, url: URL, g: Pick<GlobalOptions, "as" | "asGroup">): Transport {
  const server = url.toString().replace(/\/$/, "");
  const isHttps = url.protocol === "https:";
  const active = new Set<ClientRequest>();
  let agent: HttpsAgent | HttpAgent | undefined;
  const impersonation: Record<string, string | string[]> = {};
  if (g.as) impersonation["Impersonate-User"] = g.as;
  if (g.asGroup?.length) impersonation["Impersonate-Group"] = g.asGroup;

  const transport: Transport = async (req) => {
    const base = await baseOptions();
    agent = base.agent;
    const opts = { ...base.opts, agent: base.agent };
    const what = `${req.method} ${req.path.split("?")[0]}`;
    const send = isHttps ? httpsRequest : httpRequest;
    const headers: Record<string, string | string[] | number> = { ...(opts.headers as Record<string, string>), ...impersonation, Accept: req.accept ?? "application/json" };
    if (req.body !== undefined) {
      headers["Content-Type"] = "application/json";
      headers["Content-Length"] = Buffer.byteLength(req.body);
    }
    return new Promise<TransportResponse>((resolve, reject) => {
      const r = send(
        {
          ...opts,
          method: req.method,
          hostname: url.hostname.replace(/^\[|\]$/g, ""),
          port: url.port || (isHttps ? 443 : 80),
          path: url.pathname.replace(/\/$/, "") + req.path,
          headers,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", (e) => fail(e));
          res.on("aborted", () => fail(Object.assign(new Error("aborted"), { code: "ECONNRESET" })));
          res.on("end", () => {
            done();
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") });
          });
        },
      );
      active.add(r);
      const timer = setTimeout(() => r.destroy(Object.assign(new Error("timeout"), { code: "MESH_TIMEOUT" })), req.timeoutMs);
      const done = () => {
        clearTimeout(timer);
        active.delete(r);
      };
      const fail = (e: unknown) => {
        done();
        reject(transportError(e, server, req.timeoutMs, what));
      };
      r.on("error", fail);
      r.end(req.body);
    });
  };
  transport.close = () => {
    for (const r of active) r.destroy(Object.assign(new Error("cancelled"), { code: "MESH_ABORTED" }));
    active.clear();
    agent?.destroy();
  };
  return transport;
}
