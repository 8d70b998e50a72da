import { createHash } from "node:crypto";

/**
 * The devnet's randomness beacon: sha256 over the chain seed, a domain tag, the miner and the epoch.
 * Deterministic, so any process that knows the seed (a second manager, a test) derives the same values.
 */

export type RandomnessDomain =
  | "SealRandomness"
  | "InteractiveSealChallengeSeed"
  | "WindowedPoStChallengeSeed"
  | "WinningPoStChallengeSeed";

/** Where the devnet draws its randomness from; deriveRandomness over the chain seed unless a test injects one. */
export type Beacon = (domain: RandomnessDomain, actor: number, epoch: number) => Uint8Array;

export function deriveRandomness(seed: string, domain: RandomnessDomain, actor: number, epoch: number): Uint8Array {
  const out = new Uint8Array(
    createHash("sha256").update(`damocles-devnet\0${seed}\0${domain}\0${actor}\0${epoch}`).digest(),
  );
  // PoSt randomness goes through the proofs' as_safe_commitment: it must be a canonical BLS12-381
  // scalar (little-endian), which clearing the top two bits of the last byte guarantees.
  if (domain === "WindowedPoStChallengeSeed" || domain === "WinningPoStChallengeSeed") out[31]! &= 0x3f;
  return out;
}
