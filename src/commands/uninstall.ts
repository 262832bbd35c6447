import { Command } from "commander";
import type { Deps } from "../deps.js";
import { MeshError } from "../errors.js";
import { toYaml } from "../install/emit.js";
import {
  CONTROL_PLANE_NS_LABEL,
  crdListPath,
  deletionStub,
  EXTENSION_LABEL,
  INVENTORY_KINDS,
  isInventoried,
  listPath,
  nameSome,
  type InventoryKind,
} from "../install/inventory.js";
import type { Cluster } from "../kube/cluster.js";
import type { KubeObject } from "../kube/types.js";
import { sanitize } from "../output/sanitize.js";
import { globals } from "./shared.js";

export interface UninstallOptions {
  force: boolean;
}

export interface InventoryItem {
  kind: InventoryKind;
  object: KubeObject;
}

type ListOf = { items?: KubeObject[] };

const name = (o: KubeObject) => sanitize(o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name, 200);

/**
 * Every object of the control plane in `namespace` (label linkerd.io/control-plane-ns=<ns>):
 * cluster-scoped kinds cluster-wide, namespaced ones in the control plane's namespace, in
 * deletion order. Kinds the cluster does not serve (PodSecurityPolicy, PodMonitor) are skipped.
 */
export async function listInventory(cluster: Cluster, namespace: string): Promise<InventoryItem[]> {
  const selector = `${CONTROL_PLANE_NS_LABEL}=${namespace}`;
  const lists = await Promise.all(INVENTORY_KINDS.map((kind) => cluster.getJson<ListOf>(listPath(kind, selector, namespace))));
  return INVENTORY_KINDS.flatMap((kind, i) =>
    (lists[i]?.items ?? [])
      .filter(isInventoried)
      .sort((a, b) => name(a).localeCompare(name(b)))
      .map((object) => ({ kind, object })),
  );
}

/** What keeps a control plane in use: extensions, meshed pods, and resources of its CRDs. */
async function inUse(cluster: Cluster, namespace: string, items: InventoryItem[]): Promise<string[]> {
  const problems: string[] = [];
  const extensions = (await cluster.getJson<ListOf>(`/api/v1/namespaces?labelSelector=${encodeURIComponent(EXTENSION_LABEL)}`))?.items ?? [];
  if (extensions.length)
    problems.push(`extensions are installed (${nameSome(extensions.map((n) => `${sanitize(n.metadata.labels?.[EXTENSION_LABEL] ?? "?", 60)} in namespace ${name(n)}`))}): uninstall them first`);
  const skip = new Set([namespace, ...extensions.map((n) => n.metadata.name)]);
  const pods = (await cluster.getJson<ListOf>(`/api/v1/pods?labelSelector=${encodeURIComponent(`${CONTROL_PLANE_NS_LABEL}=${namespace}`)}`))?.items ?? [];
  const meshed = pods.filter((p) => !skip.has(p.metadata.namespace ?? "")).map(name).sort();
  if (meshed.length) problems.push(`meshed pods exist: ${nameSome(meshed)}`);
  const resources: string[] = [];
  for (const { object } of items.filter((i) => i.kind.kind === "CustomResourceDefinition")) {
    const path = crdListPath(object as Parameters<typeof crdListPath>[0]);
    if (!path) continue;
    for (const r of (await cluster.getJson<ListOf>(path))?.items ?? []) resources.push(`${sanitize(object.metadata.name, 100)} ${name(r)}`);
  }
  if (resources.length) problems.push(`Linkerd resources exist, which deleting the CRDs deletes: ${nameSome(resources.sort())}`);
  return problems;
}

export const uninstallCommand = (deps: Deps) =>
  new Command("uninstall")
    .usage("[flags]")
    .addHelpText(
      "after",
      `
Prints every object of the control plane (found by its label linkerd.io/control-plane-ns), CRDs
last, for kubectl to delete. Refuses while extensions, meshed pods or Linkerd resources (Servers,
ServiceProfiles, HTTPRoutes...) exist, unless --force.

Examples:
  mesh uninstall | kubectl delete -f -`,
    )
    .option("-f, --force", "uninstall even while meshed pods or Linkerd resources exist (the resources are deleted with their CRDs)")
    .allowExcessArguments(false)
    .action(async (opts: Partial<UninstallOptions>, cmd: Command) => {
      const g = globals(cmd);
      const cluster = await deps.cluster(g);
      const items = await listInventory(cluster, g.linkerdNamespace);
      if (items.length === 0)
        throw new MeshError(`nothing to uninstall: no object carries the label ${CONTROL_PLANE_NS_LABEL}=${g.linkerdNamespace}`, "pass -L for a control plane in another namespace");
      if (!opts.force) {
        const problems = await inUse(cluster, g.linkerdNamespace, items);
        if (problems.length)
          throw new MeshError(
            `cannot uninstall the control plane in namespace "${g.linkerdNamespace}": ${problems.join("; ")}`,
            "uninject the workloads (`kubectl get deploy -n NS -o yaml | mesh uninject - | kubectl apply -f -`) and delete the resources, or pass --force",
          );
      }
      deps.io.stdout.write(items.map((i) => `---\n${toYaml(deletionStub(i.kind, i.object))}`).join(""));
    });
