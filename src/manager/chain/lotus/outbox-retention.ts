import { childLogger } from "../../../core/log/index.ts";
import type { KVStore } from "../../../core/store/index.ts";
import { FINALITY_EPOCHS, lifetimeEpochs, PruneSchedule } from "../../../core/store/retention.ts";
import { Outbox } from "./outbox.ts";

const log = childLogger("lotus-sender");

/** Prunes at most this often (epochs): the index walk is cheap, but there is no need to run it every head. */
const PRUNE_EVERY_EPOCHS = 60;

export interface OutboxRetentionOptions {
  store: KVStore;
  /** `[Common.API] MessageLifetime` in ms; 0 keeps every record. */
  lifetimeMs: number;
  blockTimeMs: number;
}

/**
 * Drops the outbox records of messages executed longer ago than MessageLifetime (never less than
 * finality). Pending messages have no execution height and stay until they are found. A pruned message's
 * id is forgotten: pushing the same message again would send a new one, which is why the lifetime is far
 * longer than any sector or deadline waits on its message.
 */
export class OutboxRetention {
  readonly keepEpochs: number | undefined;
  private readonly outbox: Outbox;
  private readonly schedule = new PruneSchedule(PRUNE_EVERY_EPOCHS);

  constructor(opts: OutboxRetentionOptions) {
    this.outbox = new Outbox(opts.store);
    this.keepEpochs = lifetimeEpochs(opts.lifetimeMs, opts.blockTimeMs, FINALITY_EPOCHS);
  }

  /** Feed every head; prunes when due. Never throws. */
  onEpoch(epoch: number): void {
    if (this.keepEpochs === undefined || !this.schedule.due(epoch)) return;
    try {
      this.prune(epoch);
    } catch (err) {
      log.warn(`pruning the message outbox at epoch ${epoch} failed: ${(err as Error).message}`);
    }
  }

  /** Deletes the records of messages executed more than keepEpochs before `epoch`; returns how many. */
  prune(epoch: number): number {
    if (this.keepEpochs === undefined) return 0;
    const before = epoch - this.keepEpochs;
    if (before <= 0) return 0;
    const removed = this.outbox.prune(before);
    if (removed > 0)
      log.info(`removed ${removed} outbox record(s) of messages executed before epoch ${before} (MessageLifetime)`);
    else log.debug(`no outbox record of a message executed before epoch ${before} to remove`);
    return removed;
  }
}
