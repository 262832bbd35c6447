/**
 * Builds kube-apiserver, kube-controller-manager and kube-scheduler 1.20.2 from
 * Debian's `kubernetes` source package with Debian's Go, takes kubectl 1.20.2
 * from Debian's `kubernetes-client` package (the same source, already built),
 * and caches all four under `<cache>/kubernetes-1.20.2/bin` (see
 * ../../../shared/spec/real-cluster.md). A second call finds the cache and
 * returns at once.
 */
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm, symlink, writeFile, cp, rename } from "node:fs/promises";
import { dirname, join } from "node:path";
import { COMPILED_BINARIES, KUBE_BINARIES, KUBE_VERSION, RECIPE_REVISION, binDir, kubeCacheDir } from "./paths.js";
import { run } from "./proc.js";

export interface BuildOptions {
  env?: NodeJS.ProcessEnv;
  /** Progress lines; default: stderr. */
  log?: (line: string) => void;
  /** Keep the unpacked source and Go build cache after success. */
  keepWork?: boolean;
  /** Rebuild even if the cache is complete. */
  force?: boolean;
}

const STAMP = "build.json";
const VENDOR_REPLACEMENTS = ["github.com/modern-go/reflect2", "github.com/json-iterator/go"];
const OPENAPI_EXCLUDE = ["vendor/k8s.io/code-generator", "vendor/k8s.io/sample-apiserver"];
/** Version stamps: component-base (binaries, /version of the core API) and client-go (the aggregator's /version). */
const LDFLAGS = ["component-base", "client-go/pkg"]
  .flatMap((pkg) => {
    const p = `k8s.io/kubernetes/vendor/k8s.io/${pkg}/version`;
    return [
      `-X ${p}.gitVersion=v${KUBE_VERSION}`,
      `-X ${p}.gitMajor=1`,
      `-X ${p}.gitMinor=${KUBE_VERSION.split(".")[1]}`,
      `-X ${p}.gitTreeState=clean`,
    ];
  })
  .concat(["-s -w"])
  .join(" ");

/** True when all binaries are cached by the current recipe. */
export async function isBuilt(env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const bin = binDir(env);
  if (!KUBE_BINARIES.every((b) => existsSync(join(bin, b)))) return false;
  try {
    const stamp = JSON.parse(await readFile(join(bin, STAMP), "utf8")) as { revision?: number };
    return stamp.revision === RECIPE_REVISION;
  } catch {
    return false;
  }
}

