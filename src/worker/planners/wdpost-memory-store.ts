import type { JobRecord } from "../state/store.ts";
import type { ThreadJobStore } from "../thread.ts";

/**
 * The job of a wdpost thread that has no location (seed 002: a wdpost thread needs no sealing store).
 * Nothing here must survive the worker: the manager owns the job, and a job whose worker vanished is
 * re-queued after HeartbeatTimeout. A wdpost thread given a location keeps its job in that location's
 * thread.db instead, so a quick restart picks the same job up again.
 */
export class MemoryJobStore implements ThreadJobStore {
  private record: string | undefined;

  load(): JobRecord | undefined {
    return this.record === undefined ? undefined : (JSON.parse(this.record) as JobRecord);
  }

  save(record: JobRecord): void {
    this.record = JSON.stringify(record);
  }

  clear(): void {
    this.record = undefined;
  }
}
