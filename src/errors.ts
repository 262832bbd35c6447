/** Exit codes: 0 ok, 1 failure (checks, injection, API), 2 usage. */
export const ExitCode = { Ok: 0, Failure: 1, Usage: 2 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * Every error meant for the user. `message` is lower case, without a trailing
 * period, and names the object it is about; `hint` says what to do next.
 */
export class MeshError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    readonly exitCode: ExitCode = ExitCode.Failure,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "MeshError";
  }
}

/** A usage mistake (bad flag value or combination): exit code 2. */
export class UsageError extends MeshError {
  constructor(message: string, hint?: string) {
    super(message, hint, ExitCode.Usage);
    this.name = "UsageError";
  }
}

/** Checks failed; the report already said why, so the handler prints nothing. */
export class ChecksFailed extends MeshError {
  constructor() {
    super("checks failed", undefined, ExitCode.Failure);
    this.name = "ChecksFailed";
  }
}
