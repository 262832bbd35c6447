// An in-memory Kubernetes API behind the real RestCluster: the paths mesh builds are routed to a
// store of objects, so tests exercise request building, selectors and error mapping too.
import { RestCluster, type Transport, type TransportRequest, type TransportResponse } from "../../src/kube/cluster.js";
import { matchesSelector } from "../../src/kube/selector.js";
import type { AccessReviewStatus, KubeObject, ResourceAttributes } from "../../src/kube/types.js";

export interface FakeApiOptions {
  gitVersion?: string;
  /** Answer a request before the store does (faults, 403s...). */
  intercept?: (req: TransportRequest) => TransportResponse | Promise<TransportResponse> | undefined;
  /** SelfSubjectAccessReview decisions; default: everything allowed. */
  access?: (attrs: ResourceAttributes) => AccessReviewStatus;
  /** Dry-run create outcome per `Kind/name`; default: created. */
  dryRun?: (obj: KubeObject) => TransportResponse | undefined;
  /** `/metrics` text of a pod's admin port, by `ns/pod`. */
  metrics?: Record<string, string>;
}

const status = (code: number, message: string, reason = ""): TransportResponse => ({
  status: code,
  body: JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", message, reason, code }),
});

/** The plural resource name of a kind. */
export function plural(kind: string): string {
  const k = kind.toLowerCase();
  if (k === "endpoints") return k;
  if (k.endsWith("s")) return `${k}es`;
  if (k.endsWith("y")) return `${k.slice(0, -1)}ies`;
  return `${k}s`;
}

const groupOf = (o: KubeObject) => (o.apiVersion?.includes("/") ? o.apiVersion.split("/")[0] : "");

export class FakeApi {
  objects: KubeObject[];
  readonly log: TransportRequest[] = [];

  constructor(
    objects: KubeObject[],
    readonly opts: FakeApiOptions = {},
  ) {
    this.objects = structuredClone(objects);
  }

  /** Requests seen, as `METHOD path` strings. */
  requests(): string[] {
    return this.log.map((r) => `${r.method} ${r.path}`);
  }

  transport(): Transport {
    return async (req) => {
      this.log.push(req);
      const intercepted = await this.opts.intercept?.(req);
      if (intercepted) return intercepted;
      return this.handle(req);
    };
  }

  cluster(): RestCluster {
    return new RestCluster("https://fake.example:6443", this.transport());
  }

  private handle(req: TransportRequest): TransportResponse {
    const [pathname, query = ""] = req.path.split("?");
    const params = new URLSearchParams(query);
    if (pathname === "/version") return { status: 200, body: JSON.stringify({ major: "1", minor: "28", gitVersion: this.opts.gitVersion ?? "v1.28.3" }) };
    const parts = pathname.split("/").filter(Boolean).map(decodeURIComponent);
    let group: string;
    let rest: string[];
    if (parts[0] === "api") {
      group = "";
      rest = parts.slice(2);
    } else if (parts[0] === "apis") {
      group = parts[1];
      rest = parts.slice(3);
    } else return status(404, "the server could not find the requested resource", "NotFound");
    let ns: string | undefined;
    if (rest[0] === "namespaces" && rest.length >= 3) {
      ns = rest[1];
      rest = rest.slice(2);
    }
    const [resource, nameAndPort, sub, ...subPath] = rest;
    if (req.method === "POST" && resource === "selfsubjectaccessreviews") {
      const body = JSON.parse(req.body ?? "{}") as { spec: { resourceAttributes: ResourceAttributes } };
      const decision = this.opts.access?.(body.spec.resourceAttributes) ?? { allowed: true };
      return { status: 201, body: JSON.stringify({ ...body, status: decision }) };
    }
    if (req.method === "POST") {
      const obj = JSON.parse(req.body ?? "{}") as KubeObject;
      if (params.get("dryRun") !== "All") return status(405, "mutations are not supported by the fake API");
      const r = this.opts.dryRun?.(obj);
      if (r) return r;
      if (this.find(group, resource, obj.metadata.namespace, obj.metadata.name))
        return status(409, `${resource}${group ? `.${group}` : ""} "${obj.metadata.name}" already exists`, "AlreadyExists");
      return { status: 201, body: JSON.stringify(obj) };
    }
    if (resource === "pods" && sub === "proxy") {
      const [pod, port] = nameAndPort.split(":");
      const text = this.opts.metrics?.[`${ns}/${pod}`];
      if (port !== "4191" || subPath.join("/") !== "metrics" || text === undefined) return status(503, `error trying to reach service: dial tcp: connect: connection refused`, "ServiceUnavailable");
      return { status: 200, body: text };
    }
    if (!this.served(group, resource)) return status(404, "the server could not find the requested resource", "NotFound");
    const qualified = `${resource}${group ? `.${group}` : ""}`;
    if (nameAndPort) {
      const obj = this.find(group, resource, ns, nameAndPort);
      return obj ? { status: 200, body: JSON.stringify(obj) } : status(404, `${qualified} "${nameAndPort}" not found`, "NotFound");
    }
    const selector = params.get("labelSelector") ?? undefined;
    const items = this.objects
      .filter((o) => groupOf(o) === group && plural(o.kind ?? "") === resource && (!ns || o.metadata.namespace === ns) && matchesSelector(o.metadata.labels, selector))
      .sort((a, b) => (a.metadata.namespace ?? "").localeCompare(b.metadata.namespace ?? "") || a.metadata.name.localeCompare(b.metadata.name));
    // Pages as a real server sends them (`limit`, then `continue`); the token here is the offset.
    const limit = Number(params.get("limit") ?? 0);
    const from = Number(params.get("continue") ?? 0);
    const to = limit > 0 ? from + limit : items.length;
    const metadata = to < items.length ? { continue: String(to) } : {};
    return { status: 200, body: JSON.stringify({ kind: "List", apiVersion: "v1", metadata, items: items.slice(from, to) }) };
  }

  /** Built-in resources are always served; custom ones only while their CRD exists. */
  private served(group: string, resource: string): boolean {
    if (!group.includes(".") || group.endsWith(".k8s.io")) return true;
    return this.objects.some((o) => o.kind === "CustomResourceDefinition" && o.metadata.name === `${resource}.${group}`);
  }

  private find(group: string, resource: string, ns: string | undefined, name: string): KubeObject | undefined {
    return this.objects.find((o) => groupOf(o) === group && plural(o.kind ?? "") === resource && (o.metadata.namespace ?? undefined) === ns && o.metadata.name === name);
  }

  /** Replaces (or adds) the object with the same kind, namespace and name. */
  put(obj: KubeObject): void {
    this.remove(obj.kind ?? "", obj.metadata.name, obj.metadata.namespace);
    this.objects.push(structuredClone(obj));
  }

  remove(kind: string, name: string, namespace?: string): void {
    this.objects = this.objects.filter((o) => !(o.kind === kind && o.metadata.name === name && o.metadata.namespace === namespace));
  }

  get(kind: string, name: string, namespace?: string): KubeObject | undefined {
    return this.objects.find((o) => o.kind === kind && o.metadata.name === name && o.metadata.namespace === namespace);
  }
}
