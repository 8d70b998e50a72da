import * as v from "valibot";
import { defineMethod } from "../rpc/method.ts";
import { SectorIDSchema } from "./id.ts";
import { SealProofSchema } from "./proof.ts";
import {
  AcquireDealsSpecSchema,
  AllocatedSectorSchema,
  AllocateSectorSpecSchema,
  DealsSchema,
  PollStateRespSchema,
  PreCommitOnChainInfoSchema,
  ProofOnChainInfoSchema,
  ReportStateReqSchema,
  SectorIndexLocationSchema,
  SectorIndexTypeSchema,
  SectorStateRespSchema,
  SectorStateSchema,
  SectorWorkerJobSchema,
  SectorWorkerStateSchema,
  StoreBasicInfoSchema,
  StoreDetailedInfoSchema,
  SubmitRespSchema,
  TicketSchema,
  WaitSeedRespSchema,
  WorkerInfoSchema,
  WorkerPingInfoSchema,
} from "./wire.ts";

/**
 * The manager's `Venus` namespace, described once for server and clients (worker, CLIs). Names, param
 * order and shapes are the original's (reference §3). Methods whose Go result is core.Meta (a nil
 * *struct{}) answer null, which is what the Rust worker's `()` result type decodes.
 */

const sid = ["sid", SectorIDSchema] as const;
const bool = v.boolean();
const optionalFalse = v.optional(v.boolean(), false);
const name = v.pipe(v.string(), v.minLength(1, "name must not be empty"));

/** The largest page Venus.ListSectors answers. */
export const LIST_SECTORS_MAX_PAGE = 10_000;

