import type { ConsolaInstance } from "consola";
import type { SealingSettings } from "../core/config/index.ts";
import { escalate, Failure, type FailureLevel, toFailure, WIRE_LEVEL } from "../core/errors/index.ts";
import { sectorName } from "../core/sector/id.ts";
import { sleep } from "../core/sync/semaphore.ts";
import { ManagerUnreachable } from "./manager-client.ts";
import { isState, nextState, PlanError, type PlanTable } from "./planners/plan.ts";
import type { JobRecord, ThreadStateStore } from "./state/store.ts";

/**
 * One sealing thread: one job at a time, bound to one store location and one plan. Each step runs the work
 * of the current state, returns an event, and the plan's table gives the next state; the job is saved
 * before the manager hears about it, so a kill at any moment resumes from the last saved state.
 */

export type StepOutcome<E extends string> =
  | { event: E; patch?: Record<string, unknown>; sector?: JobRecord["sector"] }
  /** Nothing to do right now (no sector allocated): the loop sleeps and may reload hot config. */
  | { idle: true };

export interface StepContext {
  job: JobRecord;
  settings: SealingSettings;
  log: ConsolaInstance;
  signal: AbortSignal;
  /** Marks the thread as waiting on a limit or a processor (shown by `worker list`). */
  setActivity(activity: ThreadActivity): void;
}

export interface PlanImpl<S extends string, E extends string> {
  table: PlanTable<S, E>;
  exec(state: S, ctx: StepContext): Promise<StepOutcome<E>>;
  /** After the terminal state: report and clean local files. */
  finish(job: JobRecord, ctx: StepContext): Promise<void>;
  /** Abort-level failure or a manager-side abort: clean local files (the manager has been told). */
  cleanup(job: JobRecord, ctx: StepContext): Promise<void>;
}

/**
 * A plan as a thread holds it: the hot config may switch a thread to another plan between sectors, so the
 * thread knows states and events only as strings. Every state is checked against the plan's own table before
 * its step runs, so a saved job from another plan fails loudly instead of running the wrong step.
 */
export type AnyPlanImpl = PlanImpl<string, string>;

export function erasePlan<S extends string, E extends string>(impl: PlanImpl<S, E>): AnyPlanImpl {
  return {
    table: impl.table,
    exec: (state, ctx) => {
      if (!isState(impl.table, state)) throw new PlanError(`plan ${impl.table.name}: unknown state ${state}`);
      return impl.exec(state, ctx);
    },
    finish: (job, ctx) => impl.finish(job, ctx),
    cleanup: (job, ctx) => impl.cleanup(job, ctx),
  };
}

export interface ManagerReporter {
  reportState(
    job: JobRecord,
    change: { prev: string; next: string; event: string },
    failure?: Failure,
  ): Promise<{ finalized: boolean; abortReason?: string | null }>;
  reportAborted(job: JobRecord, reason: string): Promise<void>;
}

export type ThreadActivity = { kind: "idle" } | { kind: "running"; proc?: string } | { kind: "waiting"; on: string };

export interface ThreadStatus {
  index: number;
  location: string;
  plan: string;
  job: JobRecord | undefined;
  stage: string | undefined;
  activity: ThreadActivity;
  activitySince: number;
  paused: boolean;
  pausedSince: number | undefined;
  lastError: string | undefined;
}

/** Where a thread keeps its current job: the durable thread.db, or memory for a location-less wdpost thread. */
export type ThreadJobStore = Pick<ThreadStateStore, "load" | "save" | "clear">;

export interface ThreadOptions<S extends string, E extends string> {
  index: number;
  location: string;
  store: ThreadJobStore;
  /**
   * Called before each new sector and after request_task_max_retries empty rounds: the hot config may
   * change plan and settings. With `keepPlan` (a job already under way, e.g. after a restart), that plan
   * is built with the current settings: a job always finishes under the plan it started with.
   */
  resolve(keepPlan?: string): Promise<{ plan: PlanImpl<S, E>; settings: SealingSettings }>;
  reporter: ManagerReporter;
  log: ConsolaInstance;
}

