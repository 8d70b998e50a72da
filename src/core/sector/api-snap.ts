import * as v from "valibot";
import { defineMethod } from "../rpc/method.ts";
import { ActorIDSchema, EpochSchema, SectorIDSchema } from "./id.ts";
import {
  AcquireDealsSpecSchema,
  AllocatedSectorSchema,
  AllocateSectorSpecSchema,
  Base64Schema,
  CidJsonSchema,
  Commitment32Schema,
  DealsSchema,
  SubmitRespSchema,
} from "./wire.ts";

/**
 * SnapDeals (reference §3.2, §3.4, §4.4): a worker with plan = "snapup" takes an active CC sector that the
 * manager marked as a candidate, fills it with deals, encodes and proves the update, persists update/ and
 * update-cache/ and submits the proof; the manager sends ProveReplicaUpdates. Shapes are the original's
 * (damocles-manager/core/types.go, api.go): PascalCase, [32]byte as 32-number arrays, []byte as base64,
 * CIDs as {"/": …}, nil pointers and slices as null.
 */

const u64 = (what: string) =>
  v.pipe(
    v.number(`${what} must be a number`),
    v.safeInteger(`${what} must be a non-negative integer`),
    v.minValue(0, `${what} must be a non-negative integer`),
  );

/** Deadlines per WindowPoSt proving period (builtin WPoStPeriodDeadlines). */
export const WPOST_PERIOD_DEADLINES = 48;

/** core.AllocateSnapUpSpec: which sectors the worker takes (Sector) and how many deals it wants in one (Deals). */
export const AllocateSnapUpSpecSchema = v.object({ Sector: AllocateSectorSpecSchema, Deals: AcquireDealsSpecSchema });
export type AllocateSnapUpSpec = v.InferOutput<typeof AllocateSnapUpSpecSchema>;

/** core.SectorPublicInfo: the CC sector as it is on chain now. */
export const SectorPublicInfoSchema = v.object({
  CommR: Commitment32Schema,
  SealedCID: CidJsonSchema,
  Activation: EpochSchema,
  Expiration: EpochSchema,
});
export type SectorPublicInfo = v.InferOutput<typeof SectorPublicInfoSchema>;

/** core.SectorPrivateInfo: the persist store holding the CC sector's sealed file and cache. */
export const SectorPrivateInfoSchema = v.object({ AccessInstance: v.string() });
export type SectorPrivateInfo = v.InferOutput<typeof SectorPrivateInfoSchema>;

/**
 * core.AllocatedSnapUpSector. Pieces are the deals assigned to the sector (the deals work's core.Deals);
 * the manager answers null rather than a sector without pieces, and a worker refuses one without pieces
 * or without an AccessInstance (reference §4.4).
 */
export const AllocatedSnapUpSectorSchema = v.object({
  Sector: AllocatedSectorSchema,
  Pieces: DealsSchema,
  Public: SectorPublicInfoSchema,
  Private: SectorPrivateInfoSchema,
});
export type AllocatedSnapUpSector = v.InferOutput<typeof AllocatedSnapUpSectorSchema>;

/**
 * core.SnapUpOnChainInfo: the updated replica's commitments (CommR = comm_r_new, CommD = comm_d_new), the
 * persist store now holding update/ and update-cache/, the piece CIDs in sector order and the update proof.
 */
export const SnapUpOnChainInfoSchema = v.object({
  CommR: Commitment32Schema,
  CommD: Commitment32Schema,
  AccessInstance: v.pipe(
    v.string(),
    v.minLength(1, "AccessInstance must name the persist store holding update/ and update-cache/"),
  ),
  Pieces: v.nullable(v.array(CidJsonSchema)),
  Proof: v.pipe(Base64Schema, v.minLength(1, "Proof must not be empty")),
});
export type SnapUpOnChainInfo = v.InferOutput<typeof SnapUpOnChainInfoSchema>;

/** core.SubmitSnapUpProofResp: {Res: SubmitResult, Desc: *string}; FilesMissed asks the worker to persist again. */
export const SubmitSnapUpProofRespSchema = SubmitRespSchema;
export type SubmitSnapUpProofResp = v.InferOutput<typeof SubmitSnapUpProofRespSchema>;

