import * as v from "valibot";
import { childLogger } from "../core/log/index.ts";
import { ChainMessageSchema } from "../core/sector/api-chain.ts";
import {
  type ChainMessage,
  ExitCode,
  type MessageLookup,
  messageId,
  type RejectionCode,
  type SectorResult,
} from "../core/sector/chain.ts";
import type { DevnetClock } from "./clock.ts";
import type { DevnetSettings } from "./config.ts";
import { type DevnetStore, K } from "./store.ts";

const log = childLogger("devnet");

/** How a message's execution ended: it is packed (and lands later), or it failed for good, with the reason. */
export type Execution =
  | { ok: true; results?: SectorResult[] }
  | { ok: false; code: RejectionCode; error: string; results?: SectorResult[] };

/** A refusal with its reason code; the message is for logs and operators. */
export function rejected(code: RejectionCode, error: string): { ok: false; code: RejectionCode; error: string } {
  return { ok: false, code, error };
}

/**
 * The builtin-actors exit code a refusal executes with (its receipt's ExitCode); the RejectionCode itself
 * travels beside it (MessageLookup.code, the receipt's DevnetOutcome) so the manager keeps the detail.
 *
 * | exit code                | refusals                                                                     |
 * |--------------------------|------------------------------------------------------------------------------|
 * | 16 ErrIllegalArgument    | malformed, duplicate, wrong-proof-type, already-allocated, ticket-too-new,   |
 * |                          | ticket-expired, already-proven, too-early, too-late, invalid-proof,          |
 * |                          | wrong-deadline, unknown-partition, future-epoch, not-elected, deal-invalid,  |
 * |                          | deal-foreign, commd-mismatch, sector-has-deals, already-updated              |
 * | 17 ErrNotFound           | unknown-miner, no-precommit, unknown-sector                                  |
 * | 18 ErrForbidden          | forbidden (the sender is not the worker or a control address)                |
 * | 20 ErrIllegalState       | unverifiable, deal-in-use, deal-started, sector-faulty, immutable-deadline,  |
 * |                          | internal                                                                     |
 */
export const EXIT_CODE_OF: Record<RejectionCode, number> = {
  malformed: ExitCode.ErrIllegalArgument,
  duplicate: ExitCode.ErrIllegalArgument,
  "wrong-proof-type": ExitCode.ErrIllegalArgument,
  "already-allocated": ExitCode.ErrIllegalArgument,
  "ticket-too-new": ExitCode.ErrIllegalArgument,
  "ticket-expired": ExitCode.ErrIllegalArgument,
  "already-proven": ExitCode.ErrIllegalArgument,
  "too-early": ExitCode.ErrIllegalArgument,
  "too-late": ExitCode.ErrIllegalArgument,
  "invalid-proof": ExitCode.ErrIllegalArgument,
  "wrong-deadline": ExitCode.ErrIllegalArgument,
  "unknown-partition": ExitCode.ErrIllegalArgument,
  "future-epoch": ExitCode.ErrIllegalArgument,
  "not-elected": ExitCode.ErrIllegalArgument,
  "deal-invalid": ExitCode.ErrIllegalArgument,
  "deal-foreign": ExitCode.ErrIllegalArgument,
  "commd-mismatch": ExitCode.ErrIllegalArgument,
  "sector-has-deals": ExitCode.ErrIllegalArgument,
  "already-updated": ExitCode.ErrIllegalArgument,
  "unknown-miner": ExitCode.ErrNotFound,
  "no-precommit": ExitCode.ErrNotFound,
  "unknown-sector": ExitCode.ErrNotFound,
  forbidden: ExitCode.ErrForbidden,
  unverifiable: ExitCode.ErrIllegalState,
  "deal-in-use": ExitCode.ErrIllegalState,
  "deal-started": ExitCode.ErrIllegalState,
  "sector-faulty": ExitCode.ErrIllegalState,
  "immutable-deadline": ExitCode.ErrIllegalState,
  internal: ExitCode.ErrIllegalState,
};

/**
 * The message pool: pushed messages wait MessagePackDelay epochs to be executed (packed), then
 * MessageLandDelay more to land. Each message is one `msg/<cid>` record; the `mpool/` and `packed/` markers
 * index those still waiting for the next step, `final/<epoch>/` those done with (for retention).
 */
export class MessagePool {
  constructor(
    private readonly db: DevnetStore,
    private readonly clock: DevnetClock,
    private readonly settings: DevnetSettings,
  ) {}

