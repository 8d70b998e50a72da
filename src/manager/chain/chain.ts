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

export const MESSAGE_METHODS = ["PreCommitSectorBatch2", "ProveCommitSectors3"] as const;
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

export type ChainMessage =
  | { from: number; nonce: number; method: "PreCommitSectorBatch2"; sectors: PreCommitParams[] }
  | { from: number; nonce: number; method: "ProveCommitSectors3"; sectors: ProveCommitParams[] };

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
}

export interface Chain {
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
