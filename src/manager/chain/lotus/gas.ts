/**
 * The fee part of a `[Miners.*]` message policy (core/config/manager.ts MessagePolicy), applied to the
 * node's GasEstimateMessageGas answer. What each key does here:
 * - GasOverEstimation: multiplies the estimated GasLimit (rounded up). The node's estimate already carries
 *   the node's own over-estimation; this is the miner's margin on top. A value ≤ 0 keeps the estimate.
 * - GasOverPremium: multiplies the estimated GasPremium (rounded up); 0 (the default) keeps the estimate.
 * - GasFeeCap: the most attoFIL per gas unit the miner pays (base fee + premium); it replaces the node's
 *   fee-cap estimate. "0" means: take the node's estimate.
 * - MaxFeeCap: an upper bound on the fee cap above, whichever it came from (the original's legacy key).
 * The premium never exceeds the fee cap (Lotus clamps the same way), and the MaxFee a node-wallet push
 * announces is GasLimit × fee cap, so the node keeps the values chosen here.
 */

export interface GasPolicy {
  gasOverEstimation: number;
  gasOverPremium: number;
  /** attoFIL per gas unit; 0n: the node's estimate. */
  gasFeeCap: bigint;
  /** attoFIL per gas unit; undefined: no bound. */
  maxFeeCap?: bigint;
}

export interface Gas {
  gasLimit: number;
  gasFeeCap: bigint;
  gasPremium: bigint;
}

/** Lotus's block gas limit: no message can use more, so an over-estimate is clamped to it. */
export const BLOCK_GAS_LIMIT = 10_000_000_000;

/** A bigint times a decimal factor, rounded up (factors are config numbers such as 1.2). */
function scale(value: bigint, factor: number): bigint {
  const micros = BigInt(Math.round(factor * 1_000_000));
  return (value * micros + 999_999n) / 1_000_000n;
}

export function applyGasPolicy(estimate: Gas, policy: GasPolicy): Gas {
  const gasLimit =
    policy.gasOverEstimation > 0
      ? Math.min(BLOCK_GAS_LIMIT, Math.ceil(estimate.gasLimit * policy.gasOverEstimation))
      : estimate.gasLimit;
  let gasFeeCap = policy.gasFeeCap > 0n ? policy.gasFeeCap : estimate.gasFeeCap;
  if (policy.maxFeeCap !== undefined && gasFeeCap > policy.maxFeeCap) gasFeeCap = policy.maxFeeCap;
  let gasPremium = policy.gasOverPremium > 0 ? scale(estimate.gasPremium, policy.gasOverPremium) : estimate.gasPremium;
  if (gasPremium > gasFeeCap) gasPremium = gasFeeCap;
  return { gasLimit, gasFeeCap, gasPremium };
}

/** The MaxFee a node-wallet push announces: what the chosen gas can cost at most. */
export const maxFeeOf = (gas: Gas): bigint => BigInt(gas.gasLimit) * gas.gasFeeCap;
