import type { ConsolaInstance } from "consola";
import type * as v from "valibot";
import { abort, Failure, temporary, WIRE_LEVEL } from "../core/errors/index.ts";
import { RpcClient } from "../core/rpc/client.ts";
import { RpcCallError, RpcErrorCode, RpcTransportError } from "../core/rpc/errors.ts";
import type { CallArgs, MethodDef, ParamList } from "../core/rpc/method.ts";
import { Venus } from "../core/sector/api.ts";
import type { SectorID } from "../core/sector/id.ts";
import type { JobRecord } from "./state/store.ts";
import type { ManagerReporter } from "./thread.ts";

/**
 * The manager could not be reached (down, restarting, a network blip): nothing is wrong with the sector, so
 * the thread waits recover_interval and runs the step again without counting it against max_retries. A
 * manager restart must not park the worker's threads the way max_retries real failures do.
 */
export class ManagerUnreachable extends Failure {
  constructor(cause: RpcTransportError) {
    super("temporary", `the sector manager is unreachable: ${cause.message}`, { cause });
    this.name = "ManagerUnreachable";
  }
}

/**
 * The worker's view of the manager. Every call maps failures to levels the way the original worker does:
 * 11001 (sector state not found) means the manager no longer knows the sector → abort; a manager that
 * cannot be reached → ManagerUnreachable (waited out, never escalated); any other error answer is
 * temporary and retried after recover_interval.
 */
export class ManagerClient {
  readonly rpc: RpcClient;
  /** When the current outage began: every thread hits it, the log says so once. */
  private unreachableSince: number | undefined;

  constructor(
    url: string,
    readonly instance: string,
    private readonly log?: ConsolaInstance,
    headers: Record<string, string> = {},
  ) {
    this.rpc = new RpcClient(url, { timeoutMs: 60_000, headers });
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
    let result: v.InferOutput<R>;
    try {
      result = await this.rpc.call(def, ...args);
    } catch (err) {
      if (err instanceof RpcTransportError) throw this.unreachable(err);
      this.reachable();
      if (err instanceof RpcCallError && err.code === RpcErrorCode.SectorStateNotFound) throw abort(err);
      throw temporary(err);
    }
    this.reachable();
    return result;
  }

  private unreachable(err: RpcTransportError): ManagerUnreachable {
    if (this.unreachableSince === undefined) {
      this.unreachableSince = Date.now();
      this.log?.warn(`the sector manager is unreachable (${err.message}); threads wait for it without giving up`);
    }
    return new ManagerUnreachable(err);
  }

  private reachable(): void {
    if (this.unreachableSince === undefined) return;
    const s = Math.round((Date.now() - this.unreachableSince) / 1000);
    this.unreachableSince = undefined;
    this.log?.info(`the sector manager answers again after ${s}s`);
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
