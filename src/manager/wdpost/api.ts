import { RpcError, RpcErrorCode, type RpcRegistry } from "../../core/rpc/index.ts";
import { type AllWdPoStJob, WDPOST_JOB_NOT_FOUND, WdPoSt } from "../../core/sector/api-wdpost.ts";
import { WdPoStJobNotFoundError, type WdPoStJobs } from "./jobs.ts";

/**
 * WorkerWdPoStAPI on the manager's registry (reference §3.3). Params were validated by the registry; an
 * unknown job id answers InvalidParams naming the id, so a worker or an operator sees which job.
 */
export function registerWdPoStApi(registry: RpcRegistry, jobs: WdPoStJobs): void {
  const known = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof WdPoStJobNotFoundError)
        throw new RpcError(RpcErrorCode.InvalidParams, `jobID: ${err.message}`, WDPOST_JOB_NOT_FOUND);
      throw err;
    }
  };

  registry
    .implement(WdPoSt.AllocateJobs, (spec, num, workerName) => jobs.allocate(spec, num, workerName))
    .implement(WdPoSt.HeartbeatJobs, (ids, workerName) => {
      jobs.heartbeat(ids ?? [], workerName);
      return null;
    })
    .implement(WdPoSt.FinishJob, (id, output, errorReason) =>
      known(async () => {
        if (errorReason.trim() === "" && !output) {
          throw new RpcError(
            RpcErrorCode.InvalidParams,
            `WdPoStFinishJob ${id}: give either an output or an errorReason (got neither)`,
          );
        }
        await jobs.finish(id, output ?? null, errorReason);
        return null;
      }),
    )
    .implement(WdPoSt.ResetJob, (id) => known(() => jobs.reset(id).then(() => null)))
    .implement(WdPoSt.RemoveJob, (id) => known(() => jobs.remove(id).then(() => null)))
    .implement(
      WdPoSt.AllJobs,
      (): AllWdPoStJob => ({
        Jobs: jobs.all().map((job) => ({
          ...job,
          // The list shows jobs, not their inputs: the sectors and seed stay on the manager (as in Go).
          Input: { ...job.Input, Sectors: null, Seed: new Array<number>(32).fill(0) },
          Output: job.Output ? { proofs: null, faults: job.Output.faults } : null,
          Sectors: job.Input.Sectors?.length ?? 0,
          Faults: job.Output?.faults?.length ?? 0,
        })),
        MaxTry: jobs.maxTry,
      }),
    );
}
