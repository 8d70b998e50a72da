import type * as v from "valibot";
import { abort, temporary, WIRE_LEVEL } from "../core/errors/index.ts";
import { RpcClient } from "../core/rpc/client.ts";
import { RpcCallError, RpcErrorCode } from "../core/rpc/errors.ts";
import type { CallArgs, MethodDef, ParamList } from "../core/rpc/method.ts";
import { Venus } from "../core/sector/api.ts";
import type { SectorID } from "../core/sector/id.ts";
import type { JobRecord } from "./state/store.ts";
import type { ManagerReporter } from "./thread.ts";

/**
 * The worker's view of the manager. Every call maps failures to levels the way the original worker does:
 * 11001 (sector state not found) means the manager no longer knows the sector → abort; anything else
 * (unreachable, timeout, internal error) is temporary and retried after recover_interval.
 */
export class ManagerClient {
  readonly rpc: RpcClient;

  constructor(
    url: string,
    readonly instance: string,
  ) {
    this.rpc = new RpcClient(url, { timeoutMs: 60_000 });
  }

  /** ReportState / ReportAborted on behalf of the thread bound to `location`. */
  reporter(location: string): ManagerReporter {
    return {
      reportState: (job, change, failure) => this.reportState(location, job, change, failure),
      reportAborted: (job, reason) => this.reportAborted(job, reason),
    };
  }

  async call<P extends ParamList, R extends v.GenericSchema>(
    def: MethodDef<P, R>,
    ...args: CallArgs<P>
  ): Promise<v.InferOutput<R>> {
    try {
      return await this.rpc.call(def, ...args);
    } catch (err) {
      if (err instanceof RpcCallError && err.code === RpcErrorCode.SectorStateNotFound) throw abort(err);
      throw temporary(err);
    }
  }

  async reportState(
    location: string,
    job: JobRecord,
    change: { prev: string; next: string; event: string },
    failure?: { level: keyof typeof WIRE_LEVEL; message: string },
  ) {
    const sid = sectorId(job);
    const resp = await this.call(Venus.ReportState, sid, {
      Worker: { Instance: this.instance, Location: location },
      StateChange: { Prev: change.prev, Next: change.next, Event: change.event },
      Failure: failure ? { Level: WIRE_LEVEL[failure.level], Desc: failure.message } : null,
    });
    return { finalized: resp.Finalized, abortReason: resp.AbortReason };
  }

  async reportAborted(job: JobRecord, reason: string): Promise<void> {
    await this.call(Venus.ReportAborted, sectorId(job), reason);
  }
}

/** The wire SectorID of a job's sector (the worker stores it snake_case). */
export function sectorId(job: JobRecord): SectorID {
  if (!job.sector) throw new Error("job has no sector yet");
  return { Miner: job.sector.miner, Number: job.sector.number };
}
