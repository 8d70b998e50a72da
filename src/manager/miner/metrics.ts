import type { Counter, Histogram, MetricsRegistry } from "../../core/metrics/index.ts";
import { POST_SECONDS_BUCKETS } from "../metrics.ts";

/** The WinningPoSt series of the manager (the original declared these and left them "not yet enabled"). */
export interface WinningPoStMetrics {
  winningPoStDuration: Histogram;
  winningPoStOutcome: Counter;
}

export function registerWinningPoStMetrics(r: MetricsRegistry): WinningPoStMetrics {
  return {
    winningPoStDuration: r.histogram(
      "prover_winning_post_duration_seconds",
      "WinningPoSt proof time per won election, per miner",
      POST_SECONDS_BUCKETS,
    ),
    winningPoStOutcome: r.counter(
      "prover_winning_post_total",
      "won elections, per miner and outcome (mined|rejected|failed|warmup)",
    ),
  };
}
