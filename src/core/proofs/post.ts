import { type PoStKind, postProofInfo } from "../sector/proof.ts";
import { ensureProofsConfigured } from "./config.ts";
import { native, type PrivateReplicaJs, type PublicReplicaJs } from "./native.ts";
import { assertParamsReady } from "./params.ts";
import {
  type Bytes32,
  checkBytes32,
  checkU64,
  type PoStProof,
  type PrivateReplica,
  type ProverIdInput,
  type PublicReplica,
  postRandomness,
  proverIdBytes,
} from "./types.ts";

/**
 * WinningPoSt and WindowPoSt. Randomness is made canonical (top two bits of byte 31 cleared, as Lotus
 * does) before it reaches the library, so chain randomness can be passed as is.
 */

function lib() {
  ensureProofsConfigured();
  return native();
}

function postProofOfKind(id: number, kind: PoStKind) {
  const p = postProofInfo(id);
  if (p.kind !== kind) throw new RangeError(`PoSt proof type ${id} (${p.name}) is not a ${kind} PoSt proof`);
  return p;
}

async function guard(postProof: number, kind: PoStKind): Promise<void> {
  const p = postProofOfKind(postProof, kind);
  await assertParamsReady(p.sectorSize, kind === "winning" ? "winning-post" : "window-post");
}

function rawPrivate(r: PrivateReplica, i = 0): PrivateReplicaJs {
  return {
    sectorNumber: checkU64(`replicas[${i}].sectorId`, r.sectorId),
    commR: checkBytes32(`replicas[${i}].commR`, r.commR),
    cacheDir: r.cacheDir,
    sealedPath: r.sealedPath,
  };
}

function rawPublic(r: PublicReplica, i = 0): PublicReplicaJs {
  return {
    sectorNumber: checkU64(`replicas[${i}].sectorId`, r.sectorId),
    commR: checkBytes32(`replicas[${i}].commR`, r.commR),
  };
}

interface PoStBase {
  postProof: number;
  randomness: Bytes32;
  proverId: ProverIdInput;
}

/** Indices into the miner's sector list (of length `sectorSetLen`) that WinningPoSt must prove. */
export async function generateWinningPostSectorChallenge(
  input: PoStBase & { sectorSetLen: number },
): Promise<number[]> {
  postProofOfKind(input.postProof, "winning");
  return lib().generateWinningPostSectorChallenge(
    input.postProof,
    postRandomness(input.randomness),
    checkU64("sectorSetLen", input.sectorSetLen),
    proverIdBytes(input.proverId),
  );
}

export async function generateWinningPost(
  input: PoStBase & { replicas: readonly PrivateReplica[] },
): Promise<PoStProof[]> {
  await guard(input.postProof, "winning");
  return lib().generateWinningPost(
    input.postProof,
    postRandomness(input.randomness),
    proverIdBytes(input.proverId),
    input.replicas.map(rawPrivate),
  );
}

export async function generateWinningPostWithVanilla(
  input: PoStBase & { vanillaProofs: readonly Uint8Array[] },
): Promise<PoStProof[]> {
  await guard(input.postProof, "winning");
  return lib().generateWinningPostWithVanilla(
    input.postProof,
    postRandomness(input.randomness),
    proverIdBytes(input.proverId),
    [...input.vanillaProofs],
  );
}

export async function verifyWinningPost(
  input: PoStBase & { proof: Uint8Array; replicas: readonly PublicReplica[] },
): Promise<boolean> {
  await guard(input.postProof, "winning");
  return lib().verifyWinningPost(
    input.postProof,
    postRandomness(input.randomness),
    proverIdBytes(input.proverId),
    input.proof,
    input.replicas.map(rawPublic),
  );
}

