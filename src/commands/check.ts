import { Command, Option } from "commander";
import type { Deps, GlobalOptions } from "../deps.js";
import { ChecksFailed, MeshError, UsageError } from "../errors.js";
import type { ClusterApi } from "../kube/cluster.js";
import { LINKERD_VERSION } from "../version.js";
import { fetchLatestVersions, VERSION_CHECK_URL } from "../version/latest.js";
import { globals, parseDuration } from "./shared.js";

export interface CheckOptions {
  pre: boolean;
  crds: boolean;
  proxy: boolean;
  namespace: string;
  linkerdCniEnabled: boolean;
  expectedVersion?: string;
  cliVersionOverride?: string;
  output: string;
  failOn: "error" | "warning";
  wait: number;
  requestTimeout: number;
}

// The version service's client lives in src/version/latest.ts (re-exported for src/dashboard/checks.ts).
export { fetchLatestVersions, VERSION_CHECK_TIMEOUT_MS, VERSION_CHECK_URL } from "../version/latest.js";

/** Linkerd's flag validation, with its wording; a usage error (exit 2) as everywhere in mesh (linkerd exits 1). */
export function validateCheckOptions(o: Pick<CheckOptions, "pre" | "crds" | "proxy" | "linkerdCniEnabled" | "output">): void {
  const problem =
    o.pre && o.proxy
      ? "--pre and --proxy flags are mutually exclusive"
      : o.pre && o.crds
        ? "--pre and --crds flags are mutually exclusive"
        : !o.pre && o.linkerdCniEnabled
          ? "--linkerd-cni-enabled can only be used with --pre"
          : !["table", "json", "short"].includes(o.output)
            ? `Invalid output type '${o.output}'. Supported output types are: json, table, short`
            : undefined;
  if (problem) throw new UsageError(`Validation error when executing check command: ${problem}`, "run `mesh check --help` for usage");
}

