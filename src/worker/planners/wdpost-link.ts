import type { ConsolaInstance } from "consola";
import { RpcCallError, type RpcClient, RpcErrorCode } from "../../core/rpc/index.ts";
import { WdPoSt } from "../../core/sector/api-wdpost.ts";
import { sleep } from "../../core/sync/semaphore.ts";

/** Every 3 s while a job is held, as the Rust worker does; the manager's HeartbeatTimeout (15 s) is above it. */
export const HEARTBEAT_INTERVAL_MS = 3_000;

export const NOT_SERVED_HINT =
  "the manager does not serve WdPoSt jobs: enable its worker-prover module (manager run --poster --worker-prover)";

export function isMethodNotFound(err: unknown): boolean {
  return err instanceof RpcCallError && err.code === RpcErrorCode.MethodNotFound;
}

/**
 * What every wdpost thread of one worker shares: the manager connection, the worker name jobs are held
 * under, and one heartbeat loop that keeps all held jobs alive with a single WdPoStHeartbeatJobs call.
 */
export class WdPoStLink {
  private readonly held = new Set<string>();
  private loop: Promise<void> | undefined;
  private readonly stopped = new AbortController();
  private warnedNotServed = false;

  constructor(
    readonly rpc: RpcClient,
    readonly workerName: string,
    private readonly log: ConsolaInstance,
    private readonly intervalMs = HEARTBEAT_INTERVAL_MS,
  ) {}

  /** Logs the "enable --worker-prover" hint once per worker, not once per thread and round. */
  notServed(): void {
    if (this.warnedNotServed) return;
    this.warnedNotServed = true;
    this.log.warn(NOT_SERVED_HINT);
  }

  served(): void {
    this.warnedNotServed = false;
  }

  /** Starts (or keeps) sending heartbeats for a job. */
  hold(jobId: string): void {
    this.held.add(jobId);
    if (!this.loop && !this.stopped.signal.aborted) this.loop = this.beat().finally(() => (this.loop = undefined));
  }

  release(jobId: string): void {
    this.held.delete(jobId);
  }

  holding(jobId: string): boolean {
    return this.held.has(jobId);
  }

  private async beat(): Promise<void> {
    while (this.held.size > 0) {
      try {
        await sleep(this.intervalMs, this.stopped.signal);
      } catch {
        return;
      }
      if (this.held.size === 0) return;
      try {
        await this.rpc.call(WdPoSt.HeartbeatJobs, [...this.held], this.workerName);
      } catch (err) {
        if (isMethodNotFound(err)) this.notServed();
        else this.log.warn(`WdPoStHeartbeatJobs for ${[...this.held].join(", ")} failed: ${(err as Error).message}`);
      }
    }
  }

  /** Worker shutdown: no more heartbeats (the manager re-queues the jobs after its HeartbeatTimeout). */
  async stop(): Promise<void> {
    this.stopped.abort();
    await this.loop;
  }
}
