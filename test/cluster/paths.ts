import { homedir } from "node:os";
import { join } from "node:path";

/**
 * The Kubernetes releases the harness knows how to build from Go modules, by minor version.
 * 1.37.2 is the newest release the module proxy serves, and it builds with the machine's Go 1.26
 * (its go.mod asks for go 1.26.0). 1.30.14 is the oldest release whose staging modules the proxy
 * serves in full: Linkerd stable-2.14.10's client libraries were built against 1.29, but the proxy
 * has no k8s.io/kube-controller-manager or k8s.io/endpointslice at any v0.29.x, so 1.29.6 cannot
 * be built here (`MESH_KUBE_VERSION=1.29.6` fails at the module download and says which module).
 */
export const KNOWN_RELEASES: Record<string, string> = { "1.37": "1.37.2", "1.30": "1.30.14" };

/** The release CI builds and tests against. */
export const DEFAULT_KUBE_VERSION = KNOWN_RELEASES["1.37"];

/**
 * `$MESH_KUBE_VERSION` (a full version such as `1.29.6`, or a minor from KNOWN_RELEASES such
 * as `1.29`), else the default. Any other full `1.x.y` is attempted as given.
 */
export function kubeVersion(env: NodeJS.ProcessEnv = process.env): string {
  const v = (env.MESH_KUBE_VERSION ?? "").replace(/^v/, "");
  if (!v) return DEFAULT_KUBE_VERSION;
  if (KNOWN_RELEASES[v]) return KNOWN_RELEASES[v];
  if (/^1\.\d+\.\d+$/.test(v)) return v;
  throw new Error(`MESH_KUBE_VERSION=${v}: give a full version (1.37.2) or one of ${Object.keys(KNOWN_RELEASES).join(", ")}`);
}

/** The binaries the harness compiles, all in one `go build`. */
export const KUBE_BINARIES = ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "etcd"] as const;
export type KubeBinary = (typeof KUBE_BINARIES)[number];

/** Bumped whenever the build recipe changes, so stale caches are rebuilt. */
export const RECIPE_REVISION = 4;

/** `$MESH_CACHE_DIR`, else `~/.cache/mesh`. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.MESH_CACHE_DIR || join(homedir(), ".cache", "mesh");
}

export function kubeCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), `kubernetes-${kubeVersion(env)}`);
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
