import { spawn, type SpawnOptions } from "node:child_process";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to completion and collects its output. Rejects on a non-zero
 * exit unless `allowFail` is set. `onStderrLine` sees stderr as it arrives.
 */
export function run(
  cmd: string,
  args: readonly string[],
  opts: SpawnOptions & { allowFail?: boolean; input?: string; onStderrLine?: (line: string) => void; timeoutMs?: number } = {},
): Promise<RunResult> {
  const { allowFail, input, onStderrLine, timeoutMs, ...spawnOpts } = opts;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...spawnOpts, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let partial = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
      if (onStderrLine) {
        partial += d;
        const lines = partial.split("\n");
        partial = lines.pop() ?? "";
        for (const l of lines) onStderrLine(l);
      }
    });
    let timedOut = false;
    const timer = timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill("SIGKILL");
        }, timeoutMs)
      : undefined;
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (timedOut) return reject(new Error(`${cmd} ${args.join(" ")}: timed out after ${timeoutMs! / 1000}s\n${stderr.trim()}`));
      const rc = code ?? (signal ? 128 : 1);
      if (rc !== 0 && !allowFail) {
        const tail = stderr.trim().split("\n").slice(-20).join("\n");
        reject(new Error(`${cmd} ${args.join(" ")} exited with ${signal ?? rc}\n${tail}`));
      } else resolve({ code: rc, stdout, stderr });
    });
    child.stdin!.on("error", () => {});
    child.stdin!.end(input ?? "");
  });
}
