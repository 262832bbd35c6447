import { Command, Option } from "commander";
import type { Deps } from "../deps.js";
import { MeshError, UsageError } from "../errors.js";
import { mapLimit } from "../concurrency.js";
import { formatIdentityJson, formatIdentityPem, formatIdentityText, proxyAdminPort, readProxyIdentity } from "../identity/identity.js";
import { clusterApi } from "../kube/cluster.js";
import type { Pod } from "../kube/types.js";
import { sanitize } from "../output/sanitize.js";
import { globals, parseNamespace } from "./shared.js";
import { contextNamespace } from "./viz/common.js";

export interface IdentityOptions {
  namespace?: string;
  selector?: string;
  output: "text" | "json" | "pem";
}

/** Pods read at once. */
const CONCURRENCY = 8;
/** Per pod, as linkerd waits. */
const TIMEOUT_MS = 30_000;

/** `NAME`, `po/NAME`, `pod/NAME` or `pods/NAME`. */
export function podNameOf(arg: string): string {
  const m = /^(?:(po|pod|pods)\/)?([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(arg);
  if (!m) throw new UsageError(`"${sanitize(arg, 100)}" is not a pod name`, "give pod names (NAME or po/NAME), or select pods with -l");
  return m[2]!;
}

export const identityCommand = (deps: Deps) =>
  new Command("identity")
    .description("Display the certificate(s) of one or more selected pod(s)")
    .usage("[flags] [PODS...]")
    .argument("[pods...]")
    .option("-n, --namespace <ns>", "namespace of the pods (default: the kubeconfig context's, else default)")
    .option("-l, --selector <selector>", "label selector of the pods (e.g. app=web), instead of names")
    .addOption(new Option("-o, --output <format>", "output format").choices(["text", "json", "pem"]).default("text"))
    .addHelpText(
      "after",
      `
For each meshed pod, mesh port-forwards to its proxy's admin port (linkerd-admin, 4191; RBAC:
create pods/portforward), makes a TLS handshake with the pod's identity as the server name and
shows the certificate the proxy presents, checked against the trust anchors in its environment.
-o pem prints each presented chain, leaf first; -o json every field of every certificate.

Examples:
  mesh identity -n emojivoto web-6bf9f47bd5-jjcrl
  mesh identity -n emojivoto -l app=web
  mesh identity -n emojivoto web-6bf9f47bd5-jjcrl -o pem | openssl x509 -noout -text`,
    )
    .action(async (args: string[], opts: IdentityOptions, cmd: Command) => {
      if (opts.namespace !== undefined) {
        try {
          parseNamespace(opts.namespace);
        } catch {
          throw new UsageError(`--namespace "${opts.namespace}" is not a valid namespace name`);
        }
      }
      if (args.length && opts.selector) throw new UsageError("give pod names or -l, not both");
      const names = args.map(podNameOf);
      const g = globals(cmd);
      const namespace = opts.namespace || ((await contextNamespace(g.kubeconfig, g.context, deps.env)) ?? "default");
      const cluster = clusterApi(await deps.cluster(g));
      try {
        let pods: Pod[];
        if (names.length) {
          pods = [];
          for (const name of names) {
            const pod = await cluster.getJson<Pod>(`/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`);
            if (!pod) throw new MeshError(`pod ${name} not found in namespace ${namespace}`, "list them with `kubectl get pods -n NAMESPACE`");
            pods.push(pod);
          }
        } else {
          // Pods without a proxy admin port are left out (linkerd stops at the first); finished pods run no proxy either.
          pods = (await cluster.listPods(namespace, opts.selector)).filter((p) => proxyAdminPort(p) && p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed");
          if (pods.length === 0) throw new MeshError(`no meshed pods in namespace ${namespace}${opts.selector ? ` match ${sanitize(opts.selector, 200)}` : ""}`, "mesh pods with `mesh inject`, or pick another namespace (-n)");
        }
        pods.sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
        const results = await mapLimit(pods, CONCURRENCY, (p) => readProxyIdentity(cluster, p, { timeoutMs: TIMEOUT_MS }));
        const out = opts.output === "json" ? formatIdentityJson(results) : opts.output === "pem" ? formatIdentityPem(results) : formatIdentityText(results);
        deps.io.stdout.write(out);
        const failed = results.filter((r) => r.error !== undefined);
        if (opts.output === "pem") for (const r of failed) deps.io.stderr.write(`pod ${sanitize(r.pod, 253)}: ${r.error}\n`);
        if (failed.length) throw new MeshError(`could not read the certificate of ${failed.length} of ${results.length} pod${results.length === 1 ? "" : "s"}`);
      } finally {
        cluster.close();
      }
    });
