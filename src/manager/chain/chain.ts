import { createHash } from "node:crypto";
import { messageCid } from "../../core/sector/index.ts";

/**
 * What the manager needs from a Filecoin chain. The embedded devnet implements it; a Lotus/Venus
 * client can implement it later. Epochs are integers, commitments and randomness raw 32-byte arrays.
 */

export interface ChainHead {
  epoch: number;
  /** Unix ms at which this epoch began. */
  timestamp: number;
}

/** Protocol numbers the manager's checks and waits depend on. */
export interface ChainPolicy {
  blockTimeMs: number;
  preCommitChallengeDelay: number;
  sealRandomnessLookback: number;
  /** A PreCommit whose ticket epoch is older than head − maxTicketAge is rejected. */
  maxTicketAge: number;
  /** A ProveCommit must land within this many epochs after the PreCommit landed. */
  maxProveCommitDuration: number;
  /** Epochs after the seed epoch before WaitSeed hands the seed out. */
  interactivePoRepConfidence: number;
  wpostPeriodDeadlines: number;
  wpostChallengeWindow: number;
  wpostChallengeLookback: number;
  /** Epochs between a message's inclusion and the moment it counts as landed. */
  messageConfidence: number;
}

export interface MinerInfo {
  actor: number;
  sectorSize: number;
  sealProofType: number;
  windowPoStProofType: number;
}

export const MESSAGE_METHODS = ["PreCommitSectorBatch2", "ProveCommitSectors3", "SubmitWindowedPoSt"] as const;
export type MessageMethod = (typeof MESSAGE_METHODS)[number];

export interface PreCommitParams {
  number: number;
  sealProof: number;
  commR: number[];
  commD: number[];
  sealRandEpoch: number;
  dealIds: number[];
}

export interface ProveCommitParams {
  number: number;
  /** base64 proof bytes */
  proof: string;
}

/** One partition of a WindowPoSt submission, with the fault and recovery declarations that ride along. */
export interface PoStPartitionParams {
  index: number;
  /** Sectors left out of this proof: declared faulty from now on. */
  skipped: number[];
  /** Faulty sectors proven again in this proof: recovered when it verifies. */
  recovered: number[];
}

export interface SubmitWindowedPoStParams {
  deadline: number;
  /** Open epoch of the deadline instance the proof is for (a proof for another instance is refused). */
  open: number;
  partitions: PoStPartitionParams[];
  /** base64 proof bytes with their RegisteredPoStProof. */
  proofs: { postProof: number; proof: string }[];
}

export type SealMessage =
  | { from: number; nonce: number; method: "PreCommitSectorBatch2"; sectors: PreCommitParams[] }
  | { from: number; nonce: number; method: "ProveCommitSectors3"; sectors: ProveCommitParams[] };
export type PoStMessage = { from: number; nonce: number; method: "SubmitWindowedPoSt"; post: SubmitWindowedPoStParams };
export type ChainMessage = SealMessage | PoStMessage;

/** pending: in the message pool; packed: executed in a block; landed: packed + confidence; failed: executed with a non-zero exit code. */
export type MessageStatus = "pending" | "packed" | "landed" | "failed";

export interface SectorResult {
  number: number;
  ok: boolean;
  error?: string;
}

export interface MessageLookup {
  cid: string;
  message: ChainMessage;
  status: MessageStatus;
  pushedEpoch: number;
  packedEpoch?: number;
  landedEpoch?: number;
  exitCode?: number;
  error?: string;
  /** Per-sector outcome of a batch; a message can succeed while some of its sectors did not. */
  results?: SectorResult[];
}

export interface OnChainPreCommit {
  number: number;
  sealProof: number;
  commR: number[];
  commD: number[];
  sealRandEpoch: number;
  dealIds: number[];
  preCommitEpoch: number;
}

export interface OnChainSector {
  number: number;
  sealProof: number;
  commR: number[];
  activation: number;
  expiration: number;
  deadline: number;
  partition: number;
}

export interface DeadlineInfo {
  currentEpoch: number;
  periodStart: number;
  index: number;
  open: number;
  close: number;
  challenge: number;
}

export interface DeadlineState {
  index: number;
  partitions: number[][];
}

export interface MinerPower {
  rawBytes: number;
  activeSectors: number;
  /** Active sectors currently faulty (they earn no power). */
  faultySectors: number;
}

/** A sector as the chain knows it for proving. */
export interface ProvingSector {
  number: number;
  sealProof: number;
  commR: number[];
}

/** A partition of the deadline instance being proven: the sectors it must prove at its challenge epoch. */
export interface ProvingPartition {
  index: number;
  sectors: ProvingSector[];
  /** Those of `sectors` that are faulty now (they need a recovery to be proven again). */
  faults: number[];
  /** A verified proof for this partition has landed in this deadline instance. */
  proven: boolean;
}

export type DeadlineOutcome = "proven" | "partially-faulty" | "missed" | "empty";

