import * as v from "valibot";
import { SEAL_PROOFS } from "../../sector/proof.ts";

/**
 * Stage task and result shapes of the vc-processors protocol (reference §5), as rust-fil-proofs' serde
 * writes them: snake_case fields, [u8; 32] as arrays of 32 numbers, RegisteredSealProof as its variant
 * name ("StackedDrg2KiBV1_1"). Built-in plugins accept exactly these, so processors are interchangeable.
 */
const byte = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(255));
export const Bytes32Schema = v.pipe(
  v.array(byte, "expected 32 bytes as an array of numbers"),
  v.length(32, "expected exactly 32 bytes"),
);
export const BytesSchema = v.array(byte, "expected bytes as an array of numbers");
const u64 = v.pipe(v.number(), v.safeInteger(), v.minValue(0));
const path = v.pipe(v.string(), v.minLength(1, "expected a path"));
const sealProofNames = SEAL_PROOFS.map((p) => p.rustName) as [string, ...string[]];
const registeredProof = v.picklist(sealProofNames, "expected a RegisteredSealProof name like StackedDrg2KiBV1_1");

/** PieceInfo on the wire: commitment as 32 numbers and unpadded size (the bytes form is core/proofs' PieceInfo). */
export const PieceInfoSchema = v.object({ commitment: Bytes32Schema, size: u64 });
export type PieceInfoWire = v.InferOutput<typeof PieceInfoSchema>;

export const PieceFileSchema = v.union([
  v.literal("pledge"),
  v.object({ local: path }),
  v.object({ url: v.pipe(v.string(), v.url()) }),
]);

export const AddPiecesInputSchema = v.object({
  seal_proof_type: registeredProof,
  pieces: v.pipe(
    v.array(v.object({ piece_file: PieceFileSchema, payload_size: u64, piece_size: u64 })),
    v.minLength(1, "expected at least one piece"),
  ),
  staged_filepath: path,
});
export const AddPiecesOutputSchema = v.array(PieceInfoSchema);

export const TreeDInputSchema = v.object({ registered_proof: registeredProof, staged_file: path, cache_dir: path });

export const PC1InputSchema = v.object({
  registered_proof: registeredProof,
  cache_path: path,
  in_path: path,
  out_path: path,
  prover_id: Bytes32Schema,
  sector_id: u64,
  ticket: Bytes32Schema,
  piece_infos: v.array(PieceInfoSchema),
});

/** SealPreCommitPhase2Output. */
export const PC2OutputSchema = v.object({ registered_proof: v.string(), comm_r: Bytes32Schema, comm_d: Bytes32Schema });
export type PC2Output = v.InferOutput<typeof PC2OutputSchema>;

export const PC2InputSchema = v.object({ pc1out: v.unknown(), cache_dir: path, sealed_file: path });

export const C1InputSchema = v.object({
  cache_path: path,
  replica_path: path,
  prover_id: Bytes32Schema,
  sector_id: u64,
  ticket: Bytes32Schema,
  seed: Bytes32Schema,
  pc2out: PC2OutputSchema,
  piece_infos: v.array(PieceInfoSchema),
});

export const C2InputSchema = v.object({ c1out: v.unknown(), prover_id: Bytes32Schema, sector_id: u64, miner_id: u64 });
/** SealCommitPhase2Output. */
export const C2OutputSchema = v.object({ proof: v.pipe(BytesSchema, v.minLength(1, "expected a non-empty proof")) });
export type C2Output = v.InferOutput<typeof C2OutputSchema>;
