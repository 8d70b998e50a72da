import { describe, expect, test } from "bun:test";
import type { DeadlineInfo } from "./api-chain.ts";
import { deadlineIsMutable, epochsUntilMutable, nextDeadlineOpen } from "./deadlines.ts";

const shape = { wpostChallengeWindow: 30, wpostPeriodDeadlines: 4 };

/** The miner's deadline info at `epoch` for a period starting at 100 (deadlines of 30 epochs). */
function at(epoch: number): DeadlineInfo {
  const periodStart = 100 + Math.floor((epoch - 100) / 120) * 120;
  const index = Math.floor((epoch - periodStart) / 30);
  const open = periodStart + index * 30;
  return { currentEpoch: epoch, periodStart, index, open, close: open + 30, challenge: open - 10 };
}

describe("deadline mutability (builtin deadline_is_mutable)", () => {
  test("the deadline being proven and the next one are frozen; the others may change", () => {
    const now = at(135); // deadline 1 open (130..160)
    expect(now.index).toBe(1);
    expect(deadlineIsMutable(now, 1, shape)).toBe(false);
    expect(deadlineIsMutable(now, 2, shape)).toBe(false);
    expect(deadlineIsMutable(now, 3, shape)).toBe(true);
    expect(deadlineIsMutable(now, 0, shape)).toBe(true);
    // Deadline 0 has closed this period: its next instance opens in the next one.
    expect(nextDeadlineOpen(now, 0, shape)).toBe(220);
    expect(nextDeadlineOpen(now, 3, shape)).toBe(190);
  });

  test("frozen until the instance closes; a margin freezes earlier", () => {
    const now = at(135);
    expect(epochsUntilMutable(now, 1, shape)).toBe(160 - 135);
    expect(epochsUntilMutable(now, 2, shape)).toBe(190 - 135);
    // Deadline 3 opens at 190: mutable while epoch < 160, or < 150 with a 10-epoch margin.
    expect(epochsUntilMutable(at(155), 3, shape)).toBe(0);
    expect(epochsUntilMutable(at(155), 3, shape, 10)).toBeGreaterThan(0);
  });
});
