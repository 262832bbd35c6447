/**
 * One cluster per test run: the test runner (scripts/test.mjs) calls
 * `startSharedCluster()` once, passes `env` to every test process that needs
 * the cluster, and calls `stop()` at the end (also on SIGINT/SIGTERM). Test files
 * reach it through test/helpers/cluster.ts (`connectTestCluster()`).
 *
 * The cluster is supervised by a child process (daemon.ts) that watches its
 * stdin: if this process dies without calling stop(), the pipe closes and the
 * daemon tears everything down; its children die with it (parent-death signal).
 */
import { spawn } from "node:child_process";
import { openSync, closeSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { ensureBinaries } from "./build.js";
import { readState, type ClusterState } from "./state.js";

/** The variable test processes read: the path of the cluster's state file. */
export const CLUSTER_ENV = "MESH_TEST_CLUSTER";

export interface SharedCluster {
  /** Environment for test processes: `{ MESH_TEST_CLUSTER: <state file> }`. */
  env: Record<string, string>;
  state: ClusterState;
  /** Stops exactly what was started; idempotent. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Progress lines (build, start); default stderr. */
  log?: (line: string) => void;
  /** Don't keep the caller's event loop alive (used by connectTestCluster's private cluster). */
  unref?: boolean;
  timeoutMs?: number;
}

const here = dirname(fileURLToPath(import.meta.url));

export async function startSharedCluster(opts: StartOptions = {}): Promise<SharedCluster> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const startedAt = Date.now();
  await ensureBinaries({ log });
  const runDir = await mkdtemp(join(tmpdir(), "mesh-cluster-"));
  const statePath = join(runDir, "state.json");
  const logFile = join(runDir, "daemon.log");
  const logFd = openSync(logFile, "a");
  const child = spawn(
    process.execPath,
    ["--import", import.meta.resolve("tsx"), join(here, "daemon.ts"), "--state", statePath, "--run-dir", runDir, "--watch-stdin", "--remove-run-dir"],
    { stdio: ["pipe", "pipe", logFd] },
  );
  closeSync(logFd);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const tail = () => {
    try {
      return readFileSync(logFile, "utf8").trim().split("\n").slice(-20).join("\n");
    } catch {
      return "";
    }
  };

  const first = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error(`test cluster not ready after ${(opts.timeoutMs ?? 120_000) / 1000}s:\n${tail()}`)), opts.timeoutMs ?? 120_000);
    rl.once("line", (line) => {
      clearTimeout(timer);
      resolve(line);
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`test cluster supervisor exited with ${code}:\n${tail()}`));
    });
  }).catch(async (e: unknown) => {
    child.kill("SIGTERM");
    await exited;
    await rm(runDir, { recursive: true, force: true });
    throw e;
  });
  const msg = JSON.parse(first) as { ready: boolean; error?: string };
  if (!msg.ready) {
    await exited;
    await rm(runDir, { recursive: true, force: true });
    throw new Error(`test cluster failed to start: ${msg.error}\n${tail()}`);
  }
  const state = readState(statePath);
  log(`test cluster (Kubernetes v${state.kubeVersion}) ready in ${((Date.now() - startedAt) / 1000).toFixed(1)}s (${state.server}, logs in ${runDir})`);
  if (opts.unref) {
    child.unref();
    (child.stdin as unknown as { unref?: () => void }).unref?.();
    (child.stdout as unknown as { unref?: () => void }).unref?.();
  }

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), 30_000);
        await exited;
        clearTimeout(t);
      }
      await rm(runDir, { recursive: true, force: true });
    })());
  return { env: { [CLUSTER_ENV]: statePath }, state, stop };
}
