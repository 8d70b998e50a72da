import type { ManagerConfig } from "../../core/config/index.ts";
import { childLogger } from "../../core/log/index.ts";
import {
  type AllocateWdPoStJobSpec,
  postProofFromWireName,
  type WdPoStAllocatedJob,
  type WdPoStInput,
  type WdPoStJob,
  type WdPoStJobState,
  type WindowPoStJobOutput,
} from "../../core/sector/api-wdpost.ts";
import type { Collection, KVStore } from "../../core/store/index.ts";
import { wdpostJobId } from "./job-id.ts";

const log = childLogger("wdpost");

/** `[Common.Proving.WorkerProver]`, durations in ms. */
export type WorkerProverConfig = ManagerConfig["Common"]["Proving"]["WorkerProver"];

/**
 * The worker-prover's WindowPoSt jobs, durable in the manager's store (collection "prover", one key per
 * job `<state>:<id>` as the Go manager lays it out, so a state is a prefix scan).
 *
 * Life of a job: ready2run → (a worker allocates it) running → finished. An attempt that fails (the worker
 * reports an error, or stops sending heartbeats for HeartbeatTimeout) goes straight back to ready2run
 * while TryNum < JobMaxTry, keeping its ErrorReason for operators until the next allocation; after that
 * it stays finished with its error until an operator resets it. Finished jobs older than JobLifetime are
 * deleted, and so are unfinished ones nobody waits for any more.
 *
 * Every change is one synchronous sqlite transaction: two workers asking at once can never be handed
 * the same job. State changes are fsynced before the caller hears about them.
 */

export class WdPoStJobNotFoundError extends Error {
  override name = "WdPoStJobNotFoundError";
  constructor(readonly id: string) {
    super(`WindowPoSt job "${id}" does not exist (see: damocles util worker wdpost list --all)`);
  }
}

/** Every change, after it committed: the job as it is now, or undefined once it was deleted. */
export type WdPoStJobEvent =
  | { type: "changed"; id: string; job: WdPoStJob | undefined }
  /** One try ended (proof, error, or heartbeat timeout); elapsed from allocation, in seconds. */
  | { type: "attempt"; job: WdPoStJob; ok: boolean; elapsedSec: number };

export type WdPoStJobListener = (event: WdPoStJobEvent) => void;

const STATES: readonly WdPoStJobState[] = ["ready2run", "running", "finished"];
const key = (state: WdPoStJobState, id: string) => `${state}:${id}`;

export const HEARTBEAT_TIMEOUT_REASON = "heartbeat timeout";

export interface WdPoStJobsOptions {
  store: KVStore;
  config: WorkerProverConfig;
  /** Clock in ms (tests move it). */
  now?: () => number;
}

/** The run fields of a job that has never been tried: a new job, or one an operator reset. */
function freshRun(now: number): Omit<WdPoStJob, "Id" | "DeadlineIdx" | "Partitions" | "Input"> {
  return {
    State: "ready2run",
    Output: null,
    TryNum: 0,
    ErrorReason: "",
    WorkerName: "",
    StartedAt: 0,
    HeartbeatAt: 0,
    FinishedAt: 0,
    CreatedAt: now,
    UpdatedAt: now,
  };
}

export class WdPoStJobs {
  private readonly kv: Collection;
  private readonly store: KVStore;
  private readonly now: () => number;
  private readonly listeners = new Set<WdPoStJobListener>();
  private timer: ReturnType<typeof setInterval> | undefined;
  /** Jobs someone in this process still waits for: never deleted for their age. */
  private keep: (id: string) => boolean = () => false;

  constructor(private readonly opts: WdPoStJobsOptions) {
    this.store = opts.store;
    this.kv = opts.store.collection("prover");
    this.now = opts.now ?? Date.now;
  }

  get maxTry(): number {
    return this.opts.config.JobMaxTry;
  }

  get config(): WorkerProverConfig {
    return this.opts.config;
  }

  private nowSec(): number {
    return Math.floor(this.now() / 1000);
  }

