import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from "node:https";
import { Agent as HttpAgent, request as httpRequest, type ClientRequest } from "node:http";
import { dirname } from "node:path";
import { Readable } from "node:stream";
import { createGunzip, gunzipSync } from "node:zlib";
import type { KubeConfig } from "@kubernetes/client-node";
import { MeshError } from "../errors.js";
import type { GlobalOptions } from "../deps.js";
import { apiError, transportError, KubeApiError } from "./errors.js";
import { sanitize, sanitizeToken } from "../output/sanitize.js";
import {
  execPlugin,
  impersonationHeaders,
  kubeconfigFiles,
  kubeconfigSearched,
  kubeconfigSecureContext,
  kubeconfigCluster,
  kubeconfigUser,
  mergeKubeconfigs,
  proxyUrlScheme,
  readImpersonation,
  readKubeconfigFile,
  readSimpleKubeconfig,
  refuseCaWithInsecure,
  runExecPlugin,
  type ExecCredential,
  type KubeconfigOrigin,
  type SimpleKubeconfig,
} from "./kubeconfig.js";
import { chooseProxy, serverAgent, viaProxy, type ProxyChoice } from "./proxy.js";
import { resourcePath } from "./resources.js";
import {
  projectCronJob,
  projectDaemonSet,
  projectDeployment,
  projectJob,
  projectPod,
  projectReplicaSet,
  projectReplicationController,
  projectStatefulSet,
} from "./project.js";
import { checkShape, listOf, SHAPES, type Shape } from "./shape.js";
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
  ReplicationController,
  StatefulSet,
  Job,
  CronJob,
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
  /**
   * Pods of one namespace, or of all namespaces when `namespace` is undefined or "", each reduced
   * to the fields of the Pod type (see project.ts).
   */
  listPods(namespace?: string, selector?: string, opts?: ListOptions): Promise<Pod[]>;
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
  /**
   * GET a path and yield its body as it arrives, asking for gzip (`Accept-Encoding: gzip`) and
   * decompressing it when the answer says `Content-Encoding: gzip`. Throws a KubeApiError for an
   * HTTP error answer and a MeshError when the body is larger than `maxBytes` (decoded) or not
   * valid gzip. Without a streaming transport, falls back to one buffered GET.
   */
  getStream(path: string, opts?: BodyStreamOptions): AsyncGenerator<Uint8Array, void, undefined>;
  /**
   * GET a path whose answer is a stream of lines (`pods/log?follow=true`), yielding each line
   * (without its line break) as it arrives. Ends when the server ends the response, or quietly
   * when `signal` aborts; throws a MeshError when no byte arrives for `idleTimeoutMs`, when a
   * line is longer than `maxLineBytes`, and (a KubeApiError) for an HTTP error answer.
   */
  streamLines(path: string, opts?: StreamOptions): AsyncGenerator<string, void, undefined>;
  /**
   * Watches a collection (`/api/v1/namespaces/x/pods?labelSelector=…`): yields its ADDED,
   * MODIFIED, DELETED (and BOOKMARK) events from `resourceVersion` on. Ends when the server
   * closes the watch (re-watch from the last resourceVersion seen) or when `signal` aborts; an
   * expired resourceVersion throws a KubeApiError with status 410 (list again, then watch).
   */
  watch<T extends KubeObject = KubeObject>(path: string, opts?: WatchOptions): AsyncGenerator<WatchEvent<T>, void, undefined>;
  /**
   * Workloads of one namespace, or of all namespaces when `namespace` is undefined or "" (viz stat),
   * each reduced to the fields of its type (see project.ts), as ReplicaSets from listReplicaSets are.
   */
  listDeployments(namespace?: string, selector?: string): Promise<Deployment[]>;
  listStatefulSets(namespace?: string, selector?: string): Promise<StatefulSet[]>;
  listDaemonSets(namespace?: string, selector?: string): Promise<DaemonSet[]>;
  listReplicaSetsIn(namespace?: string, selector?: string): Promise<ReplicaSet[]>;
  listJobs(namespace?: string, selector?: string): Promise<Job[]>;
  listCronJobs(namespace?: string, selector?: string): Promise<CronJob[]>;
  listReplicationControllers(namespace?: string, selector?: string): Promise<ReplicationController[]>;

  /**
   * POST a path asking to upgrade the connection (`pods/portforward`): resolves with the socket
   * once the API server answered 101; throws a KubeApiError for any other answer. Absent on
   * connections that cannot upgrade (a test's fake).
   */
  upgrade?(path: string, headers: Record<string, string>, timeoutMs?: number): Promise<UpgradedConnection>;

  /** How many HTTP requests this cluster has sent. */
  requestCount(): number;
  /** Bytes of answers received so far: as sent on the wire (compressed) and after decoding. */
  bytesReceived?(): { wire: number; decoded: number };
  /** A view of the same cluster whose requests time out after `ms`. */
  withTimeout(ms: number): ClusterApi;
  /** Cancels requests still in flight and releases connections. */
  close(): void;
}

export interface ListOptions {
  /**
   * Read the list in pages of this many items (`limit`, then `continue` until the server sends no
   * token, as kubectl reads with 500): a big cluster's answer is then never one string and one
   * parsed tree in memory at once. Unset: one request.
   */
  pageSize?: number;
}

export interface StreamOptions {
  /** Stops the stream: iteration ends without an error and the connection is closed. */
  signal?: AbortSignal;
  /** Fail when the server sends nothing for this long (default: the cluster's request timeout). 0: never. */
  idleTimeoutMs?: number;
  /** Longest line accepted (default 1 MiB). */
  maxLineBytes?: number;
}

export interface BodyStreamOptions {
  signal?: AbortSignal;
  /** Fail when the server sends nothing for this long (default: the cluster's request timeout). */
  idleTimeoutMs?: number;
  /** Most bytes of the decoded body (default MAX_BODY_BYTES). */
  maxBytes?: number;
  /** Ask for a gzip-compressed answer (default true). */
  gzip?: boolean;
  /** Called with the size of each chunk as received (before decompression). */
  onWireBytes?: (n: number) => void;
}

export interface WatchOptions extends StreamOptions {
  /** Start after this version of the collection (from a list); unset: the current state first, as ADDED events. */
  resourceVersion?: string;
  /** Ask the server to end the watch after this many seconds (it ends a watch on its own after some minutes anyway). */
  timeoutSeconds?: number;
}

