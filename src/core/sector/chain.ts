import { createHash } from "node:crypto";
import * as v from "valibot";
import {
  type BlockRecord,
  type ChainHead,
  type ChainMessage,
  type ChainPolicy,
  type DeadlineInfo,
  type FaultRecord,
  type MessageLookup,
  type MinerInfo,
  type PoStRecord,
  PreCommitParamsSchema,
  type ProvingPartition,
  type ProvingSector,
  ProvingSectorSchema,
  type ProvingStats,
  type RejectionCode,
} from "./api-chain.ts";
import { messageCid } from "./cid.ts";

/**
 * What the manager needs from a Filecoin chain: the contract between the manager and the chain it talks to,
 * in core because both sides use it. The embedded devnet (src/devnet/) implements it; a Lotus/Venus
 * client can implement it later. Epochs are integers, commitments and randomness raw 32-byte arrays.
 * The types the PoSt modules exchange with a chain are defined once, as the schemas of the
 * Damocles.PoStChain* API (core/sector/api-chain.ts) that a proxy node reaches the chain through.
 */

export {
  type BlockRecord,
  type ChainHead,
  type ChainMessage,
  type ChainPolicy,
  type DeadlineInfo,
  type DeadlineOutcome,
  type FaultRecord,
  MESSAGE_METHODS,
  type MessageLookup,
  type MessageMethod,
  type MessageStatus,
  type MinerInfo,
  type PoStMessage,
  type PoStPartitionParams,
  type PoStProofWire,
  type PoStRecord,
  type PreCommitParams,
  type ProveCommitParams,
  type ProvingPartition,
  type ProvingSector,
  type ProvingStats,
  type RejectionCode,
  type ReplicaUpdateMessage,
  type ReplicaUpdateParams,
  type SealMessage,
  type SectorResult,
  type SubmitWindowedPoStParams,
} from "./api-chain.ts";

const int = v.pipe(v.number(), v.safeInteger());
const nonNegative = v.pipe(int, v.minValue(0));

/** A PreCommit as the chain holds it until its ProveCommit lands or it expires. */
export const OnChainPreCommitSchema = v.object({ ...PreCommitParamsSchema.entries, preCommitEpoch: int });
export type OnChainPreCommit = v.InferOutput<typeof OnChainPreCommitSchema>;

const commitment = v.pipe(v.array(v.pipe(int, v.minValue(0), v.maxValue(255))), v.length(32));

export const OnChainSectorSchema = v.object({
  number: ProvingSectorSchema.entries.number,
  sealProof: ProvingSectorSchema.entries.sealProof,
  /** The replica's CommR: the sealed CID, or after a replica update the updated replica's. */
  commR: ProvingSectorSchema.entries.commR,
  activation: int,
  expiration: int,
  deadline: nonNegative,
  partition: nonNegative,
  /** The deals activated in the sector (at ProveCommit or by its replica update); absent in older records: none. */
  dealIds: v.optional(v.array(nonNegative)),
  /** The CC replica's CommR once the sector was updated (builtin SectorKeyCID); absent while it never was. */
  sectorKeyCommR: v.optional(commitment),
});
export type OnChainSector = v.InferOutput<typeof OnChainSectorSchema>;

/** Whether a sector's replica is a snap update (it has a sector key): PoSt proves its update/ file. */
export function isUpgraded(sector: OnChainSector): boolean {
  return sector.sectorKeyCommR !== undefined;
}

/** One deadline of a miner: its partitions, each the sector numbers assigned to it. */
export const DeadlineStateSchema = v.object({ index: nonNegative, partitions: v.array(v.array(nonNegative)) });
export type DeadlineState = v.InferOutput<typeof DeadlineStateSchema>;

/**
 * A storage deal proposal as the devnet's market takes it (builtin market DealProposal): the piece by its
 * CID and padded size, the parties (the provider as a miner actor id), the epochs it runs between.
 */
export const DealProposalParamsSchema = v.object({
  pieceCid: v.pipe(v.string(), v.minLength(1)),
  pieceSize: v.pipe(int, v.minValue(1)),
  client: v.pipe(v.string(), v.minLength(1)),
  provider: nonNegative,
  startEpoch: int,
  endEpoch: int,
  verified: v.boolean(),
  label: v.string(),
});
export type DealProposalParams = v.InferOutput<typeof DealProposalParamsSchema>;

/** published: waiting for a sector; active: its sector was proven; expired: its start epoch passed first. */
export const ON_CHAIN_DEAL_STATES = ["published", "active", "expired", "slashed"] as const;

export const OnChainDealSchema = v.object({
  id: nonNegative,
  proposal: DealProposalParamsSchema,
  state: v.picklist(ON_CHAIN_DEAL_STATES),
  publishEpoch: int,
  /** The sector the deal was activated in. */
  sectorNumber: v.optional(nonNegative),
  activationEpoch: v.optional(int),
  /** The epoch the deal expired or was slashed at. */
  closedEpoch: v.optional(int),
});
export type OnChainDeal = v.InferOutput<typeof OnChainDealSchema>;

/** A deal the chain's market refused to publish, with the reason as a code. */
export class DealRejectedError extends Error {
  override name = "DealRejectedError";
  constructor(
    readonly code: RejectionCode,
    message: string,
  ) {
    super(message);
  }
}

export interface MinerPower {
  rawBytes: number;
  activeSectors: number;
  /** Active sectors currently faulty (they earn no power). */
  faultySectors: number;
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
  /**
   * Publishes a storage deal (the market's PublishStorageDeals). The same proposal again answers the deal
   * it already made. A proposal the market refuses throws DealRejectedError with the reason's code.
   */
  publishDeal(proposal: DealProposalParams): Promise<OnChainDeal>;
  marketDeal(id: number): Promise<OnChainDeal | undefined>;
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
  ErrNotFound: 17,
  ErrForbidden: 18,
  ErrIllegalState: 20,
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
