import * as v from "valibot";
import { defineMethod } from "../rpc/method.ts";
import { DeadlineInfoSchema, FaultRecordSchema, PoStRecordSchema, ProvingStatsSchema } from "./api-proving.ts";

/**
 * `Damocles.PoStChain*`: the PoStChain interface (core/sector/chain.ts) over JSON-RPC, so a proxy
 * node (`--proxy`, `poster run`) proves against the chain its source manager hosts, the way two Lotus
 * clients share one node. Ours, not the original's: its proxy reached the chain through Lotus directly.
 *
 * The PoSt types are defined here once, as schemas; chain.ts re-exports the inferred types under their
 * old names. Byte encoding on the wire: randomness (a Uint8Array in PoStChain) travels as base64, like
 * Venus tickets and seeds; commitments stay the number[] the chain types already hold, and proofs stay
 * the base64 strings they already are. Params are validated by the server, results by the client.
 */

const int = v.pipe(v.number(), v.safeInteger());
const nonNegative = v.pipe(int, v.minValue(0));
const byte = v.pipe(int, v.minValue(0, "a byte is 0..255"), v.maxValue(255, "a byte is 0..255"));
/** A 32-byte commitment (CommR, CommD) as an array of numbers. */
const commitment = v.pipe(v.array(byte), v.length(32, "a commitment is 32 bytes"));
const base64 = v.pipe(v.string(), v.regex(/^[A-Za-z0-9+/]*={0,2}$/, "expected base64"));

export const ChainHeadSchema = v.object({
  epoch: int,
  /** Unix ms at which this epoch began. */
  timestamp: int,
});
export type ChainHead = v.InferOutput<typeof ChainHeadSchema>;

/** Protocol numbers the manager's checks and waits depend on. */
export const ChainPolicySchema = v.object({
  blockTimeMs: v.pipe(int, v.minValue(1)),
  preCommitChallengeDelay: int,
  sealRandomnessLookback: int,
  /** A PreCommit whose ticket epoch is older than head − maxTicketAge is rejected. */
  maxTicketAge: int,
  /** A ProveCommit must land within this many epochs after the PreCommit landed. */
  maxProveCommitDuration: int,
  /** Epochs after the seed epoch before WaitSeed hands the seed out. */
  interactivePoRepConfidence: int,
  wpostPeriodDeadlines: v.pipe(int, v.minValue(1)),
  wpostChallengeWindow: v.pipe(int, v.minValue(1)),
  wpostChallengeLookback: int,
  /** Epochs between a message's inclusion and the moment it counts as landed. */
  messageConfidence: int,
});
export type ChainPolicy = v.InferOutput<typeof ChainPolicySchema>;

export const MinerInfoSchema = v.object({
  actor: nonNegative,
  sectorSize: v.pipe(int, v.minValue(1)),
  sealProofType: int,
  windowPoStProofType: int,
});
export type MinerInfo = v.InferOutput<typeof MinerInfoSchema>;

export const MESSAGE_METHODS = [
  "PreCommitSectorBatch2",
  "ProveCommitSectors3",
  "ProveReplicaUpdates",
  "SubmitWindowedPoSt",
] as const;
export type MessageMethod = (typeof MESSAGE_METHODS)[number];

export const PreCommitParamsSchema = v.object({
  number: nonNegative,
  sealProof: int,
  commR: commitment,
  commD: commitment,
  sealRandEpoch: int,
  dealIds: v.array(nonNegative),
});
export type PreCommitParams = v.InferOutput<typeof PreCommitParamsSchema>;

export const ProveCommitParamsSchema = v.object({
  number: nonNegative,
  /** base64 proof bytes */
  proof: base64,
  /**
   * The deals the sector's pieces activate when they travel with the ProveCommit, as builtin
   * ProveCommitSectors3 carries them (its PreCommit then names none and only declares the CommD).
   */
  dealIds: v.optional(v.array(nonNegative)),
});
export type ProveCommitParams = v.InferOutput<typeof ProveCommitParamsSchema>;

/**
 * One sector of a ProveReplicaUpdates message (builtin miner ReplicaUpdate): the CC sector where the miner
 * says it is, the updated replica's CommR, the deals now in it and the update proof. The chain derives the
 * new CommD from the deals and verifies the proof against the sector's current CommR.
 */