export interface UpgradedConnection {
  socket: import("node:stream").Duplex;
  /** Bytes that arrived after the 101 answer, to be read first. */
  head: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

export type WatchEvent<T extends KubeObject = KubeObject> =
  | { type: "ADDED" | "MODIFIED" | "DELETED"; object: T }
  | { type: "BOOKMARK"; object: KubeObject };

/** Most bytes mesh reads of a successful answer (a list of every pod of a big cluster fits). */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;
/** Most bytes mesh reads of an error answer; the rest is dropped (it is only ever summarised). */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;
/** Longest line of a stream (`pods/log`, watch) accepted by default. */
export const MAX_LINE_BYTES = 1024 * 1024;

export interface ConnectOptions {
  /** Per-request timeout in milliseconds. */
  timeoutMs?: number;
  /** Most bytes of a successful answer to read (default MAX_BODY_BYTES). */
  maxBodyBytes?: number;
}

/** One HTTP exchange with the API server. */
export interface TransportRequest {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  body?: string;
  accept?: string;
  /** Content-Type of `body` (default `application/json`). */
  contentType?: string;
  timeoutMs: number;
  /** Most bytes of a 2xx body to read (default MAX_BODY_BYTES); a larger body fails the request. */
  maxBytes?: number;
  /** `Accept-Encoding` to send (none by default); a gzip answer is inflated before it is returned. */
  acceptEncoding?: string;
}

export interface TransportResponse {
  status: number;
  /** The body; for an answer outside 2xx, at most MAX_ERROR_BODY_BYTES of it. */
  body: string;
  /** Bytes received when the body came compressed (its decoded size is the body's). */
  wireBytes?: number;
}

/** One streamed GET: the answer's body is read as it arrives. */
export interface StreamRequest {
  path: string;
  accept?: string;
  /** `Accept-Encoding` to send (none by default: the body is then never compressed). */
  acceptEncoding?: string;
  /** Fail when the connection is silent this long; 0: never. */
  idleTimeoutMs: number;
  signal?: AbortSignal;
}

export interface StreamResponse {
  status: number;
  /** The answer's `Content-Encoding` header, lower-cased (e.g. `gzip`), if any. */
  contentEncoding?: string;
  /** The body's chunks as they arrive; a failure while reading throws a MeshError. */
  body: AsyncIterable<Uint8Array>;
  /** Stops reading and closes the connection (idempotent). */
  close(): void;
}

/**
 * Sends one request; rejects (with a MeshError) only when no HTTP answer arrived. `stream`, when
 * present, opens a streamed GET (rejecting, too, only when no answer arrived).
 */
export type Transport = ((req: TransportRequest) => Promise<TransportResponse>) & {
  close?: () => void;
  stream?: (req: StreamRequest) => Promise<StreamResponse>;
  /** POST with `Connection: Upgrade`: the upgraded socket (status 101), else the answer. */
  upgrade?: (req: { path: string; headers: Record<string, string>; timeoutMs: number }) => Promise<(UpgradedConnection & { status: 101 }) | TransportResponse>;
};

/**
 * The typed API over any Cluster: itself when it is one, else the typed getters on top of its
 * `getText` (GET only; a fake Cluster of a test, say).
 */
/** The marker for an attempt that met a stale kept-alive socket (retried once, see httpTransport). */
const STALE_SOCKET = new Error("stale kept-alive socket");

/** How often a request answered 429 is sent in all, and the wait between (client-go: Retry-After, 1 s). */
const RETRIES_ON_429 = 5;
const RETRY_AFTER_MS = 1000;

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
  // Every file is parsed by mesh first: an empty file, a syntax error or a hostile nesting gets a
  // message naming the file and line, never client-node's (which quotes the text around it).
  const files = kubeconfigFiles(g, process.env);
  for (const file of files) readKubeconfigFile(file);
  if (files.length === 0 && !process.env.KUBERNETES_SERVICE_HOST)
    throw new MeshError(`no kubeconfig found: mesh looked at ${kubeconfigSearched(process.env)}`, "pass one with --kubeconfig, set KUBECONFIG, or create ~/.kube/config (your cluster provider's CLI writes it)");
  const { KubeConfig } = await import("@kubernetes/client-node");
  const kc = new KubeConfig();
  try {
    // Several files are merged as kubectl does (first definition wins), not as client-node does.
    if (files.length > 1) kc.loadFromString(JSON.stringify(mergeKubeconfigs(files)));
    else if (files.length === 1) kc.loadFromFile(files[0]);
    else kc.loadFromDefault(); // in-cluster
  } catch (err) {
    const e = err as Error & { reason?: string };
    const why = sanitize(typeof e.reason === "string" ? e.reason : String(e.message).split("\n")[0], 200);
    throw new MeshError(`cannot load kubeconfig${g.kubeconfig ? ` ${g.kubeconfig}` : ""}: ${why}`, "pass a valid file with --kubeconfig or set KUBECONFIG", 1, err);
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
 * read directly (see kubeconfig.ts); auth providers, socks5 proxies, merged KUBECONFIG lists,
 * keys mesh does not implement and in-cluster configuration go through @kubernetes/client-node.
 * Either way, impersonation (kubeconfig `as*`, `--as`, `--as-group`) and the HTTP proxy
 * (`proxy-url`, HTTPS_PROXY, NO_PROXY, as client-go reads them) are mesh's.
 */
export async function connect(g: GlobalOptions, opts: ConnectOptions = {}): Promise<ClusterApi> {
  const timeout = opts.timeoutMs ?? 30_000;
  const simple = readSimpleKubeconfig(g);
  if (simple) {
    const server = apiServer(simple.server, g.apiAddr);
    const url = parseServer(server);
    const { file, cluster, user } = simple.origin;
    const proxy = chooseProxy(url, simple.proxyUrl, `proxy-url of cluster "${cluster}" in kubeconfig ${file}`, process.env);
    const impersonate = impersonationHeaders(simple.impersonate, g, `user "${user}" in kubeconfig ${file}`);
    return new RestCluster(server, httpTransport(simpleOptions(simple, url, proxy), url, { impersonate, proxy, disableCompression: simple.disableCompression }, opts.maxBodyBytes), timeout);
  }
  const kc = await loadKubeConfig(g);
  const files = kubeconfigFiles(g, process.env);
  const cluster = kc.getCurrentCluster()!;
  const inFiles = files.length ? ` in kubeconfig ${files.join(", ")}` : "";
  const clusterName = sanitize(cluster.name, 80);
  refuseCaWithInsecure(Boolean(cluster.caData || cluster.caFile), cluster.skipTLSVerify === true, `insecure-skip-tls-verify of cluster "${clusterName}"${inFiles}`);
  const server = apiServer(cluster.server, g.apiAddr);
  const url = parseServer(server);
  // client-node tunnels through a socks5 proxy-url; http(s) ones and the environment's are mesh's.
  if (cluster.proxyUrl) proxyUrlScheme(cluster.proxyUrl, `proxy-url of cluster "${clusterName}"${inFiles}`);
  const socks = /^socks5h?:/i.test(cluster.proxyUrl ?? "");
  const proxy = socks ? undefined : chooseProxy(url, cluster.proxyUrl || undefined, `proxy-url of cluster "${clusterName}"${inFiles}`, process.env);
  const userName = kc.getCurrentUser()?.name;
  const userEntry = files.length && userName ? kubeconfigUser(mergeKubeconfigs(files), userName) : undefined;
  const who = `user "${sanitize(userName ?? "", 80)}"${inFiles}`;
  const impersonate = impersonationHeaders(userEntry ? readImpersonation(userEntry, (field) => `${field} of ${who}`) : undefined, g, who);
  // client-node does not read disable-compression: mesh does.
  const clusterEntry = files.length ? kubeconfigCluster(mergeKubeconfigs(files), cluster.name) : undefined;
  const disableCompression = clusterEntry?.["disable-compression"] === true;
  return new RestCluster(server, httpTransport(clientNodeOptions(kc, url, files, socks ? undefined : proxy, socks), url, { impersonate, proxy, disableCompression }, opts.maxBodyBytes), timeout);
}

/**
 * `--api-addr`: the API server to talk to instead of the kubeconfig cluster's, with its
 * credentials and CA. `host:port` keeps the kubeconfig server's scheme; a URL is used as given.
 */
export function apiServer(configured: string, apiAddr: string | undefined): string {
  if (!apiAddr) return configured;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(apiAddr)) return apiAddr;
  const scheme = /^http:/i.test(configured) ? "http" : "https";
  try {
    return new URL(`${scheme}://${apiAddr}`).origin;
  } catch {
    throw new MeshError(`--api-addr "${sanitize(apiAddr, 100)}" is not a host:port or URL`, undefined, 2);
  }
}

const enc = encodeURIComponent;
/** What getJson accepts without a shape: any JSON object. */
const SHAPES_ANY_MAP: Shape = { fields: {} };
const query = (selector?: string) => (selector ? `?labelSelector=${enc(selector)}` : "");
const core = (namespace: string | undefined, resource: string) => (namespace ? `/api/v1/namespaces/${enc(namespace)}/${resource}` : `/api/v1/${resource}`);
const grouped = (gv: string, namespace: string | undefined, resource: string) => (namespace ? `/apis/${gv}/namespaces/${enc(namespace)}/${resource}` : `/apis/${gv}/${resource}`);

export { resourcePath } from "./resources.js";

/** The Cluster interface over any transport: the real HTTPS one, or an in-memory fake in tests. */
export class RestCluster implements ClusterApi {
  private count = { n: 0, wire: 0, decoded: 0 };

