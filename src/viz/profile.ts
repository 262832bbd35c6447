import { stringify } from "yaml";

/**
 * `viz profile`: a ServiceProfile whose routes are the requests seen on a workload (`--tap`), or
 * a commented template (`--template`). Pure: the command runs the tap session and feeds
 * `ProfileRoutes`.
 *
 * Routes follow Linkerd's generator: one per distinct method and path (the root path `/` is
 * skipped), named `<METHOD> <path>`, matched by the method and the path as a fully escaped regular
 * expression (Go's regexp.QuoteMeta), in which an escaped `{…}` segment becomes `[^/]*`. Collection
 * stops once the route limit is reached; routes are listed in byte order of their names.
 */

export interface ProfileRoute {
  name: string;
  condition: { method: string; pathRegex: string };
  /** One class per documented status (OpenAPI): failures from 500 up. */
  responseClasses?: { condition: { status: { min: number; max: number } }; isFailure: boolean }[];
  isRetryable?: boolean;
  timeout?: string;
}

/** Characters Go's regexp.QuoteMeta escapes. */
const META = /[\\.+*?()|[\]{}^$]/g;

/** Go's `regexp.QuoteMeta(path)`, then every `\{…\}` (an escaped path template parameter) as `[^/]*`. */
export function pathToRegex(path: string): string {
  return path.replace(META, "\\$&").replace(/\\\{[^}]*\\\}/g, "[^/]*");
}

/** The route of one observed request, or undefined for the root path. The query is not part of the path. */
export function routeOf(method: string, pathAndQuery: string): ProfileRoute | undefined {
  const path = pathAndQuery.split("?")[0];
  if (path === "/" || path === "") return undefined;
  return { name: `${method} ${path}`, condition: { method, pathRegex: pathToRegex(path) } };
}

/** Distinct routes of the observed requests, up to a limit. */
export class ProfileRoutes {
  private readonly byName = new Map<string, ProfileRoute>();
  constructor(private readonly limit: number) {}

  /** Records a request; returns true once the limit is reached (the caller stops tapping). */
  add(method: string, path: string): boolean {
    if (this.full) return true;
    const r = routeOf(method, path);
    if (r) this.byName.set(r.name, r);
    return this.full;
  }

  get full(): boolean {
    return this.byName.size >= this.limit;
  }

  /** The routes in byte order of their names. */
  routes(): ProfileRoute[] {
    return [...this.byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}

/** `<service>.<namespace>.svc.<cluster domain>`: the name a ServiceProfile must have. */
export const profileObjectName = (service: string, namespace: string, clusterDomain: string) => `${service}.${namespace}.svc.${clusterDomain}`;

/** A route as Kubernetes YAML writes it: keys in alphabetical order, empty and false fields left out. */
function routeObject(r: ProfileRoute): Record<string, unknown> {
  const o: Record<string, unknown> = { condition: { method: r.condition.method, pathRegex: r.condition.pathRegex } };
  if (r.isRetryable) o.isRetryable = true;
  o.name = r.name;
  if (r.responseClasses?.length)
    o.responseClasses = r.responseClasses.map((c) => ({ condition: { status: { max: c.condition.status.max, min: c.condition.status.min } }, ...(c.isFailure ? { isFailure: true } : {}) }));
  if (r.timeout) o.timeout = r.timeout;
  return o;
}

/**
 * The ServiceProfile as Linkerd prints it (Kubernetes YAML: keys in alphabetical order, sequences
 * not indented, an empty `creationTimestamp`, `spec: {}` without routes).
 */
export function renderProfile(service: string, namespace: string, clusterDomain: string, routes: ProfileRoute[]): string {
  const spec = routes.length ? { routes: routes.map(routeObject) } : {};
  const doc = {
    apiVersion: "linkerd.io/v1alpha2",
    kind: "ServiceProfile",
    metadata: { creationTimestamp: null, name: profileObjectName(service, namespace, clusterDomain), namespace },
    spec,
  };
  return stringify(doc, { indentSeq: false, lineWidth: 0 });
}

/** `--template`: a ServiceProfile for the service with one example route, explained in comments. */
export function renderProfileTemplate(service: string, namespace: string, clusterDomain: string): string {
  return `# ServiceProfile for the Service ${service} in namespace ${namespace}: edit the routes, then
# kubectl apply -f this file. Requests are counted under the first route whose condition matches;
# the rest go to [DEFAULT] in \`mesh viz routes\`.
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata:
  name: ${profileObjectName(service, namespace, clusterDomain)}
  namespace: ${namespace}
spec:
  routes:
  - name: GET /items/{id}
    condition:
      # Both fields must match. pathRegex is anchored at both ends.
      method: GET
      pathRegex: /items/[^/]*
      # Conditions combine with all:, any: and not:, e.g.
      # any:
      # - pathRegex: /items/[^/]*
      # - pathRegex: /legacy/items/[^/]*
    # Responses are failures when they match a class with isFailure: true (by default only
    # 5xx responses are failures).
    responseClasses:
    - condition:
        status:
          min: 500
          max: 599
      isFailure: true
    # Retry failed requests of this route (only if it is safe to send them twice):
    # isRetryable: true
    # Cancel requests that take longer than this:
    # timeout: 300ms
  # How many extra requests retries may add, as a ratio of the original ones:
  # retryBudget:
  #   retryRatio: 0.2
  #   minRetriesPerSecond: 10
  #   ttl: 10s
`;
}
