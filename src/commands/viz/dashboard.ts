import { Command, InvalidArgumentError, Option } from "commander";
import { join } from "node:path";
import type { Deps, GlobalOptions } from "../../deps.js";
import { UsageError } from "../../errors.js";
import { onInterrupt } from "../../io.js";
import { clusterApi } from "../../kube/cluster.js";
import { sanitize } from "../../output/sanitize.js";
import { packageRoot } from "../../paths.js";
import { isLoopback } from "../../dashboard/security.js";
import { globals, parseDuration, parseNamespace } from "../shared.js";
import { clusterDomainOf, contextNamespace } from "./common.js";

export interface DashboardOptions {
  namespace?: string;
  address: string;
  port: number;
  show: string;
  allowRemote: boolean;
  prometheusUrl?: string;
  interval: number;
  timeWindow: number;
  history: number;
}

export interface ValidatedDashboard {
  address: string;
  port: number;
  show: "url" | "browser";
  intervalMs: number;
  historyPoints: number;
}

/** Most points a chart keeps, whatever --history and --interval say (memory stays bounded). */
export const MAX_HISTORY_POINTS = 720;

function parsePort(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535) throw new InvalidArgumentError(`"${v}" is not a port number (0-65535)`);
  return n;
}

/** The flag rules, before any I/O. */
export function validateDashboardOptions(o: DashboardOptions): ValidatedDashboard {
  if (!["url", "browser"].includes(o.show)) throw new UsageError(`unknown value for --show: "${o.show}"`, "use --show url (print the address only) or --show browser");
  const address = o.address.replace(/^\[|\]$/g, "");
  if (!address) throw new UsageError("--address is empty");
  if (!isLoopback(address) && !o.allowRemote)
    throw new UsageError(
      `refusing to serve the dashboard on ${sanitize(address, 100)}: it is not a loopback address`,
      "the dashboard shows cluster data with your credentials to anyone who has its URL; add --allow-remote if that is what you want",
    );
  if (!(o.interval >= 1000)) throw new UsageError("--interval must be at least 1s");
  if (!(o.timeWindow >= 15_000)) throw new UsageError("metrics time window needs to be at least 15s");
  if (!(o.history >= o.interval * 2)) throw new UsageError("--history must hold at least two intervals");
  return { address, port: o.port, show: o.show as "url" | "browser", intervalMs: o.interval, historyPoints: Math.min(MAX_HISTORY_POINTS, Math.max(2, Math.floor(o.history / o.interval))) };
}

export const dashboardCommand = (deps: Deps) =>
  new Command("dashboard")
    .addHelpText(
      "after",
      `
Serves a web dashboard from mesh itself (nothing is installed in the cluster): namespaces,
workloads with charts of their golden metrics, a workload's routes, edges and pods, live tap,
and the results of mesh check. The numbers come from the same scrapes of the proxies as
mesh viz stat, every --interval (or from --prometheus-url), and the charts' history is kept in
memory while it runs. The page is served on loopback under a random per-run token; the URL is
printed on stdout. Ctrl-C stops it.

Examples:
  mesh viz dashboard
  mesh viz dashboard -n emojivoto --show url
  mesh viz dashboard --prometheus-url http://localhost:9090`,
    )
    .option("-n, --namespace <ns>", "namespace whose page opens first")
    .option("--address <address>", "address to listen on (loopback unless --allow-remote)", "127.0.0.1")
    .addOption(new Option("-p, --port <port>", "port to listen on (0: any free port)").default(50750).argParser(parsePort))
    .option("--show <url|browser>", "open the dashboard in a browser, or only print its URL", "browser")
    .option("--allow-remote", "allow a non-loopback --address (anyone with the URL sees the cluster with your credentials)", false)
    .option("--prometheus-url <url>", "read the numbers from this Prometheus instead of scraping every proxy (env: MESH_PROMETHEUS_URL)")
    .addOption(new Option("--interval <duration>", "time between two collections of the numbers").default(10_000, "10s").argParser(parseDuration))
    .addOption(new Option("-t, --time-window <duration>", "with --prometheus-url: the window of Linkerd's queries").default(60_000, "1m").argParser(parseDuration))
    .addOption(new Option("--history <duration>", "how much history the charts keep").default(900_000, "15m").argParser(parseDuration))
    .action(async (opts: DashboardOptions, cmd: Command) => {
      if (opts.namespace !== undefined) parseNamespace(opts.namespace);
      const v = validateDashboardOptions(opts);
      await runDashboard(deps, globals(cmd), opts, v);
    });

