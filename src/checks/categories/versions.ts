import type { Pod } from "../../kube/types.js";
import type { CheckContext } from "../context.js";
import { parseLinkerdValues } from "../linkerd-values.js";
import { podStatus, proxyVersion } from "../pods.js";
import { fail, type Category } from "../types.js";
import type { Channels } from "../versions.js";

export function checkProxyVersionsUpToDate(pods: readonly Pod[], channels: Channels): void {
  const outdated: string[] = [];
  for (const pod of pods) {
    if (podStatus(pod) !== "Running") continue;
    const v = proxyVersion(pod);
    if (!v) continue;
    try {
      channels.match(v);
    } catch {
      outdated.push(`\t* ${pod.metadata.name} (${v})`);
    }
  }
  if (outdated.length) fail(`some proxies are not running the current version:\n${outdated.join("\n")}`);
}

export function checkProxyVersionsMatchCli(pods: readonly Pod[], cli: string): void {
  for (const pod of pods) {
    const v = proxyVersion(pod);
    if (podStatus(pod) === "Running" && v && v !== cli) fail(`${pod.metadata.name} running ${v} but cli running ${cli}`);
  }
}

/** `linkerdVersion` of linkerd-config, with Linkerd's wording when it cannot be had. */
export async function serverVersion(ctx: CheckContext): Promise<string> {
  const cm = await ctx.configMap(ctx.cp, "linkerd-config");
  if (!cm) fail(`failed to fetch linkerd-config: configmaps "linkerd-config" not found`);
  try {
    return parseLinkerdValues(cm)?.linkerdVersion ?? "";
  } catch (e) {
    fail(`failed to load values from linkerd-config: ${(e as Error).message}`);
  }
}

export const linkerdVersion: Category<CheckContext> = {
  id: "linkerd-version",
  checks: [
    {
      id: "l5d-version-latest",
      description: "can determine the latest version",
      hint: "l5d-version-latest",
      severity: "warning",
      run: async (ctx) => {
        await ctx.latestVersions();
      },
    },
    {
      id: "l5d-version-cli",
      description: "cli is up-to-date",
      hint: "l5d-version-cli",
      severity: "warning",
      run: async (ctx) => (await ctx.latestOrNone()).match(ctx.config.cliVersion),
    },
  ],
};

export const controlPlaneVersion: Category<CheckContext> = {
  id: "control-plane-version",
  checks: [
    {
      id: "l5d-version-control",
      description: "can retrieve the control plane version",
      hint: "l5d-version-control",
      fatal: true,
      retry: true,
      run: async (ctx) => {
        await serverVersion(ctx);
      },
    },
    {
      id: "l5d-version-control-latest",
      description: "control plane is up-to-date",
      hint: "l5d-version-control",
      severity: "warning",
      run: async (ctx) => (await ctx.latestOrNone()).match(await serverVersion(ctx)),
    },
    {
      id: "l5d-version-control-cli",
      description: "control plane and cli versions match",
      hint: "l5d-version-control",
      severity: "warning",
      run: async (ctx) => {
        const server = await serverVersion(ctx);
        if (server !== ctx.config.cliVersion) fail(`control plane running ${server} but cli running ${ctx.config.cliVersion}`);
      },
    },
  ],
};