  constructor(
    readonly server: string,
    private readonly transport: Transport,
    private readonly timeoutMs = 30_000,
    shared?: { n: number; wire: number; decoded: number },
  ) {
    if (shared) this.count = shared;
  }

  requestCount(): number {
    return this.count.n;
  }

  bytesReceived(): { wire: number; decoded: number } {
    return { wire: this.count.wire, decoded: this.count.decoded };
  }

  withTimeout(ms: number): ClusterApi {
    return new RestCluster(this.server, this.transport, ms, this.count);
  }

  close(): void {
    this.transport.close?.();
  }

  private async send(method: "GET" | "POST", path: string, body?: string, accept = "application/json"): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      this.count.n++;
      // GETs ask for gzip: the API server compresses large answers (lists), a pod's proxy its /metrics.
      const res = await this.transport({ method, path, body, accept, timeoutMs: this.timeoutMs, acceptEncoding: method === "GET" ? "gzip" : undefined });
      const n = Buffer.byteLength(res.body);
      this.count.wire += res.wireBytes ?? n;
      this.count.decoded += n;
      if (res.status >= 200 && res.status < 300) return res.body;
      // 429 is the API server asking to come back (a CRD's storage still initialising, priority and
      // fairness shedding load); client-go retries it after Retry-After (1 s), and so does mesh,
      // a bounded number of times.
      if (res.status === 429 && attempt < RETRIES_ON_429) {
        await new Promise((r) => setTimeout(r, RETRY_AFTER_MS));
        continue;
      }
      throw apiError(res.status, method, path, res.body);
    }
  }

  /**
   * GET a path as JSON; undefined on 404. The answer must be a JSON object (a map) and, when
   * `shape` is given, fit it: anything else is a ShapeError naming the request. Every typed getter
   * reads through here, so a server's wrong shapes stop at this one place.
   */
  async getJson<T>(path: string, shape: Shape = SHAPES_ANY_MAP): Promise<T | undefined> {
    let text: string;
    try {
      text = await this.send("GET", path);
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return undefined;
      throw err;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new MeshError(`the API server sent invalid JSON for GET ${path.split("?")[0]}`, "is the server in your kubeconfig a Kubernetes API server?", 1, err);
    }
    return checkShape<T>(parsed, shape, "GET", path);
  }

  getText(path: string): Promise<string> {
    return this.send("GET", path, undefined, "*/*");
  }

  /**
   * The items of a list, read in pages with `pageSize`; `reduce` is applied to each page's items
   * as the page arrives, so that the rest of its parsed answer can go before the next one.
   */
  private async list<T>(path: string, item: Shape = SHAPES.object, reduce?: (item: T) => T, { pageSize }: ListOptions = {}): Promise<T[]> {
    const out: T[] = [];
    let empty = 0;
    for (let page = 1, token = ""; ; page++) {
      const paged = pageSize ? `${path}${path.includes("?") ? "&" : "?"}limit=${pageSize}${token ? `&continue=${enc(token)}` : ""}` : path;
      let list: List<T> | undefined;
      try {
        list = await this.getJson<List<T>>(paged, listOf(item));
      } catch (err) {
        throw page > 1 ? pageError(err, page, pageSize!, out.length) : err;
      }
      if (!list) throw apiError(404, "GET", path, `the server could not find the requested resource (${path})`);
      for (const o of list.items ?? []) out.push(reduce ? reduce(o) : o);
      const next = (pageSize && list.metadata?.continue) || "";
      if (!next) return out;
      // a server that never stops sending tokens: stop reading, with the reason
      empty = list.items?.length ? 0 : empty + 1;
      const why = next === token ? "the same continue token twice" : empty > MAX_EMPTY_PAGES ? `${empty} pages in a row without items` : page >= MAX_PAGES ? `more than ${MAX_PAGES} pages` : "";
      if (why) throw new MeshError(`the API server's list ${sanitize(path, 200)} did not end: ${why} (page ${page + 1}, in pages of ${pageSize}, after ${out.length} items)`, "the API server (or a proxy in front of it) is misbehaving; try again, or use another context");
      token = next;
    }
  }

  async controlPlaneVersion(namespace: string): Promise<string | undefined> {
    const { loadLinkerdConfig } = await import("./linkerd-config.js");
    const v = (await loadLinkerdConfig(this, namespace))?.typed?.linkerdVersion;
    // Server-supplied text printed as one token (`mesh version`): no escapes, no fake lines.
    return v ? sanitizeToken(v, 100) : undefined;
  }

  async serverVersion(): Promise<ServerVersion> {
    const v = await this.getJson<ServerVersion>("/version", SHAPES.serverVersion);
    if (!v || typeof v.gitVersion !== "string") throw new MeshError(`the API server at ${this.server} did not report its version`, "is the server in your kubeconfig a Kubernetes API server?");
    return v;
  }

  getNamespace(name: string) {
    return this.getJson<Namespace>(`/api/v1/namespaces/${enc(name)}`, SHAPES.namespace);
  }
  listNamespaces(selector?: string) {
    return this.list<Namespace>(`/api/v1/namespaces${query(selector)}`, SHAPES.namespace);
  }
  listPods(namespace?: string, selector?: string, opts?: ListOptions) {
    return this.list<Pod>(core(namespace, "pods") + query(selector), SHAPES.pod, projectPod, opts);
  }
  listServices(namespace?: string, selector?: string) {
    return this.list<Service>(core(namespace, "services") + query(selector), SHAPES.service);
  }
  listEndpoints(namespace?: string) {
    return this.list<Endpoints>(core(namespace, "endpoints"), SHAPES.endpoints);
  }
  listReplicaSets(namespace: string) {
    return this.list<ReplicaSet>(grouped("apps/v1", namespace, "replicasets"), SHAPES.replicaSet, projectReplicaSet);
  }
  getDeployment(namespace: string, name: string) {
    return this.getJson<Deployment>(`${grouped("apps/v1", namespace, "deployments")}/${enc(name)}`, SHAPES.deployment);
  }
  getDaemonSet(namespace: string, name: string) {
    return this.getJson<DaemonSet>(`${grouped("apps/v1", namespace, "daemonsets")}/${enc(name)}`, SHAPES.daemonSet);
  }
  listServiceAccounts(namespace: string, selector?: string) {
    return this.list<KubeObject>(core(namespace, "serviceaccounts") + query(selector));
  }
  getServiceAccount(namespace: string, name: string) {
    return this.getJson<KubeObject>(`${core(namespace, "serviceaccounts")}/${enc(name)}`, SHAPES.object);
  }
  getConfigMap(namespace: string, name: string) {
    return this.getJson<ConfigMap>(`${core(namespace, "configmaps")}/${enc(name)}`, SHAPES.configMap);
  }
  listConfigMaps(namespace: string, selector?: string) {
    return this.list<ConfigMap>(core(namespace, "configmaps") + query(selector), SHAPES.configMap);
  }
  getSecret(namespace: string, name: string) {
    return this.getJson<Secret>(`${core(namespace, "secrets")}/${enc(name)}`, SHAPES.secret);
  }
  listNodes() {
    return this.list<Node>("/api/v1/nodes", SHAPES.node);
  }
  listClusterRoles(selector?: string) {
    return this.list<KubeObject>(`/apis/rbac.authorization.k8s.io/v1/clusterroles${query(selector)}`);
  }
  getClusterRole(name: string) {
    return this.getJson<KubeObject>(`/apis/rbac.authorization.k8s.io/v1/clusterroles/${enc(name)}`, SHAPES.object);
  }
  listClusterRoleBindings(selector?: string) {
    return this.list<KubeObject>(`/apis/rbac.authorization.k8s.io/v1/clusterrolebindings${query(selector)}`);
  }
  getClusterRoleBinding(name: string) {
    return this.getJson<KubeObject>(`/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${enc(name)}`, SHAPES.object);
  }
  getCustomResourceDefinition(name: string) {
    return this.getJson<CustomResourceDefinition>(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${enc(name)}`, SHAPES.customResourceDefinition);
  }
  listCustomResourceDefinitions(selector?: string) {
    return this.list<CustomResourceDefinition>(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions${query(selector)}`, SHAPES.customResourceDefinition);
  }
  listMutatingWebhookConfigurations(selector?: string) {
    return this.list<WebhookConfiguration>(`/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations${query(selector)}`, SHAPES.webhookConfiguration);
  }
  getMutatingWebhookConfiguration(name: string) {
    return this.getJson<WebhookConfiguration>(`/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${enc(name)}`, SHAPES.webhookConfiguration);
  }
  listValidatingWebhookConfigurations(selector?: string) {
    return this.list<WebhookConfiguration>(`/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations${query(selector)}`, SHAPES.webhookConfiguration);
  }
  getValidatingWebhookConfiguration(name: string) {
    return this.getJson<WebhookConfiguration>(`/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/${enc(name)}`, SHAPES.webhookConfiguration);
  }
  getAPIService(name: string) {
    return this.getJson<APIService>(`/apis/apiregistration.k8s.io/v1/apiservices/${enc(name)}`, SHAPES.apiService);
  }
  async listServiceProfiles(namespace?: string) {
    const list = await this.getJson<List<ServiceProfile>>(grouped("linkerd.io/v1alpha2", namespace, "serviceprofiles"), listOf(SHAPES.serviceProfile));
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
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new MeshError(`the API server sent invalid JSON for POST ${path}`, "is the server in your kubeconfig a Kubernetes API server?", 1, err);
    }
    return checkShape<{ status?: AccessReviewStatus }>(parsed, SHAPES.accessReview, "POST", path).status ?? { allowed: false };
  }

  async dryRunCreate(object: KubeObject): Promise<void> {
    await this.send("POST", `${resourcePath(object)}?dryRun=All`, JSON.stringify(object));
  }

  podProxyText(namespace: string, pod: string, port: number | string, path: string): Promise<string> {
    return this.getText(podProxyPath(namespace, pod, port, path));
  }

  async upgrade(path: string, headers: Record<string, string>, timeoutMs = this.timeoutMs): Promise<UpgradedConnection> {
    if (!this.transport.upgrade) throw new MeshError(`this connection to the Kubernetes API cannot upgrade (POST ${path.split("?")[0]})`);
    this.count.n++;
    const res = await this.transport.upgrade({ path, headers, timeoutMs });
    if ("socket" in res) return res;
    throw apiError(res.status === 101 ? 502 : res.status, "POST", path, res.body);
  }

  async *getStream(path: string, opts: BodyStreamOptions = {}): AsyncGenerator<Uint8Array, void, undefined> {
    const max = opts.maxBytes ?? MAX_BODY_BYTES;
    const what = `GET ${path.split("?")[0]}`;
    const tooBig = () => new MeshError(`the answer to ${what} is larger than ${formatBytes(max)}; mesh stops reading there`);
    const stream = this.transport.stream;
    if (!stream) {
      const text = Buffer.from(await this.getText(path));
      opts.onWireBytes?.(text.length);
      if (text.length > max) throw tooBig();
      yield text;
      return;
    }
    this.count.n++;
    const res = await stream({ path, accept: "*/*", acceptEncoding: opts.gzip === false ? undefined : "gzip", idleTimeoutMs: opts.idleTimeoutMs ?? this.timeoutMs, signal: opts.signal });
    try {
      if (res.status < 200 || res.status >= 300) throw apiError(res.status, "GET", path, await readCapped(res.body, MAX_ERROR_BODY_BYTES));
      const count = this.count;
      async function* wire(): AsyncGenerator<Uint8Array> {
        for await (const chunk of res.body) {
          count.wire += chunk.length;
          opts.onWireBytes?.(chunk.length);
          yield chunk;
        }
      }
      const decoded = res.contentEncoding === "gzip" || res.contentEncoding === "x-gzip" ? gunzipChunks(wire(), what, max) : wire();
      let n = 0;
      for await (const chunk of decoded) {
        n += chunk.length;
        this.count.decoded += chunk.length;
        if (n > max) throw tooBig();
        yield chunk;
      }
    } finally {
      res.close();
    }
  }

  listDeployments(namespace?: string, selector?: string) {
    return this.list<Deployment>(grouped("apps/v1", namespace, "deployments") + query(selector), SHAPES.deployment, projectDeployment);
  }
  listStatefulSets(namespace?: string, selector?: string) {
    return this.list<StatefulSet>(grouped("apps/v1", namespace, "statefulsets") + query(selector), SHAPES.statefulSet, projectStatefulSet);
  }
  listDaemonSets(namespace?: string, selector?: string) {
    return this.list<DaemonSet>(grouped("apps/v1", namespace, "daemonsets") + query(selector), SHAPES.daemonSet, projectDaemonSet);
  }
  listReplicaSetsIn(namespace?: string, selector?: string) {
    return this.list<ReplicaSet>(grouped("apps/v1", namespace, "replicasets") + query(selector), SHAPES.replicaSet, projectReplicaSet);
  }
  listJobs(namespace?: string, selector?: string) {
    return this.list<Job>(grouped("batch/v1", namespace, "jobs") + query(selector), SHAPES.job, projectJob);
  }
  listCronJobs(namespace?: string, selector?: string) {
    // batch/v1 CronJob is served from Kubernetes 1.21; older servers have batch/v1beta1 only.
    return this.list<CronJob>(grouped("batch/v1", namespace, "cronjobs") + query(selector), SHAPES.object, projectCronJob).catch((err: unknown) => {
      if (err instanceof KubeApiError && err.status === 404) return this.list<CronJob>(grouped("batch/v1beta1", namespace, "cronjobs") + query(selector), SHAPES.object, projectCronJob);
      throw err;
    });
  }
  listReplicationControllers(namespace?: string, selector?: string) {
    return this.list<ReplicationController>(core(namespace, "replicationcontrollers") + query(selector), SHAPES.replicationController, projectReplicationController);
  }

  async *streamLines(path: string, opts: StreamOptions = {}): AsyncGenerator<string, void, undefined> {
    const { signal } = opts;
    if (signal?.aborted) return;
    const stream = this.transport.stream;
    if (!stream) throw new MeshError(`this connection to the Kubernetes API cannot stream (GET ${path.split("?")[0]})`);
    const maxLine = opts.maxLineBytes ?? MAX_LINE_BYTES;
    this.count.n++;
    let res: StreamResponse;
    try {
      res = await stream({ path, accept: "*/*", idleTimeoutMs: opts.idleTimeoutMs ?? this.timeoutMs, signal });
    } catch (err) {
      if (signal?.aborted) return;
      throw err;
    }
    try {
      if (res.status < 200 || res.status >= 300) throw apiError(res.status, "GET", path, await readCapped(res.body, MAX_ERROR_BODY_BYTES));
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      const tooLong = () =>
        new MeshError(
          `a line of the stream GET ${path.split("?")[0]} is longer than ${formatBytes(maxLine)}; mesh stops reading it`,
          "the server sent something other than log lines or watch events",
        );
      for await (const chunk of res.body) {
        const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
        this.count.wire += buf.length;
        this.count.decoded += buf.length;
        let start = 0;
        for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
          const piece = buf.subarray(start, nl);
          if (pendingBytes + piece.length > maxLine) throw tooLong();
          const line = pending.length ? Buffer.concat([...pending, piece]) : piece;
          pending = [];
          pendingBytes = 0;
          start = nl + 1;
          yield line.toString("utf8", 0, line.length && line[line.length - 1] === 13 ? line.length - 1 : line.length);
          if (signal?.aborted) return;
        }
        if (start < buf.length) {
          pending.push(buf.subarray(start));
          pendingBytes += buf.length - start;
          if (pendingBytes > maxLine) throw tooLong();
        }
      }
      if (pendingBytes) yield Buffer.concat(pending).toString("utf8");
    } catch (err) {
      if (signal?.aborted) return;
      throw err;
    } finally {
      res.close();
    }
  }

  async *watch<T extends KubeObject = KubeObject>(path: string, opts: WatchOptions = {}): AsyncGenerator<WatchEvent<T>, void, undefined> {
    const params = ["watch=1", "allowWatchBookmarks=true"];
    if (opts.resourceVersion) params.push(`resourceVersion=${enc(opts.resourceVersion)}`);
    if (opts.timeoutSeconds) params.push(`timeoutSeconds=${Math.max(1, Math.round(opts.timeoutSeconds))}`);
    const full = `${path}${path.includes("?") ? "&" : "?"}${params.join("&")}`;
    for await (const line of this.streamLines(full, opts)) {
      if (!line.trim()) continue;
      let event: { type?: string; object?: unknown };
      try {
        event = JSON.parse(line) as typeof event;
      } catch (err) {
        throw new MeshError(`the API server sent an invalid watch event for GET ${path.split("?")[0]}`, "is the server in your kubeconfig a Kubernetes API server?", 1, err);
      }
      if (event.type === "ERROR") {
        const st = (event.object ?? {}) as { code?: number };
        throw apiError(typeof st.code === "number" ? st.code : 500, "GET", full, JSON.stringify(event.object ?? {}));
      }
      if (event.type === "ADDED" || event.type === "MODIFIED" || event.type === "DELETED" || event.type === "BOOKMARK")
        if (event.object && typeof event.object === "object") yield event as WatchEvent<T>;
    }
  }
}

