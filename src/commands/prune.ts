import { Command } from "commander";
import type { Deps } from "../deps.js";
import { toYaml } from "../install/emit.js";
import { deletionStub, objectKey } from "../install/inventory.js";
import type { CertificateSource } from "../install/install.js";
import { globals } from "./shared.js";
import { listInventory } from "./uninstall.js";
import { clusterSource, externalIssuerOf } from "./upgrade.js";

export const pruneCommand = (deps: Deps) =>
  new Command("prune")
    .usage("[flags]")
    .addHelpText(
      "after",
      `
Prints the objects that carry the control plane's label (linkerd.io/control-plane-ns) but that
this release, rendered with the installed values, no longer has: what an upgrade left behind.

Examples:
  mesh upgrade | kubectl apply -f -
  mesh prune | kubectl delete -f -`,
    )
    .allowExcessArguments(false)
    .action(async (_opts: unknown, cmd: Command) => {
      const g = globals(cmd);
      const namespace = g.linkerdNamespace;
      const cluster = await deps.cluster(g);
      const upgrade = await import("../install/upgrade.js");
      const source = clusterSource(cluster);
      const installed = await upgrade.readInstalled(source, namespace);
      const { values } = upgrade.upgradedValues(installed, namespace);
      const { renderCrds, renderControlPlane } = await import("../install/install.js");
      const certificates: CertificateSource = deps.certificates ?? (await import("../tls/index.js"));
      const now = deps.now();
      const scheme = values.identity.issuer.scheme;
      const [controlPlane, crds, items] = await Promise.all([
        renderControlPlane({
          namespace,
          now,
          values,
          overrides: {},
          files: {},
          clusterChecked: true,
          externalIssuer: scheme === "kubernetes.io/tls" ? await externalIssuerOf(source, namespace) : undefined,
          certificates,
        }),
        renderCrds(namespace, {}),
        listInventory(cluster, namespace),
      ]);
      const expected = new Set([...controlPlane.objects, ...crds.objects].map(objectKey));
      const stray = items.filter((i) => !expected.has(objectKey(deletionStub(i.kind, i.object))));
      deps.io.stdout.write(stray.map((i) => `---\n${toYaml(deletionStub(i.kind, i.object))}`).join(""));
    });