export class SealingThread<S extends string = string, E extends string = string> {
  private plan: PlanImpl<S, E> | undefined;
  private settings: SealingSettings | undefined;
  private job: JobRecord | undefined;
  private activity: ThreadActivity = { kind: "idle" };
  private activitySince = Date.now();
  private pausedSince: number | undefined;
  private resumeWaiter: ((setState?: string) => void) | undefined;
  /** Ends a pause because the worker stops: the job stays paused as saved, and nothing runs. */
  private shutdownWaiter: (() => void) | undefined;
  private pendingResumeState: string | undefined;
  private readonly abort = new AbortController();
  private stepAbort = new AbortController();
  private done: Promise<void> | undefined;

  constructor(private readonly opts: ThreadOptions<S, E>) {}

  get index(): number {
    return this.opts.index;
  }

  status(): ThreadStatus {
    const stage =
      this.job && this.plan && isState(this.plan.table, this.job.state)
        ? this.plan.table.states[this.job.state as S].stage
        : undefined;
    return {
      index: this.opts.index,
      location: this.opts.location,
      plan: this.plan?.table.name ?? "sealer",
      job: this.job,
      stage,
      activity: this.activity,
      activitySince: this.activitySince,
      paused: this.pausedSince !== undefined,
      pausedSince: this.pausedSince,
      lastError: this.job?.last_error ? `${this.job.last_error.level}: ${this.job.last_error.message}` : undefined,
    };
  }

  start(): Promise<void> {
    this.done ??= this.loop().catch((err) => {
      if (!this.abort.signal.aborted)
        this.opts.log.error(`thread #${this.opts.index} stopped: ${(err as Error).message}`);
    });
    return this.done;
  }

  async stop(): Promise<void> {
    this.abort.abort(new Error("worker is shutting down"));
    this.stepAbort.abort(new Error("worker is shutting down"));
    this.shutdownWaiter?.();
    await this.done;
  }

  /** Pause after the current step (the step in flight is interrupted; it resumes from its saved state). */
  pause(): boolean {
    if (this.pausedSince !== undefined) return false;
    this.pausedSince = Date.now();
    this.stepAbort.abort(new Failure("permanent", "paused by operator"));
    if (this.job) {
      this.job.paused_at = this.pausedSince;
      this.opts.store.save(this.job);
    }
    return true;
  }

  /** Resume a paused thread, optionally forcing the next state (`resume --state Aborted`, `--state TreeDBuilt`). */
  resume(setState?: string): boolean {
    if (this.pausedSince === undefined) return false;
    if (setState !== undefined && this.plan && !isState(this.plan.table, setState)) {
      throw new Error(
        `unknown state "${setState}" for plan ${this.plan.table.name}; states: ${Object.keys(this.plan.table.states).join(", ")}`,
      );
    }
    this.pendingResumeState = setState;
    this.pausedSince = undefined;
    const w = this.resumeWaiter;
    this.resumeWaiter = undefined;
    w?.(setState);
    return true;
  }

  private setActivity(a: ThreadActivity): void {
    this.activity = a;
    this.activitySince = Date.now();
  }

  private async loop(): Promise<void> {
    const signal = this.abort.signal;
    this.job = this.opts.store.load();
    if (this.job?.paused_at !== undefined) this.pausedSince = this.job.paused_at;
    let idleRounds = 0;
    while (!signal.aborted) {
      if (this.job && underWay(this.job)) {
        // A job keeps the plan it started with; a hot config switches plans between sectors only.
        if (this.plan?.table.name !== this.job.plan) this.adopt(await this.opts.resolve(this.job.plan));
      } else if (!this.plan || idleRounds === 0) {
        this.adopt(await this.opts.resolve());
        // An empty job (nothing allocated, perhaps paused) takes the new plan as it is.
        if (this.job) this.job.plan = this.plan!.table.name;
      }
      const plan = this.plan!;
      const settings = this.settings!;
      this.job ??= { version: 1, plan: plan.table.name, state: plan.table.initial, retry: 0, phases: {} };
      const outcome = await this.runJob(plan, settings);
      if (outcome === "idle" || outcome === "manager-down") {
        idleRounds++;
        this.setActivity(outcome === "idle" ? { kind: "idle" } : MANAGER_DOWN);
        await sleep(settings.recover_interval, signal).catch(() => {});
        // After request_task_max_retries empty answers, go round again so a changed hot config is read.
        if (idleRounds >= Math.max(1, settings.request_task_max_retries)) idleRounds = 0;
        continue;
      }
      idleRounds = 0;
      this.job = undefined;
      this.setActivity({ kind: "idle" });
      if (outcome === "finished") await sleep(settings.seal_interval, signal).catch(() => {});
    }
  }