/** Bounds on reading a list in pages (100 a page: a million items), against a server whose tokens never end. */
const MAX_PAGES = 10_000;
const MAX_EMPTY_PAGES = 100;

/**
 * The failure of a list's page after the first, saying which: an expired `continue` token (410:
 * the list changed beyond what the server keeps while it was read) is worth another try.
 */
function pageError(err: unknown, page: number, pageSize: number, items: number): unknown {
  if (!(err instanceof MeshError)) return err;
  const where = `page ${page} of the list, in pages of ${pageSize}, after ${items} items`;
  if (err instanceof KubeApiError) {
    const hint = err.status === 410 ? "the list changed too much while mesh read it page by page; run the command again" : err.hint;
    return new KubeApiError(err.status, err.method, err.path, `${err.message} (${where})`, hint, err.serverMessage);
  }
  return new MeshError(`${err.message} (${where})`, err.hint, err.exitCode, err);
}

export function podProxyPath(namespace: string, pod: string, port: number | string, path: string): string {
  return `/api/v1/namespaces/${enc(namespace)}/pods/${enc(pod)}:${port}/proxy${path.startsWith("/") ? path : `/${path}`}`;
}

/** Compressed bodies up to this size are collected and inflated in one call. */
const ONE_CALL_GZIP_BYTES = 256 * 1024;

