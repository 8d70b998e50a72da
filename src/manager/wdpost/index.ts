/**
 * The worker-prover (`--worker-prover`): a durable WindowPoSt job store that workers with plan = "wdpost"
 * claim, heartbeat and finish over Venus.WdPoSt*, and the prover that turns a deadline into jobs and waits.
 */

import { childLogger } from "../../core/log/index.ts";
import type { MetricsRegistry } from "../../core/metrics/index.ts";
import type { RpcRegistry } from "../../core/rpc/index.ts";
import type { KVStore } from "../../core/store/index.ts";
import { registerWdPoStApi } from "./api.ts";
import { WdPoStJobs, type WorkerProverConfig } from "./jobs.ts";
import { registerWdPoStMetrics } from "./metrics.ts";
import { WorkerProver } from "./prover.ts";

export { registerWdPoStApi } from "./api.ts";
export { wdpostJobId } from "./job-id.ts";
export {
  HEARTBEAT_TIMEOUT_REASON,
  type WdPoStJobEvent,
  WdPoStJobNotFoundError,
  WdPoStJobs,
  type WorkerProverConfig,
} from "./jobs.ts";
export { registerWdPoStMetrics } from "./metrics.ts";
export { jobInput, WorkerProver } from "./prover.ts";

const log = childLogger("wdpost");

/** The heartbeat period of our workers (and of the Rust damocles-worker). */
export const WORKER_HEARTBEAT_INTERVAL_MS = 3_000;

export interface WorkerProverModuleOptions {
  store: KVStore;
  /** `config.Common.Proving.WorkerProver` (durations in ms). */
  config: WorkerProverConfig;
  /** Where the Venus.WdPoSt* methods are served. */
  registry: RpcRegistry;
  now?: () => number;
}

export interface WorkerProverModule {
  jobs: WdPoStJobs;
  /** Give it to the poster as its WindowPoStProver. */
  prover: WorkerProver;
  /** Adds wdpost_job_count and wdpost_job_elapsed_seconds to a metrics registry. */
  registerMetrics(metrics: MetricsRegistry): void;
  /** Starts the heartbeat-timeout / retry / lifetime loop. */
  start(): void;
  stop(): void;
}

/** `manager run --worker-prover`: the job store, the prover the poster uses, and the workers' API. */
export function createWorkerProverModule(opts: WorkerProverModuleOptions): WorkerProverModule {
  const jobs = new WdPoStJobs({ store: opts.store, config: opts.config, now: opts.now });
  const prover = new WorkerProver(jobs);
  registerWdPoStApi(opts.registry, jobs);
  if (opts.config.HeartbeatTimeout <= WORKER_HEARTBEAT_INTERVAL_MS) {
    log.warn(
      `[Common.Proving.WorkerProver] HeartbeatTimeout = ${opts.config.HeartbeatTimeout / 1000}s is not longer than the workers' ` +
        `${WORKER_HEARTBEAT_INTERVAL_MS / 1000}s heartbeat: running jobs will be failed while their workers are healthy`,
    );
  }
  const detach: (() => void)[] = [];
  return {
    jobs,
    prover,
    registerMetrics(metrics) {
      detach.push(registerWdPoStMetrics(metrics, jobs));
    },
    start() {
      jobs.start();
      log.info(
        `worker-prover: WindowPoSt jobs go to workers with plan = "wdpost" (JobMaxTry ${opts.config.JobMaxTry}, ` +
          `HeartbeatTimeout ${opts.config.HeartbeatTimeout / 1000}s, JobLifetime ${opts.config.JobLifetime / 3_600_000}h)`,
      );
    },
    stop() {
      jobs.stop();
      for (const d of detach.splice(0)) d();
    },
  };
}
