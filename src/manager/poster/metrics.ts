import type { Counter, Histogram, MetricsRegistry } from "../../core/metrics/index.ts";

const SECONDS_BUCKETS = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800] as const;

/** PoSt series of the manager (the original declared these and left them "not yet enabled"). */
export interface PoSterMetrics {
  windowPoStDuration: Histogram;
  windowPoStOutcome: Counter;
  winningPoStDuration: Histogram;
  winningPoStOutcome: Counter;
}

export function registerPoStMetrics(r: MetricsRegistry): PoSterMetrics {
  return {
    windowPoStDuration: r.histogram(
      "prover_window_post_duration_seconds",
      "WindowPoSt check + proof time, per miner and deadline",
      SECONDS_BUCKETS,
    ),
    windowPoStOutcome: r.counter(
      "prover_window_post_total",
      "WindowPoSt deadlines handled, per miner, deadline and outcome (proven|failed|all-faulty)",
    ),
    winningPoStDuration: r.histogram(
      "prover_winning_post_duration_seconds",
      "WinningPoSt proof time per won election, per miner",
      SECONDS_BUCKETS,
    ),
    winningPoStOutcome: r.counter(
      "prover_winning_post_total",
      "won elections, per miner and outcome (mined|rejected|failed|warmup)",
    ),
  };
}
