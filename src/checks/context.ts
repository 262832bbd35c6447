import type { ClusterApi as Cluster } from "../kube/cluster.js";
import { fetchProxyMetrics } from "../metrics/proxy-metrics.js";
import { KubeApiError } from "../kube/errors.js";
import { matchesSelector } from "../kube/selector.js";
import type { ConfigMap, KubeObject, Pod, ResourceAttributes, Service } from "../kube/types.js";
import { parseLinkerdValues, type LinkerdValues } from "./linkerd-values.js";
import { Memo, type Read } from "./memo.js";
import type { RunEnv } from "./runner.js";
import { Channels } from "./versions.js";

const CONTROL_PLANE_NS = "linkerd.io/control-plane-ns";
const CONTROL_PLANE_SELECTOR = `${CONTROL_PLANE_NS},!linkerd.io/cni-resource`;

export type CheckMode = "pre" | "crds" | "default" | "proxy";

/** The flags a run was started with. */
export interface CheckConfig {
  mode: CheckMode;
  controlPlaneNamespace: string;
  cniNamespace: string;
  /** `-n`: "" means all namespaces. */
  dataPlaneNamespace: string;
  /** `--linkerd-cni-enabled` (only with --pre). */
  cniEnabled: boolean;
  /** `--expected-version`: replaces the online lookup. */
  expectedVersion?: string;
  /** The version mesh presents itself as (`stable-2.14.10`, or `--cli-version-override`). */
  cliVersion: string;
}

/** The outside world of a run; the command builds the real one, tests pass fakes. */
export interface CheckWorld {
  connect(): Promise<Cluster>;
  now(): Date;
  /** The version-check service's JSON answer (`{"stable":"stable-2.14.10",...}`); rejects when it cannot be had. */
  fetchLatestVersions(uuid: string): Promise<unknown>;
  /** The objects of the default `mesh install` (for the --pre dry-run of cluster-scoped ones). */
  installObjects(): Promise<KubeObject[]>;
}

/** A 404 worded as client-go words it (`configmaps "linkerd-config" not found`), which Linkerd prints. */
export class NotFound extends Error {
  constructor(
    readonly resource: string,
    readonly objectName: string,
  ) {
    super(`${resource} "${objectName}" not found`);
    this.name = "NotFound";
  }
}

export const isForbidden = (e: unknown) => e instanceof KubeApiError && e.status === 403;

const must = <T>(v: T | undefined, resource: string, name: string): T => {
  if (v === undefined) throw new NotFound(resource, name);
  return v;
};

/**
 * What a check sees: the run's flags, the clock and memoised, read-tracking getters. One
 * instance per check attempt, all sharing one cache, so each object is fetched once per run.
 */
export class CheckContext {
  constructor(
    readonly config: CheckConfig,
    private readonly world: CheckWorld,
    private readonly memo: Memo,
    readonly reads: Read[],
  ) {}

  now(): Date {
    return this.world.now();
  }

  get cp(): string {
    return this.config.controlPlaneNamespace;
  }

  private get<T>(key: string, load: () => Promise<T>): Promise<T> {
    return this.memo.get(key, load, this.reads);
  }

  /** The connection (check "can initialize the client"). */
  client(): Promise<Cluster> {
    // not tracked: a retry reloads what a check read, never the connection itself
    return this.memo.get("client", () => this.world.connect());
  }

  private via<T>(key: string, f: (c: Cluster) => Promise<T>): Promise<T> {
    return this.get(key, async () => f(await this.client()));
  }

  // -- objects -------------------------------------------------------------------------------

  serverVersion() {
    return this.via("version", (c) => c.serverVersion());
  }
  /**
   * One object, picked from a list the run reads anyway when the list can be had (fewer requests:
   * each costs a connection and the API server's work), else fetched by name.
   */
  private async fromList<T extends KubeObject>(
    listKey: string,
    list: (c: Cluster) => Promise<T[]>,
    name: string,
    key: string,
    get: (c: Cluster) => Promise<T | undefined>,
    /** The list holds every object of its kind and scope: absent from it means absent. */
    complete = false,
  ): Promise<T | undefined> {
    try {
      const found = (await this.via(listKey, list)).find((o) => o.metadata.name === name);
      if (found || complete) return found;
    } catch {
      // not allowed to list (or the list failed): ask for the one object, whose error is the one to show
    }
    return this.via(key, get);
  }