export const Venus = {
  // worker-facing
  AllocateSector: defineMethod(
    "Venus.AllocateSector",
    [["spec", AllocateSectorSpecSchema]] as const,
    v.nullable(AllocatedSectorSchema),
    "write",
  ),
  AcquireDeals: defineMethod(
    "Venus.AcquireDeals",
    [sid, ["spec", AcquireDealsSpecSchema]] as const,
    DealsSchema,
    "write",
  ),
  AssignTicket: defineMethod("Venus.AssignTicket", [sid] as const, TicketSchema, "write"),
  SubmitPreCommit: defineMethod(
    "Venus.SubmitPreCommit",
    [
      ["sector", AllocatedSectorSchema],
      ["info", PreCommitOnChainInfoSchema],
      ["reset", optionalFalse],
    ] as const,
    SubmitRespSchema,
    "write",
  ),
  PollPreCommitState: defineMethod("Venus.PollPreCommitState", [sid] as const, PollStateRespSchema, "write"),
  SubmitPersisted: defineMethod("Venus.SubmitPersisted", [sid, ["instance", name]] as const, bool, "write"),
  SubmitPersistedEx: defineMethod(
    "Venus.SubmitPersistedEx",
    [sid, ["instance", name], ["isUpgrade", optionalFalse]] as const,
    bool,
    "write",
  ),
  // Older workers send only the sector id; newer ones add the seal proof type.
  WaitSeed: defineMethod(
    "Venus.WaitSeed",
    [sid, ["proofType", v.optional(SealProofSchema)]] as const,
    WaitSeedRespSchema,
    "write",
  ),
  SubmitProof: defineMethod(
    "Venus.SubmitProof",
    [sid, ["proof", ProofOnChainInfoSchema], ["reset", optionalFalse]] as const,
    SubmitRespSchema,
    "write",
  ),
  PollProofState: defineMethod("Venus.PollProofState", [sid] as const, PollStateRespSchema, "write"),
  ReportState: defineMethod(
    "Venus.ReportState",
    [sid, ["state", ReportStateReqSchema]] as const,
    SectorStateRespSchema,
    "write",
  ),
  ReportFinalized: defineMethod("Venus.ReportFinalized", [sid] as const, v.null(), "write"),
  ReportAborted: defineMethod("Venus.ReportAborted", [sid, ["reason", v.string()]] as const, v.null(), "write"),
  WorkerPing: defineMethod("Venus.WorkerPing", [["winfo", WorkerInfoSchema]] as const, v.null(), "write"),
  StoreReserveSpace: defineMethod(
    "Venus.StoreReserveSpace",
    [
      sid,
      ["size", v.pipe(v.number(), v.safeInteger(), v.minValue(0))],
      ["candidates", v.nullish(v.array(v.string()))],
    ] as const,
    v.nullable(StoreBasicInfoSchema),
    "write",
  ),
  StoreBasicInfo: defineMethod(
    "Venus.StoreBasicInfo",
    [["instanceName", v.string()]] as const,
    v.nullable(StoreBasicInfoSchema),
    "write",
  ),

  // admin
  /**
   * Without `limit` (the original's two-argument call): every state, sorted by miner and number. With
   * `limit` (ours): one page in store key order after the sector `after`; fewer than `limit` states means
   * the last page. A million sectors are listed a page at a time instead of in one answer.
   */
  ListSectors: defineMethod(
    "Venus.ListSectors",
    [
      ["state", SectorWorkerStateSchema],
      ["job", v.optional(SectorWorkerJobSchema, 0)],
      ["after", v.optional(v.nullable(SectorIDSchema))],
      [
        "limit",
        v.optional(
          v.pipe(
            v.number(),
            v.integer(),
            v.minValue(1, "limit must be at least 1"),
            v.maxValue(LIST_SECTORS_MAX_PAGE, `limit must be at most ${LIST_SECTORS_MAX_PAGE} (page with "after")`),
          ),
        ),
      ],
    ] as const,
    v.nullable(v.array(SectorStateSchema)),
    "read",
  ),
  FindSector: defineMethod(
    "Venus.FindSector",
    [["state", SectorWorkerStateSchema], sid] as const,
    v.nullable(SectorStateSchema),
    "read",
  ),
  FindSectorInAllStates: defineMethod(
    "Venus.FindSectorInAllStates",
    [sid] as const,
    v.nullable(SectorStateSchema),
    "read",
  ),
  RestoreSector: defineMethod("Venus.RestoreSector", [sid, ["forced", optionalFalse]] as const, v.null(), "admin"),
  SectorIndexerFind: defineMethod(
    "Venus.SectorIndexerFind",
    [["indexType", SectorIndexTypeSchema], sid] as const,
    SectorIndexLocationSchema,
    "read",
  ),
  StoreList: defineMethod("Venus.StoreList", [] as const, v.nullable(v.array(StoreDetailedInfoSchema)), "read"),
  StoreReleaseReserved: defineMethod("Venus.StoreReleaseReserved", [sid] as const, bool, "admin"),
  WorkerPingInfoList: defineMethod(
    "Venus.WorkerPingInfoList",
    [] as const,
    v.nullable(v.array(WorkerPingInfoSchema)),
    "read",
  ),
  WorkerGetPingInfo: defineMethod(
    "Venus.WorkerGetPingInfo",
    [["name", v.string()]] as const,
    v.nullable(WorkerPingInfoSchema),
    "read",
  ),
  WorkerPingInfoRemove: defineMethod("Venus.WorkerPingInfoRemove", [["name", v.string()]] as const, v.null(), "admin"),
  Version: defineMethod("Venus.Version", [] as const, v.string(), "read"),
} as const;

const DevnetMinerStatusSchema = v.object({
  Actor: v.number(),
  SectorSize: v.number(),
  SealProofType: v.number(),
  WindowPoStProofType: v.number(),
  RawPower: v.number(),
  ActiveSectors: v.number(),
  ProvingDeadline: v.object({
    Index: v.number(),
    Open: v.number(),
    Close: v.number(),
    Challenge: v.number(),
    PeriodStart: v.number(),
  }),
});

export const ChainHeadInfoSchema = v.object({
  Kind: v.string(),
  Epoch: v.number(),
  Timestamp: v.number(),
  BlockTimeMs: v.number(),
  PendingMessages: v.number(),
  Miners: v.array(DevnetMinerStatusSchema),
});
export type ChainHeadInfo = v.InferOutput<typeof ChainHeadInfoSchema>;

/** Ours, not the original's: the original reads these from a Lotus node; ours has the chain inside. */
export const Damocles = {
  ChainHead: defineMethod("Damocles.ChainHead", [] as const, ChainHeadInfoSchema, "read"),
} as const;
