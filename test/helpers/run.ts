import { run } from "../../src/cli.js";
import type { Deps, GlobalOptions } from "../../src/deps.js";
import { memoryIo } from "./io.js";
import type { Cluster } from "../../src/kube/cluster.js";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  stdin?: string;
  now?: Date;
  env?: Record<string, string | undefined>;
  /** The cluster a command connects to; by default connecting fails like an unreachable server. */
  cluster?: (g: GlobalOptions) => Promise<Cluster>;
}

/** Runs mesh in-process with fake deps and collects what it wrote. */
export async function runMesh(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  const m = memoryIo(opts.stdin ?? "");
  const deps: Deps = {
    io: m.io,
    now: () => opts.now ?? new Date("2026-01-01T00:00:00Z"),
    env: opts.env ?? {},
    cluster:
      opts.cluster ??
      (async () => {
        const { MeshError } = await import("../../src/errors.js");
        throw new MeshError("cannot connect to the Kubernetes API at https://127.0.0.1:1: connection refused", "is the cluster running?");
      }),
  };
  const code = await run(argv, deps);
  return { code, stdout: m.stdout(), stderr: m.stderr() };
}
