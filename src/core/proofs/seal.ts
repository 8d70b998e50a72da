import { sealProofFromName, sealProofInfo } from "../sector/proof.ts";
import { ensureProofsConfigured } from "./config.ts";
import { native, type PieceInfoJs } from "./native.ts";
import { assertParamsReady } from "./params.ts";
import {
  type Bytes32,
  type C1Output,
  checkBytes32,
  checkU64,
  type Pc1Output,
  type PieceInfo,
  type PreCommitOutput,
  type ProverIdInput,
  proverIdBytes,
} from "./types.ts";

/**
 * Pieces, sealing, verification and unsealing. Every call runs off the JS thread in the addon; errors
 * reject with the library's message (panics as "Rust panic: …").
 */

function lib() {
  ensureProofsConfigured();
  return native();
}

function rawPieces(pieces: readonly PieceInfo[]): PieceInfoJs[] {
  return pieces.map((p, i) => ({
    commitment: checkBytes32(`pieces[${i}].commitment`, p.commitment),
    size: checkU64(`pieces[${i}].size`, p.size),
  }));
}

function sealProof(id: number): number {
  sealProofInfo(id);
  return id;
}

export interface AddPieceInput {
  registeredProof: number;
  /** A file with the piece's payload (zero-filled up to `pieceSize`), or "pledge" for zeros. */
  source: { path: string } | "pledge";
  /** The staged (unsealed) sector file; created when missing, the piece is appended. */
  stagedPath: string;
  /** Unpadded piece size: 127 × 2^n bytes (e.g. 1016, 2032). */
  pieceSize: number;
  /** Unpadded sizes of the pieces already in the staged file, in order (for alignment). */
  existingPieceSizes?: readonly number[];
}

/** Appends a piece (with the alignment padding the layout needs) and returns its commitment. */
export async function addPiece(input: AddPieceInput): Promise<{ piece: PieceInfo; written: number }> {
  return lib().addPiece(
    sealProof(input.registeredProof),
    input.source === "pledge" ? null : input.source.path,
    input.stagedPath,
    checkU64("pieceSize", input.pieceSize),
    (input.existingPieceSizes ?? []).map((s) => checkU64("existing piece size", s)),
  );
}

/** CommP of `pieceSize` unpadded bytes of `path` (zero-filled past its end). */
export async function generatePieceCommitment(input: {
  registeredProof: number;
  path: string;
  pieceSize: number;
}): Promise<PieceInfo> {
  return lib().generatePieceCommitment(
    sealProof(input.registeredProof),
    input.path,
    checkU64("pieceSize", input.pieceSize),
  );
}

/** CommD of a sector holding `pieces` (the remaining space counts as zero pieces). */
export async function computeCommD(input: { registeredProof: number; pieces: readonly PieceInfo[] }): Promise<Bytes32> {
  return lib().computeCommD(sealProof(input.registeredProof), rawPieces(input.pieces));
}

/** Builds tree-d over the staged file into `cacheDir` (sc-02-data-tree-d.dat) and returns CommD. */
export async function generateTreeD(input: {
  registeredProof: number;
  stagedPath: string;
  cacheDir: string;
}): Promise<Bytes32> {
  return lib().generateTreeD(sealProof(input.registeredProof), input.stagedPath, input.cacheDir);
}

export interface SealPreCommitPhase1Input {
  registeredProof: number;
  /** Sector cache directory (created when missing). */
  cachePath: string;
  /** Staged (unsealed) sector file, or /dev/zero for a CC sector. */
  inPath: string;
  /** Sealed file to write (created when missing). */
  outPath: string;
  proverId: ProverIdInput;
  sectorId: number;
  ticket: Bytes32;
  pieces: readonly PieceInfo[];
}

export async function sealPreCommitPhase1(input: SealPreCommitPhase1Input): Promise<Pc1Output> {
  const json = await lib().sealPreCommitPhase1(
    sealProof(input.registeredProof),
    input.cachePath,
    input.inPath,
    input.outPath,
    proverIdBytes(input.proverId),
    checkU64("sectorId", input.sectorId),
    checkBytes32("ticket", input.ticket),
    rawPieces(input.pieces),
  );
  return JSON.parse(json) as Pc1Output;
}

