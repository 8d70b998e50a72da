import { childLogger } from "../../core/log/index.ts";
import type { ChainPolicy } from "../../core/sector/chain.ts";
import type { KVStore } from "../../core/store/index.ts";
import { lifetimeEpochs, PruneSchedule } from "../../core/store/retention.ts";
import { pruneRecords } from "./records.ts";

const log = childLogger("poster");

export interface PoSterRetentionOptions {
  store: KVStore;
  actors: readonly number[];
  /** `[Common.Proving] RecordLifetime` in ms; 0 keeps every record. */
  lifetimeMs: number;
  policy: ChainPolicy;
}

/**
 * Drops the poster's records of deadline instances older than RecordLifetime, once per challenge window.
 * At least two proving periods are always kept: the poster still follows the previous instance's message,
 * and `proving deadlines` shows the last outcome of every deadline.
 */
export class PoSterRetention {
  readonly keepEpochs: number | undefined;
  private readonly schedule: PruneSchedule;

  constructor(private readonly opts: PoSterRetentionOptions) {
    const p = opts.policy;
    const period = p.wpostPeriodDeadlines * p.wpostChallengeWindow;
    this.keepEpochs = lifetimeEpochs(opts.lifetimeMs, p.blockTimeMs, 2 * period);
    this.schedule = new PruneSchedule(p.wpostChallengeWindow);
  }

  /** Feed every head; prunes when due. Never throws. */
  onEpoch(epoch: number): void {
    if (this.keepEpochs === undefined || !this.schedule.due(epoch)) return;
    try {
      this.prune(epoch);
    } catch (err) {
      log.warn(`pruning PoSt records at epoch ${epoch} failed: ${(err as Error).message}`);
    }
  }

  /** Deletes the records of instances that opened more than keepEpochs before `epoch`; returns how many. */
  prune(epoch: number): number {
    if (this.keepEpochs === undefined) return 0;
    const before = epoch - this.keepEpochs;
    if (before <= 0) return 0;
    const kv = this.opts.store.collection("prover");
    const removed = this.opts.store.transaction(() =>
      this.opts.actors.reduce((n, actor) => n + pruneRecords(kv, actor, before), 0),
    );
    if (removed > 0)
      log.info(`removed ${removed} PoSt record(s) of deadlines opened before epoch ${before} (RecordLifetime)`);
    else log.debug(`no PoSt record older than epoch ${before} to remove`);
    return removed;
  }
}