  private allNamespaces() {
    return this.via("namespaces:*", (c) => c.listNamespaces());
  }
  namespace(name: string) {
    return this.fromList("namespaces:*", (c) => c.listNamespaces(), name, `ns:${name}`, (c) => c.getNamespace(name), true);
  }
  async namespaces(selector?: string) {
    try {
      return (await this.allNamespaces()).filter((n) => matchesSelector(n.metadata.labels, selector));
    } catch {
      return this.via(`namespaces:${selector ?? ""}`, (c) => c.listNamespaces(selector));
    }
  }
  nodes() {
    return this.via("nodes", (c) => c.listNodes());
  }
  configMap(ns: string, name: string) {
    if (ns !== this.cp) return this.via(`cm:${ns}/${name}`, (c) => c.getConfigMap(ns, name));
    return this.fromList(`cm:${ns}`, (c) => c.listConfigMaps(ns), name, `cm:${ns}/${name}`, (c) => c.getConfigMap(ns, name), true);
  }
  secret(ns: string, name: string) {
    return this.via(`secret:${ns}/${name}`, (c) => c.getSecret(ns, name));
  }
  serviceAccounts(ns: string) {
    return this.via(`sa:${ns}`, (c) => c.listServiceAccounts(ns));
  }
  serviceAccount(ns: string, name: string) {
    return this.via(`sa:${ns}/${name}`, (c) => c.getServiceAccount(ns, name));
  }
  replicaSets(ns: string) {
    return this.via(`rs:${ns}`, (c) => c.listReplicaSets(ns));
  }
  deployment(ns: string, name: string) {
    return this.via(`deploy:${ns}/${name}`, (c) => c.getDeployment(ns, name));
  }
  daemonSet(ns: string, name: string) {
    return this.via(`ds:${ns}/${name}`, (c) => c.getDaemonSet(ns, name));
  }
  clusterRoles(selector?: string) {
    return this.via(`cr:${selector ?? ""}`, (c) => c.listClusterRoles(selector));
  }
  clusterRole(name: string) {
    return this.via(`cr/${name}`, (c) => c.getClusterRole(name));
  }
  clusterRoleBindings(selector?: string) {
    return this.via(`crb:${selector ?? ""}`, (c) => c.listClusterRoleBindings(selector));
  }
  clusterRoleBinding(name: string) {
    return this.via(`crb/${name}`, (c) => c.getClusterRoleBinding(name));
  }
  /** Linkerd's CRDs carry its control-plane label: one list answers for all of them. */
  crd(name: string) {
    return this.fromList(`crds:${CONTROL_PLANE_NS}`, (c) => c.listCustomResourceDefinitions(CONTROL_PLANE_NS), name, `crd:${name}`, (c) => c.getCustomResourceDefinition(name));
  }
  mutatingWebhookConfigurations(selector?: string) {
    return this.via(`mwc:${selector ?? ""}`, (c) => c.listMutatingWebhookConfigurations(selector));
  }
  mutatingWebhookConfiguration(name: string) {
    return this.fromList(`mwc:${CONTROL_PLANE_SELECTOR}`, (c) => c.listMutatingWebhookConfigurations(CONTROL_PLANE_SELECTOR), name, `mwc/${name}`, (c) => c.getMutatingWebhookConfiguration(name));
  }
  validatingWebhookConfigurations(selector?: string) {
    return this.via(`vwc:${selector ?? ""}`, (c) => c.listValidatingWebhookConfigurations(selector));
  }
  validatingWebhookConfiguration(name: string) {
    return this.fromList(`vwc:${CONTROL_PLANE_SELECTOR}`, (c) => c.listValidatingWebhookConfigurations(CONTROL_PLANE_SELECTOR), name, `vwc/${name}`, (c) => c.getValidatingWebhookConfiguration(name));
  }
  endpoints(ns: string) {
    return this.via(`ep:${ns}`, (c) => c.listEndpoints(ns || undefined));
  }
  serviceProfiles(ns: string) {
    return this.via(`sp:${ns}`, (c) => c.listServiceProfiles(ns || undefined));
  }
  accessReview(attrs: ResourceAttributes) {
    return this.via(`ssar:${JSON.stringify(attrs)}`, (c) => c.selfSubjectAccessReview(attrs));
  }
  dryRunCreate(obj: KubeObject) {
    return this.via(`dryrun:${obj.kind}/${obj.metadata.name}`, (c) => c.dryRunCreate(obj));
  }
  installObjects() {
    return this.memo.get("install-objects", () => this.world.installObjects());
  }
  proxyMetrics(ns: string, pod: string) {
    return this.via(`metrics:${ns}/${pod}`, (c) => fetchProxyMetrics(c, ns, pod));
  }

