/**
 * Runs a shell pipeline exactly as a user types it (`mesh install | kubectl apply -f -`), with
 * `mesh` the built bin/mesh.js and `kubectl` the one built with the test cluster first on PATH,
 * and KUBECONFIG naming the test cluster's admin (or another user's) kubeconfig.
 */
import { mkdirSync, symlinkSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { run, type RunResult } from "../cluster/proc.js";
import type { TestCluster } from "./cluster.js";

const MESH_BIN = resolve(fileURLToPath(new URL("../../bin/mesh.js", import.meta.url)));
let pathDir: string | undefined;

/** A directory holding `mesh` and `kubectl` links, made once per process. */
function toolDir(c: TestCluster): string {
  if (pathDir) return pathDir;
  const dir = join(tmpdir(), `mesh-pipeline-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(MESH_BIN, "..", "..", "dist", "runtime.js"))) throw new Error("dist/ is not built: run `npm run build` first");
  symlinkSync(MESH_BIN, join(dir, "mesh"));
  symlinkSync(c.state.kubectl, join(dir, "kubectl"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  return (pathDir = dir);
}

export interface PipelineOptions {
  stdin?: string;
  kubeconfig?: string;
  allowFail?: boolean;
  timeoutMs?: number;
}

/** `sh -c <line>` with mesh and the cluster's kubectl on PATH; `set -o pipefail`, so any stage failing fails it. */
export function pipeline(c: TestCluster, line: string, opts: PipelineOptions = {}): Promise<RunResult> {
  const dir = toolDir(c);
  return run("bash", ["-o", "pipefail", "-c", line], {
    input: opts.stdin,
    allowFail: opts.allowFail,
    timeoutMs: opts.timeoutMs ?? 120_000,
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, KUBECONFIG: opts.kubeconfig ?? c.kubeconfig, NO_COLOR: "1" },
  });
}
