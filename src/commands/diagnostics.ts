import { Command, Option } from "commander";
import type { Deps, GlobalOptions } from "../deps.js";
import { MeshError, UsageError } from "../errors.js";
import { clusterApi, type ClusterApi } from "../kube/cluster.js";
import type { Pod, Service } from "../kube/types.js";
import { mapLimit } from "../concurrency.js";
import { computeEndpoints, formatEndpointsJson, formatEndpointsTable, parseAuthority, type EndpointRow, type EndpointSlice, type EndpointsV1 } from "../diagnostics/endpoints.js";
import { computePodPortPolicy, inertStrings } from "../diagnostics/policy.js";
import { listPolicyObjects } from "../policy/list.js";
import { loadYaml } from "../yaml-lib.js";
import { formatControllerMetrics, formatProxyMetrics, sortResults, type MetricsResult } from "../diagnostics/metrics.js";
import { resolveTargets } from "../viz/objects.js";
import { parseResourceArgs, type ResourceType } from "../viz/resources.js";
import { globals, parseDuration, parseNamespace } from "./shared.js";
import { clusterDomainOf, contextNamespace } from "./viz/common.js";
import { viaOption, type Via } from "../viz/via-option.js";

/** Port names Linkerd reads metrics from: the proxy's admin port, and the control-plane containers' admin servers. */
export const PROXY_ADMIN_PORT_NAME = "linkerd-admin";
export const ADMIN_HTTP_PORT_NAME = "admin-http";
/** Pods scraped at once. */
const CONCURRENCY = 8;

/** Resource types that own pods, which proxy-metrics accepts (Linkerd's list). */
const METRICS_TYPES: ReadonlySet<ResourceType> = new Set(["cronjob", "daemonset", "deployment", "job", "pod", "replicaset", "replicationcontroller", "statefulset"]);

export interface ProxyMetricsOptions {
  namespace?: string;
  obfuscate: boolean;
  /** How to reach the proxies' admin port (--via; default auto). */
  via?: Via;
}

export interface ControllerMetricsOptions {
  wait: number;
}

export interface EndpointsOptions {
  output: "table" | "json";
}

const usageNamespace = (ns: string | undefined) => {
  if (ns === undefined) return;
  try {
    parseNamespace(ns);
  } catch {
    throw new UsageError(`--namespace "${ns}" is not a valid namespace name`);
  }
};

/** The containers of `pod` with a port named `portName`, with that port's number. */
function containersWithPort(pod: Pod, portName: string): { name: string; port: number }[] {
  const out: { name: string; port: number }[] = [];
  for (const c of pod.spec.containers) for (const p of c.ports ?? []) if (p.name === portName) out.push({ name: c.name, port: p.containerPort });
  return out;
}

/** GET `/metrics` of each container of each pod with a port named `portName`, through the API server's pod proxy. */
async function scrapeAll(cluster: ClusterApi, pods: Pod[], portName: string, missing?: (pod: Pod) => string): Promise<MetricsResult[]> {
  const jobs: { pod: Pod; container?: { name: string; port: number }; error?: string }[] = [];
  for (const pod of pods) {
    if (pod.status?.phase !== "Running") {
      jobs.push({ pod, error: `pod not running: ${pod.metadata.name}` });
      continue;
    }
    const containers = containersWithPort(pod, portName);
    if (containers.length === 0 && missing) jobs.push({ pod, error: missing(pod) });
    for (const container of containers) jobs.push({ pod, container });
  }
  const results = await mapLimit(jobs, CONCURRENCY, async (j): Promise<MetricsResult> => {
    const base = { pod: j.pod.metadata.name, container: j.container?.name };
    if (j.error !== undefined || !j.container) return { ...base, error: j.error ?? "" };
    try {
      return { ...base, metrics: await cluster.podProxyText(j.pod.metadata.namespace ?? "", j.pod.metadata.name, j.container.port, "/metrics") };
    } catch (e) {
      return { ...base, error: e instanceof Error ? e.message : String(e) };
    }
  });
  return sortResults(results);
}