  private adopt(r: { plan: PlanImpl<S, E>; settings: SealingSettings }): void {
    if (this.plan && this.plan.table.name !== r.plan.table.name)
      this.opts.log.info(`plan ${this.plan.table.name} -> ${r.plan.table.name} (hot config)`);
    this.plan = r.plan;
    this.settings = r.settings;
  }

  private ctx(_plan: PlanImpl<S, E>, settings: SealingSettings, job: JobRecord): StepContext {
    return {
      job,
      settings,
      log: this.opts.log,
      signal: this.stepAbort.signal,
      setActivity: (a) => this.setActivity(a),
    };
  }

  /** Runs the current job until it finishes, aborts, or turns out idle. */
  private async runJob(
    plan: PlanImpl<S, E>,
    settings: SealingSettings,
  ): Promise<"finished" | "aborted" | "idle" | "manager-down"> {
    const job = this.job!;
    const table = plan.table;
    for (;;) {
      if (this.abort.signal.aborted) throw this.abort.signal.reason;
      if (this.pausedSince !== undefined) await this.waitResume(job);
      // A stop that ended the pause (or came while a report was in flight) starts nothing: a paused pc1 or
      // c2 is minutes to hours of work that a shutdown must not begin.
      if (this.abort.signal.aborted) throw this.abort.signal.reason;
      if (this.pendingResumeState !== undefined) {
        // Forced by the operator: bypasses the table, exactly like the original's SetState.
        const forced = this.pendingResumeState;
        this.pendingResumeState = undefined;
        this.transition(job, forced, "SetState");
        await this.report(job, { prev: job.prev_state ?? "", next: forced, event: "SetState" });
      }
      if (!isState(table, job.state))
        throw new Error(`saved state "${job.state}" is not a state of plan ${table.name}`);
      const state = job.state as S;
      if (state === "Aborted") {
        await this.abortJob(plan, settings, job, job.last_error?.message ?? "aborted by operator");
        return "aborted";
      }
      if (table.terminal.includes(state)) {
        await plan.finish(job, this.ctx(plan, settings, job));
        this.opts.store.clear();
        return "finished";
      }
      if (this.abort.signal.aborted) throw this.abort.signal.reason;
      this.stepAbort = new AbortController();
      this.setActivity({ kind: "running" });
      let outcome: StepOutcome<E>;
      try {
        outcome = await plan.exec(state, this.ctx(plan, settings, job));
      } catch (err) {
        if (this.abort.signal.aborted) throw this.abort.signal.reason;
        if (err instanceof ManagerUnreachable && !this.stepAbort.signal.aborted) {
          // Not the sector's fault: no retry is counted. Before allocation it is just "no sector yet".
          if (job.sector === undefined) return "manager-down";
          this.setActivity(MANAGER_DOWN);
          await sleep(settings.recover_interval, this.stepAbort.signal).catch(() => {});
          continue;
        }
        const failure = escalate(
          toFailure(this.stepAbort.signal.aborted ? this.stepAbort.signal.reason : err),
          job.retry,
          settings.max_retries,
        );
        const next = await this.onFailure(plan, settings, job, state, failure);
        if (next === "aborted") return "aborted";
        continue;
      }
      if ("idle" in outcome) {
        if (job.sector === undefined) return "idle";
        continue;
      }
      const next = nextState(table, state, outcome.event);
      if (outcome.sector) job.sector = outcome.sector;
      if (outcome.patch) Object.assign(job.phases, outcome.patch);
      job.retry = 0;
      job.last_error = undefined;
      this.transition(job, next, outcome.event);
      const answer = await this.report(job, { prev: state, next, event: outcome.event });
      if (answer?.finalized) {
        // The manager finalized or aborted this sector on its side (e.g. `util sealer sectors abort`).
        this.opts.log.warn(
          `manager finalized ${sectorLabel(job)}${answer.abortReason ? ` (${answer.abortReason})` : ""}: dropping the local job`,
        );
        await plan.cleanup(job, this.ctx(plan, settings, job));
        this.opts.store.clear();
        return "aborted";
      }
    }
  }

