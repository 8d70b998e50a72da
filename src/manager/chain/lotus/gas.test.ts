import { expect, test } from "bun:test";
import { applyGasPolicy, BLOCK_GAS_LIMIT, maxFeeOf } from "./gas.ts";

const estimate = { gasLimit: 1_000_000, gasFeeCap: 100_000n, gasPremium: 1_000n };

test("GasOverEstimation scales the limit (rounded up, at most a block), ≤ 0 keeps it", () => {
  expect(applyGasPolicy(estimate, { gasOverEstimation: 1.25, gasOverPremium: 0, gasFeeCap: 0n }).gasLimit).toBe(
    1_250_000,
  );
  expect(
    applyGasPolicy({ ...estimate, gasLimit: 3 }, { gasOverEstimation: 1.2, gasOverPremium: 0, gasFeeCap: 0n }).gasLimit,
  ).toBe(4);
  expect(applyGasPolicy(estimate, { gasOverEstimation: 0, gasOverPremium: 0, gasFeeCap: 0n }).gasLimit).toBe(1_000_000);
  expect(
    applyGasPolicy(
      { ...estimate, gasLimit: BLOCK_GAS_LIMIT },
      { gasOverEstimation: 2, gasOverPremium: 0, gasFeeCap: 0n },
    ).gasLimit,
  ).toBe(BLOCK_GAS_LIMIT);
});

test("GasFeeCap replaces the estimate (0: the estimate), MaxFeeCap bounds it, the premium never exceeds it", () => {
  expect(applyGasPolicy(estimate, { gasOverEstimation: 1, gasOverPremium: 0, gasFeeCap: 0n }).gasFeeCap).toBe(100_000n);
  expect(
    applyGasPolicy(estimate, { gasOverEstimation: 1, gasOverPremium: 0, gasFeeCap: 5n * 10n ** 9n }).gasFeeCap,
  ).toBe(5_000_000_000n);
  const capped = applyGasPolicy(estimate, {
    gasOverEstimation: 1,
    gasOverPremium: 0,
    gasFeeCap: 10n ** 9n,
    maxFeeCap: 500n,
  });
  expect(capped).toEqual({ gasLimit: 1_000_000, gasFeeCap: 500n, gasPremium: 500n });
  expect(maxFeeOf(capped)).toBe(500_000_000n);
});

test("GasOverPremium scales the premium; 0 keeps it", () => {
  expect(applyGasPolicy(estimate, { gasOverEstimation: 1, gasOverPremium: 1.5, gasFeeCap: 0n }).gasPremium).toBe(
    1_500n,
  );
  expect(applyGasPolicy(estimate, { gasOverEstimation: 1, gasOverPremium: 0, gasFeeCap: 0n }).gasPremium).toBe(1_000n);
});
