import { abortable, abortReason } from "../sync/abortable.ts";
import type { Semaphore } from "../sync/semaphore.ts";

/** What a slot pool needs of a child (ProcessorChild in production, an in-memory stand-in in tests). */
export interface SlotChild {
  readonly isReady: boolean;
  /** Will never be ready again (stopped, or exited without restart). */
  readonly isStopped: boolean;
  whenReady(): Promise<void>;
}

export interface Slotted<C extends SlotChild> {
  readonly child: C;
  /** At most this many tasks on the child at once. */
  readonly slots: Semaphore;
}

/**
 * Children with a per-child task limit, and how a task claims one: among the ready children with a free
 * slot, `choose` picks one (the worker's stages: the most free capacity; the ext-prover: weighted random).
 * When none is free the claim waits until a slot is released or a restarting child is back, then chooses
 * again. Stopped children are not waited for: they will not come back, and waiting on their refusal would
 * spin without ever yielding to the children's answers.
 */
export class ChildSlots<M extends Slotted<SlotChild>> {
  private wake: () => void = () => {};
  private changed: Promise<void>;

  constructor(
    readonly members: readonly M[],
    private readonly choose: (open: readonly M[]) => M,
    /** The error when every child has stopped. */
    private readonly allStopped: () => Error,
  ) {
    this.changed = this.nextChange();
  }

  /** A slot on a chosen child; `release` frees it and wakes waiting claims. */
  async claim(signal?: AbortSignal): Promise<{ member: M; release: () => void }> {
    for (;;) {
      if (signal?.aborted) throw abortReason(signal);
      const open = this.members.filter((m) => m.child.isReady && m.slots.free > 0);
      if (open.length > 0) {
        const member = this.choose(open);
        const free = member.slots.tryAcquire()!;
        return {
          member,
          release: () => {
            free();
            this.notify();
          },
        };
      }
      if (this.members.every((m) => m.child.isStopped)) throw this.allStopped();
      const waits: Promise<unknown>[] = [this.changed];
      for (const m of this.members)
        if (!m.child.isReady && !m.child.isStopped) waits.push(m.child.whenReady().catch(() => {}));
      await abortable(Promise.race(waits), signal);
    }
  }

  private nextChange(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  private notify(): void {
    const wake = this.wake;
    this.changed = this.nextChange();
    wake();
  }
}
