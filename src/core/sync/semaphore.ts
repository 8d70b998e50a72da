/**
 * A counting semaphore with FIFO waiters. Stage tokens, ext_locks and per-child `concurrent` limits are
 * all "at most N at once", so they share this one mechanism.
 */
export class Semaphore {
  private waiters: (() => void)[] = [];
  private held = 0;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new Error(`semaphore capacity must be at least 1, got ${capacity}`);
  }

  get inUse(): number {
    return this.held;
  }

  get free(): number {
    return this.capacity - this.held;
  }

  /** A release function when a slot was free, else undefined (never waits). */
  tryAcquire(): (() => void) | undefined {
    if (this.held >= this.capacity) return undefined;
    this.held++;
    return this.releaser();
  }

  /** Resolves with a release function once a slot is free; rejects if the signal aborts first. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason ?? new Error("aborted"));
    const now = this.tryAcquire();
    if (now) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve(this.releaser());
      };
      const onAbort = () => {
        this.waiters = this.waiters.filter((w) => w !== grant);
        reject(signal?.reason ?? new Error("aborted"));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(grant);
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next)
        next(); // hand the slot over directly: `held` stays the same
      else this.held--;
    };
  }
}

/**
 * `processors.limitation.staggered`: consecutive starts of a stage are at least `intervalMs` apart, so that
 * e.g. several PC1s do not hit the disks in the same minute.
 */
export class Staggered {
  private nextStart = 0;

  constructor(
    readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Waits until this caller may start; reserves the next slot before waiting, so callers queue in order. */
  async wait(signal?: AbortSignal): Promise<void> {
    const now = this.now();
    const at = Math.max(now, this.nextStart);
    this.nextStart = at + this.intervalMs;
    const delay = at - now;
    if (delay > 0) await sleep(delay, signal);
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason ?? new Error("aborted"));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason ?? new Error("aborted"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
