import type { ProcessorChild, ProcessorStatus } from "../../core/processor/producer.ts";
import { RpcError, RpcErrorCode } from "../../core/rpc/errors.ts";
import type { RpcRegistry } from "../../core/rpc/server.ts";
import { VenusWorker, type WorkerProcessorInfo, type WorkerThreadInfo } from "../../core/sector/api-worker.ts";
import { type SectorID, sectorName } from "../../core/sector/id.ts";
import { VERSION_STRING } from "../../core/version.ts";
import type { SealingThread, ThreadStatus } from "../thread.ts";

/** A sealing job is named by its sector; an unseal job by its sector and piece; a wdpost job by the manager's job id. */
function jobId(job: ThreadStatus["job"]): string | null {
  if (!job) return null;
  if (job.sector) return sectorName(job.sector);
  const unseal = job.phases.unseal as { Sector?: { ID?: SectorID }; PieceCid?: { "/"?: string } } | undefined;
  if (unseal?.Sector?.ID && unseal.PieceCid?.["/"]) return `${sectorName(unseal.Sector.ID)}/${unseal.PieceCid["/"]}`;
  const held = job.phases.wdpost as { Id?: unknown } | undefined;
  return typeof held?.Id === "string" ? held.Id : null;
}

export function threadInfo(s: ThreadStatus, now = Date.now()): WorkerThreadInfo {
  const secs = (since: number) => Math.max(0, Math.round((now - since) / 1000));
  const thread_state: WorkerThreadInfo["thread_state"] = s.paused
    ? { state: "Paused", elapsed: secs(s.pausedSince ?? now) }
    : s.activity.kind === "running"
      ? { state: "Running", elapsed: secs(s.activitySince), proc: s.activity.proc ?? null }
      : s.activity.kind === "waiting"
        ? { state: "Waiting", elapsed: secs(s.activitySince), on: s.activity.on }
        : { state: "Idle" };
  return {
    location: s.location,
    plan: s.plan,
    job_id: jobId(s.job),
    index: s.index,
    thread_state,
    job_state: s.job?.state ?? "Empty",
    job_stage: s.stage ?? null,
    last_error: s.lastError ?? null,
  };
}

export function processorInfo(s: ProcessorStatus): WorkerProcessorInfo {
  return {
    stage: s.stage,
    index: s.index,
    pid: s.pid,
    state: s.state,
    restarts: s.restarts,
    placement: s.placement,
    memory_policy: s.memoryPolicy,
  };
}

/** VenusWorker.* over the worker's threads and processor children. Env changes apply to processors started afterwards and to dump settings at once. */
export function implementWorkerApi(
  registry: RpcRegistry,
  threads: readonly SealingThread[],
  processors: readonly ProcessorChild[],
): void {
  const thread = (index: number) => {
    const t = threads[index];
    if (!t)
      throw new RpcError(
        RpcErrorCode.InvalidParams,
        `no sealing thread #${index}; this worker has ${threads.length} (0..${threads.length - 1})`,
      );
    return t;
  };
  registry
    .implement(VenusWorker.WorkerList, () => threads.map((t) => threadInfo(t.status())))
    .implement(VenusWorker.WorkerPause, (index) => thread(index).pause())
    .implement(VenusWorker.WorkerResume, (index, setTo) => {
      try {
        return thread(index).resume(setTo ?? undefined);
      } catch (err) {
        if (err instanceof RpcError) throw err;
        throw new RpcError(RpcErrorCode.InvalidParams, (err as Error).message);
      }
    })
    .implement(VenusWorker.WorkerSetEnv, (name, value) => {
      process.env[name] = value;
      return null;
    })
    .implement(VenusWorker.WorkerRemoveEnv, (name) => {
      delete process.env[name];
      return null;
    })
    .implement(VenusWorker.WorkerVersion, () => VERSION_STRING)
    .implement(VenusWorker.ProcessorList, () => processors.map((p) => processorInfo(p.status())));
}
