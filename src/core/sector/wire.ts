import * as v from "valibot";
import { ActorIDSchema, EpochSchema, SectorIDSchema } from "./id.ts";
import { SealProofSchema } from "./proof.ts";
import { SECTOR_WORKER_STATES } from "./states.ts";

/**
 * Wire types of the Venus sealer API, field for field as Go's encoding/json writes them:
 * PascalCase names, nil pointers and nil slices as null, []byte as standard base64, [32]byte as a 32-number array.
 */

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export const Base64Schema = v.pipe(
  v.string("expected base64 bytes as a string"),
  v.regex(BASE64, "expected standard base64 (A-Z a-z 0-9 + /, padded with =)"),
);

/** 32 raw bytes encoded in base64 (Rust worker: BytesArray32). */
export const Randomness32Schema = v.pipe(
  Base64Schema,
  v.check((s) => Buffer.from(s, "base64").length === 32, "expected exactly 32 bytes of randomness"),
);

export const Commitment32Schema = v.pipe(
  v.array(
    v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(255)),
    "expected a commitment as an array of 32 byte values",
  ),
  v.length(32, "a commitment has exactly 32 bytes"),
);

export const CidJsonSchema = v.object({ "/": v.pipe(v.string(), v.minLength(1)) });
export type CidJson = v.InferOutput<typeof CidJsonSchema>;

const u64 = v.pipe(v.number(), v.safeInteger(), v.minValue(0));

export const AllocateSectorSpecSchema = v.object({
  AllowedMiners: v.nullish(v.array(ActorIDSchema)),
  AllowedProofTypes: v.nullish(v.array(SealProofSchema)),
});
export type AllocateSectorSpec = v.InferOutput<typeof AllocateSectorSpecSchema>;

export const AllocatedSectorSchema = v.object({ ID: SectorIDSchema, ProofType: SealProofSchema });
export type AllocatedSector = v.InferOutput<typeof AllocatedSectorSchema>;

export const AcquireDealsSpecSchema = v.object({ MaxDeals: v.nullish(u64), MinUsedSpace: v.nullish(u64) });
export type AcquireDealsSpec = v.InferOutput<typeof AcquireDealsSpecSchema>;

/** A token amount (attoFIL) as Go's big.Int writes JSON: a decimal string. */
const TokenAmountSchema = v.pipe(
  v.string(),
  v.regex(/^-?\d+$/, "expected a token amount in attoFIL as a decimal string"),
);

/** market.DealProposal as Go writes it (go-state-types builtin/v9 market): addresses as strings ("f01000"). */
export const DealProposalSchema = v.object({
  PieceCID: CidJsonSchema,
  PieceSize: u64,
  VerifiedDeal: v.boolean(),
  Client: v.string(),
  Provider: v.string(),
  Label: v.string(),
  StartEpoch: EpochSchema,
  EndEpoch: EpochSchema,
  StoragePricePerEpoch: TokenAmountSchema,
  ProviderCollateral: TokenAmountSchema,
  ClientCollateral: TokenAmountSchema,
});
export type DealProposal = v.InferOutput<typeof DealProposalSchema>;

/** Where a piece sits in a sector: padded size and padded offset, and its piece CID (core.PieceInfo). */
export const SectorPieceRefSchema = v.object({ Size: u64, Offset: u64, Cid: CidJsonSchema });
export type SectorPieceRef = v.InferOutput<typeof SectorPieceRefSchema>;

/**
 * One deal piece assigned to a sector (damocles core.DealInfo): what AcquireDeals answers and what
 * SectorState.Pieces keeps. `IsCompatible` marks pieces from original implementations whose data the worker
 * uses as it is, instead of padding it itself.
 */
export const DealInfoSchema = v.object({
  ID: u64,
  PayloadSize: u64,
  Piece: SectorPieceRefSchema,
  Proposal: v.nullable(DealProposalSchema),
  IsCompatible: v.boolean(),
});
export type DealInfo = v.InferOutput<typeof DealInfoSchema>;