/** Challenge indices per sector (fallback PoSt), for the vanilla-proof flow. */
export async function generateFallbackSectorChallenges(
  input: PoStBase & { sectorIds: readonly number[] },
): Promise<Map<number, number[]>> {
  postProofInfo(input.postProof);
  const raw = await lib().generateFallbackSectorChallenges(
    input.postProof,
    postRandomness(input.randomness),
    input.sectorIds.map((s) => checkU64("sectorId", s)),
    proverIdBytes(input.proverId),
  );
  return new Map(raw.map((r) => [r.sectorNumber, r.challenges]));
}

/** One sector's vanilla proof for its challenges (no parameters needed). */
export async function generateSingleVanillaProof(input: {
  postProof: number;
  replica: PrivateReplica;
  challenges: readonly number[];
}): Promise<Uint8Array> {
  postProofInfo(input.postProof);
  return lib().generateSingleVanillaProof(
    input.postProof,
    rawPrivate(input.replica),
    input.challenges.map((c) => checkU64("challenge", c)),
  );
}

export interface WindowPoStResult {
  /** Proofs over the sectors that are not faulty (empty when all are). */
  proofs: PoStProof[];
  /** Sector numbers that could not be proven (missing or corrupt sealed file / cache), ascending. */
  faults: number[];
}

/**
 * WindowPoSt over `replicas`. Unreadable sectors are reported in `faults` and left out; the proofs
 * cover the remaining sectors, so verify them against the replicas minus the faults.
 */
export async function generateWindowPost(
  input: PoStBase & { replicas: readonly PrivateReplica[] },
): Promise<WindowPoStResult> {
  await guard(input.postProof, "window");
  return lib().generateWindowPost(
    input.postProof,
    postRandomness(input.randomness),
    proverIdBytes(input.proverId),
    input.replicas.map(rawPrivate),
  );
}

export async function generateWindowPostWithVanilla(
  input: PoStBase & { vanillaProofs: readonly Uint8Array[] },
): Promise<PoStProof[]> {
  await guard(input.postProof, "window");
  return lib().generateWindowPostWithVanilla(
    input.postProof,
    postRandomness(input.randomness),
    proverIdBytes(input.proverId),
    [...input.vanillaProofs],
  );
}

/** The SNARK of one partition from its sectors' vanilla proofs (in sector order). */
export async function generateSingleWindowPostWithVanilla(
  input: PoStBase & { vanillaProofs: readonly Uint8Array[]; partitionIndex: number },
): Promise<PoStProof> {
  await guard(input.postProof, "window");
  return lib().generateSingleWindowPostWithVanilla(
    input.postProof,
    postRandomness(input.randomness),
    proverIdBytes(input.proverId),
    [...input.vanillaProofs],
    checkU64("partitionIndex", input.partitionIndex),
  );
}

/** Joins per-partition SNARKs (in partition order) into one WindowPoSt proof. */
export async function mergeWindowPostPartitionProofs(input: {
  postProof: number;
  partitionProofs: readonly Uint8Array[];
}): Promise<PoStProof> {
  postProofOfKind(input.postProof, "window");
  return lib().mergeWindowPostPartitionProofs(input.postProof, [...input.partitionProofs]);
}

export async function getNumPartitionForFallbackPost(input: {
  postProof: number;
  numSectors: number;
}): Promise<number> {
  postProofInfo(input.postProof);
  return lib().getNumPartitionForFallbackPost(input.postProof, checkU64("numSectors", input.numSectors));
}

export async function verifyWindowPost(input: {
  randomness: Bytes32;
  proverId: ProverIdInput;
  proofs: readonly PoStProof[];
  replicas: readonly PublicReplica[];
}): Promise<boolean> {
  const first = input.proofs[0];
  if (!first) throw new RangeError("verifyWindowPost: no proofs supplied");
  await guard(first.postProof, "window");
  return lib().verifyWindowPost(
    postRandomness(input.randomness),
    proverIdBytes(input.proverId),
    [...input.proofs],
    input.replicas.map(rawPublic),
  );
}