export const ReplicaUpdateParamsSchema = v.object({
  number: nonNegative,
  deadline: nonNegative,
  partition: nonNegative,
  newCommR: commitment,
  dealIds: v.array(nonNegative),
  /** abi.RegisteredUpdateProof */
  updateProof: int,
  /** base64 proof bytes */
  proof: base64,
});
export type ReplicaUpdateParams = v.InferOutput<typeof ReplicaUpdateParamsSchema>;

/** A PoSt proof: base64 proof bytes with their RegisteredPoStProof. */
export const PoStProofSchema = v.object({ postProof: int, proof: base64 });
export type PoStProofWire = v.InferOutput<typeof PoStProofSchema>;

/** One partition of a WindowPoSt submission, with the fault and recovery declarations that ride along. */
export const PoStPartitionParamsSchema = v.object({
  index: nonNegative,
  /** Sectors left out of this proof: declared faulty from now on. */
  skipped: v.array(nonNegative),
  /** Faulty sectors proven again in this proof: recovered when it verifies. */
  recovered: v.array(nonNegative),
});
export type PoStPartitionParams = v.InferOutput<typeof PoStPartitionParamsSchema>;

export const SubmitWindowedPoStParamsSchema = v.object({
  deadline: nonNegative,
  /** Open epoch of the deadline instance the proof is for (a proof for another instance is refused). */
  open: int,
  partitions: v.array(PoStPartitionParamsSchema),
  proofs: v.array(PoStProofSchema),
});
export type SubmitWindowedPoStParams = v.InferOutput<typeof SubmitWindowedPoStParamsSchema>;

const sender = { from: nonNegative, nonce: int };
const PreCommitMessageSchema = v.object({
  ...sender,
  method: v.literal("PreCommitSectorBatch2"),
  sectors: v.array(PreCommitParamsSchema),
});
const ProveCommitMessageSchema = v.object({
  ...sender,
  method: v.literal("ProveCommitSectors3"),
  sectors: v.array(ProveCommitParamsSchema),
});
const ReplicaUpdateMessageSchema = v.object({
  ...sender,
  method: v.literal("ProveReplicaUpdates"),
  updates: v.array(ReplicaUpdateParamsSchema),
});
export const PoStMessageSchema = v.object({
  ...sender,
  method: v.literal("SubmitWindowedPoSt"),
  post: SubmitWindowedPoStParamsSchema,
});
export const ChainMessageSchema = v.variant("method", [
  PreCommitMessageSchema,
  ProveCommitMessageSchema,
  ReplicaUpdateMessageSchema,
  PoStMessageSchema,
]);
export type SealMessage = v.InferOutput<typeof PreCommitMessageSchema> | v.InferOutput<typeof ProveCommitMessageSchema>;
export type ReplicaUpdateMessage = v.InferOutput<typeof ReplicaUpdateMessageSchema>;
export type PoStMessage = v.InferOutput<typeof PoStMessageSchema>;
export type ChainMessage = SealMessage | ReplicaUpdateMessage | PoStMessage;

/** pending: in the message pool; packed: executed in a block; landed: packed + confidence; failed: executed with a non-zero exit code. */
export const MessageStatusSchema = v.picklist(["pending", "packed", "landed", "failed"]);
export type MessageStatus = v.InferOutput<typeof MessageStatusSchema>;

/**
 * Why the chain refused something, as a code the manager decides on; the `error` text beside it is for
 * people and may be reworded freely. Records written before codes existed carry none.
 */