/** Builds (or reuses) the binaries; resolves to the bin directory. */
export async function ensureBinaries(opts: BuildOptions = {}): Promise<string> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const bin = binDir(env);
  if (!opts.force && (await isBuilt(env))) return bin;

  const root = kubeCacheDir(env);
  const work = join(root, "work");
  const srcTree = join(work, `kubernetes-${KUBE_VERSION}`);
  const gopath = join(work, "gopath");
  const goEnv: NodeJS.ProcessEnv = {
    ...process.env,
    GO111MODULE: "off",
    GOPATH: gopath,
    GOCACHE: join(work, "go-build"),
    GOFLAGS: "",
    CGO_ENABLED: "0",
    GOTOOLCHAIN: "local",
    // The compiler's own garbage collector: collecting at 5x the live heap
    // instead of 2x took the compile from 402 s to 285 s on 2 cores (with
    // -dwarf=false below), for more memory: compiling k8s.io/api/core/v1 peaks
    // at 449 MB instead of 288 MB.
    GOGC: "400",
  };
  const pkgRoot = join(gopath, "src", "k8s.io", "kubernetes");
  // GOPATH mode finds vendor/ only when the working directory is inside GOPATH;
  // pkgRoot is a symlink, and Go trusts $PWD for the logical path.
  goEnv.PWD = pkgRoot;
  const started = Date.now();
  const steps = 8;
  let step = 0;
  const stepLog = (what: string) => {
    step++;
    log(`[cluster build] step ${step}/${steps} (${secs(started)}): ${what}`);
  };

  stepLog("checking tools (go, etcd, apt-get, dpkg-deb, tar)");
  for (const tool of ["go", "etcd", "apt-get", "dpkg-deb", "tar"]) {
    const r = await run("sh", ["-c", `command -v ${tool}`], { allowFail: true });
    if (r.code !== 0) throw new Error(`${tool} not found: run \`sudo sh .ci/cluster-deps.sh\` first`);
  }
  for (const lib of VENDOR_REPLACEMENTS) {
    if (!existsSync(join("/usr/share/gocode/src", lib)))
      throw new Error(`/usr/share/gocode/src/${lib} not found: run \`sudo sh .ci/cluster-deps.sh\` first`);
  }
  await mkdir(work, { recursive: true });

  stepLog("fetching Debian's kubernetes source package");
  const tarball = await findOrigTarball(work);
  if (tarball) log(`  reusing ${tarball}`);
  else {
    try {
      await run("apt-get", ["source", "--download-only", "kubernetes"], { cwd: work });
    } catch (e) {
      throw new Error(`apt-get source kubernetes failed (is deb-src enabled? run \`sudo sh .ci/cluster-deps.sh\`): ${(e as Error).message}`);
    }
    if (!(await findOrigTarball(work))) throw new Error(`no kubernetes_*.orig.tar.gz in ${work} after apt-get source`);
  }

  stepLog(`unpacking kubernetes-${KUBE_VERSION}`);
  if (existsSync(join(srcTree, ".mesh-unpacked"))) log("  already unpacked");
  else {
    await rm(srcTree, { recursive: true, force: true });
    const tgz = (await findOrigTarball(work))!;
    await run("tar", ["-xzf", tgz, "-C", work]);
    if (!existsSync(join(srcTree, "cmd", "kube-apiserver")))
      throw new Error(`unpacking ${tgz} did not give ${srcTree}/cmd/kube-apiserver`);
    await writeFile(join(srcTree, ".mesh-unpacked"), "");
  }
  await mkdir(dirname(pkgRoot), { recursive: true });
  await rm(pkgRoot, { force: true });
  await symlink(srcTree, pkgRoot);

  stepLog("replacing vendored reflect2 and json-iterator with Debian's newer copies");
  for (const lib of VENDOR_REPLACEMENTS) {
    const dest = join(srcTree, "vendor", lib);
    await rm(dest, { recursive: true, force: true });
    await cp(join("/usr/share/gocode/src", lib), dest, { recursive: true, dereference: true });
  }

  stepLog("generating OpenAPI definitions");
  const openapiOut = join(srcTree, "pkg", "generated", "openapi", "zz_generated.openapi.go");
  if (existsSync(openapiOut)) log("  already generated");
  else {
    const genBin = join(work, "openapi-gen");
    await run("go", ["build", "-o", genBin, "./vendor/k8s.io/kube-openapi/cmd/openapi-gen"], { cwd: pkgRoot, env: goEnv });
    const dirs = await openapiDirs(pkgRoot);
    log(`  ${dirs.length} packages carry +k8s:openapi-gen`);
    await run(
      genBin,
      [
        "-i", dirs.map((d) => `k8s.io/kubernetes/${d}`).join(","),
        "-p", "k8s.io/kubernetes/pkg/generated/openapi",
        "-O", "zz_generated.openapi",
        "-h", "vendor/k8s.io/code-generator/hack/boilerplate.go.txt",
        "-r", join(work, "openapi-violations.report"),
      ],
      { cwd: pkgRoot, env: goEnv },
    );
    if (!existsSync(openapiOut)) throw new Error(`openapi-gen did not write ${openapiOut}`);
  }

  const out = join(work, "bin");
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });

  stepLog("taking kubectl from Debian's kubernetes-client package");
  await kubectlFromDebian(work, out);

  stepLog(`compiling ${COMPILED_BINARIES.join(", ")} (the long step: about 3 minutes on 2 cores)`);
  const targets = COMPILED_BINARIES.map((b) => `./cmd/${b}`);
  // providerless leaves out the in-tree cloud providers (AWS, Azure, GCE,
  // OpenStack, vSphere SDKs: 255 of 1,908 packages, and the slowest to compile);
  // a test cluster on loopback has no cloud. -dwarf=false: the linker strips
  // debug info anyway (-s -w), so the compiler need not produce it.
  const tags = "-tags=providerless";
  const buildFlags = [tags, "-trimpath", "-gcflags=all=-dwarf=false", "-ldflags", LDFLAGS];
  let total = 0;
  const listing = run("go", ["list", "-deps", tags, ...targets], { cwd: pkgRoot, env: goEnv }).then(
    (r) => void (total = r.stdout.split("\n").filter(Boolean).length),
    () => {}, // the count only feeds the progress lines
  );
  let compiled = 0;
  let lastReport = Date.now();
  const report = () => {
    lastReport = Date.now();
    const of = total ? `/${total} packages (${Math.min(99, Math.round((compiled / total) * 100))}%)` : " packages";
    log(`  ${compiled}${of}, ${secs(started)} elapsed`);
  };
  const timer = setInterval(report, 20_000);
  try {
    await run("go", ["build", "-v", ...buildFlags, "-o", out + "/", ...targets], {
      cwd: pkgRoot,
      env: goEnv,
      onStderrLine: (line) => {
        if (/^[\w.\-/]+$/.test(line.trim())) compiled++;
        if (Date.now() - lastReport > 20_000) report();
      },
    });
    await listing;
  } finally {
    clearInterval(timer);
  }

  stepLog(`installing binaries into ${bin}`);
  const ver = await run(join(out, "kube-apiserver"), ["--version"], { allowFail: true });
  if (!ver.stdout.includes(`v${KUBE_VERSION}`)) throw new Error(`built kube-apiserver reports ${ver.stdout.trim() || ver.stderr.trim()}`);
  await rm(bin, { recursive: true, force: true });
  await rename(out, bin);
  await writeFile(
    join(bin, STAMP),
    JSON.stringify({ version: KUBE_VERSION, revision: RECIPE_REVISION, builtAt: new Date().toISOString(), seconds: Math.round((Date.now() - started) / 1000) }, null, 2) + "\n",
  );
  if (!opts.keepWork && !env.MESH_KEEP_BUILD) {
    // The Go build cache and source tree are ~2 GB; the tarball stays for rebuilds.
    await rm(join(work, "go-build"), { recursive: true, force: true });
    await rm(srcTree, { recursive: true, force: true });
    await rm(gopath, { recursive: true, force: true });
    await rm(join(work, "openapi-gen"), { force: true });
  }
  log(`[cluster build] done in ${secs(started)}: ${bin}`);
  return bin;
}

