import { childLogger } from "../../core/log/index.ts";
import { ChainMessageSchema } from "../../core/sector/api-chain.ts";
import { type MessageLookup, messageId } from "../../core/sector/chain.ts";
import type { SectorID, SectorState } from "../../core/sector/index.ts";
import type { Collection } from "../../core/store/index.ts";
import type { CommitDeps } from "./deps.ts";
import { type BatchKind, PRE_COMMIT, PROVE_COMMIT, type PreparedBatch } from "./kinds.ts";
import { batchDue, type CommitKind, MAX_SECTORS_PER_MESSAGE, type PendingEntry, PendingEntrySchema } from "./policy.ts";
import { type Inflight, InflightSchema, KEY, NonceSchema } from "./records.ts";

const log = childLogger("commit");

/**
 * The batchers that turn accepted submissions into batch messages, one per miner and kind (kinds.ts:
 * PreCommitSectorBatch2, ProveCommitSectors3, and ProveReplicaUpdates once the snap committer adds it).
 *
 * Crash safety (transactional outbox): a batch is one transaction that writes the message into the
 * outbox, stamps its id on every sector and clears their pending marks; it is on disk before it is
 * pushed; after a crash the outbox is pushed again, and since the id is a hash of the message, the chain
 * recognises the repeat. Nothing is sent twice, nothing accepted is lost.
 */
export class CommitBatcher {
  private timers: ReturnType<typeof setInterval>[] = [];
  private readonly flushing = new Map<string, Promise<void>>();
  /** The check queued behind a running one, per miner and kind (see kick). */
  private readonly again = new Map<string, Promise<void>>();
  private readonly manualAgain = new Set<string>();
  private readonly kinds = new Map<CommitKind, BatchKind>([
    ["pre", PRE_COMMIT],
    ["prove", PROVE_COMMIT],
  ]);
  private started = false;

  constructor(
    private readonly deps: CommitDeps,
    private readonly kv: Collection,
    private readonly now: () => number,
  ) {}

  /** Adds a kind of batch message (before start). */
  addKind(kind: BatchKind): void {
    if (this.started) throw new Error(`batch kind "${kind.kind}" must be added before the batcher starts`);
    this.kinds.set(kind.kind, kind);
  }