export const RejectionCodeSchema = v.picklist([
  /** The sender is not a miner on this chain. */
  "unknown-miner",
  /** The parameters do not describe anything the chain can act on (empty batch or partition list, proofs for nothing). */
  "malformed",
  /** The same sector or partition appears twice in one message. */
  "duplicate",
  /** The seal or PoSt proof type does not fit the miner. */
  "wrong-proof-type",
  "already-allocated",
  /** The PreCommit's ticket epoch is not before the epoch it lands in. */
  "ticket-too-new",
  "ticket-expired",
  /** No PreCommit on chain for the sector (it expired or never landed). */
  "no-precommit",
  "already-proven",
  /** Before the seed epoch has passed; the same proof succeeds later. */
  "too-early",
  /** Past the window the chain allows (ProveCommit after MaxProveCommitDuration, a block for an old epoch). */
  "too-late",
  /** The proof was checked and is wrong, or cannot even be parsed. */
  "invalid-proof",
  /** The chain could not run the check (no verifier, no parameters); says nothing about the proof. */
  "unverifiable",
  /** A WindowPoSt for a deadline instance other than the current one. */
  "wrong-deadline",
  /** A WindowPoSt names a partition the deadline does not have, or sectors not in it. */
  "unknown-partition",
  /** A block for an epoch the chain has not reached. */
  "future-epoch",
  "not-elected",
  /** A deal the sector names is unknown, listed twice, or does not fit the sector (size, end epoch). */
  "deal-invalid",
  /** A deal the sector names belongs to another provider. */
  "deal-foreign",
  /** A deal the sector names is already active, or pre-committed, in another sector. */
  "deal-in-use",
  /** A deal the sector names has reached its start epoch: it can no longer be activated. */
  "deal-started",
  /** The PreCommit's CommD is not the unsealed commitment of its deals' pieces (zero-filled). */
  "commd-mismatch",
  /** ProveReplicaUpdates: the sector is not active on chain (never proven, or terminated). */
  "unknown-sector",
  /** ProveReplicaUpdates: the sector was updated already (it has a sector key). */
  "already-updated",
  /** ProveReplicaUpdates: the sector holds deals; only a committed-capacity sector can be updated. */
  "sector-has-deals",
  /** ProveReplicaUpdates: the sector is faulty; it must be recovered before it can be updated. */
  "sector-faulty",
  /**
   * ProveReplicaUpdates: the sector's deadline is being proven now or next, and proven deadlines do not
   * change; the same update succeeds once the deadline is mutable again.
   */
  "immutable-deadline",
  /** The message's sender is neither the miner's worker nor one of its control addresses. */
  "forbidden",
  /** The chain's own state is inconsistent (a bug, not the sender's fault). */
  "internal",
]);
export type RejectionCode = v.InferOutput<typeof RejectionCodeSchema>;

export const SectorResultSchema = v.object({
  number: nonNegative,
  ok: v.boolean(),
  error: v.optional(v.string()),
  code: v.optional(RejectionCodeSchema),
});
export type SectorResult = v.InferOutput<typeof SectorResultSchema>;

export const MessageLookupSchema = v.object({
  cid: v.string(),
  message: ChainMessageSchema,
  status: MessageStatusSchema,
  pushedEpoch: int,
  packedEpoch: v.optional(int),
  landedEpoch: v.optional(int),
  exitCode: v.optional(int),
  error: v.optional(v.string()),
  /** Why a failed message failed; for a seal batch, the code of its first sector. */
  code: v.optional(RejectionCodeSchema),
  /** Per-sector outcome of a batch; a message can succeed while some of its sectors did not. */
  results: v.optional(v.array(SectorResultSchema)),
});
export type MessageLookup = v.InferOutput<typeof MessageLookupSchema>;

export { DeadlineInfoSchema, FaultRecordSchema, PoStRecordSchema, ProvingStatsSchema };
export type DeadlineInfo = v.InferOutput<typeof DeadlineInfoSchema>;
/**
 * What happened in one deadline instance (periodStart + index), as the chain recorded it: `outcome` is set
 * when the deadline closed; `verifiedProofs` counts accepted messages, `rejectedProofs` those whose proof
 * failed verification; `detectedFaults` are sectors whose partition was not proven before close.
 */
export type PoStRecord = v.InferOutput<typeof PoStRecordSchema>;
export type DeadlineOutcome = NonNullable<PoStRecord["outcome"]>;
/** declared: skipped by the miner's own proof; detected: the deadline closed without a proof. */
export type FaultRecord = v.InferOutput<typeof FaultRecordSchema>;
/** Totals per miner since genesis. */
export type ProvingStats = v.InferOutput<typeof ProvingStatsSchema>;

/**
 * A sector as the chain knows it for proving. `upgraded`: a snap-updated sector (its replica is the update/
 * file under `commR`, the new one); absent from chains that predate SnapDeals, where the prover looks for
 * an update replica first.
 */
export const ProvingSectorSchema = v.object({
  number: nonNegative,
  sealProof: int,
  commR: commitment,
  upgraded: v.optional(v.boolean()),
});
export type ProvingSector = v.InferOutput<typeof ProvingSectorSchema>;

