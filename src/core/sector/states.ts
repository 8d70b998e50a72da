/** Result enums exchanged between worker and manager (integers on the wire). */

export const SubmitResult = {
  Unknown: 0,
  Accepted: 1,
  DuplicateSubmit: 2,
  /** Same sector, different content: the worker pauses (permanent). */
  MismatchedSubmission: 3,
  /** The worker aborts the sector. */
  Rejected: 4,
  /** The worker re-persists its files. */
  FilesMissed: 5,
} as const;
export type SubmitResultCode = (typeof SubmitResult)[keyof typeof SubmitResult];

export const OnChainState = {
  Unknown: 0,
  Pending: 1,
  Packed: 2,
  Landed: 3,
  NotFound: 4,
  /** The worker re-submits after a while. */
  Failed: 5,
  /** The worker pauses (permanent). */
  PermFailed: 6,
  /** The worker aborts the sector. */
  ShouldAbort: 7,
} as const;
export type OnChainStateCode = (typeof OnChainState)[keyof typeof OnChainState];

export function submitResultName(code: number): string {
  return Object.entries(SubmitResult).find(([, c]) => c === code)?.[0] ?? `SubmitResult(${code})`;
}

export function onChainStateName(code: number): string {
  return Object.entries(OnChainState).find(([, c]) => c === code)?.[0] ?? `OnChainState(${code})`;
}

/** Worker sector states, in the order of the worker's enum; ReportState carries them by name. */
export const WORKER_STATES = [
  "Empty",
  "Allocated",
  "DealsAcquired",
  "PieceAdded",
  "TreeDBuilt",
  "TicketAssigned",
  "PC1Done",
  "PC2Done",
  "SyntheticPoRepNeeded",
  "PCSubmitted",
  "PCLanded",
  "Persisted",
  "PersistanceSubmitted",
  "SeedAssigned",
  "C1Done",
  "C2Done",
  "ProofSubmitted",
  "Finished",
  "Aborted",
  "SnapEncoded",
  "SnapProved",
  "SealedChecked",
  "SnapPieceAdded",
  "SnapTreeDBuilt",
  "SnapDone",
  "Unsealed",
] as const;
export type WorkerState = (typeof WORKER_STATES)[number];

/** Failure levels a worker reports (ReportStateReq.Failure.Level). */
export const FAILURE_LEVELS = ["Temporary", "Permanent", "Critical", "Abort"] as const;

/** Where the manager keeps a sector: online while sealing, offline once finalized or aborted. */
export const SECTOR_WORKER_STATES = ["online", "offline"] as const;
export type SectorWorkerState = (typeof SECTOR_WORKER_STATES)[number];

/** ListSectors job filter. */
export const SectorWorkerJob = { All: 0, Sealing: 1, SnapUp: 2, Rebuild: 3, Unseal: 4 } as const;