/**
 * Debian's kubernetes-client is built from the same source package, so its
 * kubectl is 1.20.2 without compiling the 139 packages only it needs. The .deb is unpacked
 * rather than installed: kubectl may already be installed from another package
 * (dpkg refuses to overwrite /usr/bin/kubectl), and the system's kubectl is left alone.
 */
async function kubectlFromDebian(work: string, out: string): Promise<void> {
  const debDir = join(work, "kubernetes-client");
  await rm(debDir, { recursive: true, force: true });
  await mkdir(debDir, { recursive: true });
  try {
    await run("apt-get", ["download", "kubernetes-client"], { cwd: debDir });
  } catch (e) {
    throw new Error(`apt-get download kubernetes-client failed (run \`sudo sh .ci/cluster-deps.sh\`): ${(e as Error).message}`);
  }
  const deb = (await readdir(debDir)).find((n) => /^kubernetes-client_.*\.deb$/.test(n));
  if (!deb) throw new Error(`no kubernetes-client_*.deb in ${debDir} after apt-get download`);
  await run("dpkg-deb", ["-x", join(debDir, deb), join(debDir, "root")]);
  const kubectl = join(out, "kubectl");
  await cp(join(debDir, "root", "usr", "bin", "kubectl"), kubectl);
  const ver = await run(kubectl, ["version", "--client", "--short"], { allowFail: true });
  if (!ver.stdout.includes(`v${KUBE_VERSION}`)) throw new Error(`${deb}'s kubectl reports ${ver.stdout.trim() || ver.stderr.trim()}, not v${KUBE_VERSION}`);
  await rm(debDir, { recursive: true, force: true });
}

async function findOrigTarball(dir: string): Promise<string | undefined> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const name = names.find((n) => /^kubernetes_.*\.orig\.tar\.gz$/.test(n));
  return name ? join(dir, name) : undefined;
}

/** Directories (relative to the tree) whose Go files carry the openapi-gen tag. */
async function openapiDirs(tree: string): Promise<string[]> {
  const r = await run("grep", ["-Rl", "--include=*.go", "+k8s:openapi-gen=", "pkg", "cmd", "vendor/k8s.io"], {
    cwd: tree,
    allowFail: true,
  });
  const dirs = new Set<string>();
  for (const file of r.stdout.split("\n").filter(Boolean)) {
    const dir = dirname(file);
    if (OPENAPI_EXCLUDE.some((x) => dir === x || dir.startsWith(`${x}/`))) continue;
    dirs.add(dir);
  }
  return [...dirs].sort();
}

function secs(since: number): string {
  const s = Math.round((Date.now() - since) / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}
