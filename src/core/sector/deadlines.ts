import type { DeadlineInfo } from "./api-chain.ts";

/**
 * Whether a deadline may change now (builtin-actors deadline_is_mutable): a deadline being proven, or the
 * next one, is frozen, because its WindowPoSt is computed over the sectors (and CommRs) it holds at its
 * challenge. A replica update, which replaces a sector's CommR, is only allowed in a mutable deadline.
 */

export interface DeadlineShape {
  wpostChallengeWindow: number;
  wpostPeriodDeadlines: number;
}

/**
 * The open epoch of the next instance of deadline `index` that has not closed yet, given the miner's
 * current deadline (`current`, from provingDeadline): this period's when it is still ahead or open, else the
 * next period's.
 */
export function nextDeadlineOpen(current: DeadlineInfo, index: number, shape: DeadlineShape): number {
  const w = shape.wpostChallengeWindow;
  const open = current.periodStart + index * w;
  return open + w <= current.currentEpoch ? open + shape.wpostPeriodDeadlines * w : open;
}

/**
 * Epochs from `current.currentEpoch` until deadline `index` is mutable with `margin` epochs to spare (0: it
 * is now). Mutable means: at least one challenge window (plus the margin) before that deadline next opens.
 */
export function epochsUntilMutable(current: DeadlineInfo, index: number, shape: DeadlineShape, margin = 0): number {
  const open = nextDeadlineOpen(current, index, shape);
  if (current.currentEpoch < open - shape.wpostChallengeWindow - margin) return 0;
  // Frozen until this instance closes; then the next instance is a whole period minus a window away.
  return open + shape.wpostChallengeWindow - current.currentEpoch;
}

export function deadlineIsMutable(current: DeadlineInfo, index: number, shape: DeadlineShape, margin = 0): boolean {
  return epochsUntilMutable(current, index, shape, margin) === 0;
}
