import { updateProofInfo } from "../sector/proof.ts";
import { ensureProofsConfigured } from "./config.ts";
import { native } from "./native.ts";
import { assertParamsReady } from "./params.ts";
import { type Bytes32, checkBytes32, checkU64, type PieceInfo } from "./types.ts";

/**
 * Empty-sector update (SnapDeals): encode deal data into a sealed CC sector (the "sector key"),
 * prove and verify the update, decode the data back, or recover the sector key.
 */

function lib() {
  ensureProofsConfigured();
  return native();
}

function updateProof(id: number): number {
  updateProofInfo(id);
  return id;
}

export interface SnapEncodeOutput {
  commRNew: Bytes32;
  commRLastNew: Bytes32;
  commDNew: Bytes32;
}

export interface EncodeIntoInput {
  updateProof: number;
  /** Updated replica to write (created with the sector size). */
  newReplicaPath: string;
  /** Cache directory of the updated replica (created when missing). */
  newCachePath: string;
  /** The sealed CC sector and its cache (p_aux, t_aux, tree-r-last). */
  sectorKeyPath: string;
  sectorKeyCachePath: string;
  /** Staged deal data (fr32-padded, as addPiece writes it); zero-extended to the sector size. */
  stagedDataPath: string;
  pieces: readonly PieceInfo[];
}

export async function emptySectorUpdateEncodeInto(input: EncodeIntoInput): Promise<SnapEncodeOutput> {
  return lib().emptySectorUpdateEncodeInto(
    updateProof(input.updateProof),
    input.newReplicaPath,
    input.newCachePath,
    input.sectorKeyPath,
    input.sectorKeyCachePath,
    input.stagedDataPath,
    input.pieces.map((p, i) => ({
      commitment: checkBytes32(`pieces[${i}].commitment`, p.commitment),
      size: checkU64(`pieces[${i}].size`, p.size),
    })),
  );
}

/** Writes the staged data of an updated replica to `outDataPath` (sector-sized, fr32-padded). */
export async function emptySectorUpdateDecodeFrom(input: {
  updateProof: number;
  outDataPath: string;
  replicaPath: string;
  sectorKeyPath: string;
  sectorKeyCachePath: string;
  commDNew: Bytes32;
}): Promise<void> {
  return lib().emptySectorUpdateDecodeFrom(
    updateProof(input.updateProof),
    input.outDataPath,
    input.replicaPath,
    input.sectorKeyPath,
    input.sectorKeyCachePath,
    checkBytes32("commDNew", input.commDNew),
  );
}

/**
 * Rebuilds the sector key (the original CC replica) from an updated replica and its staged data into
 * `sectorKeyPath` (+ p_aux/t_aux/tree-r-last in `sectorKeyCachePath`, both created).
 *
 * Caution, library semantics: `replicaCachePath` must hold the p_aux/t_aux of the ORIGINAL sealing
 * (the CC sector's cache, as in rust-fil-proofs' own lifecycle test). The updated replica's cache
 * (encode_into's `newCachePath`) records the new CommRLast and yields a wrong sector key.
 */
export async function emptySectorUpdateRemoveEncodedData(input: {
  updateProof: number;
  sectorKeyPath: string;
  sectorKeyCachePath: string;
  replicaPath: string;
  replicaCachePath: string;
  dataPath: string;
  commDNew: Bytes32;
}): Promise<void> {
  return lib().emptySectorUpdateRemoveEncodedData(
    updateProof(input.updateProof),
    input.sectorKeyPath,
    input.sectorKeyCachePath,
    input.replicaPath,
    input.replicaCachePath,
    input.dataPath,
    checkBytes32("commDNew", input.commDNew),
  );
}

export interface UpdateCommitments {
  updateProof: number;
  commROld: Bytes32;
  commRNew: Bytes32;
  commDNew: Bytes32;
}

export interface UpdatePaths {
  sectorKeyPath: string;
  sectorKeyCachePath: string;
  replicaPath: string;
  replicaCachePath: string;
}

function comms(c: UpdateCommitments): [number, Bytes32, Bytes32, Bytes32] {
  return [
    updateProof(c.updateProof),
    checkBytes32("commROld", c.commROld),
    checkBytes32("commRNew", c.commRNew),
    checkBytes32("commDNew", c.commDNew),
  ];
}

/** Vanilla partition proofs (no parameters needed); the input of the update SNARK. */
export async function generateEmptySectorUpdatePartitionProofs(
  input: UpdateCommitments & UpdatePaths,
): Promise<Uint8Array[]> {
  return lib().generateEmptySectorUpdatePartitionProofs(
    ...comms(input),
    input.sectorKeyPath,
    input.sectorKeyCachePath,
    input.replicaPath,
    input.replicaCachePath,
  );
}

export async function verifyEmptySectorUpdatePartitionProofs(
  input: UpdateCommitments & { partitionProofs: readonly Uint8Array[] },
): Promise<boolean> {
  const [p, rOld, rNew, dNew] = comms(input);
  return lib().verifyEmptySectorUpdatePartitionProofs(p, [...input.partitionProofs], rOld, rNew, dNew);
}

/** The update SNARK from vanilla partition proofs ("snap_prove"). Checks the parameters first. */
export async function generateEmptySectorUpdateProofWithVanilla(
  input: UpdateCommitments & { vanillaProofs: readonly Uint8Array[] },
): Promise<Uint8Array> {
  await assertParamsReady(updateProofInfo(input.updateProof).sectorSize, "empty-sector-update");
  const [p, rOld, rNew, dNew] = comms(input);
  return lib().generateEmptySectorUpdateProofWithVanilla(p, [...input.vanillaProofs], rOld, rNew, dNew);
}

/** The update SNARK straight from the replicas. */
export async function generateEmptySectorUpdateProof(input: UpdateCommitments & UpdatePaths): Promise<Uint8Array> {
  await assertParamsReady(updateProofInfo(input.updateProof).sectorSize, "empty-sector-update");
  return lib().generateEmptySectorUpdateProof(
    ...comms(input),
    input.sectorKeyPath,
    input.sectorKeyCachePath,
    input.replicaPath,
    input.replicaCachePath,
  );
}

export async function verifyEmptySectorUpdateProof(input: UpdateCommitments & { proof: Uint8Array }): Promise<boolean> {
  await assertParamsReady(updateProofInfo(input.updateProof).sectorSize, "empty-sector-update");
  const [p, rOld, rNew, dNew] = comms(input);
  return lib().verifyEmptySectorUpdateProof(p, input.proof, rOld, rNew, dNew);
}
