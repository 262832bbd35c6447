import { KubeApiError } from "../kube/errors.js";
import type { Pod, ResourceAttributes } from "../kube/types.js";
import { describeScrapeError } from "../viz/scrape.js";
import { accessLogFormat, accessLogHint } from "../viz/tap/pods.js";
import type { CheckContext } from "./context.js";
import { CONTROL_PLANE_NS_LABEL, PROXY_CONTAINER } from "./pods.js";
import { fail, skip, type Category } from "./types.js";
import { mapLimit } from "../concurrency.js";

/**
 * `mesh viz check` (spec A8, D7.3). mesh's viz has no components of its own, so Linkerd's
 * existence checks of the viz namespace, tap API server, metrics-api and Prometheus have nothing
 * to look at; instead the `linkerd-viz` category asks whether this user may do what the viz
 * commands do (SelfSubjectAccessReviews, in `-n` or cluster-wide), and `linkerd-viz-data-plane`
 * (with --proxy) whether the proxies answer them: admin endpoints reachable through the API
 * server, and the access log tap and top read.
 */

/** The fix for every permission check: the RBAC `mesh viz install` renders. */
const RBAC_FIX = "grant them with `mesh viz install --group <group> | kubectl apply -f -` and put the user in that group";

interface Need {
  verb: string;
  resource: string;
  group?: string;
  subresource?: string;
  /** Cluster-scoped resource: reviewed without a namespace. */
  clusterScoped?: boolean;
}

const show = (n: Need) => `${n.verb} ${n.resource}${n.subresource ? `/${n.subresource}` : ""}${n.group ? `.${n.group}` : ""}`;

/** Reviews every need; fails listing the denied ones (with the reason the API gave). */
async function require(ctx: CheckContext, needs: Need[], what: string): Promise<void> {
  const ns = ctx.config.dataPlaneNamespace;
  const results = await Promise.all(
    needs.map(async (n) => {
      const attrs: ResourceAttributes = { verb: n.verb, resource: n.resource, ...(n.group ? { group: n.group } : {}), ...(n.subresource ? { subresource: n.subresource } : {}), ...(ns && !n.clusterScoped ? { namespace: ns } : {}) };
      return { n, status: await ctx.accessReview(attrs) };
    }),
  );
  const denied = results.filter((r) => !r.status.allowed);
  if (denied.length === 0) return;
  const where = ns ? `in namespace "${ns}"` : "in all namespaces";
  const lines = denied.map((d) => `\t* ${show(d.n)}${d.status.reason ? `: ${d.status.reason}` : ""}`);
  fail(`not authorized to ${what} ${where}; missing:\n${lines.join("\n")}\n    ${RBAC_FIX}`);
}

const WORKLOADS: Need[] = [
  ["deployments", "apps"],
  ["replicasets", "apps"],
  ["statefulsets", "apps"],
  ["daemonsets", "apps"],
  ["jobs", "batch"],
  ["cronjobs", "batch"],
  ["replicationcontrollers", ""],
  ["services", ""],
].map(([resource, group]) => ({ verb: "list", resource, ...(group ? { group } : {}) }));

export const linkerdViz: Category<CheckContext> = {
  id: "linkerd-viz",
  checks: [
    {
      id: "viz-rbac-pods",
      description: "can list and watch pods",
      hint: "l5d-viz-rbac",
      run: (ctx) => require(ctx, [{ verb: "list", resource: "pods" }, { verb: "watch", resource: "pods" }], "find the pods of a resource"),
    },
    {
      id: "viz-rbac-pods-proxy",
      description: "can read proxy metrics (pods/proxy)",
      hint: "l5d-viz-rbac",
      run: (ctx) => require(ctx, [{ verb: "get", resource: "pods", subresource: "proxy" }], "read proxies' admin endpoints (stat, routes, edges)"),
    },
    {
      id: "viz-rbac-pods-log",
      description: "can read proxy access logs (pods/log)",
      hint: "l5d-viz-rbac",
      run: (ctx) => require(ctx, [{ verb: "get", resource: "pods", subresource: "log" }], "stream proxies' access logs (tap, top)"),
    },
    {
      id: "viz-rbac-namespaces",
      description: "can read namespaces",
      hint: "l5d-viz-rbac",
      run: (ctx) => require(ctx, [{ verb: "list", resource: "namespaces", clusterScoped: true }], "list namespaces (stat ns)"),
    },
    {
      id: "viz-rbac-workloads",
      description: "can list workloads and services",
      hint: "l5d-viz-rbac",
      run: (ctx) => require(ctx, WORKLOADS, "list the objects viz commands name"),
    },
    {
      id: "viz-rbac-serviceprofiles",
      description: "can read ServiceProfiles",
      hint: "l5d-viz-rbac",
      severity: "warning",
      run: (ctx) => require(ctx, [{ verb: "list", resource: "serviceprofiles", group: "linkerd.io" }], "read ServiceProfiles (routes)"),
    },
  ],
};