async function defaultNamespace(deps: Deps, g: GlobalOptions, given: string | undefined): Promise<string> {
  return given || ((await contextNamespace(g.kubeconfig, g.context, deps.env)) ?? "default");
}

function proxyMetricsCommand(deps: Deps): Command {
  return new Command("proxy-metrics")
    .description("Fetch the raw /metrics of the Linkerd proxies of a pod or of every pod of a workload")
    .usage("[flags] TYPE/NAME")
    .argument("<resource>", "the pod or workload: po/NAME, deploy/NAME, sts/NAME, ds/NAME, rs/NAME, rc/NAME, job/NAME or cj/NAME")
    .option("-n, --namespace <ns>", "namespace of the resource (default: the kubeconfig context's, else default)")
    .option("--obfuscate", "hash the label values that name pods, paths, authorities, identities and addresses", false)
    .addOption(viaOption())
    .addHelpText(
      "after",
      `
Each proxy's admin port (linkerd-admin) is read through the API server's pod proxy (RBAC: get
pods/proxy), or with --via port-forward through a port-forward (RBAC: create pods/portforward);
--via auto (the default) falls back to port-forward when the API server cannot reach pod IPs.
One block per pod, headed "# POD name (i of n)"; a pod that cannot be read gets "# ERROR: ..."
instead of its metrics.

Examples:
  mesh diagnostics proxy-metrics po/web-6bf9f47bd5-jjcrl
  mesh dg proxy-metrics -n emojivoto deploy/web
  mesh dg proxy-metrics -n emojivoto deploy/web --obfuscate`,
    )
    .action(async (resource: string, opts: ProxyMetricsOptions, cmd: Command) => {
      usageNamespace(opts.namespace);
      const g = globals(cmd);
      const namespace = await defaultNamespace(deps, g, opts.namespace);
      if (!resource.includes("/")) throw new UsageError(`no resource name provided in "${resource}"`, "give TYPE/NAME, e.g. deploy/web or po/web-1");
      const [ref] = parseResourceArgs([resource], namespace);
      if (!METRICS_TYPES.has(ref.type)) throw new UsageError(`proxy-metrics does not take ${ref.type} resources`, "use po, deploy, sts, ds, rs, rc, job or cj");
      const cluster = clusterApi(await deps.cluster(g));
      try {
        const [target] = await resolveTargets(cluster, [ref], {});
        if (!target || target.pods.length === 0) throw new MeshError(`${ref.type}/${ref.name ?? ""} in namespace "${namespace}" has no running pods`, "check that it is scaled up");
        const { withVia } = await import("../viz/via.js");
        const results = await scrapeAll(withVia(cluster, opts.via ?? "auto", deps.io.stderr).withTimeout(30_000), target.pods, PROXY_ADMIN_PORT_NAME, (p) => `pod ${p.metadata.name} has no ${PROXY_ADMIN_PORT_NAME} port: is it meshed?`);
        deps.io.stdout.write(formatProxyMetrics(results, opts.obfuscate));
      } finally {
        cluster.close();
      }
    });
}

function controllerMetricsCommand(deps: Deps): Command {
  return new Command("controller-metrics")
    .alias("cp-metrics")
    .description("Fetch the /metrics of the Linkerd control-plane containers' admin servers")
    .option("-w, --wait <duration>", "time allowed to fetch the metrics", parseDuration, 30_000)
    .addHelpText(
      "after",
      `
Every container of the control plane's pods (-L) with a port named admin-http is read through the
API server's pod proxy (RBAC: get pods/proxy), not through a port-forward.`,
    )
    .action(async (opts: ControllerMetricsOptions, cmd: Command) => {
      if (!(opts.wait > 0)) throw new UsageError("--wait must be greater than 0");
      const g = globals(cmd);
      const cluster = clusterApi(await deps.cluster(g));
      try {
        const pods = await cluster.listPods(g.linkerdNamespace);
        if (pods.length === 0) throw new MeshError(`no pods found in namespace "${g.linkerdNamespace}"`, "is the control plane installed there? run `mesh check` (or pass -L)");
        const results = await scrapeAll(cluster.withTimeout(opts.wait), pods, ADMIN_HTTP_PORT_NAME);
        deps.io.stdout.write(formatControllerMetrics(results));
      } finally {
        cluster.close();
      }
    });
}

