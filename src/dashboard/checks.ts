// The check page's runs: `mesh check` and `mesh check --proxy` through the same runner, categories
// and context as the command (in-process, nothing spawned), collected as JSON. Retrying checks
// are not waited for (the page shows the state now and can be run again). Extension checks run
// external executables and are left to `mesh check`.
import type { ClusterApi } from "../kube/cluster.js";
import { sanitize } from "../output/sanitize.js";
import { LINKERD_VERSION } from "../version.js";
import type { CheckRow, CheckRun } from "./wire.js";

export type { CheckRow, CheckRun };

export interface CheckRunOptions {
  connect: () => Promise<ClusterApi>;
  cp: string;
  /** `--proxy`'s namespace ("" for all). */
  namespace: string;
  now: () => Date;
  env: Record<string, string | undefined>;
}

export async function runCheckPage(mode: "default" | "proxy", o: CheckRunOptions): Promise<CheckRun> {
  const [{ runChecks }, { checkEnv }, { selectCategories, hintBaseUrl }, { realClock }, { fetchLatestVersions, VERSION_CHECK_URL }] = await Promise.all([
    import("../checks/runner.js"),
    import("../checks/context.js"),
    import("../checks/index.js"),
    import("../checks/types.js"),
    import("../commands/check.js"),
  ]);
  const cliVersion = LINKERD_VERSION;
  const env = checkEnv(
    { mode, controlPlaneNamespace: o.cp, cniNamespace: "linkerd-cni", dataPlaneNamespace: o.namespace, cniEnabled: false, cliVersion },
    {
      connect: o.connect,
      now: o.now,
      fetchLatestVersions: (uuid) => fetchLatestVersions(o.env.MESH_VERSIONCHECK_URL || VERSION_CHECK_URL, cliVersion, uuid),
      installObjects: () => Promise.reject(new Error("not used outside --pre")),
    },
  );
  const clock = { ...realClock, now: () => o.now().getTime() };
  const categories: CheckRun["categories"] = [];
  let success = true;
  // deadline = now: a retrying check reports its current failure instead of waiting.
  for await (const r of runChecks(selectCategories(mode, cliVersion), env, { deadline: clock.now(), clock, hintBase: hintBaseUrl(cliVersion) })) {
    if (r.retry || r.status === "skipped") continue;
    let cat = categories[categories.length - 1];
    if (!cat || cat.id !== r.category) categories.push((cat = { id: r.category, checks: [] }));
    const row: CheckRow = { id: r.checkId, description: r.description, status: r.status };
    if (r.status !== "ok") {
      if (r.error) row.error = sanitize(r.error, 2000);
      row.hint = r.hintUrl;
    }
    if (r.status === "error") success = false;
    cat.checks.push(row);
  }
  return { mode, success, time: o.now().getTime(), categories };
}
