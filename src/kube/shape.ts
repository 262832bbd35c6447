// The shapes of the Kubernetes objects mesh reads (the slices typed in types.ts), checked where
// an answer enters mesh: a server that sends a string where a list belongs, null items or a null
// body gets a clear error naming the request, never a TypeError deep in a check.
import { MeshError } from "../errors.js";

export type Shape =
  | "string"
  | "number"
  | "boolean"
  | "intOrString"
  | "any"
  | { list: Shape }
  | { map: Shape }
  | { fields: Record<string, Shape>; required?: readonly string[] };

const S = "string";
const N = "number";
const B = "boolean";
const list = (of: Shape): Shape => ({ list: of });
const map = (of: Shape): Shape => ({ map: of });
const obj = (fields: Record<string, Shape>, required: readonly string[] = []): Shape => ({ fields, required });

const meta = obj(
  {
    name: S,
    namespace: S,
    uid: S,
    generateName: S,
    labels: map(S),
    annotations: map(S),
    ownerReferences: list(obj({ apiVersion: S, kind: S, name: S, uid: S, controller: B })),
    creationTimestamp: S,
    deletionTimestamp: S,
  },
  ["name"],
);
const kubeObject = (fields: Record<string, Shape> = {}, required: readonly string[] = []): Shape => obj({ apiVersion: S, kind: S, metadata: meta, ...fields }, ["metadata", ...required]);

const condition = obj({ type: S, status: S, reason: S, message: S, lastHeartbeatTime: S });
const labelSelector = obj({ matchLabels: map(S), matchExpressions: list("any") });
const container = obj(
  {
    name: S,
    image: S,
    args: list(S),
    command: list(S),
    env: list(obj({ name: S, value: S }, ["name"])),
    ports: list(obj({ name: S, containerPort: N, protocol: S })),
  },
  ["name"],
);
const containerStatus = obj(
  {
    name: S,
    ready: B,
    started: B,
    image: S,
    restartCount: N,
    state: obj({
      running: obj({ startedAt: S }),
      waiting: obj({ reason: S, message: S }),
      terminated: obj({ exitCode: N, signal: N, reason: S, message: S, finishedAt: S }),
    }),
  },
  ["name"],
);

/** The shapes of types.ts, by type. */
export const SHAPES = {
  object: kubeObject(),
  namespace: kubeObject({ status: obj({ phase: S }) }),
  configMap: kubeObject({ data: map(S) }),
  secret: kubeObject({ type: S, data: map(S) }),
  pod: kubeObject(
    {
      spec: obj({ containers: list(container), initContainers: list(container), hostNetwork: B, nodeName: S, serviceAccountName: S }, ["containers"]),
      status: obj({
        phase: S,
        reason: S,
        podIP: S,
        conditions: list(condition),
        containerStatuses: list(containerStatus),
        initContainerStatuses: list(containerStatus),
      }),
    },
    ["spec"],
  ),
  service: kubeObject({
    spec: obj({ clusterIP: S, ports: list(obj({ name: S, port: N, targetPort: "intOrString", protocol: S })), selector: map(S), type: S }),
  }),
  endpoints: kubeObject({
    subsets: list(obj({ addresses: list(obj({ ip: S, targetRef: obj({ kind: S, name: S, namespace: S }) })) })),
  }),
  replicaSet: kubeObject({ spec: obj({ selector: labelSelector }), status: obj({ replicas: N, readyReplicas: N, conditions: list(condition) }) }),
  deployment: kubeObject({ spec: obj({ replicas: N, selector: labelSelector }), status: obj({ replicas: N, availableReplicas: N, readyReplicas: N }) }),
  daemonSet: kubeObject({ spec: obj({ selector: labelSelector }), status: obj({ desiredNumberScheduled: N, numberReady: N }) }),
  statefulSet: kubeObject({ spec: obj({ selector: labelSelector }) }),
  job: kubeObject({ spec: obj({ selector: labelSelector }) }),
  replicationController: kubeObject({ spec: obj({ selector: map(S) }) }),
  node: kubeObject({
    spec: obj({ podCIDR: S, podCIDRs: list(S) }),
    status: obj({ conditions: list(condition), nodeInfo: obj({ containerRuntimeVersion: S, kubeletVersion: S }) }),
  }),
  customResourceDefinition: kubeObject({ spec: obj({ group: S, versions: list(obj({ name: S, served: B, storage: B }, ["name"])) }, ["group", "versions"]) }, ["spec"]),
  webhookConfiguration: kubeObject({
    webhooks: list(
      obj(
        {
          name: S,
          clientConfig: obj({ caBundle: S, service: obj({ name: S, namespace: S, path: S, port: N }) }),
          failurePolicy: S,
        },
        ["name", "clientConfig"],
      ),
    ),
  }),
  apiService: kubeObject({ spec: obj({ caBundle: S, service: obj({ name: S, namespace: S }) }), status: obj({ conditions: list(condition) }) }),
  serviceProfile: kubeObject({ spec: obj({ routes: list("any"), dstOverrides: list(obj({ authority: S, weight: "any" })) }) }),
  serverVersion: obj({ major: S, minor: S, gitVersion: S, platform: S }, ["gitVersion"]),
  accessReview: obj({ status: obj({ allowed: B, denied: B, reason: S, evaluationError: S }) }),
} satisfies Record<string, Shape>;