  /**
   * Pods of a namespace ("" = all) matching a selector. In the modes that list every pod of the
   * cluster anyway (default, --proxy) they are filtered from that one list; a user who may not
   * list pods cluster-wide falls back to the narrow request.
   */
  async pods(ns: string, selector?: string): Promise<Pod[]> {
    if (this.config.mode === "default" || this.config.mode === "proxy") {
      try {
        const all = await this.via("pods:*", (c) => c.listPods());
        return all.filter((p) => (!ns || p.metadata.namespace === ns) && matchesSelector(p.metadata.labels, selector));
      } catch (e) {
        if (!ns || !isForbidden(e)) throw e;
      }
    }
    return this.via(`pods:${ns}:${selector ?? ""}`, (c) => c.listPods(ns || undefined, selector));
  }

  /** Services of a namespace ("" = all), filtered from the cluster-wide list as `pods` does. */
  async services(ns: string): Promise<Service[]> {
    if (this.config.mode === "default" || this.config.mode === "proxy") {
      try {
        const all = await this.via("svc:*", (c) => c.listServices());
        return all.filter((s) => !ns || s.metadata.namespace === ns);
      } catch (e) {
        if (!ns || !isForbidden(e)) throw e;
      }
    }
    return this.via(`svc:${ns}`, (c) => c.listServices(ns || undefined));
  }

  // -- Linkerd's configuration ---------------------------------------------------------------

  async linkerdConfigMap(): Promise<ConfigMap> {
    return must(await this.configMap(this.cp, "linkerd-config"), "configmaps", "linkerd-config");
  }

  /** The parsed values of linkerd-config; throws when the map is missing or its values are empty. */
  async values(): Promise<LinkerdValues> {
    const v = parseLinkerdValues(await this.linkerdConfigMap());
    if (!v) throw new Error(`the "values" of configmap ${this.cp}/linkerd-config are empty`);
    return v;
  }

  /** CNI checks run when linkerd-config says so, or (with --pre) when the flag says so. */
  async cniEnabled(): Promise<boolean> {
    if (this.config.mode === "pre" || this.config.mode === "crds") return this.config.cniEnabled;
    const cm = await this.configMap(this.cp, "linkerd-config").catch(() => undefined);
    if (!cm) return this.config.cniEnabled;
    try {
      return parseLinkerdValues(cm)?.cniEnabled ?? this.config.cniEnabled;
    } catch {
      return this.config.cniEnabled;
    }
  }

  /** The latest versions (`--expected-version`, else the online lookup); the lookup's error is rethrown. */
  latestVersions(): Promise<Channels> {
    return this.get("latest-versions", async () => {
      if (this.config.expectedVersion) return Channels.of(this.config.expectedVersion);
      let uuid = "unknown";
      if (this.config.mode === "default" || this.config.mode === "proxy") {
        const cm = await this.configMap(this.cp, "linkerd-config").catch(() => undefined);
        if (cm?.metadata.uid) uuid = cm.metadata.uid;
      }
      return Channels.fromResponse(await this.world.fetchLatestVersions(uuid));
    });
  }

  /** Like `latestVersions`, but an empty set when the lookup failed (later comparisons then fail as in Linkerd). */
  async latestOrNone(): Promise<Channels> {
    try {
      return await this.latestVersions();
    } catch {
      return new Channels();
    }
  }
}

export { must };

/** Builds the runner's environment: one shared cache, a fresh tracking context per attempt. */
export function checkEnv(config: CheckConfig, world: CheckWorld, memo = new Memo()): RunEnv<CheckContext> & { memo: Memo } {
  return {
    memo,
    attempt() {
      const reads: Read[] = [];
      return { ctx: new CheckContext(config, world, memo, reads), reads };
    },
    isCurrent: (reads) => memo.isCurrent(reads),
    invalidate: (reads) => memo.invalidate(reads),
  };
}

/** Awaits every promise (so their requests overlap) and rethrows the first failure in argument order. */
export async function inOrder<T extends readonly unknown[]>(...promises: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(promises);
  for (const s of settled) if (s.status === "rejected") throw s.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
