import { childLogger } from "../core/log/index.ts";
import type { ChainHead, DeadlineInfo } from "../core/sector/chain.ts";
import type { DevnetSettings } from "./config.ts";
import type { DevnetStore, Genesis } from "./store.ts";

const log = childLogger("devnet");

/**
 * The devnet's clock: epochs follow the wall clock from the genesis anchor (BlockTime), so the chain moves
 * on while the manager is down, like a real one. The head is never behind the last processed epoch.
 */
export class DevnetClock {
  readonly genesis: Genesis;

  constructor(
    private readonly db: DevnetStore,
    settings: DevnetSettings,
    private readonly now: () => number,
  ) {
    this.genesis = loadGenesis(db, settings, now());
  }

  /** The epoch the wall clock is at; epochs up to it may still wait to be processed. */
  wallEpoch(): number {
    return epochAt(this.genesis, this.now());
  }

  processedEpoch(): number {
    return this.db.processed() ?? 0;
  }

  headEpoch(): number {
    return Math.max(this.wallEpoch(), this.processedEpoch());
  }

  head(): ChainHead {
    const g = this.genesis;
    const epoch = this.headEpoch();
    return { epoch, timestamp: g.anchorTime + (epoch - g.anchorEpoch) * g.blockTimeMs };
  }
}

function epochAt(g: Genesis, time: number): number {
  return g.anchorEpoch + Math.max(0, Math.floor((time - g.anchorTime) / g.blockTimeMs));
}

/** The stored genesis, created on first start; a changed BlockTime moves the anchor to the current epoch. */
function loadGenesis(db: DevnetStore, settings: DevnetSettings, now: number): Genesis {
  const stored = db.genesis();
  if (!stored) {
    const g: Genesis = {
      seed: settings.Seed,
      anchorEpoch: 0,
      anchorTime: now,
      blockTimeMs: settings.BlockTime,
      createdAt: now,
    };
    db.putGenesis(g);
    log.info(`devnet genesis: seed "${g.seed}", block time ${g.blockTimeMs} ms`);
    return g;
  }
  if (stored.seed !== settings.Seed) {
    log.warn(
      `[Common.Devnet] Seed "${settings.Seed}" differs from this chain's genesis seed "${stored.seed}"; keeping "${stored.seed}" (changing it would invalidate every ticket and seed)`,
    );
  }
  if (stored.blockTimeMs !== settings.BlockTime) {
    const epoch = epochAt(stored, now);
    const moved: Genesis = { ...stored, anchorEpoch: epoch, anchorTime: now, blockTimeMs: settings.BlockTime };
    db.putGenesis(moved);
    log.info(`devnet block time changed ${stored.blockTimeMs} ms → ${settings.BlockTime} ms at epoch ${epoch}`);
    return moved;
  }
  return stored;
}

export function provingPeriod(settings: DevnetSettings): number {
  return settings.WPoStPeriodDeadlines * settings.WPoStChallengeWindow;
}

/** The deadline of a miner (by its period offset) that is open at `epoch`. */
export function deadlineAt(settings: DevnetSettings, m: { periodOffset: number }, epoch: number): DeadlineInfo {
  const period = provingPeriod(settings);
  const w = settings.WPoStChallengeWindow;
  const periodStart = m.periodOffset + Math.floor((epoch - m.periodOffset) / period) * period;
  const index = Math.floor((epoch - periodStart) / w);
  const open = periodStart + index * w;
  return {
    currentEpoch: epoch,
    periodStart,
    index,
    open,
    close: open + w,
    challenge: open - settings.WPoStChallengeLookback,
  };
}
