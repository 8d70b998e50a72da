import { childLogger } from "../../core/log/index.ts";
import { ChainMessageSchema } from "../../core/sector/api-chain.ts";
import { cidToCommitment, type SectorState } from "../../core/sector/index.ts";
import type { Collection } from "../../core/store/index.ts";
import { type ChainMessage, type MessageLookup, messageId } from "../chain/chain.ts";
import type { CommitDeps } from "./deps.ts";
import { batchDue, type CommitKind, MAX_SECTORS_PER_MESSAGE, PendingEntrySchema } from "./policy.ts";
import { type Inflight, InflightSchema, KEY, NonceSchema } from "./records.ts";

const log = childLogger("commit");

/**
 * The batchers that turn accepted submissions into PreCommitSectorBatch2/ProveCommitSectors3 messages.
 *
 * Crash safety (transactional outbox): a batch is one transaction that writes the message into the
 * outbox, stamps its id on every sector and clears their pending marks; it is on disk before it is
 * pushed; after a crash the outbox is pushed again, and since the id is a hash of the message, the chain
 * recognises the repeat. Nothing is sent twice, nothing accepted is lost.
 */
export class CommitBatcher {
  private timers: ReturnType<typeof setInterval>[] = [];
  private readonly flushing = new Map<string, Promise<void>>();

  constructor(
    private readonly deps: CommitDeps,
    private readonly kv: Collection,
    private readonly now: () => number,
  ) {}

  /** Starts the per-miner batch checks and pushes anything a crash left in the outbox. */
  async start(): Promise<void> {
    await this.pushOutbox();
    for (const m of this.deps.miners()) {
      for (const kind of ["pre", "prove"] as const) {
        const policy = m[kind];
        this.timers.push(setInterval(() => this.kick(m.actor, kind), Math.max(50, policy.checkIntervalMs)));
      }
    }
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  /** Checks one miner's batch now (after a submission, on each tick). Concurrent kicks share one run. */
  kick(actor: number, kind: CommitKind, manual = false): Promise<void> {
    const key = `${actor}/${kind}`;
    const running = this.flushing.get(key);
    if (running) return running;
    const run = this.checkBatch(actor, kind, manual)
      .catch((err) => log.error(`batch check of miner ${actor} (${kind}) failed:`, err))
      .finally(() => this.flushing.delete(key));
    this.flushing.set(key, run);
    return run;
  }

  pendingCount(actor: number, kind: CommitKind): number {
    return this.kv.count(KEY.pending(kind, actor));
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
      const kind = value.method === "PreCommitSectorBatch2" ? "precommit" : "provecommit";
      for (const n of value.sectors) {
        const ok = look.status === "landed" && look.results?.find((r) => r.number === n)?.ok !== false;
        m.sectorsLanded.inc({ miner: value.actor, kind, result: ok ? "ok" : "rejected" });
      }
    }
  }

  private async checkBatch(actor: number, kind: CommitKind, manual: boolean): Promise<void> {
    await this.pushOutbox();
    const miner = this.deps.miners().find((m) => m.actor === actor);
    if (!miner) return;
    const pending = this.kv.scanParsed(KEY.pending(kind, actor), PendingEntrySchema).map((e) => e.value);
    if (!batchDue(miner[kind], pending, this.now(), manual)) return;
    this.buildBatches(actor, kind);
    // The outbox records must be on disk before anything leaves the process.
    await this.deps.store.sync();
    await this.pushOutbox();
  }

  /** One transaction: outbox messages written, sectors stamped, pending marks cleared. */
  private buildBatches(actor: number, kind: CommitKind): void {
    this.deps.store.transaction(() => {
      const entries = this.kv.scan(KEY.pending(kind, actor));
      const states: SectorState[] = [];
      for (const e of entries) {
        const number = Number(e.key.slice(KEY.pending(kind, actor).length));
        const state = this.deps.states.get("online", { Miner: actor, Number: number });
        const ready =
          state?.MessageInfo.NeedSend &&
          (kind === "pre" ? state.Pre && !state.MessageInfo.PreCommitCid : state.Proof && !state.MessageInfo.CommitCid);
        if (ready) states.push(state);
        else this.kv.del(e.key);
      }
      for (let i = 0; i < states.length; i += MAX_SECTORS_PER_MESSAGE) {
        const chunk = states.slice(i, i + MAX_SECTORS_PER_MESSAGE);
        const nonce = (this.kv.getParsed(KEY.nonce(actor), NonceSchema) ?? 0) + 1;
        this.kv.putJSON(KEY.nonce(actor), nonce);
        const msg = batchMessage(actor, nonce, kind, chunk);
        const cid = messageId(msg);
        this.kv.putJSON(KEY.outbox(cid), msg);
        this.kv.putJSON(KEY.inflight(cid), {
          actor,
          method: msg.method,
          sectors: chunk.map((s) => s.ID.Number),
        } satisfies Inflight);
        for (const s of chunk) {
          this.deps.states.update(s.ID, (st) => {
            st.MessageInfo =
              kind === "pre"
                ? { ...st.MessageInfo, PreCommitCid: { "/": cid }, NeedSend: false }
                : { ...st.MessageInfo, CommitCid: { "/": cid }, NeedSend: false };
            delete st.CommitPendingSince;
          });
          this.kv.del(KEY.pending(kind, actor, s.ID.Number));
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

/** The message of one batch chunk: the sectors' PreCommit parameters or their proofs. */
function batchMessage(actor: number, nonce: number, kind: CommitKind, chunk: SectorState[]): ChainMessage {
  return kind === "pre"
    ? {
        from: actor,
        nonce,
        method: "PreCommitSectorBatch2",
        sectors: chunk.map((s) => ({
          number: s.ID.Number,
          sealProof: s.SectorType,
          commR: [...cidToCommitment(s.Pre!.CommR["/"], "sealed")],
          commD: [...cidToCommitment(s.Pre!.CommD["/"], "unsealed")],
          sealRandEpoch: s.Pre!.Ticket.Epoch,
          dealIds: s.Pre!.Deals ?? [],
        })),
      }
    : {
        from: actor,
        nonce,
        method: "ProveCommitSectors3",
        sectors: chunk.map((s) => ({ number: s.ID.Number, proof: s.Proof!.Proof })),
      };
}
