/**
 * Checks are data: a category (kebab id, printed as the section title) holds checks, each with
 * the description Linkerd prints (users grep for it), a hint anchor and flags. A check passes by
 * returning, fails by throwing (the error's message is what the user sees) and stays silent by
 * calling `skip()`.
 */
import { sleep } from "../concurrency.js";

export interface Check<C> {
  /** Stable kebab-case id, unique across all categories (tests and docs refer to it). */
  id: string;
  /** What a healthy cluster looks like, e.g. "control plane pods are ready". Linkerd's text, verbatim. */
  description: string;
  /** Anchor appended to the hint base URL (`l5d-api-control-ready`), or an absolute URL. */
  hint: string;
  /** A failure ends the whole run: later checks cannot succeed without this one. */
  fatal?: boolean;
  /** "warning": a failure is reported (‼) but does not fail the run. */
  severity?: "warning";
  /** Retried every 5 s until the `--wait` deadline while it fails. */
  retry?: boolean;
  /** While retrying, show the live error instead of "waiting for check to complete". */
  surfaceErrorOnRetry?: boolean;
  run(ctx: C): Promise<void>;
}

export interface Category<C> {
  id: string;
  checks: Check<C>[];
}

/** One result handed to the formatters. `retry` results are interim: a later one for the same check follows. */
export interface CheckResult {
  category: string;
  checkId: string;
  description: string;
  hintUrl: string;
  status: "ok" | "warning" | "error" | "skipped";
  retry: boolean;
  /** The failure (or skip reason) text; absent on success. */
  error?: string;
  fatal?: boolean;
}

/** A check failure whose message is shown as is. */
export class CheckFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CheckFailure";
  }
}

/** Thrown by `skip()`: the check does not apply and reports nothing. */
export class SkipCheck extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = "SkipCheck";
  }
}

export function fail(message: string): never {
  throw new CheckFailure(message);
}

export function skip(reason: string): never {
  throw new SkipCheck(reason);
}

/** Time, injected so that the runner stays pure and tests can use a fake clock. */
export interface Clock {
  now(): number;
  /** Resolves after `ms`, or at once when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep,
};