export async function runDashboard(deps: Deps, g: GlobalOptions, o: DashboardOptions, v: ValidatedDashboard): Promise<void> {
  const [{ loadStaticFiles, startDashboardServer }, { Collector }, { runCheckPage }, { parseTapParams, runTapStream }, { newToken, hostPort }, { openBrowser }] = await Promise.all([
    import("../../dashboard/server.js"),
    import("../../dashboard/collector.js"),
    import("../../dashboard/checks.js"),
    import("../../dashboard/tap.js"),
    import("../../dashboard/security.js"),
    import("../../dashboard/open.js"),
  ]);
  const files = loadStaticFiles(join(packageRoot(), "dist", "dashboard"));
  const prometheusUrl = o.prometheusUrl || deps.env.MESH_PROMETHEUS_URL || undefined;
  let prometheus: { client: import("../../viz/prometheus.js").PrometheusClient; windowMs: number } | undefined;
  if (prometheusUrl) {
    const { parsePrometheusUrl, PrometheusClient } = await import("../../viz/prometheus.js");
    prometheus = { client: new PrometheusClient(parsePrometheusUrl(prometheusUrl)), windowMs: o.timeWindow };
  }
  const cluster = clusterApi(await deps.cluster(g));
  const cp = g.linkerdNamespace;
  const stop = new AbortController();
  const dispose = onInterrupt(() => stop.abort());
  const warn = (m: string) => deps.io.stderr.write(`warning: ${sanitize(m, 1000)}\n`);
  try {
    const clusterDomain = await clusterDomainOf(cluster, cp);
    const defaultNamespace = o.namespace || (await contextNamespace(g.kubeconfig, g.context, deps.env));
    const collector = new Collector({
      cluster,
      cp,
      intervalMs: v.intervalMs,
      firstIntervalMs: Math.min(2_000, v.intervalMs),
      historyPoints: v.historyPoints,
      now: () => deps.now().getTime(),
      warn,
      clusterDomain,
      prometheus,
    });
    const token = newToken();
    const server = await startDashboardServer({
      token,
      address: v.address,
      port: v.port,
      files,
      collector,
      defaultNamespace,
      runChecks: (mode) => runCheckPage(mode, { connect: async () => cluster.withTimeout(30_000), cp, namespace: "", now: deps.now, env: deps.env }),
      parseTap: (q) => parseTapParams(q, defaultNamespace ?? "default"),
      runTap: (params, signal, onRow, onNote) => runTapStream({ cluster, params, clusterDomain, signal, now: deps.now, onRow, onNote }),
    });
    const wildcard = v.address === "0.0.0.0" || v.address === "::";
    const url = `http://${hostPort(wildcard ? "127.0.0.1" : v.address, server.port)}/${token}/`;
    deps.io.stderr.write(`mesh viz dashboard: serving on ${hostPort(v.address, server.port)}${prometheus ? ` (numbers from ${prometheus.client.target.display})` : ""}; Ctrl-C to stop. Dashboard available at:\n`);
    deps.io.stdout.write(`${url}\n`);
    if (v.show === "browser")
      void openBrowser(url).then((r) => {
        if (!r.ok) warn(`cannot open a browser (${r.reason}); open the URL above yourself`);
      });
    const collecting = collector.run(stop.signal);
    await new Promise<void>((resolve) => (stop.signal.aborted ? resolve() : stop.signal.addEventListener("abort", () => resolve(), { once: true })));
    deps.io.stderr.write("mesh viz dashboard: stopping\n");
    await server.close();
    // A scrape in flight ends when the cluster connection closes below; don't wait for its timeout.
    await Promise.race([collecting, new Promise((r) => setTimeout(r, 2_000).unref())]);
  } finally {
    stop.abort();
    dispose();
    cluster.close();
  }
}
