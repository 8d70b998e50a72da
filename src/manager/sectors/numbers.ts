import type { Collection, KVStore } from "../../core/store/index.ts";

/**
 * Per-miner sector number counters (collection meta, key sector-number/m-<miner>): strictly increasing,
 * never reused. `next` runs inside the caller's transaction so the number and the new sector state commit
 * together — a number handed out is a number recorded, also across kill -9.
 */

export interface NumberBounds {
  /** The counter's starting value: the first number handed out is InitNumber + 1 (as in the original). */
  initNumber: number;
  minNumber?: number;
  maxNumber?: number;
}

export class SectorNumbers {
  private readonly kv: Collection;

  constructor(readonly store: KVStore) {
    this.kv = store.collection("meta");
  }

  private key(miner: number): string {
    return `sector-number/m-${miner}`;
  }

  /** Last number handed out for the miner, or undefined when none yet. */
  last(miner: number): number | undefined {
    return this.kv.getJSON<number>(this.key(miner));
  }

  /**
   * Reserves the next number, skipping those `taken` reports (e.g. already allocated on chain).
   * Returns undefined when MaxNumber is reached. Must run inside a transaction.
   */
  next(miner: number, bounds: NumberBounds, taken: (n: number) => boolean = () => false): number | undefined {
    let n = Math.max((this.last(miner) ?? bounds.initNumber) + 1, bounds.minNumber ?? 0);
    while (taken(n)) n++;
    if (bounds.maxNumber !== undefined && n > bounds.maxNumber) return undefined;
    this.kv.putJSON(this.key(miner), n);
    return n;
  }
}
