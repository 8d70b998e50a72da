import { expect, test } from "bun:test";
import { percentile, summarize } from "./stats.ts";

test("nearest-rank percentiles", () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
  expect(percentile(hundred, 50)).toBe(50);
  expect(percentile(hundred, 99)).toBe(99);
  expect(percentile(hundred, 100)).toBe(100);
  expect(percentile([7], 99)).toBe(7);
  expect(percentile([], 50)).toBe(0);
});

test("a summary sorts numerically (not as strings) and keeps the max", () => {
  const s = summarize([10, 9, 100, 2], 1);
  expect(s).toEqual({ count: 4, errors: 1, p50Ms: 9, p99Ms: 100, maxMs: 100 });
});