/** core.Deals: null (no deals) or the sector's deal pieces in their order in the sector. */
export const DealsSchema = v.nullable(v.array(DealInfoSchema));
export type Deals = v.InferOutput<typeof DealsSchema>;

export const TicketSchema = v.object({ Ticket: Randomness32Schema, Epoch: EpochSchema });
export type Ticket = v.InferOutput<typeof TicketSchema>;

export const SeedSchema = v.object({ Seed: Randomness32Schema, Epoch: EpochSchema });
export type Seed = v.InferOutput<typeof SeedSchema>;

export const PreCommitOnChainInfoSchema = v.object({
  CommR: Commitment32Schema,
  CommD: Commitment32Schema,
  Ticket: TicketSchema,
  Deals: v.nullish(v.array(u64)),
});
export type PreCommitOnChainInfo = v.InferOutput<typeof PreCommitOnChainInfoSchema>;

/** What the manager stores as SectorState.Pre: commitments as CIDs (Go: PreCommitInfo). */
export const PreCommitInfoSchema = v.object({
  CommR: CidJsonSchema,
  CommD: CidJsonSchema,
  Ticket: TicketSchema,
  Deals: v.nullable(v.array(u64)),
});
export type PreCommitInfo = v.InferOutput<typeof PreCommitInfoSchema>;

export const ProofOnChainInfoSchema = v.object({
  Proof: v.pipe(Base64Schema, v.minLength(1, "Proof must not be empty")),
});
export type ProofOnChainInfo = v.InferOutput<typeof ProofOnChainInfoSchema>;

export const SubmitRespSchema = v.object({ Res: v.number(), Desc: v.nullable(v.string()) });
export type SubmitResp = v.InferOutput<typeof SubmitRespSchema>;

export const PollStateRespSchema = v.object({ State: v.number(), Desc: v.nullable(v.string()) });
export type PollStateResp = v.InferOutput<typeof PollStateRespSchema>;

export const WaitSeedRespSchema = v.object({
  ShouldWait: v.boolean(),
  Delay: v.number(),
  Seed: v.nullable(SeedSchema),
});
export type WaitSeedResp = v.InferOutput<typeof WaitSeedRespSchema>;

export const WorkerIdentifierSchema = v.object({ Instance: v.string(), Location: v.string() });
export const SectorStateChangeSchema = v.object({ Prev: v.string(), Next: v.string(), Event: v.string() });
export const SectorFailureSchema = v.object({ Level: v.string(), Desc: v.string() });

export const ReportStateReqSchema = v.object({
  Worker: WorkerIdentifierSchema,
  StateChange: SectorStateChangeSchema,
  Failure: v.nullish(SectorFailureSchema),
});
export type ReportStateReq = v.InferOutput<typeof ReportStateReqSchema>;

export const SectorStateRespSchema = v.object({
  Id: SectorIDSchema,
  Finalized: v.boolean(),
  AbortReason: v.nullable(v.string()),
});
export type SectorStateResp = v.InferOutput<typeof SectorStateRespSchema>;

export const WorkerInfoSummarySchema = v.object({
  Threads: u64,
  Empty: u64,
  Paused: u64,
  Running: u64,
  Waiting: u64,
  Errors: u64,
});

export const WorkerInfoSchema = v.object({
  Name: v.pipe(v.string(), v.minLength(1, "worker Name must not be empty")),
  Dest: v.string(),
  Version: v.string(),
  Summary: WorkerInfoSummarySchema,
});
export type WorkerInfo = v.InferOutput<typeof WorkerInfoSchema>;

/** LastPing is unix seconds. */
export const WorkerPingInfoSchema = v.object({ Info: WorkerInfoSchema, LastPing: v.number() });
export type WorkerPingInfo = v.InferOutput<typeof WorkerPingInfoSchema>;

export const StoreBasicInfoSchema = v.object({
  Name: v.string(),
  Path: v.string(),
  Strict: v.boolean(),
  ReadOnly: v.boolean(),
  Weight: v.number(),
  Meta: v.nullable(v.record(v.string(), v.string())),
});
export type StoreBasicInfo = v.InferOutput<typeof StoreBasicInfoSchema>;