/** Meshed pods of this control plane in scope (`-n`, else all), Running with a proxy container. */
async function proxies(ctx: CheckContext): Promise<Pod[]> {
  const pods = await ctx.pods(ctx.config.dataPlaneNamespace, `${CONTROL_PLANE_NS_LABEL}=${ctx.cp}`);
  return pods.filter((p) => p.status?.phase === "Running" && !p.metadata.deletionTimestamp && p.spec.containers.some((c) => c.name === PROXY_CONTAINER));
}

const qualified = (p: Pod) => `${p.metadata.namespace}/${p.metadata.name}`;

/** A 403 the proxy itself sent (its inbound policy), as opposed to the API server's RBAC denial. */
export function isPolicyDenial(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 403 && !/cannot get resource|is forbidden|forbidden: User/i.test(err.serverMessage);
}

const POLICY_FIX =
  "their inbound policy refuses plaintext requests to the admin port (4191) from the API server; authorize them with `mesh viz allow-scrapes -n <namespace> | kubectl apply -f -` " +
  "(a Server on port linkerd-admin and an AuthorizationPolicy admitting the API server's unauthenticated requests), or annotate the workloads config.linkerd.io/default-inbound-policy: all-unauthenticated and restart them";

export const linkerdVizDataPlane: Category<CheckContext> = {
  id: "linkerd-viz-data-plane",
  checks: [
    {
      id: "viz-data-plane-ns",
      description: "data plane namespace exists",
      hint: "l5d-data-plane-exists",
      fatal: true,
      run: async (ctx) => {
        const ns = ctx.config.dataPlaneNamespace;
        if (!ns) skip("all namespaces");
        if (!(await ctx.namespace(ns))) fail(`The "${ns}" namespace does not exist`);
      },
    },
    {
      id: "viz-proxy-admin",
      description: "data plane proxies' admin endpoints answer",
      hint: "l5d-viz-proxy-admin",
      severity: "warning",
      run: async (ctx) => {
        const pods = await proxies(ctx);
        if (pods.length === 0) skip("no running proxies");
        const results = await mapLimit(pods, 16, (p) =>
          ctx.proxyMetrics(p.metadata.namespace ?? "", p.metadata.name).then(
            () => undefined,
            (err: unknown) => ({ pod: p, err }),
          ),
        );
        const failed = results.filter((r) => r !== undefined);
        if (failed.length === 0) return;
        const policy = failed.filter((f) => isPolicyDenial(f.err));
        const other = failed.filter((f) => !isPolicyDenial(f.err));
        const parts: string[] = [];
        if (policy.length) parts.push(`admin endpoint not authorized by policy (the proxy answered 403):\n${policy.map((f) => `\t* ${qualified(f.pod)}`).join("\n")}\n    ${POLICY_FIX}`);
        if (other.length) parts.push(`cannot read the admin endpoint of:\n${other.map((f) => `\t* ${qualified(f.pod)}: ${describeScrapeError(f.err)}`).join("\n")}`);
        fail(parts.join("\n    "));
      },
    },
    {
      id: "viz-access-log",
      description: "data plane proxies write the access log tap and top read",
      hint: "l5d-viz-access-log",
      severity: "warning",
      run: async (ctx) => {
        const pods = await proxies(ctx);
        if (pods.length === 0) skip("no running proxies");
        const missing = pods.filter((p) => !accessLogFormat(p));
        if (missing.length === 0) return;
        fail(`no access log, so tap and top see nothing of:\n${missing.map((p) => `\t* ${qualified(p)}`).join("\n")}\n    ${accessLogHint(missing)}`);
      },
    },
  ],
};

export const VIZ_CATEGORIES = { default: [linkerdViz], proxy: [linkerdViz, linkerdVizDataPlane] } as const;
