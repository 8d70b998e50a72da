import * as v from "valibot";
import { SEAL_PROOFS } from "../../sector/proof.ts";
import { Bytes32Schema } from "./seal.ts";

/**
 * The `unseal` task and result of the vc-processors protocol (reference §5), as vc-processors'
 * `builtin::tasks::Unseal` serializes:
 *
 *   task   {registered_proof, prover_id, sector_id, comm_d, ticket, cache_dir, sealed_file, unsealed_output,
 *           offset, num_bytes}
 *   result the number of unpadded bytes written (UnpaddedBytesAmount, a plain number)
 *
 * `offset` and `num_bytes` are unpadded byte counts into the sector's data. `unsealed_output` is created or
 * truncated and receives exactly the range. `cache_dir` is where the proofs library lays out the SDR labels
 * it regenerates (it reads nothing from there), so a worker points it at local scratch space rather than
 * at a persist store.
 */
const u64 = v.pipe(v.number(), v.safeInteger("expected an unsigned integer"), v.minValue(0));
const path = v.pipe(v.string(), v.minLength(1, "expected a path"));
const sealProofNames = SEAL_PROOFS.map((p) => p.rustName) as [string, ...string[]];

export const UnsealInputSchema = v.object({
  registered_proof: v.picklist(sealProofNames, "expected a RegisteredSealProof name like StackedDrg2KiBV1_1"),
  prover_id: Bytes32Schema,
  sector_id: u64,
  comm_d: Bytes32Schema,
  ticket: Bytes32Schema,
  cache_dir: path,
  sealed_file: path,
  unsealed_output: path,
  offset: u64,
  num_bytes: v.pipe(u64, v.minValue(1, "num_bytes must be at least 1")),
});
export type UnsealInput = v.InferOutput<typeof UnsealInputSchema>;

export const UnsealOutputSchema = u64;
