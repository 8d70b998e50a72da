import * as v from "valibot";
import { defineMethod } from "../rpc/method.ts";

/**
 * `Damocles.Proving*`: the operator's view of WindowPoSt/WinningPoSt (`util sealer proving …`, the demo),
 * served by any manager that runs the poster or hosts the devnet. Ours, not the original's (it read these
 * from Lotus): the chain's record of each deadline next to the poster's own.
 */

const int = v.pipe(v.number(), v.safeInteger());
const actor = ["actor", v.pipe(int, v.minValue(0, "actor must be a miner actor id"))] as const;

export const ProvingStatsSchema = v.object({
  windowPoStsVerified: int,
  windowPoStsRejected: int,
  faultsDeclared: int,
  faultsDetected: int,
  recoveries: int,
  deadlinesMissed: int,
  blocksMined: int,
  winningPoStsRejected: int,
});

export const DeadlineInfoSchema = v.object({
  currentEpoch: int,
  periodStart: int,
  index: int,
  open: int,
  close: int,
  challenge: int,
});

export const ProvingInfoSchema = v.object({
  actor: int,
  sectorSize: int,
  windowPoStProofType: int,
  deadlines: int,
  challengeWindow: int,
  blockTimeMs: int,
  current: DeadlineInfoSchema,
  activeSectors: int,
  faultySectors: int,
  stats: ProvingStatsSchema,
  /** Where this node's WindowPoSt runs, or null without --poster. */
  prover: v.nullable(v.string()),
});
export type ProvingInfo = v.InferOutput<typeof ProvingInfoSchema>;

export const FaultRecordSchema = v.object({
  number: int,
  since: int,
  kind: v.picklist(["declared", "detected"]),
  reason: v.string(),
});

export const PoStRecordSchema = v.object({
  actor: int,
  deadline: int,
  periodStart: int,
  open: int,
  close: int,
  challenge: int,
  partitions: v.array(
    v.object({
      index: int,
      sectors: v.array(int),
      proven: v.boolean(),
      provenEpoch: v.optional(int),
      message: v.optional(v.string()),
    }),
  ),
  outcome: v.optional(v.picklist(["proven", "partially-faulty", "missed", "empty"])),
  verifiedProofs: int,
  rejectedProofs: int,
  declaredFaults: v.array(int),
  detectedFaults: v.array(int),
  recovered: v.array(int),
});

export const DeadlineRowSchema = v.object({
  index: int,
  partitions: int,
  sectors: int,
  faults: int,
  open: int,
  close: int,
  /** The current instance of this deadline (or the coming one) has been proven. */
  proven: v.boolean(),
  /** The chain's record of this deadline's last closed instance. */
  last: v.nullable(PoStRecordSchema),
  /** The poster's status for this deadline's latest instance, if it handled one. */
  poster: v.nullable(
    v.object({ open: int, status: v.string(), provingMs: v.optional(int), error: v.optional(v.string()) }),
  ),
});

export const SectorCheckSchema = v.object({
  number: int,
  partition: int,
  ok: v.boolean(),
  faulty: v.boolean(),
  reason: v.optional(v.string()),
});

export const Proving = {
  Info: defineMethod("Damocles.ProvingInfo", [actor] as const, ProvingInfoSchema, "read"),
  Deadlines: defineMethod("Damocles.ProvingDeadlines", [actor] as const, v.array(DeadlineRowSchema), "read"),
  Faults: defineMethod("Damocles.ProvingFaults", [actor] as const, v.array(FaultRecordSchema), "read"),
  Records: defineMethod(
    "Damocles.ProvingRecords",
    [actor, ["limit", v.optional(v.pipe(int, v.minValue(1)), 100)]] as const,
    v.array(PoStRecordSchema),
    "read",
  ),
  Check: defineMethod(
    "Damocles.ProvingCheck",
    [
      actor,
      ["deadline", v.pipe(int, v.minValue(0, "deadline must be a deadline index"))],
      ["slow", v.optional(v.boolean(), false)],
    ] as const,
    v.array(SectorCheckSchema),
    "read",
  ),
} as const;
