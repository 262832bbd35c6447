import { Command, Option } from "commander";
import type { Deps } from "../../deps.js";
import { UsageError } from "../../errors.js";
import { ALL_NETWORKS, isCidr, renderAllowScrapes, type Scraper } from "../../viz/allow-scrapes.js";
import { collect, parseNamespace } from "../shared.js";
import { formatObjects } from "./install.js";

export interface AllowScrapesCommandOptions {
  namespace?: string;
  apiServerCidr?: string[];
  scrapers: string;
  prometheusServiceAccount: string;
  output: string;
}

const HELP = `
Renders, for kubectl apply -f -, the policy objects that let the proxies' admin endpoint be read
in a namespace whose default inbound policy (config.linkerd.io/default-inbound-policy) is deny,
all-authenticated or cluster-authenticated, where every plaintext request to port 4191 from off
the pod gets 403 ("admin endpoint not authorized by policy"):

  Server proxy-admin          port linkerd-admin of every meshed pod in the namespace
  HTTPRoute proxy-metrics     /metrics
  HTTPRoute proxy-probes      /live and /ready, authorized for the kubelet (NetworkAuthentication
                              kubelet, all networks): a Server on the port replaces the default
                              policy's probe routes, and the pods would turn unready without it

Who must be admitted to /metrics depends on who scrapes (--scrapers):

  mesh        mesh viz stat/routes/authz read /metrics through the API server's pod proxy. Those
              requests reach the proxy from the API server's own address, from outside the mesh and
              without mTLS, so no identity can admit them: mesh renders an unauthenticated
              NetworkAuthentication kube-api-server of the networks the API server connects from
              (--api-server-cidr) and AuthorizationPolicy mesh-scrape. The default is every network
              (0.0.0.0/0 and ::/0) because the API server's source address cannot be discovered
              portably; that lets any unauthenticated client that reaches the pod read /metrics.
              Narrow it to the API server's addresses (its node or control-plane network) when you
              know them.
  prometheus  Linkerd-viz's Prometheus is meshed and scrapes with mTLS: it is admitted by its mesh
              identity, the ServiceAccount --prometheus-service-account (default
              linkerd-viz/prometheus), through MeshTLSAuthentication prometheus and
              AuthorizationPolicy prometheus-scrape (linkerd viz allow-scrapes admits the same
              identity).

Examples:
  mesh viz allow-scrapes -n emojivoto | kubectl apply -f -
  mesh viz allow-scrapes -n emojivoto --api-server-cidr 10.0.0.10/32 --scrapers mesh,prometheus`;

export function validateAllowScrapes(o: AllowScrapesCommandOptions) {
  if (!o.namespace) throw new UsageError('required flag(s) "namespace" not set', "name the namespace whose proxies to open: mesh viz allow-scrapes -n NAMESPACE");
  const checkNs = (ns: string, what: string) => {
    try {
      parseNamespace(ns);
    } catch {
      throw new UsageError(`${what} "${ns}" is not a valid namespace name`);
    }
  };
  checkNs(o.namespace, "--namespace");
  if (!["yaml", "json"].includes(o.output)) throw new UsageError(`output format "${o.output}" is not supported`, "use -o yaml or -o json");
  const scrapers = [...new Set(o.scrapers.split(",").map((s) => s.trim()).filter(Boolean))];
  if (scrapers.length === 0) throw new UsageError("--scrapers is empty", "use mesh, prometheus or mesh,prometheus");
  for (const s of scrapers) if (s !== "mesh" && s !== "prometheus") throw new UsageError(`unknown scraper "${s}" in --scrapers`, "use mesh, prometheus or mesh,prometheus");
  const cidrs = o.apiServerCidr?.length ? o.apiServerCidr.flatMap((c) => c.split(",")).map((c) => c.trim()).filter(Boolean) : ALL_NETWORKS;
  for (const c of cidrs) if (!isCidr(c)) throw new UsageError(`invalid --api-server-cidr "${c}": not an IP network`, "e.g. --api-server-cidr 10.0.0.10/32 or 192.168.0.0/24");
  if (o.apiServerCidr?.length && !scrapers.includes("mesh")) throw new UsageError("--api-server-cidr only applies with --scrapers mesh");
  const [saNs, saName, extra] = o.prometheusServiceAccount.split("/");
  if (saName === undefined || extra !== undefined) throw new UsageError(`invalid --prometheus-service-account "${o.prometheusServiceAccount}"`, "write NAMESPACE/NAME, e.g. linkerd-viz/prometheus");
  checkNs(saNs, "--prometheus-service-account: namespace");
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(saName) || saName.length > 253) throw new UsageError(`invalid --prometheus-service-account "${o.prometheusServiceAccount}": "${saName}" is not a valid name`);
  return { namespace: o.namespace, scrapers: scrapers as Scraper[], apiServerCidrs: cidrs, prometheus: { namespace: saNs, name: saName } };
}

export const allowScrapesCommand = (deps: Deps) =>
  new Command("allow-scrapes")
    .usage("{-n | --namespace} namespace [flags]")
    .addHelpText("after", HELP)
    .option("-n, --namespace <ns>", "the namespace in which to authorize scrapes (required)")
    .addOption(new Option("--scrapers <list>", "who reads /metrics: mesh (through the API server), prometheus (Linkerd-viz's), or both").default("mesh"))
    .addOption(new Option("--api-server-cidr <cidr>", "a network the API server's pod-proxy requests come from, for mesh's scrapes (repeatable; default: all networks, 0.0.0.0/0 and ::/0)").argParser(collect))
    .option("--prometheus-service-account <ns/name>", "the ServiceAccount whose mesh identity Prometheus scrapes with", "linkerd-viz/prometheus")
    .option("-o, --output <format>", "output format: yaml or json", "yaml")
    .action((opts: AllowScrapesCommandOptions, cmd: Command) => {
      if (cmd.args.length) throw new UsageError(`unknown command "${cmd.args[0]}" for "mesh viz allow-scrapes"`, "allow-scrapes takes no arguments: mesh viz allow-scrapes -n NAMESPACE");
      deps.io.stdout.write(formatObjects(renderAllowScrapes(validateAllowScrapes(opts)), opts.output));
    });