export async function sealPreCommitPhase2(input: {
  pc1Output: Pc1Output;
  cachePath: string;
  outPath: string;
}): Promise<PreCommitOutput> {
  return lib().sealPreCommitPhase2(JSON.stringify(input.pc1Output), input.cachePath, input.outPath);
}

export interface SealCommitPhase1Input {
  registeredProof: number;
  cachePath: string;
  replicaPath: string;
  proverId: ProverIdInput;
  sectorId: number;
  ticket: Bytes32;
  seed: Bytes32;
  commR: Bytes32;
  commD: Bytes32;
  pieces: readonly PieceInfo[];
}

export async function sealCommitPhase1(input: SealCommitPhase1Input): Promise<C1Output> {
  const json = await lib().sealCommitPhase1(
    sealProof(input.registeredProof),
    input.cachePath,
    input.replicaPath,
    proverIdBytes(input.proverId),
    checkU64("sectorId", input.sectorId),
    checkBytes32("ticket", input.ticket),
    checkBytes32("seed", input.seed),
    checkBytes32("commR", input.commR),
    checkBytes32("commD", input.commD),
    rawPieces(input.pieces),
  );
  return JSON.parse(json) as C1Output;
}

/** C2: the PoRep SNARK (192 bytes per partition). Checks the PoRep parameters first. */
export async function sealCommitPhase2(input: {
  c1Output: C1Output;
  proverId: ProverIdInput;
  sectorId: number;
}): Promise<Uint8Array> {
  const proof = sealProofFromName(input.c1Output.registered_proof);
  await assertParamsReady(sealProofInfo(proof).sectorSize, "porep");
  return lib().sealCommitPhase2(
    JSON.stringify(input.c1Output),
    proverIdBytes(input.proverId),
    checkU64("sectorId", input.sectorId),
  );
}

export interface VerifySealInput {
  registeredProof: number;
  commR: Bytes32;
  commD: Bytes32;
  proverId: ProverIdInput;
  sectorId: number;
  ticket: Bytes32;
  seed: Bytes32;
  proof: Uint8Array;
}

/** True when the proof is valid; false for a well-formed but wrong proof; rejects on malformed input. */
export async function verifySeal(input: VerifySealInput): Promise<boolean> {
  await assertParamsReady(sealProofInfo(input.registeredProof).sectorSize, "porep");
  return lib().verifySeal(
    input.registeredProof,
    checkBytes32("commR", input.commR),
    checkBytes32("commD", input.commD),
    proverIdBytes(input.proverId),
    checkU64("sectorId", input.sectorId),
    checkBytes32("ticket", input.ticket),
    checkBytes32("seed", input.seed),
    input.proof,
  );
}

/** Removes layers, tree-c and tree-d; keeps p_aux, t_aux and tree-r-last (PoSt and snap need them). */
export async function clearCache(cachePath: string): Promise<void> {
  return lib().clearCache(cachePath);
}

/**
 * The CommR a replica's p_aux commits to: Poseidon(comm_c, comm_r_last), the two field elements p_aux
 * holds. Throws when the bytes are not 64 or not field elements (a damaged p_aux). Synchronous (one hash,
 * no file, no parameters), and it leaves the proofs settings open.
 */
export function commRFromPAux(pAux: Uint8Array): Uint8Array {
  return native().commRFromPAux(pAux);
}

export interface UnsealRangeInput {
  registeredProof: number;
  cachePath: string;
  sealedPath: string;
  /** Created or truncated; receives exactly the unsealed range. */
  outputPath: string;
  proverId: ProverIdInput;
  sectorId: number;
  commD: Bytes32;
  ticket: Bytes32;
  /** Unpadded byte offset into the sector. */
  offset: number;
  /** Unpadded byte count. */
  numBytes: number;
}

/** Unseals a range (re-runs SDR over the whole sector). Returns the bytes written. */
export async function unsealRange(input: UnsealRangeInput): Promise<number> {
  return lib().unsealRange(
    sealProof(input.registeredProof),
    input.cachePath,
    input.sealedPath,
    input.outputPath,
    proverIdBytes(input.proverId),
    checkU64("sectorId", input.sectorId),
    checkBytes32("commD", input.commD),
    checkBytes32("ticket", input.ticket),
    checkU64("offset", input.offset),
    checkU64("numBytes", input.numBytes),
  );
}