  /** Starts the per-miner batch checks and pushes anything a crash left in the outbox. */
  async start(): Promise<void> {
    this.started = true;
    await this.pushOutbox();
    for (const m of this.deps.miners()) {
      for (const kind of this.kinds.values()) {
        const policy = kind.policy(m);
        if (!policy) continue;
        this.timers.push(setInterval(() => this.kick(m.actor, kind.kind), Math.max(50, policy.checkIntervalMs)));
      }
    }
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  /**
   * Checks one miner's batch now (after a submission, on each tick). A kick during a check may come after
   * that check read the pending sectors, so it gets one more check once the running one ends; kicks that
   * arrive meanwhile share that one.
   */
  kick(actor: number, kind: CommitKind, manual = false): Promise<void> {
    const key = `${actor}/${kind}`;
    const running = this.flushing.get(key);
    if (running) {
      if (manual) this.manualAgain.add(key);
      let again = this.again.get(key);
      if (!again) {
        again = running.then(() => {
          this.again.delete(key);
          const wasManual = this.manualAgain.delete(key);
          return this.kick(actor, kind, wasManual);
        });
        this.again.set(key, again);
      }
      return again;
    }
    const run = this.checkBatch(actor, kind, manual)
      .catch((err) => log.error(`batch check of miner ${actor} (${kind}) failed:`, err))
      .finally(() => this.flushing.delete(key));
    this.flushing.set(key, run);
    return run;
  }

  pendingCount(actor: number, kind: CommitKind): number {
    return this.kv.count(KEY.pending(kind, actor));
  }

  /** Marks a sector as waiting for its `kind` message; call inside the transaction that accepts it. */
  markPending(kind: CommitKind, sid: SectorID, since: number): void {
    this.kv.putJSON(KEY.pending(kind, sid.Miner, sid.Number), { since } satisfies PendingEntry);
  }

  isPending(kind: CommitKind, sid: SectorID): boolean {
    return this.kv.has(KEY.pending(kind, sid.Miner, sid.Number));
  }

  /** Drops a sector's pending mark; call inside the caller's transaction. */
  unmarkPending(kind: CommitKind, sid: SectorID): void {
    this.kv.del(KEY.pending(kind, sid.Miner, sid.Number));
  }

  /** Whether a built message still waits in the outbox to be pushed. */
  inOutbox(cid: string): boolean {
    return this.kv.has(KEY.outbox(cid));
  }

  /** For tests and the bench: what is waiting in the outbox. */
  outboxSize(): number {
    return this.kv.count(KEY.outboxes);
  }

  /** Counts messages that reached a final state (metrics); cheap, called once per epoch. */
  async observeLandings(): Promise<void> {
    for (const { key, value } of this.kv.scanParsed(KEY.inflights, InflightSchema)) {
      const cid = key.slice(KEY.inflights.length);
      let look: MessageLookup | undefined;
      try {
        look = await this.deps.chain.messageLookup(cid);
      } catch {
        continue;
      }
      if (!look || (look.status !== "landed" && look.status !== "failed")) continue;
      this.kv.del(key);
      const m = this.deps.metrics;
      if (!m) continue;
      m.messagesDone.inc({ miner: value.actor, method: value.method, result: look.status });
      const kind = [...this.kinds.values()].find((k) => k.method === value.method)?.metricKind ?? value.method;
      for (const n of value.sectors) {
        const ok = look.status === "landed" && look.results?.find((r) => r.number === n)?.ok !== false;
        m.sectorsLanded.inc({ miner: value.actor, kind, result: ok ? "ok" : "rejected" });
      }
    }
  }

  private async checkBatch(actor: number, kindName: CommitKind, manual: boolean): Promise<void> {
    await this.pushOutbox();
    const miner = this.deps.miners().find((m) => m.actor === actor);
    const kind = this.kinds.get(kindName);
    const policy = miner && kind?.policy(miner);
    if (!kind || !policy) return;
    const pending = this.kv.scanParsed(KEY.pending(kindName, actor), PendingEntrySchema);
    if (
      !batchDue(
        policy,
        pending.map((e) => e.value),
        this.now(),
        manual,
      )
    )
      return;
    const ready = pending
      .map((e) => this.deps.states.get("online", { Miner: actor, Number: pendingNumber(e.key) }))
      .filter((st): st is SectorState => st !== undefined && kind.ready(st));
    const prepared = await kind.prepare(actor, ready);
    this.buildBatches(actor, kind, prepared);
    // The outbox records must be on disk before anything leaves the process.
    await this.deps.store.sync();
    await this.pushOutbox();
  }

  /** One transaction: outbox messages written, sectors stamped, pending marks cleared. */
  private buildBatches(actor: number, kind: BatchKind, prepared: PreparedBatch): void {
    this.deps.store.transaction(() => {
      const entries = this.kv.scan(KEY.pending(kind.kind, actor));
      const states: SectorState[] = [];
      for (const e of entries) {
        const state = this.deps.states.get("online", { Miner: actor, Number: pendingNumber(e.key) });
        if (!state || !kind.ready(state)) this.kv.del(e.key);
        else if (prepared.goes(state.ID.Number)) states.push(state);
      }
      for (let i = 0; i < states.length; i += MAX_SECTORS_PER_MESSAGE) {
        const chunk = states.slice(i, i + MAX_SECTORS_PER_MESSAGE);
        const nonce = (this.kv.getParsed(KEY.nonce(actor), NonceSchema) ?? 0) + 1;
        this.kv.putJSON(KEY.nonce(actor), nonce);
        const msg = prepared.message(nonce, chunk);
        const cid = messageId(msg);
        this.kv.putJSON(KEY.outbox(cid), msg);
        this.kv.putJSON(KEY.inflight(cid), {
          actor,
          method: msg.method,
          sectors: chunk.map((s) => s.ID.Number),
        } satisfies Inflight);
        for (const s of chunk) {
          this.deps.states.update(s.ID, (st) => kind.stamp(st, cid));
          this.kv.del(KEY.pending(kind.kind, actor, s.ID.Number));
        }
        log.info(
          `miner ${actor}: ${msg.method} ${cid} with ${chunk.length} sector(s): ${chunk.map((s) => s.ID.Number).join(", ")}`,
        );
      }
    });
  }

  private async pushOutbox(): Promise<void> {
    for (const { key, value: msg } of this.kv.scanParsed(KEY.outboxes, ChainMessageSchema)) {
      const cid = key.slice(KEY.outboxes.length);
      try {
        const pushed = await this.deps.chain.pushMessage(msg);
        if (pushed !== cid) log.error(`chain answered id ${pushed} for message ${cid}; tracking ${cid}`);
        this.kv.del(key);
        this.deps.metrics?.messagesPushed.inc({ miner: msg.from, method: msg.method });
      } catch (err) {
        log.warn(`pushing message ${cid} failed, will retry: ${(err as Error).message}`);
      }
    }
  }
}

function pendingNumber(key: string): number {
  return Number(key.slice(key.lastIndexOf("/") + 1));
}
