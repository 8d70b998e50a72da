import { ChildSlots, type SlotChild } from "../../core/processor/slots.ts";
import { abortable } from "../../core/sync/abortable.ts";
import { Semaphore } from "../../core/sync/semaphore.ts";

/**
 * The children of one ext-prover kind ([[WdPost]] or [[WinPost]]) and how a task picks one, as the Go
 * manager's ext-prover does: each child takes at most `Concurrent` tasks at once, and a task goes to a
 * child with a free slot, chosen at random in proportion to `Weight`. Unlike the Go manager, a task that
 * finds every child full waits for the first slot that frees up in any child (instead of queueing on one
 * picked at random), and children that are restarting are skipped.
 */

/** What the pool needs of a child (ProcessorChild in production, an in-memory stand-in in tests). */
export interface PoolChild extends SlotChild {
  call(task: unknown): Promise<unknown>;
}

export interface WeightedMember<C extends PoolChild> {
  child: C;
  /** Tasks this child runs at once (ext-prover.cfg `Concurrent`, at least 1). */
  concurrent: number;
  /** Relative share of tasks (`Weight`); 0 counts as 1, as in the Go manager. */
  weight: number;
}

interface Slotted<C extends PoolChild> extends WeightedMember<C> {
  index: number;
  slots: Semaphore;
}

/** Index into `weights` chosen with probability weight/total; `random` returns [0, 1). */
export function pickWeighted(weights: readonly number[], random: () => number): number {
  const effective = weights.map((w) => (w > 0 ? w : 1));
  const total = effective.reduce((a, b) => a + b, 0);
  let point = random() * total;
  for (let i = 0; i < effective.length; i++) {
    point -= effective[i]!;
    if (point < 0) return i;
  }
  return effective.length - 1;
}

/** A task failed on a chosen child (its error, its abort): says which child, so messages can name it. */
export class ChildTaskError<C extends PoolChild = PoolChild> extends Error {
  constructor(
    readonly index: number,
    readonly child: C,
    override readonly cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = "ChildTaskError";
  }
}

export class WeightedPool<C extends PoolChild> {
  private readonly slots: ChildSlots<Slotted<C>>;

  constructor(
    /** For messages, e.g. "window_post". */
    readonly label: string,
    members: readonly WeightedMember<C>[],
    random: () => number = Math.random,
  ) {
    if (members.length === 0) throw new Error(`${label}: a pool needs at least one child`);
    this.slots = new ChildSlots(
      members.map((m, index) => ({ ...m, index, slots: new Semaphore(Math.max(1, m.concurrent)) })),
      (open) =>
        open[
          pickWeighted(
            open.map((m) => m.weight),
            random,
          )
        ]!,
      () =>
        new Error(`every ${label} child has stopped (the manager is shutting down, or they could not be restarted)`),
    );
  }

  get children(): readonly C[] {
    return this.slots.members.map((m) => m.child);
  }

  /** Tasks in flight per child, in member order. */
  get inflight(): number[] {
    return this.slots.members.map((m) => m.slots.inUse);
  }

  /**
   * Runs `task` on a chosen child. An abort stops the wait for a slot or for the answer; a task already
   * handed to a child keeps its slot until the child answers, since the child is still busy with it.
   */
  async run(task: unknown, signal?: AbortSignal): Promise<{ output: unknown; child: C; index: number }> {
    const { member, release } = await this.slots.claim(signal);
    const answer = member.child.call(task).finally(release);
    try {
      return { output: await abortable(answer, signal), child: member.child, index: member.index };
    } catch (err) {
      throw new ChildTaskError(member.index, member.child, err);
    }
  }
}
