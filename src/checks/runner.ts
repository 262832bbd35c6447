import type { Read } from "./memo.js";
import { SkipCheck, type Category, type Check, type CheckResult, type Clock } from "./types.js";

/** What the runner needs from the world: a fresh, read-tracking context per attempt. */
export interface RunEnv<C> {
  attempt(): { ctx: C; reads: readonly Read[] };
  isCurrent(reads: readonly Read[]): boolean;
  invalidate(reads: readonly Read[]): void;
}

export interface RunOptions {
  /** Retryable checks are retried while `clock.now() < deadline` (ms since the epoch). */
  deadline: number;
  clock: Clock;
  /** Prefix of hint anchors, e.g. `https://linkerd.io/2.14/checks/#`. */
  hintBase: string;
  /** Pause between attempts of a retried check (Linkerd: 5 s). */
  retryIntervalMs?: number;
  /** Time allowed to one attempt of one check (Linkerd: 30 s). */
  attemptTimeoutMs?: number;
}

export const WAITING = "waiting for check to complete";

type Outcome = { kind: "ok" } | { kind: "skip"; reason: string } | { kind: "fail"; message: string };
interface Attempted {
  outcome: Outcome;
  reads: readonly Read[];
}

export function hintUrl(base: string, hint: string): string {
  return /^https?:\/\//.test(hint) ? hint : `${base}${hint}`;
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * Runs the checks of `categories` and yields their results in declaration order, the way
 * Linkerd's sequential runner would: a failed fatal check ends the run, retryable checks are
 * retried until the deadline, skipped checks yield a "skipped" result that formatters ignore.
 *
 * Every check starts at once (speculatively); since checks read the cluster only through the
 * shared cache, independent checks overlap their requests and dependent ones share them. A
 * result is used only if nothing it read was reloaded since (a retry reloads what the retried
 * check read); otherwise the check runs again.
 */
export async function* runChecks<C>(categories: readonly Category<C>[], env: RunEnv<C>, opts: RunOptions): AsyncGenerator<CheckResult, void, undefined> {
  const { clock } = opts;
  const retryInterval = opts.retryIntervalMs ?? 5_000;
  const attemptTimeout = opts.attemptTimeoutMs ?? 30_000;
  const flat = categories.flatMap((category) => category.checks.map((check) => ({ category, check })));

  const attempt = async (check: Check<C>): Promise<Attempted> => {
    const a = env.attempt();
    const stop = new AbortController();
    const timeout = clock.sleep(attemptTimeout, stop.signal).then(() => {
      if (!stop.signal.aborted) throw new Error(`check did not complete within ${attemptTimeout / 1000}s`);
    });
    try {
      await Promise.race([check.run(a.ctx), timeout]);
      return { outcome: { kind: "ok" }, reads: a.reads };
    } catch (err) {
      if (err instanceof SkipCheck) return { outcome: { kind: "skip", reason: err.reason }, reads: a.reads };
      return { outcome: { kind: "fail", message: errorText(err) }, reads: a.reads };
    } finally {
      stop.abort();
    }
  };

  const spec = flat.map(({ check }) => attempt(check));

  for (let i = 0; i < flat.length; i++) {
    const { category, check } = flat[i];
    let res = await spec[i];
    if (!env.isCurrent(res.reads)) res = await attempt(check);
    const base = {
      category: category.id,
      checkId: check.id,
      description: check.description,
      hintUrl: hintUrl(opts.hintBase, check.hint),
      fatal: Boolean(check.fatal),
    };
    const failStatus = check.severity === "warning" ? ("warning" as const) : ("error" as const);
    let retried = false;
    for (;;) {
      const o = res.outcome;
      if (o.kind === "skip") {
        yield { ...base, status: "skipped", retry: false, error: o.reason };
        break;
      }
      if (o.kind === "fail" && check.retry && clock.now() < opts.deadline) {
        yield { ...base, status: failStatus, retry: true, error: check.surfaceErrorOnRetry ? o.message : WAITING };
        env.invalidate(res.reads);
        await clock.sleep(retryInterval);
        res = await attempt(check);
        retried = true;
        continue;
      }
      if (o.kind === "ok") yield { ...base, status: "ok", retry: false };
      else yield { ...base, status: failStatus, retry: false, error: o.message };
      if (o.kind === "fail" && check.fatal) return;
      break;
    }
    // What later checks read before the retries may be stale now: re-run those, concurrently.
    if (retried)
      for (let j = i + 1; j < flat.length; j++) {
        const later = flat[j].check;
        spec[j] = spec[j].then((r) => (env.isCurrent(r.reads) ? r : attempt(later)));
      }
  }
}

/** Overall outcome of a list of final results: success unless a non-warning check failed. */
export function summarize(results: Iterable<CheckResult>): { success: boolean; warning: boolean } {
  let success = true;
  let warning = false;
  for (const r of results) {
    if (r.retry) continue;
    if (r.status === "error") success = false;
    if (r.status === "warning") warning = true;
  }
  return { success, warning };
}