/** The Service, its EndpointSlices (Endpoints when slices are not served) and its namespace's pods. */
async function readService(cluster: ClusterApi, ns: string, name: string): Promise<{ svc: Service; source: { slices: EndpointSlice[] } | { endpoints: EndpointsV1 | undefined }; pods: Pod[] }> {
  const e = encodeURIComponent;
  const [svc, slices, pods] = await Promise.all([
    cluster.getJson<Service>(`/api/v1/namespaces/${e(ns)}/services/${e(name)}`),
    cluster.getJson<{ items?: EndpointSlice[] }>(`/apis/discovery.k8s.io/v1/namespaces/${e(ns)}/endpointslices?labelSelector=${e(`kubernetes.io/service-name=${name}`)}`),
    cluster.listPods(ns),
  ]);
  if (!svc) throw new MeshError(`service "${name}" not found in namespace "${ns}"`, "check the authority's service and namespace");
  if (slices) return { svc, source: { slices: slices.items ?? [] }, pods };
  return { svc, source: { endpoints: await cluster.getJson<EndpointsV1>(`/api/v1/namespaces/${e(ns)}/endpoints/${e(name)}`) }, pods };
}

function endpointsCommand(deps: Deps): Command {
  return new Command("endpoints")
    .alias("ep")
    .description("Show what authorities resolve to: the pods, IPs and ports behind SERVICE.NAMESPACE.svc.CLUSTER_DOMAIN:PORT")
    .usage("[flags] authorities...")
    .argument("<authorities...>")
    .addOption(new Option("-o, --output <format>", "output format").choices(["table", "json"]).default("table"))
    .addHelpText(
      "after",
      `
Computed from the Kubernetes API (the Service, its EndpointSlices, or Endpoints where slices are
not served, and the pods), the way the destination controller computes it: ready addresses of the
Service port the authority names, with their target ports. Linkerd asks the destination service
itself over gRPC; that port is not reachable from a laptop without a port-forward, so mesh reads
the same inputs instead. MESHED says whether the pod behind an address carries the control
plane's label (-L).

Examples:
  mesh diagnostics endpoints emoji-svc.emojivoto.svc.cluster.local:8080 web-svc.emojivoto.svc.cluster.local:80
  mesh dg ep -o json web-svc.emojivoto.svc.cluster.local:80`,
    )
    .action(async (authorities: string[], opts: EndpointsOptions, cmd: Command) => {
      const g = globals(cmd);
      const cluster = clusterApi(await deps.cluster(g));
      try {
        const domain = await clusterDomainOf(cluster, g.linkerdNamespace);
        const parsed = authorities.map((a) => parseAuthority(a, domain));
        const rows: EndpointRow[] = [];
        for (const a of parsed) {
          const { svc, source, pods } = await readService(cluster, a.namespace, a.service);
          rows.push(...computeEndpoints(a, svc, source, pods, g.linkerdNamespace));
        }
        if (opts.output === "json") deps.io.stdout.write(formatEndpointsJson(rows));
        else if (rows.length === 0) deps.io.stderr.write("No endpoints found.\n");
        else deps.io.stdout.write(formatEndpointsTable(rows));
      } finally {
        cluster.close();
      }
    });
}

export interface PolicyOptions {
  namespace?: string;
  output: "yaml" | "json";
}