  private transition(job: JobRecord, next: string, event: string, failure?: string): void {
    const prev = job.state;
    job.prev_state = prev;
    job.state = next;
    this.opts.store.save(job, { prev, next, event, failure });
  }

  private async report(job: JobRecord, change: { prev: string; next: string; event: string }, failure?: Failure) {
    if (!job.sector) return undefined;
    try {
      return await this.opts.reporter.reportState(job, change, failure);
    } catch (err) {
      // Reporting is best effort: the manager learns the state on the next successful report.
      this.opts.log.warn(`ReportState for ${sectorLabel(job)} failed: ${(err as Error).message}`);
      return undefined;
    }
  }

  private async onFailure(
    plan: PlanImpl<S, E>,
    settings: SealingSettings,
    job: JobRecord,
    state: S,
    failure: Failure,
  ): Promise<"retry" | "aborted"> {
    const level: FailureLevel = failure.level;
    const interrupted = this.pausedSince !== undefined && failure.message === "paused by operator";
    if (!interrupted) {
      job.last_error = { level: WIRE_LEVEL[level].toLowerCase(), message: failure.message, at: Date.now() };
      this.opts.log[level === "temporary" ? "warn" : "error"](`${sectorLabel(job)} ${state}: ${failure.describe()}`);
    }
    if (level === "abort") {
      await this.abortJob(plan, settings, job, failure.message);
      return "aborted";
    }
    if (level === "temporary") {
      job.retry++;
      this.opts.store.save(job, { prev: state, next: state, event: "Retry", failure: failure.describe() });
      await this.report(job, { prev: state, next: state, event: "Retry" }, failure);
      this.setActivity({
        kind: "waiting",
        on: `retry ${job.retry}/${settings.max_retries} after ${settings.recover_interval} ms`,
      });
      await sleep(settings.recover_interval, this.stepAbort.signal).catch(() => {});
      return "retry";
    }
    // permanent or critical: pause and keep the error for the operator.
    this.pausedSince ??= Date.now();
    job.paused_at = this.pausedSince;
    this.opts.store.save(
      job,
      interrupted ? undefined : { prev: state, next: state, event: "Pause", failure: failure.describe() },
    );
    if (!interrupted) await this.report(job, { prev: state, next: state, event: "Pause" }, failure);
    return "retry";
  }

  private async abortJob(
    plan: PlanImpl<S, E>,
    settings: SealingSettings,
    job: JobRecord,
    reason: string,
  ): Promise<void> {
    if (job.sector) {
      try {
        await this.opts.reporter.reportAborted(job, reason);
      } catch (err) {
        this.opts.log.warn(`ReportAborted for ${sectorLabel(job)} failed: ${(err as Error).message}`);
      }
    }
    await plan.cleanup(job, this.ctx(plan, settings, job));
    this.opts.store.clear();
  }

  private waitResume(job: JobRecord): Promise<void> {
    this.setActivity({ kind: "idle" });
    return new Promise<void>((resolve) => {
      this.resumeWaiter = () => {
        job.paused_at = undefined;
        job.retry = 0;
        this.opts.store.save(job);
        resolve();
      };
      this.shutdownWaiter = resolve;
      if (this.abort.signal.aborted) resolve();
    });
  }
}

/**
 * A job that has left its plan's initial state ("Empty" in every plan) or holds a sector: its saved state
 * only means something under the plan that made it.
 */
function underWay(job: JobRecord): boolean {
  return job.sector !== undefined || job.state !== "Empty";
}

/** What `worker list` shows while a thread waits out a manager outage. */
const MANAGER_DOWN: ThreadActivity = { kind: "waiting", on: "manager" };

export function sectorLabel(job: JobRecord): string {
  return job.sector ? sectorName(job.sector) : "(no sector)";
}
