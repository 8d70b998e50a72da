import { existsSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import type { AttachedStore } from "../../core/config/index.ts";
import { abort, Failure, temporary } from "../../core/errors/index.ts";
import { type PoStTaskWire, WindowPoStOutputSchema } from "../../core/processor/stages/post.ts";
import { RpcCallError, RpcErrorCode } from "../../core/rpc/index.ts";
import {
  isWdPoStJobNotFound,
  WdPoSt,
  type WdPoStAllocatedJob,
  WdPoStAllocatedJobSchema,
  type WindowPoStJobOutput,
  windowPoStWireNamesForSize,
} from "../../core/sector/api-wdpost.ts";
import { sectorName } from "../../core/sector/id.ts";
import type { StageRunner } from "../stages.ts";
import type { JobRecord } from "../state/store.ts";
import type { PlanImpl, StepContext, StepOutcome } from "../thread.ts";
import { type WdPoStEvent, type WdPoStState, wdpostPlan } from "./wdpost.ts";
import { isMethodNotFound, type WdPoStLink } from "./wdpost-link.ts";

/**
 * The work behind each state of the wdpost plan. What makes it different from sealing:
 * - there is no sector: nothing is reported with ReportState, and the thread needs no sealing store;
 * - the proof's failure belongs to the job, not to the thread: a window_post error (missing files, a
 *   processor that died, bad parameters) goes back to the manager as the job's errorReason, where it is
 *   retried (maybe by another worker) up to JobMaxTry;
 * - the thread itself never pauses on a job: a failure it cannot get past (the manager unreachable for
 *   max_retries rounds, a damaged saved job) aborts the job, which tells the manager so it can re-queue
 *   it, and the thread takes the next one. A paused PoSt thread would just miss deadlines.
 */

export interface WdPoStDeps {
  link: WdPoStLink;
  stages: StageRunner;
  attached: readonly AttachedStore[];
}

const JobResult = v.union([v.object({ output: WindowPoStOutputSchema }), v.object({ error: v.string() })]);
type JobResult = v.InferOutput<typeof JobResult>;

const Phases = v.object({ wdpost: v.optional(WdPoStAllocatedJobSchema), result: v.optional(JobResult) });

function phases(job: JobRecord): v.InferOutput<typeof Phases> {
  const parsed = v.safeParse(Phases, job.phases);
  if (!parsed.success)
    throw abort(
      new Error(
        `the saved wdpost job is damaged at ${v.getDotPath(parsed.issues[0]) ?? "phases"}: ${parsed.issues[0].message}`,
      ),
    );
  return parsed.output;
}

function heldJob(job: JobRecord): WdPoStAllocatedJob {
  const j = phases(job).wdpost;
  if (!j) throw abort(new Error("no WindowPoSt job in this state: nothing to prove"));
  return j;
}

/** The Rust worker's paths::sealed_file / cache_dir / update_file / update_cache_dir inside a store. */
function replicaPaths(store: AttachedStore, miner: number, sectorId: number, upgrade: boolean) {
  const name = sectorName({ Miner: miner, Number: sectorId });
  return {
    sealed: join(store.location, upgrade ? "update" : "sealed", name),
    cache: join(store.location, upgrade ? "update-cache" : "cache", name),
  };
}

/** An error about the job's data on this worker: it becomes the job's errorReason. */
class JobError extends Error {
  override name = "JobError";
}

/**
 * The window_post task for a job: store names resolved to this worker's [[attached]] stores. A store this
 * worker does not have, or a job none of whose sectors are readable here, is an error of the job: on
 * another worker (or after the operator fixes the mount and resets the job) it can succeed, whereas
 * proving it here would declare every sector faulty. Some missing sectors are left to the proof, which
 * reports them as faults.
 */
export function buildWindowPoStTask(
  job: WdPoStAllocatedJob,
  attached: readonly AttachedStore[],
  workerName: string,
): PoStTaskWire {
  const { Input } = job;
  const stores = new Map(attached.map((a) => [a.name, a]));
  const store = (name: string, what: string, sectorId: number) => {
    const s = stores.get(name);
    if (!s) {
      const have = attached.map((a) => a.name).join(", ") || "none";
      throw new JobError(
        `${what} of sector ${sectorId} is in store "${name}", which is not among the [[attached]] stores of worker ${workerName} (it has: ${have})`,
      );
    }
    return s;
  };
  const sectors = Input.Sectors ?? [];
  const replicas = sectors.map((s) => {
    const sealed = replicaPaths(
      store(s.Accesses.SealedFile, "the sealed file", s.SectorId),
      Input.MinerId,
      s.SectorId,
      s.Upgrade,
    ).sealed;
    const cache = replicaPaths(
      store(s.Accesses.CacheDir, "the cache dir", s.SectorId),
      Input.MinerId,
      s.SectorId,
      s.Upgrade,
    ).cache;
    return { sector_id: s.SectorId, comm_r: [...s.CommR], cache_dir: cache, sealed_file: sealed };
  });
  const missing = replicas.filter((r) => !existsSync(r.sealed_file) || !existsSync(r.cache_dir));
  if (replicas.length > 0 && missing.length === replicas.length) {
    const first = missing[0]!;
    const what = existsSync(first.sealed_file) ? first.cache_dir : first.sealed_file;
    throw new JobError(
      `none of the ${replicas.length} sector(s) is readable on worker ${workerName}: ${what} does not exist${replicas.length > 1 ? " (and likewise for the others)" : ""}`,
    );
  }
  return { miner_id: Input.MinerId, proof_type: Input.ProofType, replicas, seed: [...Input.Seed] };
}

export function wdpostSteps(deps: WdPoStDeps): PlanImpl<WdPoStState, WdPoStEvent> {
  const { link } = deps;

  const steps: Record<"Empty" | "Allocated" | "Generated", (ctx: StepContext) => Promise<StepOutcome<WdPoStEvent>>> = {
    async Empty(ctx) {
      const s = ctx.settings;
      let allocated: WdPoStAllocatedJob[] | null;
      try {
        allocated = await link.rpc.call(
          WdPoSt.AllocateJobs,
          {
            AllowedMiners: s.allowed_miners ?? null,
            AllowedProofTypes: s.allowed_sizes?.flatMap((size) => windowPoStWireNamesForSize(size)) ?? null,
          },
          1,
          link.workerName,
        );
      } catch (err) {
        // Nothing is held yet: an unreachable manager is just another empty round.
        if (isMethodNotFound(err)) link.notServed();
        else
          ctx.log.warn(
            `WdPoStAllocateJobs failed (trying again in ${s.recover_interval / 1000}s): ${(err as Error).message}`,
          );
        return { idle: true };
      }
      link.served();
      const job = allocated?.[0];
      if (!job) return { idle: true };
      link.hold(job.Id);
      ctx.log.info(
        `WindowPoSt job ${job.Id} allocated: miner ${job.Input.MinerId}, ${job.Input.Sectors?.length ?? 0} sector(s), ${job.Input.ProofType}`,
      );
      return { event: "Allocated", patch: { wdpost: job } };
    },

    async Allocated(ctx) {
      const job = heldJob(ctx.job);
      link.hold(job.Id); // after a restart the heartbeats start again here
      const started = Date.now();
      let result: JobResult;
      try {
        const task = buildWindowPoStTask(job, deps.attached, link.workerName);
        const out = await deps.stages.run("window_post", task, {
          signal: ctx.signal,
          setActivity: ctx.setActivity,
          log: ctx.log,
        });
        const checked = v.safeParse(WindowPoStOutputSchema, out);
        result = checked.success
          ? { output: checked.output }
          : {
              error: `window_post answered no WindowPoSt result: ${v.getDotPath(checked.issues[0]) ?? "output"}: ${checked.issues[0].message}`,
            };
      } catch (err) {
        // Stopping or pausing the worker is not the job's failure: the step runs again on resume. Until
        // then the heartbeats stop, so that a long pause hands the job to another worker.
        if (ctx.signal.aborted) {
          link.release(job.Id);
          throw err;
        }
        result = { error: (err as Error).message };
      }
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      if ("output" in result)
        ctx.log.info(`WindowPoSt job ${job.Id} proven in ${secs}s (${result.output.faults.length} fault(s))`);
      else ctx.log.error(`WindowPoSt job ${job.Id} failed after ${secs}s: ${result.error}`);
      return { event: "Generate", patch: { result } };
    },

    async Generated(ctx) {
      const job = heldJob(ctx.job);
      link.hold(job.Id);
      const result = phases(ctx.job).result;
      if (!result) throw abort(new Error(`WindowPoSt job ${job.Id} has no result to hand in`));
      const output: WindowPoStJobOutput | null = "output" in result ? result.output : null;
      try {
        await link.rpc.call(
          WdPoSt.FinishJob,
          job.Id,
          output,
          "error" in result ? result.error || "window_post failed" : "",
        );
      } catch (err) {
        if (err instanceof RpcCallError && err.code === RpcErrorCode.InvalidParams && isWdPoStJobNotFound(err.data)) {
          ctx.log.warn(`WindowPoSt job ${job.Id} was removed on the manager; its result is dropped`);
        } else {
          throw temporary(err);
        }
      }
      link.release(job.Id);
      return { event: "Finish" };
    },
  };

  return {
    table: wdpostPlan,
    async exec(state, ctx) {
      const step = steps[state as keyof typeof steps];
      if (!step) throw abort(new Error(`no work defined for wdpost state ${state}`));
      try {
        return await step(ctx);
      } catch (err) {
        throw asJobFailure(err, ctx);
      }
    },
    async finish(job, ctx) {
      const { wdpost: held, result } = phases(job);
      if (held) {
        link.release(held.Id);
        ctx.log.info(
          `WindowPoSt job ${held.Id}: ${result && "output" in result ? "proof handed in" : "failure reported to the manager"}`,
        );
      }
    },
    async cleanup(job, ctx) {
      const parsed = v.safeParse(Phases, job.phases);
      const held = parsed.success ? parsed.output.wdpost : undefined;
      if (!held) return;
      link.release(held.Id);
      // Tell the manager now rather than letting the job wait for its heartbeat timeout.
      const reason = `worker ${link.workerName} aborted the job: ${job.last_error?.message ?? "aborted by operator"}`;
      try {
        await link.rpc.call(WdPoSt.FinishJob, held.Id, null, reason);
      } catch (err) {
        ctx.log.warn(
          `could not report the aborted WindowPoSt job ${held.Id}: ${(err as Error).message}; the manager re-queues it after its heartbeat timeout`,
        );
      }
    },
  };
}

/**
 * Temporary failures are retried up to max_retries; anything beyond that, or of any other level, aborts
 * the job (see the module comment).
 */
function asJobFailure(err: unknown, ctx: StepContext): Failure {
  if (ctx.signal.aborted) return err instanceof Failure ? err : temporary(err);
  const f = err instanceof Failure ? err : abort(err);
  if (f.level === "temporary" && ctx.job.retry < ctx.settings.max_retries) return f;
  if (f.level === "abort") return f;
  return abort(
    new Error(f.level === "temporary" ? `${f.message} (gave up after ${ctx.job.retry} retries)` : f.message, {
      cause: f,
    }),
  );
}
