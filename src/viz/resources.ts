import { ExitCode, MeshError } from "../errors.js";

/**
 * Resource arguments of the viz commands (`stat`, `tap`, …), Linkerd's grammar:
 * `TYPE`, `TYPE/NAME`, `TYPE NAME1 NAME2…`, `TYPE1/NAME1 TYPE2/NAME2…` or `all`.
 * Types are canonical singular kind names; `all` stays a type of its own and the
 * command that accepts it expands it (see STAT_ALL_TYPES).
 */
export type ResourceType =
  | "authority"
  | "authorizationpolicy"
  | "cronjob"
  | "daemonset"
  | "deployment"
  | "httproute"
  | "job"
  | "namespace"
  | "pod"
  | "replicaset"
  | "replicationcontroller"
  | "server"
  | "serverauthorization"
  | "service"
  | "serviceprofile"
  | "statefulset"
  | "all";

/**
 * One resource argument. `namespace` is the namespace it was given in (`-n`); for the namespace
 * type it is "" (a namespace is not inside one), as in Linkerd.
 */
export interface ResourceRef {
  type: ResourceType;
  name?: string;
  namespace: string;
}

interface TypeNames {
  type: ResourceType;
  /** The shortest name, used as the row prefix when several types share one output (`deploy/web`). */
  short: string;
  aliases: string[];
}

const TYPES: TypeNames[] = [
  { type: "authority", short: "au", aliases: ["au", "authority", "authorities"] },
  { type: "authorizationpolicy", short: "ap", aliases: ["ap", "authzpolicy", "authorizationpolicy", "authorizationpolicies"] },
  { type: "cronjob", short: "cj", aliases: ["cj", "cronjob", "cronjobs"] },
  { type: "daemonset", short: "ds", aliases: ["ds", "daemonset", "daemonsets"] },
  { type: "deployment", short: "deploy", aliases: ["deploy", "deployment", "deployments"] },
  { type: "httproute", short: "httproute", aliases: ["httproute", "httproutes"] },
  { type: "job", short: "job", aliases: ["job", "jobs"] },
  { type: "namespace", short: "ns", aliases: ["ns", "namespace", "namespaces"] },
  { type: "pod", short: "po", aliases: ["po", "pod", "pods"] },
  { type: "replicaset", short: "rs", aliases: ["rs", "replicaset", "replicasets"] },
  { type: "replicationcontroller", short: "rc", aliases: ["rc", "replicationcontroller", "replicationcontrollers"] },
  { type: "server", short: "srv", aliases: ["srv", "server", "servers"] },
  { type: "serverauthorization", short: "saz", aliases: ["saz", "serverauthz", "srvauthz", "serverauthorization", "serverauthorizations"] },
  { type: "service", short: "svc", aliases: ["svc", "service", "services"] },
  { type: "serviceprofile", short: "sp", aliases: ["sp", "serviceprofile", "serviceprofiles"] },
  { type: "statefulset", short: "sts", aliases: ["sts", "statefulset", "statefulsets"] },
  { type: "all", short: "all", aliases: ["all"] },
];

const BY_ALIAS = new Map<string, ResourceType>(TYPES.flatMap((t) => t.aliases.map((a) => [a, t.type] as const)));
const SHORT = new Map<ResourceType, string>(TYPES.map((t) => [t.type, t.short]));

/** Every type in Linkerd's fixed output order (`AllResources`): tables of several types follow it. */
export const RESOURCE_ORDER: readonly ResourceType[] = TYPES.filter((t) => t.type !== "all").map((t) => t.type);

/** What `stat all` queries (Linkerd's `StatAllResourceTypes`). */
export const STAT_ALL_TYPES: readonly ResourceType[] = ["daemonset", "statefulset", "job", "deployment", "replicationcontroller", "pod", "service", "authority", "cronjob", "replicaset"];

/** The canonical type for a short, singular or plural name; undefined when unknown. */
export function canonicalType(name: string): ResourceType | undefined {
  return BY_ALIAS.get(name);
}

/** The short name of a type (`deployment` → `deploy`). */
export function shortTypeName(type: ResourceType): string {
  return SHORT.get(type) ?? type;
}

function usage(message: string, hint?: string): MeshError {
  return new MeshError(message, hint, ExitCode.Usage);
}

function typeOf(word: string, arg: string): ResourceType {
  const t = canonicalType(word);
  if (t) return t;
  const shown = JSON.stringify(arg.length > 80 ? `${arg.slice(0, 80)}…` : arg);
  throw usage(`unknown resource type ${JSON.stringify(word.length > 80 ? `${word.slice(0, 80)}…` : word)} in ${shown}`, "use a type such as deploy, po, ns, svc, au, sts, ds, job, cj, rs, rc (or their singular/plural names), or all");
}

function ref(type: ResourceType, name: string | undefined, namespace: string, arg: string): ResourceRef {
  if (name !== undefined) {
    if (name === "") throw usage(`invalid resource "${arg}": the name after "/" is empty`);
    if (type === "all") throw usage(`invalid resource "${arg}": "all" takes no name`);
  }
  return name === undefined ? { type, namespace: type === "namespace" ? "" : namespace } : { type, name, namespace: type === "namespace" ? "" : namespace };
}

/**
 * Parses resource arguments against the namespace given with `-n`. Throws a MeshError with
 * ExitCode.Usage on an empty list, an unknown type, a malformed `TYPE/NAME`, duplicates, or `all`
 * mixed with anything else.
 */
export function parseResourceArgs(args: string[], namespace: string): ResourceRef[] {
  if (args.length === 0) throw usage("no resource arguments given", "name a resource type, e.g. `deploy`, `deploy/web` or `all`");
  const refs: ResourceRef[] = [];
  const first = canonicalType(args[0]);
  if (args.length > 1 && first !== undefined && first !== "all") {
    // TYPE NAME1 NAME2…
    for (const name of args.slice(1)) {
      if (name.includes("/")) throw usage(`invalid resource name "${name}": after a type (${args[0]}), give plain names`, `write \`${args[0]} NAME…\` or \`TYPE/NAME…\`, not both`);
      refs.push(ref(first, name, namespace, `${args[0]} ${name}`));
    }
  } else {
    for (const arg of args) {
      const parts = arg.split("/");
      if (parts.length > 2) throw usage(`invalid resource "${arg}": expected TYPE or TYPE/NAME`);
      refs.push(ref(typeOf(parts[0], arg), parts.length === 2 ? parts[1] : undefined, namespace, arg));
    }
  }
  if (refs.some((r) => r.type === "all") && refs.length > 1) throw usage("'all' can't be supplied alongside other resources", "run `all` on its own, or list the resources instead");
  const seen = new Set<string>();
  for (const r of refs) {
    const key = `${r.type}/${r.name ?? ""}`;
    if (seen.has(key)) throw usage(`duplicate resource ${shortTypeName(r.type)}${r.name === undefined ? "" : `/${r.name}`}`, "name each resource once");
    seen.add(key);
  }
  return refs;
}
