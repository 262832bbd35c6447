/**
 * `mesh-config`: `mesh analyze`'s analyzers over the cluster's objects (ServiceProfiles, routes,
 * Servers, authorization policies, annotations), summarised in one check with the command that
 * shows the details. The control plane's own analyzers are not run here: they are this run's
 * identity and mesh-production checks already.
 */
import { analyze } from "../../analyze/index.js";
import { linkerdValues, readCluster, type SharedReads } from "../../analyze/cluster.js";
import { MESSAGES } from "../../analyze/messages.js";
import { formatSummary, summarize } from "../../analyze/format.js";
import { pickInjectValues } from "../../inject/overrides.js";
import type { ProxyTemplateValues } from "../../proxy/types.js";
import { CREATED_BY } from "../../version.js";
import { isForbidden, type CheckContext } from "../context.js";
import { fail, skip, type Category } from "../types.js";

export async function checkMeshConfig(ctx: CheckContext): Promise<void> {
  const ns = ctx.config.mode === "proxy" ? ctx.config.dataPlaneNamespace : "";
  const cluster = await ctx.client();
  // what this run's other checks list anyway comes from their memoised reads: no request twice
  const shared: SharedReads = {
    lists: {
      pods: () => ctx.pods(ns),
      services: () => ctx.services(ns),
      "serviceprofiles.linkerd.io": () => ctx.serviceProfiles(ns),
      ...(ns ? {} : { namespaces: () => ctx.namespaces() }),
    },
    linkerdConfig: () => ctx.configMap(ctx.cp, "linkerd-config"),
  };
  let state;
  try {
    state = await readCluster(cluster, ns || undefined, ctx.cp, shared);
  } catch (e) {
    // a user who may not list everything gets no half-informed findings
    if (isForbidden(e)) skip(`cannot list every resource analyze reads: ${(e as Error).message}`);
    throw e;
  }
  const values = (state.linkerdConfig && (await linkerdValues(state.linkerdConfig))) || {};
  const inject = { values: pickInjectValues(values as ProxyTemplateValues), overrides: {}, manual: false, enableDebugSidecar: false, namespace: ctx.cp, createdBy: CREATED_BY };
  // mesh-production's ServiceProfile check reports these two already
  const suppress = [{ code: MESSAGES.spWrongNamespace.code }, { code: MESSAGES.spNoService.code }];
  const { findings } = await analyze({ cluster: state, scope: ns ? new Set([ns]) : undefined, now: ctx.now(), inject, suppress });
  const s = summarize(findings);
  if (s.error + s.warning === 0) return;
  const command = `mesh analyze --cluster${ns ? ` -n ${ns}` : ""}${ctx.cp !== "linkerd" ? ` -L ${ctx.cp}` : ""}`;
  fail(`${formatSummary(s)} in the cluster's Linkerd configuration: see them with \`${command}\``);
}

export function meshConfig(docsBase: string): Category<CheckContext> {
  return {
    id: "mesh-config",
    checks: [
      {
        id: "mesh-config-analyze",
        description: "Linkerd resources and annotations have no known mistakes",
        hint: `${docsBase}reference/`,
        severity: "warning",
        run: checkMeshConfig,
      },
    ],
  };
}
