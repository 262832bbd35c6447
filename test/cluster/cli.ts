/**
 * The test cluster for people and CI:
 *   cli.ts build [--force] [--keep-work]   build (or reuse) the Kubernetes binaries
 *   cli.ts up                              start a cluster in the background; prints `export KUBECONFIG=...`
 *   cli.ts status                          print the running cluster's state file
 *   cli.ts down                            stop exactly what `up` started
 * (`npm run cluster:up`, `npm run cluster:down`.)
 */
import { spawn } from "node:child_process";
import { existsSync, openSync, closeSync, readFileSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureBinaries } from "./build.js";
import { destroyPodNetwork } from "./netns.js";
import { cacheRoot, defaultStatePath } from "./paths.js";
import { isAlive, readState, type ClusterState } from "./state.js";

const here = dirname(fileURLToPath(import.meta.url));
const err = (l: string): void => void process.stderr.write(`${l}\n`);

function printExports(s: ClusterState): void {
  process.stdout.write(`export KUBECONFIG=${s.users.admin.kubeconfig}\n`);
  err(`# cluster ${s.server} (supervisor pid ${s.pid}, logs in ${join(s.runDir, "logs")})`);
  err(`# kubectl v${s.kubeVersion}: ${s.kubectl}`);
  err(`# unprivileged users: ${s.users.nobody.kubeconfig} (no RBAC), ${s.users.viewer.kubeconfig} (view)`);
  err("# stop it with: npm run cluster:down");
}

function liveState(path: string): ClusterState | undefined {
  if (!existsSync(path)) return undefined;
  const s = readState(path);
  return isAlive(s.pid) ? s : undefined;
}

async function up(): Promise<void> {
  const statePath = defaultStatePath();
  const running = liveState(statePath);
  if (running) {
    err("# a test cluster is already running");
    return printExports(running);
  }
  if (existsSync(statePath)) await down();
  await ensureBinaries();
  const runDir = join(cacheRoot(), "cluster", "run");
  await rm(runDir, { recursive: true, force: true });
  await mkdir(runDir, { recursive: true });
  const out = join(runDir, "daemon.out");
  const outFd = openSync(out, "a");
  const logFd = openSync(join(runDir, "daemon.log"), "a");
  const child = spawn(
    process.execPath,
    ["--import", import.meta.resolve("tsx"), join(here, "daemon.ts"), "--state", statePath, "--run-dir", runDir],
    { detached: true, stdio: ["ignore", outFd, logFd] },
  );
  closeSync(outFd);
  closeSync(logFd);
  child.unref();
  err(`# starting test cluster (supervisor pid ${child.pid}) ...`);
  const deadline = Date.now() + 120_000;
  for (;;) {
    const line = existsSync(out) ? readFileSync(out, "utf8").split("\n")[0] : "";
    if (line) {
      const msg = JSON.parse(line) as { ready: boolean; error?: string };
      if (!msg.ready) throw new Error(`cluster failed to start: ${msg.error} (log: ${join(runDir, "daemon.log")})`);
      return printExports(readState(statePath));
    }
    if (child.pid && !isAlive(child.pid)) throw new Error(`cluster supervisor exited; see ${join(runDir, "daemon.log")}`);
    if (Date.now() > deadline) throw new Error(`cluster not ready after 120s; see ${join(runDir, "daemon.log")}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Is `pid` still the process we recorded (guards against reused pids)? */
function isOurs(pid: number, name: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(name);
  } catch {
    return false;
  }
}

async function down(): Promise<void> {
  const statePath = defaultStatePath();
  if (!existsSync(statePath)) return err("# no test cluster is running");
  const s = readState(statePath);
  if (isAlive(s.pid) && isOurs(s.pid, "daemon.ts")) {
    process.kill(s.pid, "SIGTERM");
    const deadline = Date.now() + 30_000;
    while (isAlive(s.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  }
  // The supervisor normally cleans up; if it was killed, finish its job.
  for (const p of s.processes) {
    const marker = p.name === "standin-server" ? "standin-server" : p.name;
    if (isAlive(p.pid) && isOurs(p.pid, marker)) process.kill(p.pid, "SIGKILL");
  }
  await destroyPodNetwork({ netns: s.netns, hostIf: `mh-${s.netns.replace(/^mesh-/, "")}` });
  await rm(`/dev/shm/mesh-etcd-${s.pid}`, { recursive: true, force: true });
  await rm(statePath, { force: true });
  err("# test cluster stopped");
}

async function main(argv: string[]): Promise<void> {
  switch (argv[0]) {
    case "build":
      process.stdout.write(`${await ensureBinaries({ force: argv.includes("--force"), keepWork: argv.includes("--keep-work") })}\n`);
      return;
    case "up":
      return up();
    case "down":
      return down();
    case "status": {
      const s = liveState(defaultStatePath());
      if (!s) {
        err("# no test cluster is running");
        process.exitCode = 1;
        return;
      }
      process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
      return;
    }
    default:
      throw new Error("usage: cli.ts build [--force] [--keep-work] | up | status | down");
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  err(`error: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
