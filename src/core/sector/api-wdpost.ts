import * as v from "valibot";
import { defineMethod } from "../rpc/method.ts";
import { ActorIDSchema } from "./id.ts";
import { POST_PROOFS, postProofRustName } from "./proof.ts";
import { Base64Schema, Commitment32Schema, SectorAccessStoresSchema } from "./wire.ts";

/**
 * WorkerWdPoStAPI (reference §3.3): the manager's worker-prover module hands WindowPoSt jobs to workers
 * running plan = "wdpost". Registered only with `manager run --worker-prover`; a worker that meets
 * MethodNotFound idles. Field names and shapes are Go's (core/types_wdpost.go): PascalCase, "Id",
 * "SectorId", "MinerId", [32]byte as 32-number arrays, [][]byte as base64 strings, nil slices as null.
 *
 * ProofType is a string, and the string is the rust-fil-proofs RegisteredPoStProof variant name, because
 * the same value travels on into the worker's `window_post` processor (vc-processors deserialises it as
 * that enum). So abi.RegisteredPoStProof StackedDrgWindow2KiBV1_1 (id 10; Go/Lotus naming) is written
 * "StackedDrgWindow2KiBV1_2" (rust-fil-proofs' name for the same proof: the grindability fix), exactly
 * as the Go manager's ProofType2String writes it; ids 0..9 keep their names. When reading, the Go name
 * "…V1_1" is accepted as an alias, so a spec written either way filters the same jobs.
 */

const u64 = (what: string) =>
  v.pipe(
    v.number(`${what} must be a number`),
    v.safeInteger(`${what} must be an integer`),
    v.minValue(0, `${what} must not be negative`),
  );

/** The abi.RegisteredPoStProof id of a wire name (rust "…V1_2" or Go "…V1_1"); undefined when unknown. */
export function postProofFromWireName(name: string): number | undefined {
  const byRust = POST_PROOFS.find((p) => postProofRustName(p.id) === name);
  if (byRust) return byRust.id;
  return POST_PROOFS.find((p) => p.name === name)?.id;
}

/** The window proof names a worker allows for its `allowed_sizes` (both window versions, as the Rust worker's to_post_proofs). */
export function windowPoStWireNamesForSize(sectorSize: number): string[] {
  return POST_PROOFS.filter((p) => p.kind === "window" && p.sectorSize === sectorSize).map((p) =>
    postProofRustName(p.id),
  );
}

export const AllocateWdPoStJobSpecSchema = v.object({
  AllowedMiners: v.nullish(v.array(ActorIDSchema)),
  AllowedProofTypes: v.nullish(v.array(v.string("AllowedProofTypes must be RegisteredPoStProof names"))),
});
export type AllocateWdPoStJobSpec = v.InferOutput<typeof AllocateWdPoStJobSpecSchema>;

export const WdPoStSectorInfoSchema = v.object({
  SectorId: u64("SectorId"),
  CommR: Commitment32Schema,
  /** A snap-upgraded sector: its files are update/ and update-cache/ instead of sealed/ and cache/. */
  Upgrade: v.boolean(),
  /** Persist store names (a worker resolves them against its [[attached]] stores). */
  Accesses: SectorAccessStoresSchema,
});
export type WdPoStSectorInfo = v.InferOutput<typeof WdPoStSectorInfoSchema>;

export const WdPoStInputSchema = v.object({
  Sectors: v.nullable(v.array(WdPoStSectorInfoSchema)),
  MinerId: ActorIDSchema,
  ProofType: v.string(),
  Seed: Commitment32Schema,
});
export type WdPoStInput = v.InferOutput<typeof WdPoStInputSchema>;

/** stage.WindowPoStOutput: proofs in partition order, faulty sector numbers. */
export const WindowPoStJobOutputSchema = v.object({
  proofs: v.nullable(v.array(Base64Schema)),
  faults: v.nullable(v.array(u64("fault sector number"))),
});
export type WindowPoStJobOutput = v.InferOutput<typeof WindowPoStJobOutputSchema>;

