/**
 * Failure levels of a sealing step (reference §4.2). One mechanism for every plan:
 * - temporary: retry the same state after recover_interval, up to max_retries, then permanent
 * - permanent / critical: pause the thread and keep last_error until an operator resumes it
 * - abort: report the sector aborted to the manager, clean up, move on to the next sector
 */
export const FAILURE_LEVELS = ["temporary", "permanent", "critical", "abort"] as const;
export type FailureLevel = (typeof FAILURE_LEVELS)[number];

/** Wire names the manager sees in ReportState's Failure.Level. */
export const WIRE_LEVEL: Record<FailureLevel, string> = {
  temporary: "Temporary",
  permanent: "Permanent",
  critical: "Critical",
  abort: "Abort",
};

export class Failure extends Error {
  constructor(
    readonly level: FailureLevel,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "Failure";
  }

  /** "permanent: No cached parameters found …" — the form seed 004's `worker list` shows as last_err. */
  describe(): string {
    return `${this.level}: ${this.message}`;
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export const temporary = (err: unknown, context?: string) => wrap("temporary", err, context);
export const permanent = (err: unknown, context?: string) => wrap("permanent", err, context);
export const critical = (err: unknown, context?: string) => wrap("critical", err, context);
export const abort = (err: unknown, context?: string) => wrap("abort", err, context);

function wrap(level: FailureLevel, err: unknown, context?: string): Failure {
  if (err instanceof Failure) return err;
  return new Failure(level, context ? `${context}: ${message(err)}` : message(err), { cause: err });
}

/** Anything thrown without a level is a bug or an unexpected local condition: treat it as critical. */
export function toFailure(err: unknown): Failure {
  return err instanceof Failure ? err : critical(err);
}

/** After max_retries, a temporary failure becomes permanent, keeping its message. */
export function escalate(f: Failure, retries: number, maxRetries: number): Failure {
  if (f.level !== "temporary" || retries < maxRetries) return f;
  return new Failure("permanent", `${f.message} (gave up after ${retries} retries)`, { cause: f });
}
