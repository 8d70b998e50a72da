import { Semaphore } from "../sync/semaphore.ts";
import { type ChildSpec, ProcessorChild, ProcessorError } from "./producer.ts";
import { ChildSlots } from "./slots.ts";

/**
 * `[processors.ext_locks]`: named counters shared by every stage, so that e.g. a pc2 and a c2 processor
 * that both list `gpu` never run at the same time.
 */
export class ExtLocks {
  private readonly locks = new Map<string, Semaphore>();

  constructor(defs: Record<string, number>) {
    for (const [name, n] of Object.entries(defs)) this.locks.set(name, new Semaphore(n));
  }

  has(name: string): boolean {
    return this.locks.has(name);
  }

  /** Acquire every named lock (in name order, so two holders never deadlock); returns one release. */
  async acquireAll(names: readonly string[], signal?: AbortSignal): Promise<() => void> {
    const releases: (() => void)[] = [];
    try {
      for (const name of [...new Set(names)].sort()) {
        const lock = this.locks.get(name);
        if (!lock) throw new Error(`ext lock "${name}" is not defined in [processors.ext_locks]`);
        releases.push(await lock.acquire(signal));
      }
    } catch (err) {
      for (const r of releases.reverse()) r();
      throw err;
    }
    return () => {
      for (const r of releases.reverse()) r();
    };
  }
}

/** A child with no `concurrent` still gets a bound, as the original's selector does. */
const UNBOUNDED = 64;

interface Member {
  child: ProcessorChild;
  slots: Semaphore;
  locks: readonly string[];
}

export interface PoolMemberSpec extends ChildSpec {
  concurrent?: number;
  locks?: readonly string[];
}

/** The ready child with the most free capacity. */
const mostFree = (open: readonly Member[]): Member =>
  open.reduce((best, m) => (m.slots.free > best.slots.free ? m : best));

/**
 * All external processors of one stage. A task goes to the ready child with the most free capacity;
 * when all are full it waits for the first slot to free up, then takes that child's ext_locks.
 */
export class ProcessorPool {
  private readonly slots: ChildSlots<Member>;

  constructor(
    readonly stage: string,
    specs: readonly PoolMemberSpec[],
    private readonly extLocks: ExtLocks,
  ) {
    for (const s of specs) {
      for (const l of s.locks ?? []) {
        if (!extLocks.has(l))
          throw new Error(`processors.${stage}[${s.index}].locks: "${l}" is not defined in [processors.ext_locks]`);
      }
    }
    const members = specs.map((s) => ({
      child: new ProcessorChild(s),
      slots: new Semaphore(s.concurrent ?? UNBOUNDED),
      locks: s.locks ?? [],
    }));
    this.slots = new ChildSlots(
      members,
      mostFree,
      () =>
        new ProcessorError(
          `every ${stage} processor has stopped (exited with auto_restart = false, or the worker is shutting down)`,
          "exited",
        ),
    );
  }

  get children(): readonly ProcessorChild[] {
    return this.slots.members.map((m) => m.child);
  }

  /** Start every child; a child that fails its handshake makes start fail (the worker refuses to run half-configured). */
  async start(): Promise<void> {
    await Promise.all(this.children.map((c) => c.start()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.children.map((c) => c.stop()));
  }

  async run(task: unknown, signal?: AbortSignal): Promise<{ output: unknown; child: ProcessorChild }> {
    const { member, release } = await this.slots.claim(signal);
    let releaseLocks: (() => void) | undefined;
    try {
      releaseLocks = await this.extLocks.acquireAll(member.locks, signal);
      const output = await member.child.call(task);
      return { output, child: member.child };
    } finally {
      releaseLocks?.();
      release();
    }
  }
}