/**
 * Decompresses a gzip body; a corrupt body throws a MeshError. A small body (a proxy's
 * `/metrics`, a few KB) is collected and inflated in one synchronous call, which costs a fraction
 * of a zlib stream's per-chunk work; a larger one, or one that inflates beyond `maxOutput`, goes
 * through a stream chunk by chunk (and the caller's size limit stops it).
 */
export async function* gunzipChunks(body: AsyncIterable<Uint8Array>, what = "the answer", maxOutput = MAX_BODY_BYTES): AsyncGenerator<Uint8Array, void, undefined> {
  const it = body[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let size = 0;
  let ended = false;
  while (size <= ONE_CALL_GZIP_BYTES) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    const buf = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    head.push(buf);
    size += buf.length;
  }
  if (ended) {
    let out: Buffer | undefined;
    try {
      out = gunzipSync(head.length === 1 ? head[0] : Buffer.concat(head, size), { maxOutputLength: maxOutput + 1 });
    } catch (err) {
      const code = (err as { code?: string }).code ?? "";
      if (code.startsWith("Z_")) throw new MeshError(`the answer to ${what} is not valid gzip (${(err as Error).message})`, undefined, 1, err);
      if (code !== "ERR_BUFFER_TOO_LARGE") throw err;
      // Too large to inflate at once: stream it, and let the caller's limit stop it.
    }
    if (out) {
      if (out.length) yield out;
      return;
    }
  }
  async function* all(): AsyncGenerator<Uint8Array> {
    yield* head;
    if (ended) return;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  }
  yield* gunzipStream(all(), what);
}

