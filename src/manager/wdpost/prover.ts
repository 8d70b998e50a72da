import { childLogger } from "../../core/log/index.ts";
import type { WdPoStInput, WdPoStJob } from "../../core/sector/api-wdpost.ts";
import { postProofRustName } from "../../core/sector/proof.ts";
import { fromB64 } from "../../core/sector/wire.ts";
import type { WindowPoStOutput, WindowPoStProver, WindowPoStTask } from "../prover.ts";
import type { WdPoStJobs } from "./jobs.ts";

const log = childLogger("wdpost");

/**
 * WindowPoSt through workers (seed 002, worker-prover mode): each task becomes a job in the manager's
 * store, a worker with plan = "wdpost" computes it, and the answer arrives through WdPoStFinishJob.
 * Waiting is driven by the job store's change events, never by polling.
 *
 * - The same task twice is the same job (the id is a hash of the input): a retried deadline reuses it.
 * - A job an operator removes while we wait is created again (fresh tries).
 * - A job that failed JobMaxTry times rejects with the workers' error; `util worker wdpost reset` is the
 *   way to try again, and a later call for the same task then waits for the reset job.
 * - The AbortSignal (the deadline closed) stops the wait; the job stays for operators to inspect.
 */
export class WorkerProver implements WindowPoStProver {
  readonly name = "worker-prover";
  private readonly waiting = new Map<string, number>();

  constructor(private readonly jobs: WdPoStJobs) {
    jobs.keepWhile((id) => this.waiting.has(id));
  }

  /** Jobs some call is waiting for right now (kept from age cleanup). */
  isWaitingFor(id: string): boolean {
    return this.waiting.has(id);
  }

  async generateWindowPoSt(task: WindowPoStTask, signal?: AbortSignal): Promise<WindowPoStOutput> {
    const input = jobInput(task);
    for (;;) {
      signal?.throwIfAborted();
      const r = await this.waitOnce(task, input, signal);
      if (r.kind === "done") return r.output;
      log.info(
        `WindowPoSt job ${r.id} (miner ${task.minerId}, deadline ${task.deadline}) was removed while waiting for it; creating it again`,
      );
    }
  }

  private waitOnce(
    task: WindowPoStTask,
    input: WdPoStInput,
    signal?: AbortSignal,
  ): Promise<{ kind: "done"; output: WindowPoStOutput } | { kind: "removed"; id: string }> {
    return new Promise((resolve, reject) => {
      let id: string | undefined;
      let settled = false;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        unsubscribe();
        signal?.removeEventListener("abort", onAbort);
        if (id !== undefined) this.release(id);
        fn();
      };
      const check = (job: WdPoStJob | undefined) => {
        if (id === undefined) return;
        if (!job) return finish(() => resolve({ kind: "removed", id: id! }));
        if (job.State !== "finished") return;
        if (job.ErrorReason === "")
          return finish(() => resolve({ kind: "done", output: toOutput(job, task.proofType) }));
        // A failure with tries left is re-queued by the store; only the last try's failure is final.
        if (job.TryNum >= this.jobs.maxTry) {
          const err = new Error(
            `WindowPoSt job ${job.Id} (miner ${task.minerId}, deadline ${task.deadline}) failed after ${job.TryNum} tries: ${job.ErrorReason}; ` +
              `run \`damocles util worker wdpost reset ${job.Id}\` to try again`,
          );
          finish(() => reject(err));
        }
      };
      const unsubscribe = this.jobs.subscribe((ev) => {
        if (ev.type === "changed" && ev.id === id) check(ev.job);
      });
      const onAbort = () => finish(() => reject(signal?.reason ?? new Error("WindowPoSt wait aborted")));
      signal?.addEventListener("abort", onAbort, { once: true });
      this.jobs.create(task.deadline, task.partitions, input).then(
        ({ job }) => {
          if (settled) return;
          id = job.Id;
          this.waiting.set(id, (this.waiting.get(id) ?? 0) + 1);
          // Re-read: the job may have moved while its creation was being made durable.
          check(this.jobs.get(id));
        },
        (err: unknown) => finish(() => reject(err)),
      );
    });
  }

  private release(id: string): void {
    const n = (this.waiting.get(id) ?? 1) - 1;
    if (n <= 0) this.waiting.delete(id);
    else this.waiting.set(id, n);
  }
}

/** The job input for a task, field for field Go's WdPoStInput. */
export function jobInput(task: WindowPoStTask): WdPoStInput {
  const seed = [...task.seed];
  if (seed.length !== 32) throw new RangeError(`WindowPoSt seed must be 32 bytes, got ${seed.length}`);
  // Canonical Fr randomness, as the Go prover masks it before building the job: external window_post
  // processors receive the seed as is.
  seed[31] = seed[31]! & 0x3f;
  return {
    Sectors: [...task.replicas]
      .sort((a, b) => a.sectorId - b.sectorId)
      .map((r) => ({
        SectorId: r.sectorId,
        CommR: [...r.commR],
        Upgrade: r.upgrade,
        Accesses: { SealedFile: r.accesses.sealedFile, CacheDir: r.accesses.cacheDir },
      })),
    MinerId: task.minerId,
    ProofType: postProofRustName(task.proofType),
    Seed: seed,
  };
}

function toOutput(job: WdPoStJob, proofType: number): WindowPoStOutput {
  return {
    proofs: (job.Output?.proofs ?? []).map((b64) => ({ postProof: proofType, proof: fromB64(b64) })),
    faults: [...(job.Output?.faults ?? [])],
  };
}