/** core.SnapUpFetchResult: candidates now known in the fetched deadline(s), and how many of them are new. */
export const SnapUpFetchResultSchema = v.object({ Total: u64("Total"), Diff: u64("Diff") });
export type SnapUpFetchResult = v.InferOutput<typeof SnapUpFetchResultSchema>;

/**
 * A go-bitfield as its JSON: run lengths, always starting with a run of absent values, so {0,1,2,8,9} is
 * [0,3,5,2] and the empty set [0]. Only the first run may be 0.
 */
export const BitFieldJsonSchema = v.pipe(
  v.array(u64("a bitfield run length"), "expected a bitfield as an array of run lengths"),
  v.minLength(1, "a bitfield has at least one run ([0] is the empty set)"),
  v.check((runs) => runs.every((r, i) => i === 0 || r > 0), "only the first run of a bitfield may be 0"),
);
export type BitFieldJson = v.InferOutput<typeof BitFieldJsonSchema>;

/** The run-length JSON of a set of sector numbers (duplicates and order do not matter). */
export function bitfieldFromNumbers(numbers: Iterable<number>): BitFieldJson {
  const sorted = [...new Set(numbers)].sort((a, b) => a - b);
  if (sorted.length === 0) return [0];
  const runs: number[] = [];
  let next = 0; // the first bit not yet described by a run
  for (let i = 0; i < sorted.length; ) {
    const start = sorted[i]!;
    let end = start;
    while (sorted[i + 1] === end + 1) {
      end++;
      i++;
    }
    i++;
    runs.push(start - next, end - start + 1);
    next = end + 1;
  }
  return runs;
}

/** The sector numbers of a bitfield's run-length JSON, ascending. */
export function bitfieldNumbers(runs: BitFieldJson): number[] {
  const out: number[] = [];
  let at = 0;
  runs.forEach((len, i) => {
    if (i % 2 === 1) for (let k = 0; k < len; k++) out.push(at + k);
    at += len;
  });
  return out;
}

const sid = ["sid", SectorIDSchema] as const;
const mid = ["mid", ActorIDSchema] as const;

/** Worker-facing methods (core.SealerAPI), in the `Venus` namespace. */
export const VenusSnap = {
  /** The wire name keeps the original's typo ("Sanp"); null = no candidate with deals now. */
  AllocateSanpUpSector: defineMethod(
    "Venus.AllocateSanpUpSector",
    [["spec", AllocateSnapUpSpecSchema]] as const,
    v.nullable(AllocatedSnapUpSectorSchema),
    "write",
  ),
  SubmitSnapUpProof: defineMethod(
    "Venus.SubmitSnapUpProof",
    [sid, ["snapupInfo", SnapUpOnChainInfoSchema]] as const,
    SubmitSnapUpProofRespSchema,
    "write",
  ),
} as const;

/** Operator methods (core.SealerCliAPI). */
export const VenusSnapCli = {
  /**
   * Marks the miner's active CC sectors of one deadline as candidates; without `dlindex`, of every deadline
   * that may change now (the original defaults to the current deadline, which is frozen on chain: none of
   * its sectors can be updated). A deadline being proven now or next is refused. The original reduces
   * `dlindex` modulo 48, ours refuses an index outside 0..47 instead of guessing.
   */
  SnapUpPreFetch: defineMethod(
    "Venus.SnapUpPreFetch",
    [
      mid,
      [
        "dlindex",
        v.nullish(
          v.pipe(
            u64("dlindex"),
            v.maxValue(
              WPOST_PERIOD_DEADLINES - 1,
              `dlindex must be a deadline index 0..${WPOST_PERIOD_DEADLINES - 1} (omit it for every deadline that may change now)`,
            ),
          ),
        ),
      ],
    ] as const,
    SnapUpFetchResultSchema,
    "admin",
  ),
  /** The candidates, one bitfield per deadline index (null where a deadline has none); null when none at all. */
  SnapUpCandidates: defineMethod(
    "Venus.SnapUpCandidates",
    [mid] as const,
    v.nullable(v.array(v.nullable(BitFieldJsonSchema))),
    "read",
  ),
  /** Drops a sector's pending snap commitment (the manager stops sending its ProveReplicaUpdates). */
  SnapUpCancelCommitment: defineMethod("Venus.SnapUpCancelCommitment", [sid] as const, v.null(), "admin"),
} as const;