/** `proxy.defaultInboundPolicy` of linkerd-config's values, else Linkerd's default. */
async function clusterDefaultPolicy(cluster: ClusterApi, cp: string): Promise<string> {
  const cm = await cluster.getConfigMap(cp, "linkerd-config").catch(() => undefined);
  if (!cm) return "all-unauthenticated";
  const { readConfigOf } = await import("../kube/linkerd-config.js");
  try {
    const proxy = (await readConfigOf(cm)).values?.proxy as { defaultInboundPolicy?: unknown } | undefined;
    return typeof proxy?.defaultInboundPolicy === "string" ? proxy.defaultInboundPolicy : "all-unauthenticated";
  } catch {
    return "all-unauthenticated";
  }
}

function policyCommand(deps: Deps): Command {
  return new Command("policy")
    .description("Show the Servers, ServerAuthorizations, HTTPRoutes and AuthorizationPolicies that govern inbound traffic to a pod's port")
    .usage("[flags] po/NAME PORT")
    .argument("<resource>", "the pod: po/NAME")
    .argument("<port>", "the pod's port (a number)")
    .option("-n, --namespace <ns>", "namespace of the pod (default: the kubeconfig context's, else default)")
    .addOption(new Option("-o, --output <format>", "output format").choices(["yaml", "json"]).default("yaml"))
    .addHelpText(
      "after",
      `
Computed from the Kubernetes API: the Servers that select the pod and name the port, their
ServerAuthorizations and HTTPRoutes, and the AuthorizationPolicies targeting those Servers, routes
or the namespace; defaultPolicy applies when no Server does. Linkerd asks the policy controller
over gRPC, which is not reachable from a laptop without a port-forward; mesh reads the same
inputs. Only inbound policy (pods) is computed.

Example:
  mesh diagnostics policy -n emojivoto po/emoji-6d66d87995-bvrnn 8080`,
    )
    .action(async (resource: string, portText: string, opts: PolicyOptions, cmd: Command) => {
      usageNamespace(opts.namespace);
      if (!resource.includes("/")) throw new UsageError("resource type and name are required", "give po/NAME");
      if (!/^\d+$/.test(portText) || !(Number(portText) > 0 && Number(portText) < 65536)) throw new UsageError(`invalid port "${portText.slice(0, 40)}"`, "give a port number between 1 and 65535");
      const g = globals(cmd);
      const namespace = await defaultNamespace(deps, g, opts.namespace);
      const [ref] = parseResourceArgs([resource], namespace);
      if (ref.type === "service") throw new UsageError("mesh computes inbound policy (pods) only", "outbound policy of a Service comes from the policy controller, which mesh does not query");
      if (ref.type !== "pod") throw new UsageError(`policy takes a pod, not a ${ref.type}`, "give po/NAME");
      const cluster = clusterApi(await deps.cluster(g));
      try {
        const e = encodeURIComponent;
        const [pod, objects, dflt] = await Promise.all([
          cluster.getJson<Pod>(`/api/v1/namespaces/${e(namespace)}/pods/${e(ref.name ?? "")}`),
          listPolicyObjects(cluster, namespace),
          clusterDefaultPolicy(cluster, g.linkerdNamespace),
        ]);
        if (!pod || !Array.isArray(pod.spec?.containers)) throw new MeshError(`pod "${ref.name ?? ""}" not found in namespace "${namespace}"`, "check the name and the namespace (-n)");
        const result = inertStrings(computePodPortPolicy(pod, Number(portText), objects, dflt));
        deps.io.stdout.write(opts.output === "json" ? `${JSON.stringify(result, null, 2)}\n` : (await loadYaml()).stringify(result));
      } finally {
        cluster.close();
      }
    });
}

/** `mesh diagnostics` (also `mesh dg`): `name` is the word it was invoked by. */
export function diagnosticsCommand(deps: Deps, name = "diagnostics"): Command {
  return new Command(name)
    .addHelpText(
      "after",
      `
Examples:
  mesh diagnostics controller-metrics
  mesh dg proxy-metrics -n emojivoto deploy/web
  mesh dg endpoints web.linkerd-viz.svc.cluster.local:8084`,
    )
    .addCommand(proxyMetricsCommand(deps))
    .addCommand(controllerMetricsCommand(deps))
    .addCommand(endpointsCommand(deps))
    .addCommand(policyCommand(deps));
}
