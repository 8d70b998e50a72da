import { childLogger } from "../../core/log/index.ts";
import { InvalidProofError, unavailableVerifier, type SealVerifier } from "./verifier.ts";

const log = childLogger("proofs");

/**
 * The real verifier: verify_seal of rust-fil-proofs through src/core/proofs (the napi addon).
 * Loaded lazily so the manager starts — and says clearly why proofs cannot be checked — where the
 * addon is not built.
 */
export async function loadProofsVerifier(): Promise<SealVerifier> {
  let proofs: typeof import("../../core/proofs/index.ts");
  try {
    proofs = await import("../../core/proofs/index.ts");
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
