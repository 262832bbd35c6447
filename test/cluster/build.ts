/**
 * Builds the test cluster's binaries from Go modules with the machine's Go: kube-apiserver,
 * kube-controller-manager, kube-scheduler and kubectl of one Kubernetes release, and etcd at the
 * version that release's go.mod pins, all in one `go build`, cached under
 * `<cache>/kubernetes-<version>/bin` (see ../../../shared/spec/real-cluster.md). A second call
 * finds the cache and returns at once.
 *
 * The recipe: a throw-away module that requires `k8s.io/kubernetes` at the release and pins each
 * `k8s.io/*` staging module to the matching `v0.<minor>.<patch>` with `replace` directives (the
 * kubernetes module's own `replace ./staging/...` directives apply only when it is the main module),
 * then `go build -mod=mod` of the five main packages, which downloads only the modules they import.
 */
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { KUBE_BINARIES, RECIPE_REVISION, binDir, kubeCacheDir, kubeVersion } from "./paths.js";
import { run } from "./proc.js";

export interface BuildOptions {
  env?: NodeJS.ProcessEnv;
  /** Progress lines; default: stderr. */
  log?: (line: string) => void;
  /** Keep the build module and the Go module and build caches after success. */
  keepWork?: boolean;
  /** Rebuild even if the cache is complete. */
  force?: boolean;
}

/** What the build wrote beside the binaries (read by bench/cluster.mjs and `cli.ts status`). */
export interface BuildStamp {
  version: string;
  etcdVersion: string;
  revision: number;
  builtAt: string;
  seconds: number;
  goVersion: string;
  /** Bytes of module zips downloaded into the empty module cache. */
  downloadedBytes: number;
  /** Disk used by the Go module and build caches at the end of the build (deleted afterwards unless kept). */
  workBytes: number;
  /** Disk used by the cached binaries. */
  binBytes: number;
}

const STAMP = "build.json";
/** The main packages, by the name of the binary each becomes. */
const MAIN_PACKAGES: Record<(typeof KUBE_BINARIES)[number], string> = {
  "kube-apiserver": "k8s.io/kubernetes/cmd/kube-apiserver",
  "kube-controller-manager": "k8s.io/kubernetes/cmd/kube-controller-manager",
  "kube-scheduler": "k8s.io/kubernetes/cmd/kube-scheduler",
  kubectl: "k8s.io/kubernetes/cmd/kubectl",
  etcd: "go.etcd.io/etcd/server/v3",
};

/** True when all binaries are cached by the current recipe. */
export async function isBuilt(env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  return (await readStamp(env))?.revision === RECIPE_REVISION && KUBE_BINARIES.every((b) => existsSync(join(binDir(env), b)));
}

export async function readStamp(env: NodeJS.ProcessEnv = process.env): Promise<BuildStamp | undefined> {
  try {
    return JSON.parse(await readFile(join(binDir(env), STAMP), "utf8")) as BuildStamp;
  } catch {
    return undefined;
  }
}

/** The `replace` block that pins every staging module of `kubernetesGoMod` to `v0.<minor>.<patch>`. */
export function stagingReplaces(kubernetesGoMod: string, version: string): string[] {
  const staging = version.replace(/^1\./, "0.");
  const names = [...kubernetesGoMod.matchAll(/^\s*(k8s\.io\/[\w.-]+)\s+=>\s+\.\/staging\/src\/\1\s*$/gm)].map((m) => m[1]);
  if (names.length === 0) throw new Error(`k8s.io/kubernetes@v${version}'s go.mod names no staging modules`);
  return [...new Set(names)].sort().map((n) => `${n} => ${n} v${staging}`);
}

/** The build module's go.mod. */
export function buildModule(kubernetesGoMod: string, version: string): string {
  const goLine = /^go\s+(\S+)\s*$/m.exec(kubernetesGoMod)?.[1] ?? "1.22";
  return [
    "// Written by mesh's test harness (test/cluster/build.ts); not a project module.",
    "module mesh.test/kubebuild",
    "",
    `go ${goLine}`,
    "",
    `require k8s.io/kubernetes v${version}`,
    "",
    "replace (",
    ...stagingReplaces(kubernetesGoMod, version).map((r) => `\t${r}`),
    ")",
    "",
  ].join("\n");
}

