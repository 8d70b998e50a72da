import * as v from "valibot";

/** `[Miners.Commitment.<Pre|Prove>.Batch]` as the batcher reads it (durations in ms). */
export interface BatchPolicy {
  threshold: number;
  maxWaitMs: number;
  checkIntervalMs: number;
}

/** The messages the batcher builds: PreCommitSectorBatch2, ProveCommitSectors3 and (SnapDeals) ProveReplicaUpdates. */
export type CommitKind = "pre" | "prove" | "snap";

export interface CommitMiner {
  actor: number;
  sectorSize: number;
  pre: BatchPolicy;
  prove: BatchPolicy;
  /** `[Miners.SnapUp.Batch]`, for miners with SnapUp enabled. */
  snap?: BatchPolicy;
}

/** The most sectors one batch message carries. */
export const MAX_SECTORS_PER_MESSAGE = 256;

/** A sector waiting for its batch (the `commit/pending/…` record). */
export const PendingEntrySchema = v.object({
  /** unix ms from which MaxWait is measured: submission for PreCommit, the seed epoch for ProveCommit. */
  since: v.number(),
});
export type PendingEntry = v.InferOutput<typeof PendingEntrySchema>;

/**
 * The batch rule of the original: send when the pending count reaches Threshold, when asked to, or — at a
 * check — as soon as any pending sector has waited MaxWait. Everything pending goes in that send.
 */
export function batchDue(policy: BatchPolicy, pending: readonly PendingEntry[], now: number, manual = false): boolean {
  if (pending.length === 0) return false;
  if (manual || pending.length >= policy.threshold) return true;
  return pending.some((p) => now - p.since >= policy.maxWaitMs);
}
