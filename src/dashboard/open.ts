// Opens the dashboard in the user's browser with the platform's opener (xdg-open, open, start),
// bounded: an opener that fails, is missing or hangs is reported once, and the URL printed
// before stays the way in.
import { spawn } from "node:child_process";

/** The opener command for a platform. */
export function openerFor(platform: NodeJS.Platform, url: string): { command: string; args: string[] } {
  if (platform === "darwin") return { command: "open", args: [url] };
  if (platform === "win32") return { command: "cmd", args: ["/c", "start", '""', url.replace(/&/g, "^&")] };
  return { command: "xdg-open", args: [url] };
}

/** Resolves when the opener exited 0; otherwise with the reason, after at most `timeoutMs`. */
export function openBrowser(url: string, opts: { platform?: NodeJS.Platform; timeoutMs?: number; command?: { command: string; args: string[] } } = {}): Promise<{ ok: true } | { ok: false; reason: string }> {
  const { command, args } = opts.command ?? openerFor(opts.platform ?? process.platform, url);
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: { ok: true } | { ok: false; reason: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(command, args, { stdio: "ignore", detached: process.platform !== "win32", windowsHide: true });
    } catch (err) {
      return done({ ok: false, reason: (err as Error).message });
    }
    const timer = setTimeout(() => {
      // A browser that opens in the foreground keeps its opener running: leave it, stop waiting.
      child.unref();
      done({ ok: true });
    }, opts.timeoutMs ?? 5_000);
    child.once("error", (err: NodeJS.ErrnoException) => done({ ok: false, reason: err.code === "ENOENT" ? `${command} not found` : err.message }));
    child.once("exit", (code, signal) => done(code === 0 ? { ok: true } : { ok: false, reason: `${command} exited with ${signal ?? `code ${code}`}` }));
  });
}