/** What happened in one deadline instance (periodStart + index), as the chain recorded it. */
export interface PoStRecord {
  actor: number;
  deadline: number;
  periodStart: number;
  open: number;
  close: number;
  challenge: number;
  partitions: { index: number; sectors: number[]; proven: boolean; provenEpoch?: number; message?: string }[];
  /** Set when the deadline closed. */
  outcome?: DeadlineOutcome;
  /** Proofs verified in this instance (one per accepted message). */
  verifiedProofs: number;
  /** Messages whose proof failed verification. */
  rejectedProofs: number;
  declaredFaults: number[];
  /** Sectors that became faulty because their partition was not proven before close. */
  detectedFaults: number[];
  recovered: number[];
}

export interface FaultRecord {
  number: number;
  since: number;
  /** declared: skipped by the miner's own proof; detected: the deadline closed without a proof. */
  kind: "declared" | "detected";
  reason: string;
}

/** Totals per miner since genesis. */
export interface ProvingStats {
  windowPoStsVerified: number;
  windowPoStsRejected: number;
  faultsDeclared: number;
  faultsDetected: number;
  recoveries: number;
  deadlinesMissed: number;
  blocksMined: number;
  winningPoStsRejected: number;
}

export interface BlockRecord {
  actor: number;
  epoch: number;
  ok: boolean;
  error?: string;
  sectors: number;
}

export interface Chain extends PoStChain {
  readonly kind: string;
  head(): Promise<ChainHead>;
  policy(): ChainPolicy;
  minerInfo(actor: number): Promise<MinerInfo | undefined>;
  listMiners(): Promise<MinerInfo[]>;
  ticketRandomness(actor: number, epoch: number): Promise<Uint8Array>;
  interactiveSeedRandomness(actor: number, epoch: number): Promise<Uint8Array>;
  windowPoStRandomness(actor: number, epoch: number): Promise<Uint8Array>;
  /** Idempotent per message: pushing the same message again returns the same id and changes nothing. */
  pushMessage(msg: ChainMessage): Promise<string>;
  messageLookup(cid: string): Promise<MessageLookup | undefined>;
  preCommitInfo(actor: number, number: number): Promise<OnChainPreCommit | undefined>;
  sectorInfo(actor: number, number: number): Promise<OnChainSector | undefined>;
  isSectorNumberAllocated(actor: number, number: number): Promise<boolean>;
  provingDeadline(actor: number): Promise<DeadlineInfo>;
  deadlines(actor: number): Promise<DeadlineState[]>;
  minerPower(actor: number): Promise<MinerPower>;
  close(): void;
}

/**
 * What the PoSt modules (poster, miner) need from a chain. The devnet serves it in-process; a proxy node
 * reaches the same devnet over RPC (RemotePoStChain), like two Lotus clients of one chain.
 */
export interface PoStChain {
  head(): Promise<ChainHead>;
  policy(): ChainPolicy;
  minerInfo(actor: number): Promise<MinerInfo | undefined>;
  provingDeadline(actor: number): Promise<DeadlineInfo>;
  /** The partitions of the deadline instance `dl` (by its open epoch) with the sectors it must prove. */
  provingPartitions(actor: number, open: number): Promise<ProvingPartition[]>;
  windowPoStRandomness(actor: number, epoch: number): Promise<Uint8Array>;
  pushMessage(msg: ChainMessage): Promise<string>;
  messageLookup(cid: string): Promise<MessageLookup | undefined>;
  /** Whether `actor` is elected to produce a block at `epoch` (power-weighted, from the beacon). */
  isElected(actor: number, epoch: number): Promise<boolean>;
  winningPoStRandomness(actor: number, epoch: number): Promise<Uint8Array>;
  /** The sectors a WinningPoSt at `epoch` draws its challenges from (active, not faulty), by number. */
  winningSectorSet(actor: number, epoch: number): Promise<ProvingSector[]>;
  /** Submits the block of an election won at `epoch`; the chain verifies its WinningPoSt. */
  submitBlock(actor: number, epoch: number, proofs: { postProof: number; proof: string }[]): Promise<BlockRecord>;
  faults(actor: number): Promise<FaultRecord[]>;
  postRecords(actor: number, limit?: number): Promise<PoStRecord[]>;
  provingStats(actor: number): Promise<ProvingStats>;
}

/** Exit codes the manager distinguishes (builtin-actors numbering). */
export const ExitCode = {
  Ok: 0,
  SysErrOutOfGas: 7,
  SysErrInsufficientFunds: 6,
  ErrIllegalArgument: 16,
  ErrForbidden: 18,
} as const;

function canonicalJSON(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJSON).join(",")}]`;
  if (value && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    return `{${Object.keys(obj)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJSON(obj[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * A message's id, a CID over its canonical content (sender, nonce, method, params). The manager records it
 * before pushing, and a chain answers the same id for the same message, so a push repeated after a crash is
 * recognised instead of sent twice.
 */
export function messageId(msg: ChainMessage): string {
  return messageCid(new Uint8Array(createHash("sha256").update(canonicalJSON(msg)).digest()));
}
