import type { PieceInfoWire } from "../processor/stages/seal.ts";
import { sealProofFromName, sealProofName } from "../sector/proof.ts";

/**
 * Value types of the typed proofs API and the conversions to the processor protocol's JSON forms
 * (rust-fil-proofs serde: snake_case, [u8; 32] as arrays of 32 numbers, RegisteredSealProof by
 * variant name).
 *
 * Conventions: 32-byte values are Uint8Array; sector numbers, sizes, offsets and challenge indices are
 * JS numbers (safe integers: every real value is far below 2^53); registered proofs are the wire
 * integers of abi.RegisteredSealProof / RegisteredPoStProof / RegisteredUpdateProof, whose table is
 * src/core/sector/proof.ts.
 */

/** A 32-byte value: commitment (CommD/CommR/CommP), prover id, ticket, seed, randomness. */
export type Bytes32 = Uint8Array;

/** Either the 32-byte prover id or the miner's actor id (converted like Lotus: ID-address payload). */
export type ProverIdInput = Bytes32 | number;

/** A piece: commitment (CommP) and unpadded size in bytes (e.g. 2032 for a full 2KiB sector). */
export interface PieceInfo {
  commitment: Bytes32;
  size: number;
}

/**
 * PC1 output: rust-fil-proofs' SealPreCommitPhase1Output, as JSON (the processor protocol's `pc1out`).
 * Opaque: pass it to sealPreCommitPhase2 as is. It holds absolute cache paths.
 */
export interface Pc1Output {
  readonly registered_proof: string;
  readonly [field: string]: unknown;
}

/** C1 output: rust-fil-proofs' SealCommitPhase1Output, as JSON (the protocol's `c1out`). Opaque. */
export interface C1Output {
  readonly registered_proof: string;
  readonly [field: string]: unknown;
}

export interface PreCommitOutput {
  registeredProof: number;
  commR: Bytes32;
  commD: Bytes32;
}

/** A sealed sector as its prover sees it. */
export interface PrivateReplica {
  sectorId: number;
  commR: Bytes32;
  cacheDir: string;
  sealedPath: string;
}

/** A sealed sector as a verifier sees it. */
export interface PublicReplica {
  sectorId: number;
  commR: Bytes32;
}

/** One PoSt SNARK tagged with its abi.RegisteredPoStProof. */
export interface PoStProof {
  postProof: number;
  proof: Uint8Array;
}

/** Unpadded (user) bytes of a padded size: ×127/128 (2KiB → 2032). */
export function unpaddedSize(padded: number): number {
  return padded - padded / 128;
}

/** Padded bytes of an unpadded piece size (2032 → 2048). */
export function paddedSize(unpadded: number): number {
  return unpadded + unpadded / 127;
}

export function checkU64(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RangeError(`${name} must be a non-negative safe integer, got ${value}`);
  return value;
}

export function checkBytes32(name: string, value: Uint8Array | readonly number[]): Bytes32 {
  const bytes = value instanceof Uint8Array ? value : Uint8Array.from(value);
  if (bytes.length !== 32) throw new RangeError(`${name} must be 32 bytes, got ${bytes.length}`);
  return bytes;
}

/**
 * Prover id of a miner actor, as Lotus builds it: the payload of the ID address (the actor id as an
 * unsigned LEB128 varint), zero-padded to 32 bytes.
 */
export function proverIdFromActorId(actorId: number): Bytes32 {
  checkU64("actor id", actorId);
  const out = new Uint8Array(32);
  let x = actorId;
  let i = 0;
  while (x >= 0x80) {
    out[i++] = (x % 0x80) | 0x80;
    x = Math.floor(x / 0x80);
  }
  out[i] = x;
  return out;
}

export function proverIdBytes(p: ProverIdInput): Bytes32 {
  return typeof p === "number" ? proverIdFromActorId(p) : checkBytes32("prover id", p);
}

/**
 * PoSt randomness must be a canonical BLS12-381 scalar (little endian); like Lotus, clear the top two
 * bits of the last byte. Returns a copy.
 */
export function postRandomness(bytes: Uint8Array | readonly number[]): Bytes32 {
  const r = new Uint8Array(checkBytes32("randomness", bytes));
  r[31]! &= 0x3f;
  return r;
}

// Wire (processor protocol) forms.

export function toWireBytes(bytes: Uint8Array): number[] {
  return Array.from(bytes);
}

export function fromWireBytes(bytes: readonly number[]): Uint8Array {
  return Uint8Array.from(bytes);
}

export function toWirePieceInfo(p: PieceInfo): PieceInfoWire {
  return { commitment: toWireBytes(p.commitment), size: p.size };
}

export function fromWirePieceInfo(p: PieceInfoWire): PieceInfo {
  return { commitment: checkBytes32("piece commitment", p.commitment), size: checkU64("piece size", p.size) };
}

/** SealPreCommitPhase2Output in serde form ({registered_proof, comm_r, comm_d}). */
export function toWirePreCommitOutput(o: PreCommitOutput): {
  registered_proof: string;
  comm_r: number[];
  comm_d: number[];
} {
  return {
    registered_proof: sealProofName(o.registeredProof),
    comm_r: toWireBytes(o.commR),
    comm_d: toWireBytes(o.commD),
  };
}

export function fromWirePreCommitOutput(o: {
  registered_proof: string;
  comm_r: readonly number[];
  comm_d: readonly number[];
}): PreCommitOutput {
  return {
    registeredProof: sealProofFromName(o.registered_proof),
    commR: checkBytes32("comm_r", o.comm_r),
    commD: checkBytes32("comm_d", o.comm_d),
  };
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}
