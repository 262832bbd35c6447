import { Command } from "commander";
import { stringify } from "yaml";
import type { Deps } from "../../deps.js";
import { UsageError } from "../../errors.js";
import type { KubeObject } from "../../kube/types.js";
import { goJsonIndent } from "../../output/go-json.js";
import { collect } from "../shared.js";

/**
 * `mesh viz install` / `uninstall`: agentless viz installs no components, only the RBAC its users
 * need: a ClusterRole that may read pods (and their proxies' admin endpoints and logs),
 * namespaces, workloads, services and ServiceProfiles, and a ClusterRoleBinding of it to the
 * groups (and users) named by flags. `uninstall` renders the same objects for `kubectl delete -f -`.
 */

export interface VizInstallOptions {
  group?: string[];
  user?: string[];
  name: string;
  output: string;
}

export const DEFAULT_GROUP = "mesh-viz";
const LABELS = { "app.kubernetes.io/name": "mesh-viz", "app.kubernetes.io/part-of": "mesh", "linkerd.io/extension": "viz" };
const READ = ["get", "list", "watch"];

/** The rules of the viz ClusterRole: what stat, routes, edges, tap, top, list and check do. */
export const VIZ_RULES = [
  { apiGroups: [""], resources: ["pods", "namespaces", "services", "replicationcontrollers"], verbs: READ },
  { apiGroups: [""], resources: ["pods/proxy", "pods/log"], verbs: ["get"] },
  { apiGroups: [""], resources: ["configmaps"], resourceNames: ["linkerd-config"], verbs: ["get"] },
  { apiGroups: ["apps"], resources: ["deployments", "replicasets", "statefulsets", "daemonsets"], verbs: READ },
  { apiGroups: ["batch"], resources: ["jobs", "cronjobs"], verbs: READ },
  { apiGroups: ["linkerd.io"], resources: ["serviceprofiles"], verbs: READ },
];

const NAME_RE = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** The objects, in apply order (the role before its binding). */
export function renderVizRbac(o: { name: string; groups: string[]; users: string[] }): KubeObject[] {
  const metadata = { name: o.name, labels: LABELS };
  const subjects = [
    ...o.groups.map((name) => ({ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name })),
    ...o.users.map((name) => ({ apiGroup: "rbac.authorization.k8s.io", kind: "User", name })),
  ];
  return [
    { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata, rules: VIZ_RULES } as KubeObject,
    { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", metadata, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: o.name }, subjects } as KubeObject,
  ];
}

export function formatObjects(objects: KubeObject[], output: string): string {
  if (output === "json") return `${goJsonIndent({ apiVersion: "v1", kind: "List", items: objects })}\n`;
  return objects.map((obj) => `---\n${stringify(obj, { lineWidth: 0, aliasDuplicateObjects: false })}`).join("");
}

function validate(o: VizInstallOptions): { name: string; groups: string[]; users: string[] } {
  if (!["yaml", "json"].includes(o.output)) throw new UsageError(`output format "${o.output}" is not supported`, "use -o yaml or -o json");
  if (!NAME_RE.test(o.name) || o.name.length > 253) throw new UsageError(`"${o.name}" is not a valid object name`, "use lower-case letters, digits, '-' and '.'");
  const groups = o.group?.length ? o.group : o.user?.length ? [] : [DEFAULT_GROUP];
  for (const s of [...groups, ...(o.user ?? [])]) if (!s.trim()) throw new UsageError("--group and --user need a non-empty name");
  return { name: o.name, groups, users: o.user ?? [] };
}

function command(name: "install" | "uninstall", deps: Deps): Command {
  const verb = name === "install" ? "apply" : "delete";
  return new Command(name)
    .addHelpText(
      "after",
      `
${name === "install" ? "Renders the RBAC that lets the members of --group (default mesh-viz) run mesh viz:\na ClusterRole (read pods, their proxies' /metrics and logs, namespaces, workloads,\nservices, ServiceProfiles) and a ClusterRoleBinding. Nothing else runs in the cluster." : "Renders the objects of mesh viz install, for kubectl delete."}

Examples:
  mesh viz ${name} --group viz-users | kubectl ${verb} -f -`,
    )
    .option("--group <group>", "bind the role to this group (repeatable; default mesh-viz unless --user is given)", collect)
    .option("--user <user>", "bind the role to this user (repeatable)", collect)
    .option("--name <name>", "name of the ClusterRole and ClusterRoleBinding", "mesh-viz")
    .option("-o, --output <format>", "yaml or json", "yaml")
    .action((opts: VizInstallOptions) => {
      deps.io.stdout.write(formatObjects(renderVizRbac(validate(opts)), opts.output));
    });
}

export const installCommand = (deps: Deps) => command("install", deps);
export const uninstallCommand = (deps: Deps) => command("uninstall", deps);
