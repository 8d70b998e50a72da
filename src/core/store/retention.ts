/**
 * Retention of history records (PoSt records, landed messages, the devnet's blocks): a lifetime set as a
 * duration in the configuration, counted in epochs against time-ordered keys, so a prune is one range
 * delete per key family instead of a read of every record.
 */

/** Filecoin's finality in epochs: a message is final once this deep, so a node may forget it after. */
export const FINALITY_EPOCHS = 900;

/**
 * The epochs of history a lifetime keeps: the lifetime in blocks (rounded up), never fewer than
 * `floorEpochs` (what the owner still reads: the previous proving period, finality). A lifetime of 0
 * keeps everything (undefined).
 */
export function lifetimeEpochs(lifetimeMs: number, blockTimeMs: number, floorEpochs: number): number | undefined {
  if (lifetimeMs <= 0) return undefined;
  return Math.max(Math.ceil(lifetimeMs / Math.max(1, blockTimeMs)), floorEpochs);
}

/**
 * Runs a prune at most once every `everyEpochs` epochs (the first call always runs): heads arrive every
 * epoch, and a prune that finds nothing still costs a query per key family.
 */
export class PruneSchedule {
  private last: number | undefined;

  constructor(private readonly everyEpochs: number) {}

  due(epoch: number): boolean {
    if (this.last !== undefined && epoch - this.last < this.everyEpochs && epoch >= this.last) return false;
    this.last = epoch;
    return true;
  }
}

/** Epochs in keys are zero-padded to this width so key order is epoch order. */
export const EPOCH_KEY_WIDTH = 12;

export function epochKey(epoch: number): string {
  return String(epoch).padStart(EPOCH_KEY_WIDTH, "0");
}