  subscribe(listener: WdPoStJobListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tells the age cleanup which unfinished jobs are still wanted (the WorkerProver's waiters). */
  keepWhile(predicate: (id: string) => boolean): void {
    this.keep = predicate;
  }

  private emit(event: WdPoStJobEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(event);
      } catch (err) {
        log.error("a wdpost job listener failed:", err);
      }
    }
  }

  private changed(id: string, job: WdPoStJob | undefined): void {
    this.emit({ type: "changed", id, job });
  }

  get(id: string): WdPoStJob | undefined {
    for (const s of STATES) {
      const job = this.kv.getJSON<WdPoStJob>(key(s, id));
      if (job) return job;
    }
    return undefined;
  }

  private mustGet(id: string): WdPoStJob {
    const job = this.get(id);
    if (!job) throw new WdPoStJobNotFoundError(id);
    return job;
  }

  /** Moves a job to its (possibly new) state under its key; call inside a transaction. */
  private put(prev: WdPoStJobState | undefined, job: WdPoStJob): void {
    if (prev !== undefined && prev !== job.State) this.kv.del(key(prev, job.Id));
    this.kv.putJSON(key(job.State, job.Id), job);
  }

  private inState(state: WdPoStJobState): WdPoStJob[] {
    return this.kv.scanJSON<WdPoStJob>(`${state}:`).map((e) => e.value);
  }

  /** Newest first, like the Go manager's All. */
  all(): WdPoStJob[] {
    return STATES.flatMap((s) => this.inState(s)).sort((a, b) => b.CreatedAt - a.CreatedAt || a.Id.localeCompare(b.Id));
  }

  counts(): { ready2run: number; running: number; succeeded: number; failed: number } {
    const finished = this.inState("finished");
    const failed = finished.filter((j) => j.ErrorReason !== "").length;
    return {
      ready2run: this.kv.count("ready2run:"),
      running: this.kv.count("running:"),
      succeeded: finished.length - failed,
      failed,
    };
  }

  /** The job for this input: the existing one (any state) when the id is known, else a new ready2run job. */
  async create(
    deadlineIdx: number,
    partitions: readonly number[],
    input: WdPoStInput,
  ): Promise<{ job: WdPoStJob; created: boolean }> {
    const id = wdpostJobId(input);
    const result = this.store.transaction(() => {
      const existing = this.get(id);
      if (existing) return { job: existing, created: false };
      const job: WdPoStJob = {
        Id: id,
        DeadlineIdx: deadlineIdx,
        Partitions: [...partitions],
        Input: input,
        ...freshRun(this.nowSec()),
      };
      this.put(undefined, job);
      return { job, created: true };
    });
    if (result.created) {
      await this.store.sync();
      log.info(
        `WindowPoSt job ${id} created: miner ${input.MinerId}, deadline ${deadlineIdx}, partitions [${partitions.join(",")}], ${input.Sectors?.length ?? 0} sector(s)`,
      );
      this.changed(id, result.job);
    }
    return result;
  }

  /** Hands up to `num` ready jobs matching the spec to a worker, oldest first; each job to one worker only. */
  async allocate(spec: AllocateWdPoStJobSpec, num: number, workerName: string): Promise<WdPoStAllocatedJob[]> {
    const miners = spec.AllowedMiners && spec.AllowedMiners.length > 0 ? new Set(spec.AllowedMiners) : undefined;
    const proofs =
      spec.AllowedProofTypes && spec.AllowedProofTypes.length > 0
        ? new Set(spec.AllowedProofTypes.map((n) => postProofFromWireName(n) ?? n))
        : undefined;
    const taken = this.store.transaction(() => {
      const ready = this.inState("ready2run")
        .filter((j) => !miners || miners.has(j.Input.MinerId))
        .filter((j) => !proofs || proofs.has(postProofFromWireName(j.Input.ProofType) ?? j.Input.ProofType))
        .sort((a, b) => a.CreatedAt - b.CreatedAt || a.Id.localeCompare(b.Id))
        .slice(0, num);
      const now = this.nowSec();
      return ready.map((j) => {
        const job: WdPoStJob = {
          ...j,
          State: "running",
          TryNum: j.TryNum + 1,
          ErrorReason: "",
          Output: null,
          WorkerName: workerName,
          StartedAt: now,
          HeartbeatAt: now,
          FinishedAt: 0,
          UpdatedAt: now,
        };
        this.put("ready2run", job);
        return job;
      });
    });
    if (taken.length === 0) return [];
    await this.store.sync();
    for (const job of taken) {
      log.info(`WindowPoSt job ${job.Id} allocated to ${workerName} (try ${job.TryNum}/${this.maxTry})`);
      this.changed(job.Id, job);
    }
    return taken.map((j) => ({ Id: j.Id, Input: j.Input }));
  }

