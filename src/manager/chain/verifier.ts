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
