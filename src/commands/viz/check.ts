import { Command, Option } from "commander";
import type { Deps } from "../../deps.js";
import { ChecksFailed, MeshError } from "../../errors.js";
import type { ClusterApi } from "../../kube/cluster.js";
import { LINKERD_VERSION } from "../../version.js";
import { globals, parseDuration, parseNamespace } from "../shared.js";
import { viaOption, type Via } from "../../viz/via-option.js";

export interface VizCheckOptions {
  output: string;
  proxy: boolean;
  namespace: string;
  wait: number;
  /** How to reach the proxies' admin port (--via; default auto). */
  via?: Via;
}

/** Linkerd's viz check validation (its prefix is lower case, unlike `check`'s); exit 1 as in Linkerd. */
export function validateVizCheckOptions(o: Pick<VizCheckOptions, "output">): void {
  if (!["table", "json", "short"].includes(o.output))
    throw new MeshError(`validation error when executing check command: Invalid output type '${o.output}'. Supported output types are: json, table, short`, "run `mesh viz check --help` for usage");
}

export const checkCommand = (deps: Deps) =>
  new Command("check")
    .addHelpText(
      "after",
      `
mesh's viz runs no components in the cluster: it reads the proxies through the API server.
This checks that the current user may do what the viz commands do (in -n, else in every
namespace), and with --proxy that the proxies answer: their admin endpoints (stat, routes,
edges) and the access log (tap, top).

Examples:
  mesh viz check
  mesh viz check --proxy -n emojivoto
  mesh viz check --as jane --as-group viz-users     # what jane could do`,
    )
    .option("-o, --output <format>", "output format: table, json or short", "table")
    .option("--proxy", "also check the data plane proxies", false)
    .addOption(new Option("-n, --namespace <ns>", "namespace to check (default: all namespaces)").default("").argParser(parseNamespace))
    .addOption(new Option("--wait <duration>", "maximum time to wait for checks that retry").default(300_000, "5m0s").argParser(parseDuration))
    .addOption(viaOption())
    .action(async (opts: VizCheckOptions, cmd: Command) => {
      validateVizCheckOptions(opts);
      const g = globals(cmd);
      const [{ runChecks }, { checkEnv }, { hintBaseUrl }, report, { theme }, { spinner }, { realClock }, { VIZ_CATEGORIES }, { clusterApi }, { withVia }] = await Promise.all([
        import("../../checks/runner.js"),
        import("../../checks/context.js"),
        import("../../checks/index.js"),
        import("../../output/check-report.js"),
        import("../../output/theme.js"),
        import("../../output/spinner.js"),
        import("../../checks/types.js"),
        import("../../checks/viz.js"),
        import("../../kube/cluster.js"),
        import("../../viz/via.js"),
      ]);
      let cluster: ClusterApi;
      try {
        cluster = withVia(clusterApi(await deps.cluster(g)), opts.via ?? "auto", deps.io.stderr);
      } catch (e) {
        throw new MeshError(`Error initializing k8s API client: ${(e as Error).message}`, e instanceof MeshError ? e.hint : undefined, 1, e);
      }
      const output = opts.output as "table" | "json" | "short";
      const env = checkEnv(
        { mode: "proxy", controlPlaneNamespace: g.linkerdNamespace, cniNamespace: "linkerd-cni", dataPlaneNamespace: opts.namespace, cniEnabled: false, cliVersion: LINKERD_VERSION },
        {
          connect: async () => cluster,
          now: deps.now,
          fetchLatestVersions: async () => {
            throw new Error("not used by viz check");
          },
          installObjects: async () => [],
        },
      );
      const clock = { ...realClock, now: () => deps.now().getTime() };
      const colors = theme(deps.io.color);
      try {
        const categories = opts.proxy ? VIZ_CATEGORIES.proxy : VIZ_CATEGORIES.default;
        const results = runChecks(categories, env, { deadline: clock.now() + opts.wait, clock, hintBase: hintBaseUrl(LINKERD_VERSION) });
        const { success } = await report.printRun(results, deps.io, output, colors, output === "json" ? undefined : spinner(deps.io));
        if (output !== "json") deps.io.stdout.write(report.formatStatus(success, colors));
        if (!success) throw new ChecksFailed();
      } finally {
        cluster.close();
      }
    });