  /**
   * Keeps the worker's running jobs alive. A job that timed out and went back to ready2run while its
   * worker was merely slow is taken back by that worker (as the Go manager does) instead of being computed
   * twice; jobs that are finished, unknown or running on another worker are left alone.
   */
  heartbeat(ids: readonly string[], workerName: string): void {
    const touched = this.store.transaction(() => {
      const now = this.nowSec();
      const out: WdPoStJob[] = [];
      for (const id of ids) {
        const job = this.get(id);
        if (!job || job.State === "finished") continue;
        if (job.State === "running" && job.WorkerName !== workerName) continue;
        const next: WdPoStJob = {
          ...job,
          State: "running",
          WorkerName: workerName,
          HeartbeatAt: now,
          UpdatedAt: now,
          StartedAt: job.StartedAt || now,
        };
        if (job.State === "ready2run") {
          // The try that "failed" is still going on: it keeps its number.
          log.info(`WindowPoSt job ${id}: ${workerName} is still working on it; running again`);
          next.ErrorReason = "";
        }
        this.put(job.State, next);
        out.push(next);
      }
      return out;
    });
    for (const job of touched) this.changed(job.Id, job);
  }

  /**
   * A worker's result. A success is never overwritten (a late duplicate is ignored); an error with tries
   * left re-queues the job at once.
   */
  async finish(id: string, output: WindowPoStJobOutput | null, errorReason: string): Promise<WdPoStJob> {
    const failed = errorReason.trim() !== "";
    const r = this.store.transaction(() => {
      const job = this.mustGet(id);
      if (job.State === "finished" && job.ErrorReason === "") return { job, changed: false, elapsed: 0 };
      const now = this.nowSec();
      const elapsed = job.StartedAt > 0 ? Math.max(0, now - job.StartedAt) : 0;
      const next = failed
        ? this.failed(job, errorReason, now)
        : {
            ...job,
            State: "finished" as const,
            Output: output ?? { proofs: [], faults: [] },
            ErrorReason: "",
            FinishedAt: now,
            UpdatedAt: now,
          };
      this.put(job.State, next);
      return { job: next, changed: true, elapsed };
    });
    if (!r.changed) {
      log.info(`WindowPoSt job ${id} already succeeded; a later result was ignored`);
      return r.job;
    }
    await this.store.sync();
    if (failed)
      log.warn(
        `WindowPoSt job ${id} failed (try ${r.job.TryNum}/${this.maxTry}): ${errorReason}${r.job.State === "ready2run" ? "; retrying" : ""}`,
      );
    else log.info(`WindowPoSt job ${id} succeeded in ${r.elapsed}s (${r.job.Output?.faults?.length ?? 0} fault(s))`);
    this.emit({ type: "attempt", job: r.job, ok: !failed, elapsedSec: r.elapsed });
    this.changed(id, r.job);
    return r.job;
  }

  /** A failed attempt: back to ready2run while tries are left, else finished with the error. */
  private failed(job: WdPoStJob, reason: string, now: number): WdPoStJob {
    if (job.TryNum < this.maxTry) {
      return {
        ...job,
        State: "ready2run",
        Output: null,
        ErrorReason: reason,
        StartedAt: 0,
        HeartbeatAt: 0,
        FinishedAt: 0,
        UpdatedAt: now,
      };
    }
    return { ...job, State: "finished", Output: null, ErrorReason: reason, FinishedAt: now, UpdatedAt: now };
  }

