import { zeroCommD } from "../core/sector/index.ts";
import { fillerPieceSizes, layoutPieces } from "../core/sector/piece-layout.ts";

/**
 * Proof verification the devnet and the commitment checks depend on. Injected, so unit tests run without
 * the native proofs addon; the daemon wires the real rust-fil-proofs implementation from src/core/proofs.
 */

export interface SealVerifyInput {
  sealProof: number;
  commR: Uint8Array;
  commD: Uint8Array;
  minerId: number;
  sectorNumber: number;
  ticket: Uint8Array;
  seed: Uint8Array;
  proof: Uint8Array;
}

export interface SealVerifier {
  readonly name: string;
  /**
   * True for a valid proof, false for a well-formed wrong one. A proof the library cannot even parse
   * (bytes not on the curve, wrong length) throws InvalidProofError; any other throw means the check
   * could not run (no addon, no parameters) and says nothing about the proof.
   */
  verifySeal(input: SealVerifyInput): Promise<boolean>;
}

/** The proof bytes are malformed: as invalid as a wrong proof, with the library's reason. */
export class InvalidProofError extends Error {
  constructor(readonly reason: string) {
    super(`malformed proof: ${reason}`);
    this.name = "InvalidProofError";
  }
}

/** For benchmarks only: accepts every proof. The daemon logs loudly when it is in use. */
export const acceptAllVerifier: SealVerifier = {
  name: "accept-all (INSECURE: proofs are not verified)",
  async verifySeal() {
    return true;
  },
};

/** Used when the proofs addon cannot be loaded: every proof is rejected, with the reason. */
export function unavailableVerifier(reason: string): SealVerifier {
  return {
    name: `unavailable (${reason})`,
    async verifySeal() {
      throw new Error(`cannot verify seal proofs: ${reason}`);
    },
  };
}

export interface ReplicaUpdateVerifyInput {
  /** abi.RegisteredUpdateProof */
  updateProof: number;
  /** CommR of the CC replica (the sector key) the update was encoded into. */
  commROld: Uint8Array;
  commRNew: Uint8Array;
  /** CommD of the deal data now in the sector. */
  commDNew: Uint8Array;
  proof: Uint8Array;
}

/** verify_empty_sector_update_proof for the devnet and SubmitSnapUpProof (same contract as verifySeal). */
export interface UpdateVerifier {
  readonly name: string;
  verifyReplicaUpdate(input: ReplicaUpdateVerifyInput): Promise<boolean>;
}

export function unavailableUpdateVerifier(reason: string): UpdateVerifier {
  return {
    name: `unavailable (${reason})`,
    async verifyReplicaUpdate() {
      throw new Error(`cannot verify replica update proofs: ${reason}`);
    },
  };
}

/** For load tests only, like acceptAllVerifier. */
export const acceptAllUpdateVerifier: UpdateVerifier = {
  name: "accept-all (INSECURE: replica update proofs are not verified)",
  async verifyReplicaUpdate() {
    return true;
  },
};

export interface PoStVerifyInput {
  minerId: number;
  randomness: Uint8Array;
  proofs: { postProof: number; proof: Uint8Array }[];
  /**
   * WindowPoSt: the sectors the proof covers, ascending by number. WinningPoSt: the whole eligible sector
   * set, ascending; the verifier draws the challenged sectors from it as the prover did.
   */
  replicas: { sectorId: number; commR: Uint8Array }[];
}

/** WindowPoSt/WinningPoSt verification for the devnet (same contract as verifySeal). */
export interface PoStVerifier {
  readonly name: string;
  verifyWindowPoSt(input: PoStVerifyInput): Promise<boolean>;
  verifyWinningPoSt(input: PoStVerifyInput): Promise<boolean>;
}

export function unavailablePoStVerifier(reason: string): PoStVerifier {
  const fail = async (): Promise<boolean> => {
    throw new Error(`cannot verify PoSt proofs: ${reason}`);
  };
  return { name: `unavailable (${reason})`, verifyWindowPoSt: fail, verifyWinningPoSt: fail };
}

/** For load tests only, like acceptAllVerifier. */
export const acceptAllPoStVerifier: PoStVerifier = {
  name: "accept-all (INSECURE: PoSt proofs are not verified)",
  async verifyWindowPoSt() {
    return true;
  },
  async verifyWinningPoSt() {
    return true;
  },
};

/** A piece of a sector's data: its commitment (CommP) and padded size. */
export interface DataPiece {
  commP: Uint8Array;
  paddedSize: number;
}

/**
 * CommD (the unsealed commitment) of a sector holding `pieces` in order, each aligned as add_piece places
 * it and the rest zero-filled: what a PreCommit carrying deals must declare. The real one is the proofs
 * library's compute_comm_d over the pieces and the zero pieces of `zeroFilled`; tests may inject another.
 */
export interface CommDCalculator {
  readonly name: string;
  /** Throws when the calculation cannot run (no addon) or the pieces do not fit the sector. */
  computeCommD(sealProof: number, pieces: readonly DataPiece[]): Promise<Uint8Array>;
}

/**
 * `pieces` followed by the zero pieces that fill the sector after the last one. compute_comm_d aligns
 * the pieces it is given but does not pad them to the sector (one 256-byte piece answers its own CommP),
 * so the tail a worker fills with pledge pieces must be named.
 */
export function zeroFilled(pieces: readonly DataPiece[], sectorSize: number): DataPiece[] {
  const { end } = layoutPieces(
    pieces.map((p) => p.paddedSize),
    sectorSize,
  );
  return [
    ...pieces,
    ...fillerPieceSizes(end, sectorSize).map((size) => ({ commP: zeroCommD(size), paddedSize: size })),
  ];
}
