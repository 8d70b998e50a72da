import type { Histogram, MetricsRegistry } from "../../core/metrics/index.ts";
import type { WdPoStJobs } from "./jobs.ts";

/** Seconds, 1 s to 2 h: a 2KiB devnet proof takes seconds, a 32GiB partition minutes. */
export const WDPOST_ELAPSED_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200] as const;

/**
 * The worker-prover's Prometheus series (the original declares wdpost/job/count and wdpost/job/elapsed):
 * - wdpost_job_count{state=ready2run|running|succeeded|failed}, read from the store at scrape time;
 * - wdpost_job_elapsed_seconds{result=ok|failed}, one observation per try that ended (a heartbeat
 *   timeout counts as failed), from allocation to the end of the try.
 * Returns a function that detaches the histogram from the store.
 */
export function registerWdPoStMetrics(registry: MetricsRegistry, jobs: WdPoStJobs): () => void {
  const count = registry.gauge(
    "wdpost_job_count",
    "worker-prover WindowPoSt jobs by state (failed = finished after JobMaxTry tries)",
  );
  count.collect = (g) => {
    const c = jobs.counts();
    for (const [state, n] of Object.entries(c)) g.set(n, { state });
  };
  const elapsed: Histogram = registry.histogram(
    "wdpost_job_elapsed_seconds",
    "time from allocation to the end of each WindowPoSt job try, in seconds",
    WDPOST_ELAPSED_BUCKETS,
  );
  return jobs.subscribe((ev) => {
    if (ev.type === "attempt") elapsed.observe(ev.elapsedSec, { result: ev.ok ? "ok" : "failed" });
  });
}