/** A partition of the deadline instance being proven: the sectors it must prove at its challenge epoch. */
export const ProvingPartitionSchema = v.object({
  index: nonNegative,
  sectors: v.array(ProvingSectorSchema),
  /** Those of `sectors` that are faulty now (they need a recovery to be proven again). */
  faults: v.array(nonNegative),
  /** A verified proof for this partition has landed in this deadline instance. */
  proven: v.boolean(),
});
export type ProvingPartition = v.InferOutput<typeof ProvingPartitionSchema>;

export const BlockRecordSchema = v.object({
  actor: nonNegative,
  epoch: int,
  ok: v.boolean(),
  error: v.optional(v.string()),
  code: v.optional(RejectionCodeSchema),
  sectors: nonNegative,
});
export type BlockRecord = v.InferOutput<typeof BlockRecordSchema>;

/** 32 bytes of chain randomness: base64 on the wire, a Uint8Array once the client has checked it. */
export const RandomnessSchema = v.pipe(
  base64,
  v.transform((s) => new Uint8Array(Buffer.from(s, "base64"))),
  v.check((b) => b.length === 32, "randomness is 32 bytes"),
);

export function encodeRandomness(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64");
}

const actor = ["actor", v.pipe(int, v.minValue(0, "actor must be a miner actor id"))] as const;
const epoch = ["epoch", int] as const;

export const PoStChainApi = {
  Head: defineMethod("Damocles.PoStChainHead", [] as const, ChainHeadSchema, "read"),
  Policy: defineMethod("Damocles.PoStChainPolicy", [] as const, ChainPolicySchema, "read"),
  /** null: not a miner on this chain. */
  MinerInfo: defineMethod("Damocles.PoStChainMinerInfo", [actor] as const, v.nullable(MinerInfoSchema), "read"),
  ProvingDeadline: defineMethod("Damocles.PoStChainProvingDeadline", [actor] as const, DeadlineInfoSchema, "read"),
  ProvingPartitions: defineMethod(
    "Damocles.PoStChainProvingPartitions",
    [actor, ["open", int]] as const,
    v.array(ProvingPartitionSchema),
    "read",
  ),
  WindowPoStRandomness: defineMethod(
    "Damocles.PoStChainWindowPoStRandomness",
    [actor, epoch] as const,
    RandomnessSchema,
    "read",
  ),
  /** Only WindowPoSt submissions: seal messages belong to the source's commit manager, which tracks them. */
  PushMessage: defineMethod(
    "Damocles.PoStChainPushMessage",
    [["message", PoStMessageSchema]] as const,
    v.string(),
    "sign",
  ),
  /** null: the chain has never seen this message. */
  MessageLookup: defineMethod(
    "Damocles.PoStChainMessageLookup",
    [["cid", v.pipe(v.string(), v.minLength(1, "cid must not be empty"))]] as const,
    v.nullable(MessageLookupSchema),
    "read",
  ),
  IsElected: defineMethod("Damocles.PoStChainIsElected", [actor, epoch] as const, v.boolean(), "read"),
  WinningPoStRandomness: defineMethod(
    "Damocles.PoStChainWinningPoStRandomness",
    [actor, epoch] as const,
    RandomnessSchema,
    "read",
  ),
  WinningSectorSet: defineMethod(
    "Damocles.PoStChainWinningSectorSet",
    [actor, epoch] as const,
    v.array(ProvingSectorSchema),
    "read",
  ),
  SubmitBlock: defineMethod(
    "Damocles.PoStChainSubmitBlock",
    [actor, epoch, ["proofs", v.array(PoStProofSchema)]] as const,
    BlockRecordSchema,
    "sign",
  ),
  Faults: defineMethod("Damocles.PoStChainFaults", [actor] as const, v.array(FaultRecordSchema), "read"),
  PostRecords: defineMethod(
    "Damocles.PoStChainPostRecords",
    [actor, ["limit", v.optional(v.pipe(int, v.minValue(1, "limit must be at least 1")))]] as const,
    v.array(PoStRecordSchema),
    "read",
  ),
  ProvingStats: defineMethod("Damocles.PoStChainProvingStats", [actor] as const, ProvingStatsSchema, "read"),
} as const;