/** The shape of a List of `item`s: `items` may be null or absent (an empty list). */
export const listOf = (item: Shape): Shape => obj({ items: list(item), metadata: obj({ continue: S, resourceVersion: S }) });

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a map";
  if (typeof v === "string") return "a string";
  if (typeof v === "number") return "a number";
  if (typeof v === "boolean") return v ? "true" : "false";
  return typeof v;
}

function expected(s: Shape): string {
  if (s === "string") return "a string";
  if (s === "number") return "a number";
  if (s === "boolean") return "true or false";
  if (s === "intOrString") return "a number or a string";
  if (s === "any") return "anything";
  if ("list" in s) return "a list";
  return "a map";
}

/**
 * Where `v` departs from `shape`: a path and what it found (`items[3].spec.containers is a
 * string, not a list`), or undefined when it fits. Optional fields may be absent or null;
 * fields the shape does not name are not looked at. Iterative: a hostile, deeply nested value
 * is only walked as deep as the shape goes.
 */
export function shapeProblem(v: unknown, shape: Shape, path = "the body"): string | undefined {
  const work: { v: unknown; s: Shape; path: string }[] = [{ v, s: shape, path }];
  while (work.length) {
    const { v: x, s, path: p } = work.pop()!;
    if (s === "any") continue;
    const wrong = () => `${p} is ${describe(x)}, not ${expected(s)}`;
    if (s === "string" || s === "number" || s === "boolean") {
      if (typeof x !== s || (s === "number" && !Number.isFinite(x as number))) return wrong();
      continue;
    }
    if (s === "intOrString") {
      if (typeof x !== "string" && !(typeof x === "number" && Number.isFinite(x))) return wrong();
      continue;
    }
    if ("list" in s) {
      if (!Array.isArray(x)) return wrong();
      for (let i = x.length - 1; i >= 0; i--) {
        if (x[i] === null || x[i] === undefined) return `${p}[${i}] is null, not ${expected(s.list)}`;
        work.push({ v: x[i], s: s.list, path: `${p}[${i}]` });
      }
      continue;
    }
    if (typeof x !== "object" || x === null || Array.isArray(x)) return wrong();
    const rec = x as Record<string, unknown>;
    if ("map" in s) {
      for (const [k, val] of Object.entries(rec)) if (val !== null && val !== undefined) work.push({ v: val, s: s.map, path: `${p}[${JSON.stringify(k.length > 40 ? `${k.slice(0, 40)}…` : k)}]` });
      continue;
    }
    for (const r of s.required ?? []) if (rec[r] === undefined || rec[r] === null) return `${p === "the body" ? "" : `${p}.`}${r} is ${rec[r] === null ? "null" : "missing"}`;
    for (const [k, fs] of Object.entries(s.fields)) {
      const val = rec[k];
      if (val === undefined || val === null) continue;
      work.push({ v: val, s: fs, path: p === "the body" ? k : `${p}.${k}` });
    }
  }
  return undefined;
}

/** An API answer that is not the shape mesh expects of it. */
export class ShapeError extends MeshError {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly problem: string,
  ) {
    super(
      `the API server's answer to ${method} ${path.split("?")[0]} is not what Kubernetes sends: ${problem}`,
      "is the server in your kubeconfig a Kubernetes API server (and not a proxy that rewrites its answers)?",
    );
    this.name = "ShapeError";
  }
}

/** `v` as T when it fits `shape`; else a ShapeError naming the request. */
export function checkShape<T>(v: unknown, shape: Shape, method: string, path: string): T {
  const problem = shapeProblem(v, shape);
  if (problem) throw new ShapeError(method, path, problem);
  return v as T;
}