export const WDPOST_JOB_STATES = ["ready2run", "running", "finished"] as const;
export const WdPoStJobStateSchema = v.picklist(WDPOST_JOB_STATES, 'State must be "ready2run", "running" or "finished"');
export type WdPoStJobState = v.InferOutput<typeof WdPoStJobStateSchema>;

/** Times are unix seconds (0 = not yet), as Go's uint64 fields. */
export const WdPoStJobSchema = v.object({
  Id: v.string(),
  State: WdPoStJobStateSchema,
  DeadlineIdx: u64("DeadlineIdx"),
  Partitions: v.nullable(v.array(u64("partition index"))),
  Input: WdPoStInputSchema,
  Output: v.nullable(WindowPoStJobOutputSchema),
  TryNum: u64("TryNum"),
  ErrorReason: v.string(),
  WorkerName: v.string(),
  StartedAt: u64("StartedAt"),
  HeartbeatAt: u64("HeartbeatAt"),
  FinishedAt: u64("FinishedAt"),
  CreatedAt: u64("CreatedAt"),
  UpdatedAt: u64("UpdatedAt"),
});
export type WdPoStJob = v.InferOutput<typeof WdPoStJobSchema>;

export const WdPoStAllocatedJobSchema = v.object({ Id: v.string(), Input: WdPoStInputSchema });
export type WdPoStAllocatedJob = v.InferOutput<typeof WdPoStAllocatedJobSchema>;

/** A job as `util worker wdpost list` sees it: the input without its sectors and seed, plus counts. */
export const WdPoStJobBriefSchema = v.object({
  ...WdPoStJobSchema.entries,
  Sectors: u64("Sectors"),
  Faults: u64("Faults"),
});
export type WdPoStJobBrief = v.InferOutput<typeof WdPoStJobBriefSchema>;

export const AllWdPoStJobSchema = v.object({ Jobs: v.nullable(v.array(WdPoStJobBriefSchema)), MaxTry: u64("MaxTry") });
export type AllWdPoStJob = v.InferOutput<typeof AllWdPoStJobSchema>;

const jobId = v.pipe(v.string("a job id is a string"), v.trim(), v.minLength(1, "a job id must not be empty"));
const workerName = v.pipe(v.string("workerName must be a string"), v.minLength(1, "workerName must not be empty"));

export const WdPoSt = {
  AllocateJobs: defineMethod(
    "Venus.WdPoStAllocateJobs",
    [
      ["spec", AllocateWdPoStJobSpecSchema],
      ["num", v.pipe(u64("num"), v.maxValue(1024, "num must be at most 1024"))],
      ["workerName", workerName],
    ] as const,
    v.nullable(v.array(WdPoStAllocatedJobSchema)),
    "write",
  ),
  HeartbeatJobs: defineMethod(
    "Venus.WdPoStHeartbeatJobs",
    [
      ["runningJobIDs", v.nullable(v.array(jobId))],
      ["workerName", workerName],
    ] as const,
    v.null(),
    "write",
  ),
  FinishJob: defineMethod(
    "Venus.WdPoStFinishJob",
    [
      ["jobID", jobId],
      ["output", v.nullish(WindowPoStJobOutputSchema)],
      ["errorReason", v.optional(v.string(), "")],
    ] as const,
    v.null(),
    "write",
  ),
  ResetJob: defineMethod("Venus.WdPoStResetJob", [["jobID", jobId]] as const, v.null(), "admin"),
  RemoveJob: defineMethod("Venus.WdPoStRemoveJob", [["jobID", jobId]] as const, v.null(), "admin"),
  AllJobs: defineMethod("Venus.WdPoStAllJobs", [] as const, AllWdPoStJobSchema, "read"),
} as const;

/**
 * The `data` of the InvalidParams error a manager answers for a job id it does not know (the job was removed
 * or expired): a worker drops that job's result instead of retrying. A code, so rewording the message cannot
 * change what a worker does.
 */
export const WDPOST_JOB_NOT_FOUND = { reason: "wdpost-job-not-found" } as const;

export function isWdPoStJobNotFound(data: unknown): boolean {
  return (
    typeof data === "object" && data !== null && (data as { reason?: unknown }).reason === WDPOST_JOB_NOT_FOUND.reason
  );
}
