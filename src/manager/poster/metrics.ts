import type { Counter, Histogram, MetricsRegistry } from "../../core/metrics/index.ts";
import { POST_SECONDS_BUCKETS } from "../metrics.ts";

/** The WindowPoSt series of the manager (the original declared these and left them "not yet enabled"). */
export interface WindowPoStMetrics {
  windowPoStDuration: Histogram;
  windowPoStOutcome: Counter;
}

export function registerWindowPoStMetrics(r: MetricsRegistry): WindowPoStMetrics {
  return {
    windowPoStDuration: r.histogram(
      "prover_window_post_duration_seconds",
      "WindowPoSt check + proof time, per miner and deadline",
      POST_SECONDS_BUCKETS,
    ),
    windowPoStOutcome: r.counter(
      "prover_window_post_total",
      "WindowPoSt deadlines handled, per miner, deadline and outcome (proven|failed|all-faulty)",
    ),
  };
}