  /** Idempotent: the same message again returns its id and changes nothing. */
  push(msg: ChainMessage): string {
    const cid = messageId(msg);
    if (this.db.kv.has(K.msg(cid))) return cid;
    const checked = v.safeParse(ChainMessageSchema, msg);
    if (!checked.success) {
      const issue = checked.issues[0];
      throw new Error(`malformed message: ${v.getDotPath(issue) ?? "(root)"}: ${issue.message}`);
    }
    if (!this.db.miner(msg.from)) throw new Error(`message from unknown miner f0${msg.from}`);
    this.db.transaction(() => this.add(cid, msg, this.clock.headEpoch()));
    return cid;
  }

  /**
   * Puts a checked message into the pool under `cid` (the internal id, or a signed message's Filecoin
   * CID); both intake paths end here. Call inside a transaction.
   */
  add(cid: string, msg: ChainMessage, pushedEpoch: number): void {
    this.db.putMessage({ cid, message: msg, status: "pending", pushedEpoch });
    this.db.kv.put(K.mpool(cid), "");
    log.debug(`message ${cid} pushed: ${msg.method} of f0${msg.from}`);
  }

  /** Takes a pending message out of the pool (it was replaced by fee); its record goes too. */
  remove(cid: string): void {
    this.db.kv.del(K.mpool(cid));
    this.db.kv.del(K.msg(cid));
  }

  /** Forgets a message that is done with (history.ts): StateSearchMsg no longer finds it. */
  forget(cid: string): void {
    if (this.isPending(cid) || this.db.kv.has(K.packed(cid))) return;
    this.db.kv.del(K.msg(cid));
  }

  isPending(cid: string): boolean {
    return this.db.kv.has(K.mpool(cid));
  }

  lookup(cid: string): MessageLookup | undefined {
    return this.db.message(cid);
  }

  counts(): { pending: number; packed: number } {
    return { pending: this.db.kv.count("mpool/"), packed: this.db.kv.count("packed/") };
  }

  /** Pending messages due for execution at `epoch`, in push order (then nonce). */
  due(epoch: number): MessageLookup[] {
    return this.indexed("mpool/")
      .filter((m) => m.pushedEpoch + this.settings.MessagePackDelay <= epoch)
      .sort((a, b) => a.pushedEpoch - b.pushedEpoch || a.message.nonce - b.message.nonce);
  }

  /** Epochs at which a message takes its next step (execution or landing). */
  nextEvents(after: number): number[] {
    const s = this.settings;
    return [
      ...this.indexed("mpool/").map((m) => m.pushedEpoch + s.MessagePackDelay),
      ...this.indexed("packed/").map((m) => (m.packedEpoch ?? after) + s.MessageLandDelay),
    ];
  }

  /** Records the execution of a pending message at `epoch`. */
  settle(m: MessageLookup, epoch: number, outcome: Execution): void {
    const results = outcome.results ? { results: outcome.results } : {};
    const record: MessageLookup = outcome.ok
      ? { ...m, status: "packed", packedEpoch: epoch, exitCode: ExitCode.Ok, ...results }
      : {
          ...m,
          status: "failed",
          packedEpoch: epoch,
          exitCode: EXIT_CODE_OF[outcome.code],
          error: outcome.error,
          code: outcome.code,
          ...results,
        };
    this.db.putMessage(record);
    this.db.kv.del(K.mpool(m.cid));
    if (outcome.ok) this.db.kv.put(K.packed(m.cid), "");
    else this.db.kv.put(K.final(epoch, m.cid), "");
  }

  /** Packed messages whose confidence has passed by `epoch` land; returns them. */
  land(epoch: number): MessageLookup[] {
    const landed: MessageLookup[] = [];
    for (const m of this.indexed("packed/")) {
      if ((m.packedEpoch ?? epoch) + this.settings.MessageLandDelay <= epoch) {
        const done: MessageLookup = { ...m, status: "landed", landedEpoch: epoch };
        this.db.putMessage(done);
        this.db.kv.del(K.packed(m.cid));
        this.db.kv.put(K.final(epoch, m.cid), "");
        landed.push(done);
      }
    }
    return landed;
  }

  private indexed(prefix: string): MessageLookup[] {
    return this.db.kv
      .scan(prefix)
      .map((e) => this.db.message(e.key.slice(prefix.length)))
      .filter((m): m is MessageLookup => m !== undefined);
  }
}