  /** Operator reset: a fresh job (TryNum 0, lifetime restarted), whatever state it was in. */
  async reset(id: string): Promise<WdPoStJob> {
    const job = this.store.transaction(() => {
      const prev = this.mustGet(id);
      const next: WdPoStJob = { ...prev, ...freshRun(this.nowSec()) };
      this.put(prev.State, next);
      return next;
    });
    await this.store.sync();
    log.info(`WindowPoSt job ${id} reset`);
    this.changed(id, job);
    return job;
  }

  async remove(id: string): Promise<void> {
    this.store.transaction(() => {
      const job = this.mustGet(id);
      this.kv.del(key(job.State, id));
    });
    await this.store.sync();
    log.info(`WindowPoSt job ${id} removed`);
    this.changed(id, undefined);
  }

  /**
   * The background rules, run every few seconds: running jobs whose heartbeat is older than
   * HeartbeatTimeout fail ("heartbeat timeout"); failed jobs with tries left (e.g. after JobMaxTry was
   * raised) are re-queued; jobs created more than JobLifetime ago are deleted.
   */
  sweep(): { timedOut: string[]; requeued: string[]; expired: string[] } {
    const nowMs = this.now();
    const now = Math.floor(nowMs / 1000);
    const { HeartbeatTimeout, JobLifetime } = this.opts.config;
    const attempts: { job: WdPoStJob; elapsed: number }[] = [];
    const changes: { id: string; job: WdPoStJob | undefined }[] = [];
    const timedOut: string[] = [];
    const requeued: string[] = [];
    const expired: string[] = [];
    this.store.transaction(() => {
      for (const job of this.inState("running")) {
        // Heartbeats are stored in whole seconds: count one as sent at the end of its second, so a job
        // is never failed early.
        if ((job.HeartbeatAt + 1) * 1000 + HeartbeatTimeout >= nowMs) continue;
        const next = this.failed(job, HEARTBEAT_TIMEOUT_REASON, now);
        this.put(job.State, next);
        timedOut.push(job.Id);
        attempts.push({ job: next, elapsed: job.StartedAt > 0 ? Math.max(0, now - job.StartedAt) : 0 });
        changes.push({ id: job.Id, job: next });
      }
      for (const job of this.inState("finished")) {
        if (job.ErrorReason === "" || job.TryNum >= this.maxTry) continue;
        const next = this.failed(job, job.ErrorReason, now);
        this.put(job.State, next);
        requeued.push(job.Id);
        changes.push({ id: job.Id, job: next });
      }
      for (const s of STATES) {
        for (const job of this.inState(s)) {
          if (job.CreatedAt * 1000 + JobLifetime >= nowMs) continue;
          if (s !== "finished" && this.keep(job.Id)) continue;
          this.kv.del(key(s, job.Id));
          expired.push(job.Id);
          changes.push({ id: job.Id, job: undefined });
        }
      }
    });
    for (const id of timedOut)
      log.warn(`WindowPoSt job ${id}: no heartbeat for ${HeartbeatTimeout / 1000}s; marked failed`);
    for (const id of requeued) log.info(`WindowPoSt job ${id}: re-queued (JobMaxTry allows another try)`);
    for (const id of expired) log.info(`WindowPoSt job ${id}: older than JobLifetime; deleted`);
    for (const a of attempts) this.emit({ type: "attempt", job: a.job, ok: false, elapsedSec: a.elapsed });
    for (const c of changes) this.changed(c.id, c.job);
    return { timedOut, requeued, expired };
  }

  /** Starts the sweep loop; its period follows HeartbeatTimeout so a dead worker is noticed promptly. */
  start(): void {
    if (this.timer) return;
    const every = Math.min(5_000, Math.max(200, Math.floor(this.opts.config.HeartbeatTimeout / 3)));
    this.timer = setInterval(() => {
      try {
        this.sweep();
      } catch (err) {
        log.error("wdpost job sweep failed:", err);
      }
    }, every);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
