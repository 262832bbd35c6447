import { homedir } from "node:os";
import { join } from "node:path";

/** The Kubernetes version built from Debian's `kubernetes` source package. */
export const KUBE_VERSION = "1.20.2";

/** The binaries the harness compiles from the source package. */
export const COMPILED_BINARIES = ["kube-apiserver", "kube-controller-manager", "kube-scheduler"] as const;

/**
 * The binaries the harness caches: the compiled ones, and kubectl 1.20.2 taken
 * from Debian's `kubernetes-client` package (built from the same source package).
 */
export const KUBE_BINARIES = [...COMPILED_BINARIES, "kubectl"] as const;
export type KubeBinary = (typeof KUBE_BINARIES)[number];

/** Bumped whenever the build recipe changes, so stale caches are rebuilt. */
export const RECIPE_REVISION = 3;

/** `$MESH_CACHE_DIR`, else `~/.cache/mesh`. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.MESH_CACHE_DIR || join(homedir(), ".cache", "mesh");
}

export function kubeCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), `kubernetes-${KUBE_VERSION}`);
}

export function binDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(kubeCacheDir(env), "bin");
}

export function binPath(name: KubeBinary, env: NodeJS.ProcessEnv = process.env): string {
  return join(binDir(env), name);
}

/** Where `up` records what it started, for `down` and for test processes. */
export function defaultStatePath(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), "cluster", "state.json");
}
