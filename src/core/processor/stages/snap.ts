import * as v from "valibot";
import { UPDATE_PROOFS } from "../../sector/proof.ts";
import { Bytes32Schema, BytesSchema, PieceInfoSchema } from "./seal.ts";

/**
 * The `snap_encode` and `snap_prove` tasks and results of the vc-processors protocol (reference §5), as
 * vc-processors' builtin::tasks::{SnapEncode, SnapProve} serialize:
 *
 *   snap_encode {registered_proof, new_replica_path, new_cache_path, sector_path, sector_cache_path,
 *                staged_data_path, piece_infos}  →  {comm_r_new, comm_r_last_new, comm_d_new}
 *   snap_prove  {registered_proof, vannilla_proofs (sic), comm_r_old, comm_r_new, comm_d_new}  →  proof bytes
 *
 * `registered_proof` is a RegisteredUpdateProof variant name ("StackedDrg2KiBV1"); commitments are 32-number
 * arrays and byte strings number arrays (serde's Vec<u8>). `sector_path`/`sector_cache_path` are the CC
 * sector's sealed file and cache (the "sector key"), `staged_data_path` the deal data as add_pieces wrote it.
 */
const path = v.pipe(v.string(), v.minLength(1, "expected a path"));
const updateProofNames = UPDATE_PROOFS.map((p) => p.rustName) as [string, ...string[]];
const registeredUpdateProof = v.picklist(
  updateProofNames,
  "expected a RegisteredUpdateProof name like StackedDrg2KiBV1",
);

export const SnapEncodeInputSchema = v.object({
  registered_proof: registeredUpdateProof,
  new_replica_path: path,
  new_cache_path: path,
  sector_path: path,
  sector_cache_path: path,
  staged_data_path: path,
  piece_infos: v.pipe(v.array(PieceInfoSchema), v.minLength(1, "piece_infos must list the sector's pieces")),
});
export type SnapEncodeInput = v.InferOutput<typeof SnapEncodeInputSchema>;

/** EmptySectorUpdateEncoded. */
export const SnapEncodeOutputSchema = v.object({
  comm_r_new: Bytes32Schema,
  comm_r_last_new: Bytes32Schema,
  comm_d_new: Bytes32Schema,
});
export type SnapEncodeOutputWire = v.InferOutput<typeof SnapEncodeOutputSchema>;

export const SnapProveInputSchema = v.object({
  registered_proof: registeredUpdateProof,
  vannilla_proofs: v.pipe(
    v.array(v.pipe(BytesSchema, v.minLength(1, "a vanilla partition proof must not be empty"))),
    v.minLength(1, "vannilla_proofs must hold one proof per partition"),
  ),
  comm_r_old: Bytes32Schema,
  comm_r_new: Bytes32Schema,
  comm_d_new: Bytes32Schema,
});
export type SnapProveInput = v.InferOutput<typeof SnapProveInputSchema>;

/** EmptySectorUpdateProof: the SNARK bytes. */
export const SnapProveOutputSchema = v.pipe(BytesSchema, v.minLength(1, "expected a non-empty update proof"));