/** Decompresses a gzip body chunk by chunk through a zlib stream. */
async function* gunzipStream(body: AsyncIterable<Uint8Array>, what: string): AsyncGenerator<Uint8Array, void, undefined> {
  const gunzip = createGunzip();
  const source = Readable.from(body, { objectMode: false });
  source.on("error", (e) => gunzip.destroy(e));
  source.pipe(gunzip);
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } catch (err) {
    if (err instanceof MeshError) throw err;
    const code = (err as { code?: string }).code ?? "";
    if (code.startsWith("Z_")) throw new MeshError(`the answer to ${what} is not valid gzip (${(err as Error).message})`, undefined, 1, err);
    throw err;
  } finally {
    source.destroy();
    gunzip.destroy();
  }
}

/** Reads at most `max` bytes of a body as text, then stops. */
async function readCapped(body: AsyncIterable<Uint8Array>, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of body) {
    const buf = Buffer.from(chunk);
    chunks.push(buf.subarray(0, max - n));
    n += Math.min(buf.length, max - n);
    if (n >= max) break;
  }
  return Buffer.concat(chunks).toString("utf8");
}

function formatBytes(n: number): string {
  if (n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

type Base = { opts: RequestOptions; agent: HttpsAgent | HttpAgent };

/**
 * TLS and credentials of every request, resolved once per run (at the first request, which
 * bounds an exec credential plugin by its timeout). `close` stops a plugin still running.
 */
interface BaseOptions {
  get(timeoutMs: number): Promise<Base>;
  close(): void;
}

/** TLS and credentials from a kubeconfig read without client-node (see kubeconfig.ts), exec plugins included. */
function simpleOptions(k: SimpleKubeconfig, url: URL, proxy: ProxyChoice | undefined): BaseOptions {
  const isHttps = url.protocol === "https:";
  const stop = new AbortController();
  const build = (cred?: ExecCredential): Base => {
    const fromPlugin = Boolean(cred?.cert);
    const origin: KubeconfigOrigin = fromPlugin ? { ...k.origin, fields: { ...k.origin.fields, cert: "clientCertificateData of its exec plugin", key: "clientKeyData of its exec plugin" } } : k.origin;
    // One TLS context for every connection: building one per socket (Node's default when `ca` is
    // given) parses the CA again each time, which adds up over a run's parallel first requests.
    const secureContext = isHttps ? kubeconfigSecureContext({ ca: k.ca, cert: fromPlugin ? cred!.cert : k.cert, key: fromPlugin ? cred!.key : k.key }, origin) : undefined;
    const tls = { secureContext, rejectUnauthorized: !k.insecure, servername: k.serverName };
    const agent = serverAgent(isHttps, { ...(isHttps ? tls : {}), keepAlive: true, maxSockets: 64 }, proxy);
    const headers = { ...k.headers };
    if (cred?.token) headers.Authorization = `Bearer ${cred.token}`;
    return { opts: { ...tls, headers } as RequestOptions, agent };
  };
  // Without a plugin, bad TLS material fails connect() itself.
  let base: Promise<Base> | undefined = k.exec ? undefined : Promise.resolve(build());
  return {
    get: (timeoutMs) => (base ??= runExecPlugin(k.exec!, { timeoutMs, signal: stop.signal }).then(build)),
    close: () => stop.abort(),
  };
}

/** TLS and credentials (tokens, client certificates, auth providers) from client-node; exec plugins run as in simpleOptions. */
function clientNodeOptions(kc: KubeConfig, url: URL, files: string[], proxy: ProxyChoice | undefined, socks: boolean): BaseOptions {
  const isHttps = url.protocol === "https:";
  const stop = new AbortController();
  let base: Promise<Base> | undefined;
  const resolve = async (timeoutMs: number): Promise<Base> => {
    const user = kc.getCurrentUser();
    const origin: KubeconfigOrigin = { file: files.join(", ") || "(in-cluster)", cluster: sanitize(kc.getCurrentCluster()?.name ?? "", 80), user: sanitize(user?.name ?? "", 80), fields: {} };
    if (user?.exec) {
      // client-node would run the plugin without a time limit and send the request without
      // credentials when it fails: mesh runs it itself, bounded, and reports its failure.
      const cred = await runExecPlugin(execPlugin(user.exec, origin, files[0] ? dirname(files[0]) : process.cwd()), { timeoutMs, signal: stop.signal });
      const replaced = {
        ...user,
        exec: undefined,
        token: cred.token ?? user.token,
        ...(cred.cert ? { certData: cred.cert.toString("base64"), certFile: undefined, keyData: cred.key!.toString("base64"), keyFile: undefined } : {}),
      };
      kc.users = kc.users.map((u) => (u === user ? replaced : u));
    }
    const opts: RequestOptions = { headers: {} };
    try {
      await kc.applyToHTTPSOptions(opts);
    } catch (err) {
      // client-node refuses plain-HTTP servers unless TLS verification is skipped; the
      // credentials it already applied are still good for an http:// server.
      if (isHttps) throw new MeshError(`cannot use the credentials of kubeconfig user "${origin.user}": ${sanitize(String((err as Error).message).split("\n")[0], 200)}`, "check the user entry of your kubeconfig context", 1, err);
    }
    const headers = (opts.headers ?? {}) as Record<string, string | string[]>;
    if (opts.auth) {
      headers.Authorization = `Basic ${Buffer.from(opts.auth).toString("base64")}`;
      delete opts.auth;
    }
    opts.headers = headers;
    const given = opts.agent as (HttpsAgent & { options?: object }) | undefined;
    let agent: HttpsAgent | HttpAgent;
    if (socks && given) agent = given; // client-node's SOCKS agent: keep it
    else {
      const o = (given?.options ?? {}) as { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer };
      const agentOptions = { ...o, ...(isHttps ? { secureContext: kubeconfigSecureContext({ ca: o.ca, cert: o.cert, key: o.key }, origin) } : {}), keepAlive: true, maxSockets: 64 };
      agent = serverAgent(isHttps, agentOptions, proxy);
    }
    return { opts, agent };
  };
  return { get: (timeoutMs) => (base ??= resolve(timeoutMs)), close: () => stop.abort() };
}

/** Credentials must arrive within the request's timeout too (an auth provider refreshing a token, say). */
function withinTimeout(p: Promise<Base>, ms: number): Promise<Base> {
  if (!(ms > 0)) return p;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new MeshError(`the kubeconfig credentials were not ready within ${ms % 1000 === 0 ? `${ms / 1000}s` : `${ms} ms`}`, "check the user entry of your kubeconfig context")), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** HTTPS (or HTTP) to the API server, with keep-alive connections, per-request timeouts and streamed GETs. */
/** How requests reach the server beyond TLS and credentials: impersonation headers, the proxy, and the kubeconfig's disable-compression. */
interface Connection {
  impersonate: Record<string, string | string[]>;
  proxy: ProxyChoice | undefined;
  disableCompression?: boolean;
}

function httpTransport(baseOptions: BaseOptions, url: URL, { impersonate: impersonation, proxy, disableCompression }: Connection, maxBodyBytes = MAX_BODY_BYTES): Transport {
  const server = url.toString().replace(/\/$/, "");
  const isHttps = url.protocol === "https:";
  const active = new Set<ClientRequest>();
  let agent: HttpsAgent | HttpAgent | undefined;
  const code = (c: string, message = c) => Object.assign(new Error(message), { code: c });

  /** Starts a request; the caller adds the listeners. */
  const open = async (method: string, path: string, accept: string, body?: string, contentType?: string, acceptEncoding?: string, timeoutMs = 30_000): Promise<ClientRequest> => {
    const base = await withinTimeout(baseOptions.get(timeoutMs), timeoutMs + 1000);
    agent = base.agent;
    const opts = { ...base.opts, agent: base.agent };
    // A plain-HTTP server behind a proxy: the request goes to the proxy, with the absolute URL.
    const plain = proxy && !isHttps ? viaProxy(proxy, url, path) : undefined;
    const send = (plain ? plain.https : isHttps) ? httpsRequest : httpRequest;
    const headers: Record<string, string | string[] | number> = { ...(opts.headers as Record<string, string>), ...impersonation, ...plain?.headers, Accept: accept };
    // disable-compression (kubeconfig): never ask for a compressed answer, as client-go does not.
    if (acceptEncoding && !disableCompression) headers["Accept-Encoding"] = acceptEncoding;
    if (body !== undefined) {
      headers["Content-Type"] = contentType ?? "application/json";
      headers["Content-Length"] = Buffer.byteLength(body);
    }
    const r = send({
      ...(plain ? { agent: base.agent } : opts),
      method,
      hostname: plain?.hostname ?? url.hostname.replace(/^\[|\]$/g, ""),
      port: plain?.port ?? (url.port || (isHttps ? 443 : 80)),
      path: plain?.path ?? url.pathname.replace(/\/$/, "") + path,
      headers,
    });
    active.add(r);
    r.once("close", () => active.delete(r));
    return r;
  };

  /** One attempt; rejects with STALE_SOCKET when a kept-alive socket turned out closed before any answer. */
  const attempt = async (req: TransportRequest): Promise<TransportResponse> => {
    const what = `${req.method} ${req.path.split("?")[0]}`;
    const maxBytes = req.maxBytes ?? maxBodyBytes;
    const r = await open(req.method, req.path, req.accept ?? "application/json", req.body, req.contentType, req.acceptEncoding, req.timeoutMs);
    return new Promise<TransportResponse>((resolve, reject) => {
      r.once("error", (e: NodeJS.ErrnoException) => {
        // The server closed an idle kept-alive socket just as it was reused: nothing was answered.
        if (r.reusedSocket && e.code === "ECONNRESET" && !settled) finish(() => reject(STALE_SOCKET));
      });
      let settled = false;
      const timer = setTimeout(() => {
        // Reject now: a request still waiting for its connection (a proxy's CONNECT) reports its error only once it has one.
        fail(code("MESH_TIMEOUT"));
        r.destroy(code("MESH_TIMEOUT"));
      }, req.timeoutMs);
      const finish = (f: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        f();
      };
      const fail = (e: unknown) => finish(() => reject(e instanceof MeshError ? e : transportError(e, server, req.timeoutMs, what)));
      r.on("error", fail);
      r.on("response", (res) => {
        const status = res.statusCode ?? 0;
        const ok = status >= 200 && status < 300;
        const limit = ok ? maxBytes : MAX_ERROR_BODY_BYTES;
        const chunks: Buffer[] = [];
        let n = 0;
        const tooLarge = () =>
          new MeshError(`the API server's answer to ${what} is larger than ${formatBytes(limit)}; mesh stops reading there`, "ask for less: one namespace (-n) or a label selector (-l) instead of the whole cluster");
        const gzipped = /^\s*(x-)?gzip\s*$/i.test(String(res.headers["content-encoding"] ?? ""));
        const done = () => {
          const raw = Buffer.concat(chunks, n);
          if (!gzipped) return finish(() => resolve({ status, body: raw.toString("utf8") }));
          // A gzip answer (asked for with acceptEncoding) is inflated in one call, within the limit.
          let text: string;
          try {
            text = gunzipSync(raw, { maxOutputLength: limit }).toString("utf8");
          } catch (err) {
            const c = (err as { code?: string }).code ?? "";
            if (!ok) text = ""; // a cut-off error body: only ever summarised
            else return fail(c === "ERR_BUFFER_TOO_LARGE" ? tooLarge() : new MeshError(`the API server's answer to ${what} is not valid gzip (${(err as Error).message})`, undefined, 1, err));
          }
          finish(() => resolve({ status, body: text, wireBytes: n }));
        };
        res.on("data", (c: Buffer) => {
          if (settled) return;
          if (n + c.length <= limit) {
            chunks.push(c);
            n += c.length;
            return;
          }
          if (ok) {
            fail(tooLarge());
          } else {
            // An error body is only summarised: keep its start, drop the rest.
            chunks.push(c.subarray(0, limit - n));
            n = limit;
            done();
          }
          r.destroy();
        });
        res.on("error", fail);
        res.on("aborted", () => fail(code("ECONNRESET", "aborted")));
        res.on("end", done);
      });
      r.end(req.body);
    });
  };

  // A GET that met a stale kept-alive socket is sent once more on a fresh one, as Node's docs advise
  // (client-go's transport does the same for idempotent requests).
  const transport: Transport = async (req) => {
    try {
      return await attempt(req);
    } catch (e) {
      if (e !== STALE_SOCKET) throw e;
      if (req.method !== "GET") throw transportError(code("ECONNRESET"), server, req.timeoutMs, `${req.method} ${req.path.split("?")[0]}`);
      return attempt(req).catch((again: unknown) => {
        throw again === STALE_SOCKET ? transportError(code("ECONNRESET"), server, req.timeoutMs, `${req.method} ${req.path.split("?")[0]}`) : again;
      });
    }
  };

  transport.stream = async (req) => {
    const what = `GET ${req.path.split("?")[0]}`;
    const { signal } = req;
    const aborted = () => transportError(code("MESH_ABORTED"), server, undefined, what);
    if (signal?.aborted) throw aborted();
    const r = await open("GET", req.path, req.accept ?? "*/*", undefined, undefined, req.acceptEncoding, req.idleTimeoutMs || 30_000);
    const abort = () => r.destroy(code("MESH_ABORTED"));
    signal?.addEventListener("abort", abort, { once: true });
    // Idle, not total: the socket's inactivity timer restarts with every byte that arrives.
    if (req.idleTimeoutMs > 0) r.setTimeout(req.idleTimeoutMs, () => r.destroy(code("MESH_IDLE")));
    const close = () => {
      signal?.removeEventListener("abort", abort);
      if (!r.destroyed) r.destroy();
    };
    r.once("close", () => signal?.removeEventListener("abort", abort));
    const mapError = (e: unknown) => (e instanceof MeshError ? e : transportError(e, server, req.idleTimeoutMs, what));
    return new Promise<StreamResponse>((resolve, reject) => {
      const early = (e: unknown) => {
        close();
        reject(mapError(e));
      };
      r.once("error", early);
      r.once("response", (res) => {
        r.off("error", early);
        // Later failures surface through the body's iterator; keep one listener so none is unhandled.
        let failure: unknown;
        r.on("error", (e) => (failure ??= e));
        res.on("error", (e) => (failure ??= e));
        async function* body(): AsyncGenerator<Uint8Array> {
          try {
            for await (const chunk of res) yield chunk as Buffer;
            // `res` may end quietly when the request was destroyed (reset, idle timeout, abort).
            if (failure !== undefined || !res.complete) throw failure ?? code("ECONNRESET", "aborted");
          } catch (e) {
            throw mapError(failure ?? e);
          } finally {
            close();
          }
        }
        const ce = res.headers["content-encoding"];
        resolve({ status: res.statusCode ?? 0, contentEncoding: typeof ce === "string" ? ce.trim().toLowerCase() : undefined, body: body(), close });
      });
      r.end();
    });
  };

  transport.upgrade = async (req) => {
    const what = `POST ${req.path.split("?")[0]}`;
    const r = await open("POST", req.path, "*/*", undefined, undefined, undefined, req.timeoutMs);
    for (const [k, v] of Object.entries(req.headers)) r.setHeader(k, v);
    return new Promise((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => r.destroy(code("MESH_TIMEOUT")), req.timeoutMs);
      const finish = (f: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        f();
      };
      r.on("error", (e) => finish(() => reject(e instanceof MeshError ? e : transportError(e, server, req.timeoutMs, what))));
      r.once("upgrade", (res, socket, head) => finish(() => resolve({ status: 101, socket, head, headers: res.headers })));
      r.once("response", (res) => {
        readCapped(res, MAX_ERROR_BODY_BYTES).then(
          (body) => finish(() => resolve({ status: res.statusCode ?? 0, body })),
          (e: unknown) => finish(() => reject(transportError(e, server, req.timeoutMs, what))),
        );
      });
      r.end();
    });
  };

  transport.close = () => {
    baseOptions.close();
    for (const r of active) r.destroy(code("MESH_ABORTED", "cancelled"));
    active.clear();
    agent?.destroy();
  };
  return transport;
}
