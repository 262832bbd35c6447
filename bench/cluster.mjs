// The test cluster's two timings (issue 13). Needs root and `sh .ci/cluster-deps.sh`.
//   cold build   `cli.ts build` into an empty cache, with empty Go module and build caches:
//                download the modules, compile kube-apiserver, kube-controller-manager,
//                kube-scheduler, kubectl and etcd. Target <= 8 min. Also reports the bytes of
//                module zips downloaded and the disk the caches used (from the build's stamp).
//   warm start   `cli.ts up` with the binaries cached, until it prints KUBECONFIG
//                (etcd, API server, controller-manager, scheduler, kubelet and proxy
//                stand-ins, default service account), then `cli.ts down`. Target <= 15 s.
// MESH_KUBE_VERSION picks the release, as for the harness.
// Both run in a temporary MESH_CACHE_DIR, so a cluster already running is left alone.
//   node bench/cluster.mjs [warm runs] [--no-cold]
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const args = process.argv.slice(2);
const runs = Number(args.find((a) => /^\d+$/.test(a)) ?? 3);
const cold = !args.includes("--no-cold");
const root = fileURLToPath(new URL("..", import.meta.url));
const COLD_TARGET_S = 480;
const WARM_TARGET_S = 15;

function cli(verb, env) {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ["--import", "tsx", "test/cluster/cli.ts", verb], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`cli.ts ${verb} failed:\n${r.stderr}`);
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, stdout: r.stdout, stderr: r.stderr };
}

const round = (s) => Math.round(s * 10) / 10;
const result = { bench: "cluster", load: loadavg()[0] };

if (cold) {
  const dir = mkdtempSync(join(tmpdir(), "mesh-bench-cold-"));
  try {
    process.stderr.write(`cold build into ${dir} (a few minutes)...\n`);
    const build = cli("build", { MESH_CACHE_DIR: dir });
    result.coldBuildSeconds = round(build.seconds);
    const stamp = JSON.parse(readFileSync(join(build.stdout.trim(), "build.json"), "utf8"));
    Object.assign(result, {
      kubeVersion: stamp.version,
      etcdVersion: stamp.etcdVersion,
      goVersion: stamp.goVersion,
      downloadedMiB: Math.round(stamp.downloadedBytes / 2 ** 20),
      cachesUsedMiB: Math.round(stamp.workBytes / 2 ** 20),
      binariesMiB: Math.round(stamp.binBytes / 2 ** 20),
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Warm start uses the normal cache's binaries (built here first if missing, not timed).
const bin = cli("build", {}).stdout.trim();
const dir = mkdtempSync(join(tmpdir(), "mesh-bench-warm-"));
symlinkSync(dirname(bin), join(dir, basename(dirname(bin))));
const warm = [];
try {
  for (let i = 0; i < runs; i++) {
    try {
      const up = cli("up", { MESH_CACHE_DIR: dir });
      if (!up.stdout.includes("export KUBECONFIG=")) throw new Error(`cli.ts up printed no KUBECONFIG:\n${up.stderr}`);
      warm.push(round(up.seconds));
    } finally {
      cli("down", { MESH_CACHE_DIR: dir }); // also after a failed `up`: stops whatever it started
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
result.warmStartSeconds = warm;
result.targets = { coldBuildSeconds: COLD_TARGET_S, warmStartSeconds: WARM_TARGET_S };
result.ok = Math.max(...warm) <= WARM_TARGET_S && (!cold || result.coldBuildSeconds <= COLD_TARGET_S);
process.stdout.write(`${JSON.stringify(result)}\n`);