/** `-ldflags`: version stamps for the Kubernetes binaries' `--version` and the API server's /version. */
function ldflags(version: string): string {
  const [major, minor] = version.split(".");
  return ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"]
    .flatMap((p) => [`-X ${p}.gitVersion=v${version}`, `-X ${p}.gitMajor=${major}`, `-X ${p}.gitMinor=${minor}`, `-X ${p}.gitTreeState=clean`])
    .concat(["-s -w"])
    .join(" ");
}

/** Builds (or reuses) the binaries; resolves to the bin directory. */
export async function ensureBinaries(opts: BuildOptions = {}): Promise<string> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const bin = binDir(env);
  if (!opts.force && (await isBuilt(env))) return bin;

  const version = kubeVersion(env);
  const root = kubeCacheDir(env);
  const work = join(root, "work");
  const mod = join(work, "module");
  const goEnv: NodeJS.ProcessEnv = {
    ...process.env,
    GOMODCACHE: join(work, "gomod"),
    GOCACHE: join(work, "go-build"),
    GOFLAGS: "-mod=mod",
    GOPATH: join(work, "gopath"),
    GO111MODULE: "on",
    CGO_ENABLED: "0",
    // The machine's Go, never a toolchain download: a release that needs a newer Go fails clearly.
    GOTOOLCHAIN: "local",
    // The compiler's own garbage collector: collecting at 5x the live heap instead of 2x cut the
    // 1.20 compile from 402 s to 285 s on 2 cores (with -dwarf=false), at 449 MB instead of 288 MB
    // peak for the largest package.
    GOGC: "400",
  };
  const started = Date.now();
  const steps = 4;
  let step = 0;
  const stepLog = (what: string) => log(`[cluster build] step ${++step}/${steps} (${secs(started)}): ${what}`);

  stepLog(`Kubernetes v${version}: checking Go`);
  const goVer = await run("go", ["env", "GOVERSION"], { env: goEnv, allowFail: true });
  if (goVer.code !== 0) throw new Error("go not found on PATH: the machine's Go (1.26 or newer) is needed to build the test cluster");
  const goVersion = goVer.stdout.trim();
  log(`  ${goVersion} at ${(await run("sh", ["-c", "command -v go"], { allowFail: true })).stdout.trim()}`);
  await rm(work, { recursive: true, force: true });
  await mkdir(mod, { recursive: true });

  stepLog(`writing the build module (k8s.io/kubernetes v${version}, staging modules pinned to v${version.replace(/^1\./, "0.")})`);
  const dl = await run("go", ["mod", "download", "-json", `k8s.io/kubernetes@v${version}`], { cwd: mod, env: goEnv, allowFail: true });
  const info = dl.stdout ? (JSON.parse(dl.stdout) as { GoMod?: string; Error?: string }) : {};
  if (dl.code !== 0 || !info.GoMod) throw new Error(`k8s.io/kubernetes@v${version} could not be downloaded: ${info.Error ?? dl.stderr.trim()}`);
  const kubernetesGoMod = await readFile(info.GoMod, "utf8");
  await writeFile(join(mod, "go.mod"), buildModule(kubernetesGoMod, version));
  const etcdVersion = /^\s*go\.etcd\.io\/etcd\/server\/v3\s+(\S+)/m.exec(kubernetesGoMod)?.[1];
  if (!etcdVersion) throw new Error(`k8s.io/kubernetes@v${version}'s go.mod does not pin go.etcd.io/etcd/server/v3`);
  log(`  etcd ${etcdVersion}: the go.etcd.io/etcd/server/v3 that the release's go.mod pins`);

  const out = join(work, "bin");
  await mkdir(out, { recursive: true });
  const targets = Object.values(MAIN_PACKAGES);
  stepLog(`downloading modules and compiling ${KUBE_BINARIES.join(", ")} (the long step: about 6-7 minutes on 2 cores)`);
  let total = 0;
  let compiled = 0;
  let lastReport = Date.now();
  const report = () => {
    lastReport = Date.now();
    const of = total ? `/${total} packages (${Math.min(99, Math.round((compiled / total) * 100))}%)` : " packages";
    log(`  ${compiled}${of}, ${secs(started)} elapsed`);
  };
  // `go list` resolves and downloads the modules first (its package count feeds the progress lines).
  const listed = await run("go", ["list", "-deps", ...targets], { cwd: mod, env: goEnv });
  total = listed.stdout.split("\n").filter(Boolean).length;
  const downloadedBytes = await zipBytes(join(work, "gomod", "cache", "download"));
  log(`  ${total} packages; ${(downloadedBytes / 2 ** 20).toFixed(0)} MiB of module zips downloaded (${secs(started)})`);
  const timer = setInterval(report, 30_000);
  try {
    // -dwarf=false: the linker strips debug info anyway (-s -w), so the compiler need not make it.
    await run("go", ["build", "-v", "-trimpath", "-gcflags=all=-dwarf=false", "-ldflags", ldflags(version), "-o", out + "/", ...targets], {
      cwd: mod,
      env: goEnv,
      onStderrLine: (line) => {
        if (/^[\w.\-/]+$/.test(line.trim())) compiled++;
        if (Date.now() - lastReport > 30_000) report();
      },
    });
  } finally {
    clearInterval(timer);
  }
  // `go build -o dir/` names each binary after its package's last path element (etcd's is `server`).
  await rename(join(out, "server"), join(out, "etcd"));

  stepLog(`checking versions and installing binaries into ${bin}`);
  const ver = await run(join(out, "kube-apiserver"), ["--version"], { allowFail: true });
  if (!ver.stdout.includes(`v${version}`)) throw new Error(`built kube-apiserver reports ${ver.stdout.trim() || ver.stderr.trim()}, not v${version}`);
  const kubectlVer = await run(join(out, "kubectl"), ["version", "--client"], { allowFail: true });
  if (!kubectlVer.stdout.includes(`v${version}`)) throw new Error(`built kubectl reports ${kubectlVer.stdout.trim() || kubectlVer.stderr.trim()}`);
  const etcdVer = await run(join(out, "etcd"), ["--version"], { allowFail: true });
  if (!etcdVer.stdout.includes(etcdVersion.replace(/^v/, ""))) throw new Error(`built etcd reports ${etcdVer.stdout.trim() || etcdVer.stderr.trim()}`);
  const workBytes = await diskBytes(join(work, "gomod")) + (await diskBytes(join(work, "go-build")));
  await rm(bin, { recursive: true, force: true });
  await rename(out, bin);
  const stamp: BuildStamp = {
    version,
    etcdVersion,
    revision: RECIPE_REVISION,
    builtAt: new Date().toISOString(),
    seconds: Math.round((Date.now() - started) / 1000),
    goVersion,
    downloadedBytes,
    workBytes,
    binBytes: await diskBytes(bin),
  };
  await writeFile(join(bin, STAMP), JSON.stringify(stamp, null, 2) + "\n");
  if (!opts.keepWork && !env.MESH_KEEP_BUILD) {
    // The module cache is read-only on disk; chmod it so it can be removed.
    await run("chmod", ["-R", "u+w", work], { allowFail: true });
    await rm(work, { recursive: true, force: true });
  }
  log(`[cluster build] done in ${secs(started)}: ${bin} (${(stamp.binBytes / 2 ** 20).toFixed(0)} MiB; caches used ${(workBytes / 2 ** 20).toFixed(0)} MiB, removed)`);
  return bin;
}

async function zipBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])) {
    if (e.isFile() && e.name.endsWith(".zip")) total += (await stat(join(e.parentPath, e.name))).size;
  }
  return total;
}

async function diskBytes(dir: string): Promise<number> {
  const r = await run("du", ["-sb", dir], { allowFail: true });
  return Number(r.stdout.split(/\s/)[0]) || 0;
}

function secs(since: number): string {
  const s = Math.round((Date.now() - since) / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}
