import { childLogger } from "../core/log/index.ts";
import { FINALITY_EPOCHS, lifetimeEpochs, PruneSchedule } from "../core/store/retention.ts";
import type { DevnetSettings } from "./config.ts";
import type { MessageIntake } from "./intake.ts";
import type { MessagePool } from "./mpool.ts";
import { type DevnetStore, K } from "./store.ts";

const log = childLogger("devnet");

/** Set once the `final/` index covers the messages executed before it existed. */
const INDEXED_KEY = "final-indexed";

export interface PrunedHistory {
  posts: number;
  blocks: number;
  messages: number;
}

/**
 * Retention of the devnet's history (`[Common.Devnet] HistoryLifetime`): deadline records (`post/`),
 * blocks (`block/`) and messages done with (landed, failed or replaced: `msg/`, their signed envelope and
 * MsgUuid) older than the lifetime are deleted, once per challenge window. What the chain answers from
 * state stays: sectors, deadlines, faults, accounts, deals, the miners' proving stats (running counters,
 * so `windowposts_verified` and the rest never go down). At least two proving periods (the current
 * deadline's record, the last outcome of each deadline) and finality are always kept, so StateSearchMsg
 * still finds every message a client can still be waiting on.
 */
export class DevnetHistory {
  private readonly schedule: PruneSchedule;

  constructor(
    private readonly db: DevnetStore,
    private readonly settings: DevnetSettings,
    private readonly pool: MessagePool,
    private readonly intake: MessageIntake,
  ) {
    this.schedule = new PruneSchedule(settings.WPoStChallengeWindow);
  }

  /** Epochs of history kept at the store's block time; undefined: all (HistoryLifetime 0). */
  keepEpochs(blockTimeMs: number): number | undefined {
    const s = this.settings;
    const periods = 2 * s.WPoStPeriodDeadlines * s.WPoStChallengeWindow;
    return lifetimeEpochs(s.HistoryLifetime, blockTimeMs, Math.max(periods, FINALITY_EPOCHS));
  }

  /** Called after the epochs up to `epoch` are processed; prunes when due. Never throws. */
  onEpoch(epoch: number, blockTimeMs: number): void {
    if (this.keepEpochs(blockTimeMs) === undefined || !this.schedule.due(epoch)) return;
    try {
      this.prune(epoch, blockTimeMs);
    } catch (err) {
      log.warn(`pruning the devnet's history at epoch ${epoch} failed: ${(err as Error).message}`);
    }
  }

  /** Deletes what is older than the lifetime at `epoch`; returns how many records of each kind. */
  prune(epoch: number, blockTimeMs: number): PrunedHistory {
    const keep = this.keepEpochs(blockTimeMs);
    const pruned: PrunedHistory = { posts: 0, blocks: 0, messages: 0 };
    if (keep === undefined || epoch - keep <= 0) return pruned;
    const before = epoch - keep;
    const kv = this.db.kv;
    this.db.transaction(() => {
      for (const m of this.db.miners()) {
        // A deadline record is keyed by its open epoch, a block by its epoch: both prune as key ranges.
        pruned.posts += kv.deleteBefore(K.posts(m.actor), K.post(m.actor, before));
        pruned.blocks += kv.deleteBefore(K.blocks(m.actor), K.block(m.actor, before));
      }
    });
    pruned.messages = this.pruneMessages(before);
    const total = pruned.posts + pruned.blocks + pruned.messages;
    if (total > 0) {
      log.info(
        `history before epoch ${before} removed (HistoryLifetime): ${pruned.posts} deadline record(s), ${pruned.blocks} block(s), ${pruned.messages} message(s)`,
      );
    } else log.debug(`no history before epoch ${before} to remove`);
    return pruned;
  }

  /** Message ids are hashes: the `final/<epoch>/<cid>` index, walked from its oldest end, finds them. */
  private pruneMessages(before: number, pageSize = 500): number {
    this.indexOnce();
    const bound = K.final(before, "");
    let removed = 0;
    for (;;) {
      const page = this.db.kv.page(K.finals, { limit: pageSize }).filter((e) => e.key < bound);
      if (page.length === 0) return removed;
      this.db.transaction(() => {
        for (const { key } of page) {
          const cid = key.slice(key.lastIndexOf("/") + 1);
          this.pool.forget(cid);
          this.intake.forget(cid);
          this.db.kv.del(key);
          removed++;
        }
      });
      if (page.length < pageSize) return removed;
    }
  }

  /** Indexes the messages settled before the index existed (stores of an older version); once per store. */
  private indexOnce(): void {
    const kv = this.db.kv;
    if (kv.has(INDEXED_KEY)) return;
    this.db.transaction(() => {
      const prefix = K.msg("");
      for (const { key } of kv.entries(prefix)) {
        const m = this.db.message(key.slice(prefix.length));
        if (!m) continue;
        const at = m.status === "landed" ? m.landedEpoch : m.status === "failed" ? m.packedEpoch : undefined;
        if (at !== undefined) kv.put(K.final(at, m.cid), "");
      }
      kv.put(INDEXED_KEY, "");
    });
  }
}
