import { type Counter, type Gauge, type Histogram, MetricsRegistry } from "../core/metrics/index.ts";
import type { WorkerPingInfo } from "../core/sector/index.ts";

/** Seconds, 0.5 s to 30 min: the buckets of the WindowPoSt and WinningPoSt duration series (poster/, miner/). */
export const POST_SECONDS_BUCKETS = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800] as const;

/** The manager's Prometheus series (prefix damocles_manager_, names after the original's views, §8). */
export class ManagerMetrics {
  readonly registry = new MetricsRegistry("damocles_manager_");
  readonly info: Gauge;
  readonly apiState: Gauge;
  readonly requestDuration: Histogram;
  readonly requestErrors: Counter;
  readonly newSector: Counter;
  readonly preCommitSubmitted: Counter;
  readonly proofSubmitted: Counter;
  readonly messagesPushed: Counter;
  readonly messagesDone: Counter;
  readonly sectorsLanded: Counter;
  readonly chainHead: Gauge;
  readonly threads: Gauge;
  readonly workers: Gauge;
  readonly onlineSectors: Gauge;

  constructor(version: string) {
    const r = this.registry;
    this.info = r.gauge("info", "1 while the manager runs; the version label says which");
    this.info.set(1, { version });
    this.apiState = r.gauge("api_state", "1 while the RPC server is up");
    this.requestDuration = r.histogram(
      "api_request_duration_ms",
      "RPC handling time in milliseconds, per method (endpoint)",
    );
    this.requestErrors = r.counter(
      "api_request_errors_total",
      "RPC calls answered with an error, per method (endpoint)",
    );
    this.newSector = r.counter("new_sector", "sectors allocated, per miner");
    this.preCommitSubmitted = r.counter("sector_pre_commit", "SubmitPreCommit calls accepted, per miner");
    this.proofSubmitted = r.counter("sector_commit", "SubmitProof calls accepted, per miner");
    this.messagesPushed = r.counter("message_pushed_total", "chain messages pushed, per miner and method");
    this.messagesDone = r.counter(
      "message_done_total",
      "chain messages that landed or failed, per miner, method and result",
    );
    this.sectorsLanded = r.counter(
      "sector_landed_total",
      "sectors whose PreCommit/ProveCommit landed, per miner, kind and result (ok|rejected)",
    );
    this.chainHead = r.gauge("chain_head_epoch", "current epoch of the chain the manager follows");
    this.threads = r.gauge("thread_count", "sealing threads by state, summed from worker pings younger than 5 minutes");
    this.workers = r.gauge("worker_count", "workers by the age of their last ping");
    this.onlineSectors = r.gauge("online_sectors", "sectors being sealed (online states)");
  }

  observeCall(method: string, ms: number, ok: boolean): void {
    this.requestDuration.observe(ms, { endpoint: method });
    if (!ok) this.requestErrors.inc({ endpoint: method });
  }

  /** Recomputes the ping-derived gauges; called at scrape time so they are never stale. */
  collectWorkers(pings: WorkerPingInfo[], nowSec: number): void {
    this.threads.reset();
    this.workers.reset();
    for (const c of ["empty", "paused", "running", "waiting", "errors"]) this.threads.set(0, { category: c });
    for (const c of ["latency<=60s", "latency<=120s", "latency<=300s", "latency>300s"])
      this.workers.set(0, { category: c });
    for (const p of pings) {
      const age = nowSec - p.LastPing;
      const bucket =
        age <= 60 ? "latency<=60s" : age <= 120 ? "latency<=120s" : age <= 300 ? "latency<=300s" : "latency>300s";
      this.workers.inc({ category: bucket });
      if (age > 300) continue;
      const s = p.Info.Summary;
      this.threads.inc({ category: "empty" }, s.Empty);
      this.threads.inc({ category: "paused" }, s.Paused);
      this.threads.inc({ category: "running" }, s.Running);
      this.threads.inc({ category: "waiting" }, s.Waiting);
      this.threads.inc({ category: "errors" }, s.Errors);
    }
  }
}
