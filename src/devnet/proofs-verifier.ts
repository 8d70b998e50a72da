import { childLogger } from "../core/log/index.ts";
import { sealProofInfo } from "../core/sector/index.ts";
import {
  type CommDCalculator,
  InvalidProofError,
  type PoStVerifier,
  type SealVerifier,
  type UpdateVerifier,
  unavailablePoStVerifier,
  unavailableUpdateVerifier,
  unavailableVerifier,
  zeroFilled,
} from "./verifier.ts";

const log = childLogger("proofs");

/**
 * The real verifier: verify_seal of rust-fil-proofs through src/core/proofs (the napi addon).
 * Loaded lazily so the manager starts — and says clearly why proofs cannot be checked — where the
 * addon is not built.
 */
export async function loadProofsVerifier(): Promise<SealVerifier> {
  let proofs: typeof import("../core/proofs/index.ts");
  try {
    proofs = await import("../core/proofs/index.ts");
  } catch (err) {
    return unavailable(`src/core/proofs could not be loaded: ${(err as Error).message}`);
  }
  if (!proofs.addonAvailable()) return unavailable("the proofs addon is not built (run ./scripts/setup)");
  return {
    name: "rust-fil-proofs verify_seal",
    async verifySeal(input) {
      try {
        return await proofs.verifySeal({
          registeredProof: input.sealProof,
          commR: input.commR,
          commD: input.commD,
          proverId: input.minerId,
          sectorId: input.sectorNumber,
          ticket: input.ticket,
          seed: input.seed,
          proof: input.proof,
        });
      } catch (err) {
        // Everything but the proof bytes is ours and well-formed, so a library rejection is about the
        // proof ("not on curve", bad length) — unless the library could not run at all.
        if (err instanceof proofs.AddonNotBuiltError || err instanceof proofs.ParamsNotReadyError) throw err;
        throw new InvalidProofError((err as Error).message);
      }
    },
  };
}

function unavailable(reason: string): SealVerifier {
  log.warn(`${reason}; every ProveCommit will be refused until proofs can be verified`);
  return unavailableVerifier(reason);
}

/** verify_window_post / verify_winning_post of rust-fil-proofs, loaded like the seal verifier. */
export async function loadPoStVerifier(): Promise<PoStVerifier> {
  let proofs: typeof import("../core/proofs/index.ts");
  try {
    proofs = await import("../core/proofs/index.ts");
  } catch (err) {
    return unavailablePoStVerifier(`src/core/proofs could not be loaded: ${(err as Error).message}`);
  }
  if (!proofs.addonAvailable()) return unavailablePoStVerifier("the proofs addon is not built (run ./scripts/setup)");
  // A malformed proof (bad length, not on the curve) is a rejected proof; a missing library is not.
  const guarded = async (run: () => Promise<boolean>): Promise<boolean> => {
    try {
      return await run();
    } catch (err) {
      if (err instanceof proofs.AddonNotBuiltError || err instanceof proofs.ParamsNotReadyError) throw err;
      throw new InvalidProofError((err as Error).message);
    }
  };
  return {
    name: "rust-fil-proofs verify_window_post / verify_winning_post",
    verifyWindowPoSt: (input) =>
      guarded(() =>
        proofs.verifyWindowPost({
          randomness: input.randomness,
          proverId: input.minerId,
          proofs: input.proofs,
          replicas: input.replicas.map((r) => ({ sectorId: r.sectorId, commR: r.commR })),
        }),
      ),
    verifyWinningPoSt: async (input) => {
      const first = input.proofs[0];
      if (!first || input.proofs.length !== 1)
        throw new InvalidProofError(`expected exactly one WinningPoSt proof, got ${input.proofs.length}`);
      return guarded(async () => {
        const base = { postProof: first.postProof, randomness: input.randomness, proverId: input.minerId };
        const picked = await proofs.generateWinningPostSectorChallenge({
          ...base,
          sectorSetLen: input.replicas.length,
        });
        const challenged = picked.map((i) => input.replicas[i]!);
        return proofs.verifyWinningPost({
          ...base,
          proof: first.proof,
          replicas: challenged.map((r) => ({ sectorId: r.sectorId, commR: r.commR })),
        });
      });
    },
  };
}

/** verify_empty_sector_update_proof of rust-fil-proofs, loaded like the seal verifier. */
export async function loadUpdateVerifier(): Promise<UpdateVerifier> {
  let proofs: typeof import("../core/proofs/index.ts");
  try {
    proofs = await import("../core/proofs/index.ts");
  } catch (err) {
    return unavailableUpdateVerifier(`src/core/proofs could not be loaded: ${(err as Error).message}`);
  }
  if (!proofs.addonAvailable()) return unavailableUpdateVerifier("the proofs addon is not built (run ./scripts/setup)");
  return {
    name: "rust-fil-proofs verify_empty_sector_update_proof",
    async verifyReplicaUpdate(input) {
      try {
        return await proofs.verifyEmptySectorUpdateProof({
          updateProof: input.updateProof,
          commROld: input.commROld,
          commRNew: input.commRNew,
          commDNew: input.commDNew,
          proof: input.proof,
        });
      } catch (err) {
        // As for seals: the commitments are ours and well-formed, so a library rejection is about the proof.
        if (err instanceof proofs.AddonNotBuiltError || err instanceof proofs.ParamsNotReadyError) throw err;
        throw new InvalidProofError((err as Error).message);
      }
    },
  };
}

/**
 * compute_comm_d of rust-fil-proofs, loaded on first use (the devnet is built synchronously): where the
 * addon is missing, each calculation throws the reason, and the chain refuses deal PreCommits as unverifiable.
 */
export function proofsCommDCalculator(): CommDCalculator {
  let loaded: Promise<typeof import("../core/proofs/index.ts")> | undefined;
  const proofs = () => {
    loaded ??= import("../core/proofs/index.ts");
    return loaded;
  };
  return {
    name: "rust-fil-proofs compute_comm_d",
    async computeCommD(sealProof, pieces) {
      const lib = await proofs();
      if (!lib.addonAvailable()) throw new Error("the proofs addon is not built (run ./scripts/setup)");
      const filled = zeroFilled(pieces, sealProofInfo(sealProof).sectorSize);
      return lib.computeCommD({
        registeredProof: sealProof,
        pieces: filled.map((p) => ({ commitment: p.commP, size: lib.unpaddedSize(p.paddedSize) })),
      });
    },
  };
}
