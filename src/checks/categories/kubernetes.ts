import type { CheckContext } from "../context.js";
import type { Category } from "../types.js";

export const MIN_KUBERNETES_VERSION = [1, 21, 0] as const;

/** Linkerd's reading of `gitVersion`: strip "v", cut at the first character that is not a digit or ".", need three numbers. */
export function parseKubernetesVersion(gitVersion: string): [number, number, number] {
  const numbers = gitVersion.replace(/^v/, "").split(/[^0-9.]/)[0];
  const parts = numbers.split(".");
  if (parts.length < 3 || parts.slice(0, 3).some((p) => !/^\d+$/.test(p.trim()))) throw new Error(`unknown version string format [${gitVersion}]`);
  return [Number(parts[0]), Number(parts[1]), Number(parts[2])];
}

export function checkKubernetesVersion(gitVersion: string): void {
  const v = parseKubernetesVersion(gitVersion);
  const min = MIN_KUBERNETES_VERSION;
  const ok = v[0] > min[0] || (v[0] === min[0] && (v[1] > min[1] || (v[1] === min[1] && v[2] >= min[2])));
  if (!ok) throw new Error(`Kubernetes is on version [${v.join(".")}], but version [${min.join(".")}] or more recent is required`);
}

export const kubernetesApi: Category<CheckContext> = {
  id: "kubernetes-api",
  checks: [
    {
      id: "k8s-api-client",
      description: "can initialize the client",
      hint: "k8s-api",
      fatal: true,
      run: async (ctx) => {
        await ctx.client();
      },
    },
    {
      id: "k8s-api-query",
      description: "can query the Kubernetes API",
      hint: "k8s-api",
      fatal: true,
      run: async (ctx) => {
        await ctx.serverVersion();
      },
    },
  ],
};

export const kubernetesVersion: Category<CheckContext> = {
  id: "kubernetes-version",
  checks: [
    {
      id: "k8s-version",
      description: "is running the minimum Kubernetes API version",
      hint: "k8s-version",
      run: async (ctx) => checkKubernetesVersion((await ctx.serverVersion()).gitVersion),
    },
  ],
};
