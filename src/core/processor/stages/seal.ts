import * as v from "valibot";
import { isUnpaddedPieceSize } from "../../sector/piece-layout.ts";
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

/**
 * The env var an add_pieces processor reads the piece store token from (vc-processors' PieceHttpFetcher):
 * the worker sets it to `sector_manager.piece_token`; downloads send `Authorization: Bearer <token>`.
 */
export const PIECE_TOKEN_ENV = "PIECE_FETCHER_TOKEN";

/** Where a piece's bytes come from (vc-processors' PieceFile, serde camelCase): a URL, a local file, or zeros. */
export const PieceFileSchema = v.union(
  [v.literal("pledge"), v.object({ local: path }), v.object({ url: v.pipe(v.string(), v.url()) })],
  'expected "pledge", {"local": path} or {"url": url}',
);
export type PieceFile = v.InferOutput<typeof PieceFileSchema>;

/**
 * One piece of an add_pieces task. `piece_size` is UNPADDED (127 × 2^n, as fil-proofs' UnpaddedBytesAmount);
 * the processor reads `payload_size` bytes from `piece_file` and zero-fills up to `piece_size`.
 */
export const AddPiecesPieceSchema = v.pipe(
  v.object({
    piece_file: PieceFileSchema,
    payload_size: u64,
    piece_size: v.pipe(
      u64,
      v.check(isUnpaddedPieceSize, "expected an unpadded piece size: 127 × 2^n bytes (1016, 2032, …)"),
    ),
  }),
  v.check((p) => p.payload_size <= p.piece_size, "payload_size must not be larger than piece_size"),
);
export type AddPiecesPiece = v.InferOutput<typeof AddPiecesPieceSchema>;

/**
 * add_pieces: `pieces: []` is a CC sector (the processor fills it with the one zero piece of sector size);
 * otherwise the pieces in their order in the sector. The answer is the PieceInfo of every piece the sector
 * now holds, which is what PC1 and C1 take as `piece_infos`.
 */
export const AddPiecesInputSchema = v.object({
  seal_proof_type: registeredProof,
  pieces: v.array(AddPiecesPieceSchema),
  staged_filepath: path,
});
export type AddPiecesInput = v.InferOutput<typeof AddPiecesInputSchema>;
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

const absolutePath = v.pipe(
  v.string(),
  v.check((p) => p.startsWith("/"), "expected an absolute path (uris are not resolved against stores)"),
);
const TransferItemSchema = v.object({ store_name: v.nullish(v.string()), uri: absolutePath });

/**
 * transfer (vc-processors' Transfer): every `uri` is an absolute path; `store_name` and `stores` describe the
 * stores for processors that want them (a remote store's meta), the built-in processor reads neither.
 * Answers true.
 */
export const TransferInputSchema = v.object({
  stores: v.optional(
    v.record(v.string(), v.object({ name: v.string(), meta: v.nullish(v.record(v.string(), v.string())) })),
    {},
  ),
  routes: v.array(
    v.object({
      src: TransferItemSchema,
      dest: TransferItemSchema,
      opt: v.nullish(v.object({ is_dir: v.optional(v.boolean(), false), allow_link: v.optional(v.boolean(), false) })),
    }),
  ),
});
export type TransferInput = v.InferInput<typeof TransferInputSchema>;
