/**
 * What a document is, read from its scanned tree: kind, name, where its pod template
 * lives, and the parts of the pod spec injection looks at (Linkerd's ResourceConfig).
 * Shape errors (a `containers` that is not a list…) throw `InputError` with the offset
 * of the offending node, so the message can name the line.
 */
import { at, entry, toJS, type Json, type MapNode, type Node } from "./yaml/tree.js";

export class InputError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** Kinds with a pod template, and the path to it (Linkerd's getFreshWorkloadObj). */
export const POD_TEMPLATE_PATH: Record<string, string[]> = {
  deployment: ["spec", "template"],
  replicationcontroller: ["spec", "template"],
  replicaset: ["spec", "template"],
  job: ["spec", "template"],
  daemonset: ["spec", "template"],
  statefulset: ["spec", "template"],
  cronjob: ["spec", "jobTemplate", "spec", "template"],
  pod: [],
};

const POD_TEMPLATE_DOTTED: Record<string, string> = Object.fromEntries(Object.entries(POD_TEMPLATE_PATH).map(([k, v]) => [k, v.join(".")]));

export type JsObj = { [k: string]: Json };

/**
 * A container of the pod template, read from its node on demand: injection looks at a few
 * fields (name, image, ports, probes, securityContext, volumeMounts, command, args), so
 * the rest (env, resources…) is never converted. A field's value is what the whole
 * container converted to plain data would hold there.
 */
export class Container {
  private readonly fields = new Map<string, Json | undefined>();
  constructor(readonly node: MapNode) {}

  /** The field's plain value (undefined when the key is absent). */
  field(key: string): Json | undefined {
    let v = this.fields.get(key);
    if (v === undefined && !this.fields.has(key)) {
      const e = entry(this.node, key);
      v = e ? toJS(e.value) : undefined;
      this.fields.set(key, v);
    }
    return v;
  }

  get name(): Json | undefined {
    return this.field("name");
  }
  get image(): Json | undefined {
    return this.field("image");
  }
  get ports(): Json | undefined {
    return this.field("ports");
  }
  get readinessProbe(): Json | undefined {
    return this.field("readinessProbe");
  }
  get livenessProbe(): Json | undefined {
    return this.field("livenessProbe");
  }
  get securityContext(): Json | undefined {
    return this.field("securityContext");
  }
  get volumeMounts(): Json | undefined {
    return this.field("volumeMounts");
  }
  get command(): Json | undefined {
    return this.field("command");
  }
  get args(): Json | undefined {
    return this.field("args");
  }
}

export interface Resource {
  /** The object's map node. */
  node: MapNode;
  kind: string;
  lkind: string;
  name: string;
  namespace: string;
  /** The object's own metadata map (undefined when absent). */
  meta: MapNode | undefined;
  labels: Record<string, string>;
  /** Set for kinds with a pod template. */
  pod?: PodTemplate;
}

export interface PodTemplate {
  /** The map holding the pod's `metadata` and `spec` (the object itself for a Pod). */
  node: MapNode;
  /** Dotted path of `node`, for messages (`spec.template`, or "" for a Pod). */
  path: string;
  meta: MapNode | undefined;
  spec: MapNode;
  name: string;
  generateName: string;
  annotations: Record<string, string>;
  labels: Record<string, string>;
  containers: Container[];
  initContainers: Container[];
  /** The `containers` sequence node (for messages). */
  containersNode: Node;
  hostNetwork: boolean;
  automountServiceAccountToken: boolean | undefined;
}

const isMap = (n: Node | null | undefined): n is MapNode => !!n && n.kind === "map";

function str(n: Node | null | undefined): string {
  if (!n || n.kind !== "scalar" || n.value === null) return "";
  return String(n.value);
}

/** No value: an absent key, `key:`, or an explicit null (`null`, `~`), as Kubernetes reads them (Helm's toYaml writes `null`). */
export function isAbsent(n: Node | null | undefined): n is null | undefined {
  return n === undefined || n === null || (n.kind === "scalar" && n.style === "plain" && n.value === null);
}

/** A `map[string]string` (annotations, labels): scalar values become strings, null becomes "". */
export function stringMap(n: Node | null | undefined, what: string): Record<string, string> {
  if (isAbsent(n)) return {};
  if (n.kind !== "map") throw new InputError(`${what} must be a map`, n.start);
  const out: Record<string, string> = {};
  for (let i = 0; i < n.entries.length; i++) {
    const e = n.entries[i];
    const v = e.value;
    if (v && v.kind !== "scalar") throw new InputError(`${what}.${e.key} must be a string`, v.start);
    out[e.key] = v ? (v.value === null ? "" : String(v.value)) : "";
  }
  return out;
}

function mapOrUndefined(n: Node | null | undefined, what: string): MapNode | undefined {
  if (isAbsent(n)) return undefined;
  if (n.kind !== "map") throw new InputError(`${what} must be a map`, n.start);
  return n;
}

function containerList(n: Node | null | undefined, what: string): Container[] {
  if (isAbsent(n)) return [];
  if (n.kind !== "seq") throw new InputError(`${what} must be a list`, n.start);
  const out: Container[] = [];
  for (let i = 0; i < n.items.length; i++) {
    const it = n.items[i];
    if (!it.node || it.node.kind !== "map") throw new InputError(`${what}[${i}] must be a map`, it.node?.start ?? it.start);
    out.push(new Container(it.node));
  }
  return out;
}

export function describe(node: Node, where: string, opts: { requireContainers?: boolean } = {}): Resource {
  if (node.kind !== "map") throw new InputError(`${where || "the document"} is not an object (it is ${node.kind === "seq" ? "a list" : "a scalar"})`, node.start);
  const kindNode = at(node, "kind");
  const kind = kindNode && kindNode.kind === "scalar" && typeof kindNode.value === "string" ? kindNode.value : "";
  const lkind = kind.toLowerCase();
  const meta = mapOrUndefined(at(node, "metadata"), "metadata");
  const res: Resource = {
    node,
    kind,
    lkind,
    name: str(at(meta, "name")),
    namespace: str(at(meta, "namespace")),
    meta,
    labels: stringMap(at(meta, "labels"), "metadata.labels"),
  };
  const path = POD_TEMPLATE_PATH[lkind];
  if (!path) return res;
  let tpl: Node | null | undefined = node;
  let walked = "";
  for (const k of path) {
    const e = entry(tpl, k);
    walked = walked ? `${walked}.${k}` : k;
    if (!isMap(tpl) || !e || !isMap(e.value)) {
      const at_ = e?.value ?? tpl;
      throw new InputError(`${kind}/${res.name}: ${walked} must be a map holding the pod template`, at_ && "start" in at_ ? at_.start : node.start);
    }
    tpl = e.value;
  }
  const tplNode = tpl as MapNode;
  const dotted = POD_TEMPLATE_DOTTED[lkind];
  const prefix = path.length ? `${dotted}.` : "";
  const pmeta = lkind === "pod" ? meta : mapOrUndefined(at(tplNode, "metadata"), `${prefix}metadata`);
  const specNode = at(tplNode, "spec");
  if (!isMap(specNode)) throw new InputError(`${kind}/${res.name}: ${prefix}spec must be a map with the pod's containers`, specNode?.start ?? tplNode.start);
  const containersNode = at(specNode, "containers");
  const containers = containerList(containersNode, `${prefix}spec.containers`);
  if ((opts.requireContainers ?? true) && (!containersNode || containers.length === 0))
    throw new InputError(`${kind}/${res.name}: the pod template has no containers (${prefix}spec.containers)`, containersNode?.start ?? specNode.start);
  const hn = at(specNode, "hostNetwork");
  const am = at(specNode, "automountServiceAccountToken");
  res.pod = {
    node: tplNode,
    path: dotted,
    meta: pmeta,
    spec: specNode,
    name: str(at(pmeta, "name")),
    generateName: str(at(pmeta, "generateName")),
    annotations: stringMap(at(pmeta, "annotations"), `${prefix}metadata.annotations`),
    labels: stringMap(at(pmeta, "labels"), `${prefix}metadata.labels`),
    containers,
    initContainers: containerList(at(specNode, "initContainers"), `${prefix}spec.initContainers`),
    containersNode: containersNode ?? specNode,
    hostNetwork: !!hn && hn.kind === "scalar" && hn.value === true,
    automountServiceAccountToken: am && am.kind === "scalar" && typeof am.value === "boolean" ? am.value : undefined,
  };
  return res;
}
