import * as v from "valibot";
import type { PoStProof, PrivateReplica } from "../../proofs/index.ts";
import { POST_PROOFS, type PoStKind, postProofFromRustName, postProofRustName } from "../../sector/proof.ts";
import { Bytes32Schema } from "./seal.ts";

/**
 * The `window_post` / `winning_post` task and result shapes of the vc-processors protocol (reference §5),
 * exactly as vc-processors' `WindowPoSt` / `WinningPoSt` tasks serialize:
 *
 *   task   {miner_id, proof_type, replicas: [{sector_id, comm_r, cache_dir, sealed_file}], seed}
 *   result {proofs: [base64], faults: [sector number]}   (winning_post: {proofs})
 *
 * - `proof_type` is rust-fil-proofs' RegisteredPoStProof variant name. The wire integers 10..14, which Go
 *   (go-state-types, and src/core/sector/proof.ts) names `StackedDrgWindow<size>V1_1`, are rust's
 *   `StackedDrgWindow<size>V1_2` (the grindability fix); the Go damocles-manager sends the rust names
 *   for the same reason. Only rust's names are accepted, so a task our processor takes is one any
 *   vc-processors processor takes.
 * - `comm_r` and `seed` are [u8; 32] as arrays of 32 numbers (serde of a byte array, and Go's [32]byte).
 * - A proof is vc-processors' `SnarkProof` (`b64serde::BytesVec`): the proof bytes as standard base64,
 *   which is also how Go's `[][]byte` reads and writes JSON. The proofs do not carry their type: they are
 *   proofs of the task's `proof_type`.
 * - Faults: the rust built-in answers `{proofs: [], faults}` when sectors are faulty (the caller proves
 *   again without them); damocles' own processor answers with the proofs over the remaining sectors
 *   *and* the faults. A reader of this result must accept both (see ExtProver).
 */

const u64 = v.pipe(
  v.number(),
  v.safeInteger("expected an unsigned integer"),
  v.minValue(0, "expected an unsigned integer"),
);
const path = v.pipe(v.string(), v.minLength(1, "expected a path"));

/** The wire integer of a rust variant name ("StackedDrgWindow2KiBV1_2" → 10); throws for an unknown name. */
export function postProofFromSerdeName(name: string): number {
  const id = postProofFromRustName(name);
  if (id === undefined) throw new RangeError(`unknown RegisteredPoStProof ${JSON.stringify(name)}`);
  return id;
}

function serdeNames(kind: PoStKind): [string, ...string[]] {
  return POST_PROOFS.filter((p) => p.kind === kind).map((p) => p.rustName) as [string, ...string[]];
}

export const PoStReplicaWireSchema = v.object({
  sector_id: u64,
  comm_r: Bytes32Schema,
  cache_dir: path,
  sealed_file: path,
});
export type PoStReplicaWire = v.InferOutput<typeof PoStReplicaWireSchema>;

function postTaskSchema(kind: PoStKind) {
  const example = serdeNames(kind)
    .filter((n) => n.includes("2KiB"))
    .at(-1);
  return v.object({
    miner_id: u64,
    proof_type: v.picklist(serdeNames(kind), `expected a ${kind} RegisteredPoStProof variant name like ${example}`),
    replicas: v.pipe(v.array(PoStReplicaWireSchema), v.minLength(1, "expected at least one replica")),
    seed: Bytes32Schema,
  });
}

export const WindowPoStInputSchema = postTaskSchema("window");
export const WinningPoStInputSchema = postTaskSchema("winning");
export type PoStTaskWire = v.InferOutput<typeof WindowPoStInputSchema>;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
export const ProofB64Schema = v.pipe(
  v.string("expected a base64 proof"),
  v.minLength(1, "expected a non-empty proof"),
  v.regex(BASE64, "expected standard base64"),
);

// A Go producer writes a nil slice as null: read it as empty.
const proofList = v.nullish(v.array(ProofB64Schema), []);

export const WindowPoStOutputSchema = v.object({ proofs: proofList, faults: v.nullish(v.array(u64), []) });
export type WindowPoStOutputWire = v.InferOutput<typeof WindowPoStOutputSchema>;

export const WinningPoStOutputSchema = v.object({ proofs: proofList });
export type WinningPoStOutputWire = v.InferOutput<typeof WinningPoStOutputSchema>;

/** What a prover knows about a task, in the proofs API's terms. */
export interface PoStTaskParts {
  minerId: number;
  proofType: number;
  replicas: readonly PrivateReplica[];
  seed: Uint8Array;
}

export function toWirePoStTask(t: PoStTaskParts): PoStTaskWire {
  return {
    miner_id: t.minerId,
    proof_type: postProofRustName(t.proofType),
    replicas: t.replicas.map((r) => ({
      sector_id: r.sectorId,
      comm_r: Array.from(r.commR),
      cache_dir: r.cacheDir,
      sealed_file: r.sealedPath,
    })),
    seed: Array.from(t.seed),
  };
}

/** A validated wire task as arguments of src/core/proofs' generateWindowPost / generateWinningPost. */
export function fromWirePoStTask(t: PoStTaskWire): {
  postProof: number;
  proverId: number;
  randomness: Uint8Array;
  replicas: PrivateReplica[];
} {
  return {
    postProof: postProofFromSerdeName(t.proof_type),
    proverId: t.miner_id,
    randomness: Uint8Array.from(t.seed),
    replicas: t.replicas.map((r) => ({
      sectorId: r.sector_id,
      commR: Uint8Array.from(r.comm_r),
      cacheDir: r.cache_dir,
      sealedPath: r.sealed_file,
    })),
  };
}

export function proofsToWire(proofs: readonly PoStProof[]): string[] {
  return proofs.map((p) => Buffer.from(p.proof).toString("base64"));
}

/** Wire proofs are untyped: they are proofs of the task's proof type. */
export function proofsFromWire(proofs: readonly string[], postProof: number): PoStProof[] {
  return proofs.map((b64) => ({ postProof, proof: new Uint8Array(Buffer.from(b64, "base64")) }));
}