export const ReservedItemSchema = v.object({ By: v.string(), Size: v.number(), At: v.number() });
export type ReservedItem = v.InferOutput<typeof ReservedItemSchema>;

export const StoreDetailedInfoSchema = v.object({
  ...StoreBasicInfoSchema.entries,
  Type: v.string(),
  Total: v.number(),
  Free: v.number(),
  Used: v.number(),
  UsedPercent: v.number(),
  Reserved: v.number(),
  ReservedBy: v.nullable(v.array(ReservedItemSchema)),
});
export type StoreDetailedInfo = v.InferOutput<typeof StoreDetailedInfoSchema>;

export const SectorAccessStoresSchema = v.object({ SealedFile: v.string(), CacheDir: v.string() });
export const SectorIndexLocationSchema = v.object({ Found: v.boolean(), Instance: SectorAccessStoresSchema });
export type SectorIndexLocation = v.InferOutput<typeof SectorIndexLocationSchema>;

export const SectorIndexTypeSchema = v.picklist(["normal", "upgrade"], 'index type must be "normal" or "upgrade"');
export const SectorWorkerStateSchema = v.picklist(SECTOR_WORKER_STATES, 'sector state must be "online" or "offline"');
export const SectorWorkerJobSchema = v.pipe(
  v.number(),
  v.integer(),
  v.minValue(0),
  v.maxValue(4, "job must be 0 All, 1 Sealing, 2 SnapUp, 3 Rebuild or 4 Unseal"),
);

export const MessageInfoSchema = v.object({
  PreCommitCid: v.nullable(CidJsonSchema),
  CommitCid: v.nullable(CidJsonSchema),
  NeedSend: v.boolean(),
});

export const TerminateInfoSchema = v.object({
  TerminateCid: v.nullable(CidJsonSchema),
  TerminatedAt: v.number(),
  AddedHeight: v.number(),
});

/**
 * The manager's record of one sector (Go: core.SectorState). Extension of ours: CommitPendingSince
 * (unix ms when the current PreCommit/ProveCommit began waiting for a batch), so batch MaxWait survives restarts.
 */
export const SectorStateSchema = v.object({
  ID: SectorIDSchema,
  SectorType: SealProofSchema,
  Ticket: v.optional(TicketSchema),
  Seed: v.optional(SeedSchema),
  Deals: v.nullable(v.array(v.unknown())),
  Pieces: v.nullable(v.array(v.unknown())),
  Pre: v.optional(PreCommitInfoSchema),
  Proof: v.optional(ProofOnChainInfoSchema),
  MessageInfo: MessageInfoSchema,
  TerminateInfo: TerminateInfoSchema,
  LatestState: v.optional(ReportStateReqSchema),
  Finalized: v.boolean(),
  Removed: v.boolean(),
  AbortReason: v.string(),
  Upgraded: v.boolean(),
  UpgradePublic: v.nullable(v.unknown()),
  UpgradedInfo: v.nullable(v.unknown()),
  UpgradeMessageID: v.nullable(v.string()),
  UpgradeLandedEpoch: v.nullable(v.number()),
  Imported: v.boolean(),
  NeedRebuild: v.boolean(),
  Unsealing: v.boolean(),
  CommitPendingSince: v.optional(v.number()),
});
export type SectorState = v.InferOutput<typeof SectorStateSchema>;

export function newSectorState(id: { Miner: number; Number: number }, proofType: number): SectorState {
  return {
    ID: { Miner: id.Miner, Number: id.Number },
    SectorType: proofType,
    Deals: null,
    Pieces: null,
    MessageInfo: { PreCommitCid: null, CommitCid: null, NeedSend: false },
    TerminateInfo: { TerminateCid: null, TerminatedAt: 0, AddedHeight: 0 },
    Finalized: false,
    Removed: false,
    AbortReason: "",
    Upgraded: false,
    UpgradePublic: null,
    UpgradedInfo: null,
    UpgradeMessageID: null,
    UpgradeLandedEpoch: null,
    Imported: false,
    NeedRebuild: false,
    Unsealing: false,
  };
}

export function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64");
}

export function fromB64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "base64"));
}