export const checkCommand = (deps: Deps) =>
  new Command("check")
    .addHelpText(
      "after",
      `
Runs Linkerd's health checks (and a few of mesh's own) against the cluster
and prints one line per check. Exit code 1 when any check fails.

Examples:
  mesh check                              # after install: is the control plane healthy?
  mesh check --pre -L test                # before install, into namespace "test"
  mesh check --proxy -n app               # are the proxies in namespace "app" healthy?`,
    )
    .option("--pre", "checks to run before installing: can the control plane go into this cluster?", false)
    .option("--crds", "only check that the Linkerd CRDs are in place", false)
    .option("--proxy", "only check the data plane: the meshed pods and their proxies", false)
    .option("-n, --namespace <ns>", "namespace to use for --proxy checks (default: all namespaces)", "")
    .option("--linkerd-cni-enabled", "with --pre, assume the linkerd-cni plugin is already installed", false)
    .option("--expected-version <version>", "compare versions with this one instead of looking up the latest version online")
    .addOption(new Option("--cli-version-override <version>", "pretend the CLI has this version (for testing)").hideHelp())
    .option("-o, --output <format>", "output format: table, json or short", "table")
    .addOption(new Option("--fail-on <severity>", "the lowest severity that fails the run (exit 1): error, or warning to fail CI on warnings such as certificates near expiry").choices(["error", "warning"]).default("error"))
    .addOption(new Option("--wait <duration>", "maximum time to wait for checks that retry").default(300_000, "5m0s").argParser(parseDuration))
    .addOption(new Option("--request-timeout <duration>", "timeout of each Kubernetes API request").default(30_000, "30s").argParser(parseDuration))
    .action(async (opts: CheckOptions, cmd: Command) => {
      validateCheckOptions(opts);
      const g = globals(cmd);
      const [{ runChecks }, { checkEnv }, { selectCategories, hintBaseUrl }, report, { theme }, { spinner }, { realClock }] = await Promise.all([
        import("../checks/runner.js"),
        import("../checks/context.js"),
        import("../checks/index.js"),
        import("../output/check-report.js"),
        import("../output/theme.js"),
        import("../output/spinner.js"),
        import("../checks/types.js"),
      ]);
      const cliVersion = opts.cliVersionOverride || LINKERD_VERSION;
      const mode = opts.crds ? "crds" : opts.pre ? "pre" : opts.proxy ? "proxy" : "default";
      const output = opts.output as "table" | "json" | "short";
      let cluster: Promise<ClusterApi> | undefined;
      const env = checkEnv(
        {
          mode,
          controlPlaneNamespace: g.linkerdNamespace,
          cniNamespace: g.cniNamespace ?? "linkerd-cni",
          dataPlaneNamespace: opts.namespace,
          cniEnabled: opts.linkerdCniEnabled,
          expectedVersion: opts.expectedVersion || undefined,
          cliVersion,
        },
        {
          connect: () => (cluster ??= Promise.all([deps.cluster(g), import("../kube/cluster.js")]).then(([c, { clusterApi }]) => clusterApi(c).withTimeout(opts.requestTimeout))),
          now: deps.now,
          fetchLatestVersions: (uuid) => fetchLatestVersions(deps.env.MESH_VERSIONCHECK_URL || VERSION_CHECK_URL, cliVersion, uuid),
          installObjects: async () => {
            const [{ renderDefaultInstallObjects }, certificates] = await Promise.all([import("../install/default-objects.js"), deps.certificates ?? import("../tls/index.js")]);
            return renderDefaultInstallObjects(g.linkerdNamespace, deps.now(), certificates);
          },
        },
      );
      const clock = { ...realClock, now: () => deps.now().getTime() };
      const colors = theme(deps.io.color);
      const spin = output === "json" ? undefined : spinner(deps.io);
      try {
        const withExtensions = mode === "default" || mode === "proxy";
        // Extension namespaces are listed alongside the checks, not after them.
        if (withExtensions) env.attempt().ctx.namespaces("linkerd.io/extension").catch(() => undefined);
        let reachable = false;
        const results = observe(runChecks(selectCategories(mode, cliVersion), env, { deadline: clock.now() + opts.wait, clock, hintBase: hintBaseUrl(cliVersion) }), (r) => {
          if (r.checkId === "k8s-api-query" && r.status === "ok") reachable = true;
        });
        // JSON: one document for mesh's checks and the extensions' together.
        const shared = output === "json" ? new report.RunRenderer(output, colors, opts.failOn) : undefined;
        const { success } = await report.printRun(results, deps.io, output, colors, spin, { into: shared, failOn: opts.failOn });
        let allOk = success;
        // Without an API server there is nothing to find extensions with: the report above said why.
        if (withExtensions && reachable) {
          const { runExtensionChecks } = await import("../checks/extensions.js");
          try {
            const ext = await runExtensionChecks(env, { io: deps.io, env: deps.env, format: output, theme: colors, hintBase: hintBaseUrl(cliVersion), argv: extensionArgs(g, opts), spinner: spin, failOn: opts.failOn, into: shared });
            allOk = allOk && ext.success;
          } catch (e) {
            const message = `Failed to run extensions checks: ${(e as Error).message}`;
            if (!shared) throw new MeshError(message);
            // JSON: still one document, with the failure in it.
            shared.push({ category: "linkerd-extensions", checkId: "extensions", description: "can run the extension checks", hintUrl: `${hintBaseUrl(cliVersion)}extensions`, status: "error", retry: false, error: message });
            allOk = false;
          }
        }
        if (shared) deps.io.stdout.write(shared.end().text);
        else deps.io.stdout.write(report.formatStatus(allOk, colors));
        if (deps.env.MESH_CHECK_STATS === "1") deps.io.stderr.write(`mesh check: ${(await cluster?.catch(() => undefined))?.requestCount() ?? 0} API requests\n`);
        if (!allOk) throw new ChecksFailed();
      } finally {
        (await cluster?.catch(() => undefined))?.close();
      }
    });

/** Go's `time.Duration.String()` for whole milliseconds: `5m0s`, `1h0m0s`, `1.5s`, `500ms`. */
export function goDuration(ms: number): string {
  if (ms === 0) return "0s";
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  return `${h ? `${h}h` : ""}${h || m ? `${m}m` : ""}${s}s`;
}

async function* observe<T>(items: AsyncIterable<T>, f: (t: T) => void): AsyncGenerator<T> {
  for await (const t of items) {
    f(t);
    yield t;
  }
}

/** The flags Linkerd forwards to extension checks, then `--output=json`. */
function extensionArgs(g: GlobalOptions, o: CheckOptions): string[] {
  const args: string[] = [];
  if (g.context) args.push(`--context=${g.context}`);
  if (g.as) args.push(`--as=${g.as}`);
  for (const group of g.asGroup ?? []) args.push(`--as-group=${group}`);
  if (g.kubeconfig) args.push(`--kubeconfig=${g.kubeconfig}`);
  args.push(`--linkerd-namespace=${g.linkerdNamespace}`);
  if (g.verbose) args.push("--verbose=true");
  if (o.namespace) args.push(`--namespace=${o.namespace}`);
  args.push(`--proxy=${o.proxy}`);
  args.push(`--wait=${goDuration(o.wait)}`);
  args.push("--output=json");
  return args;
}
