/** Latency summaries: nearest-rank percentiles over the calls a window measured. */

/** Nearest-rank percentile of an ascending array (p in 0..100); 0 for no samples. */
export function percentile(sortedAsc: ArrayLike<number>, p: number): number {
  const n = sortedAsc.length;
  if (n === 0) return 0;
  const rank = Math.ceil((p / 100) * n);
  return sortedAsc[Math.min(n - 1, Math.max(0, rank - 1))]!;
}

export interface LatencySummary {
  count: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Summary of latencies (ms) and the number of them that failed. */
export function summarize(latenciesMs: readonly number[], errors: number): LatencySummary {
  const sorted = Float64Array.from(latenciesMs).sort();
  return {
    count: sorted.length,
    errors,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.length === 0 ? 0 : sorted[sorted.length - 1]!,
  };
}
