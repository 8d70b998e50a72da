import { existsSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import * as v from "valibot";
import type { AttachedStore } from "../../core/config/index.ts";
import { abort, type Failure, permanent, toFailure } from "../../core/errors/index.ts";
import { UnsealOutputSchema } from "../../core/processor/stages/unseal.ts";
import { generatePieceCommitment } from "../../core/proofs/index.ts";
import { RpcCallError, RpcErrorCode } from "../../core/rpc/errors.ts";
import { type SectorUnsealInfo, SectorUnsealInfoSchema, VenusUnseal } from "../../core/sector/api-unseal.ts";
import { pieceCid } from "../../core/sector/cid.ts";
import { proverId, sectorName } from "../../core/sector/id.ts";
import { SEAL_PROOFS, sealProofInfo } from "../../core/sector/proof.ts";
import { type ManagerClient, ManagerUnreachable } from "../manager-client.ts";
import type { StageRunner } from "../stages.ts";
import type { JobRecord } from "../state/store.ts";
import type { PlanImpl, StepContext, StepOutcome } from "../thread.ts";
import { type UnsealPlanEvent, type UnsealPlanState, unsealPlan } from "./unseal.ts";
import { deliverPiece } from "./unseal-deliver.ts";

/**
 * The work behind each state of the unseal plan:
 * - Empty: AllocateUnsealSector (an unreachable manager is just another empty round, as in the original);
 * - Allocated: the unseal stage decodes the piece's range from the sealed file in the persist store named
 *   by the task (the unsealed copy may be long gone), into local scratch space; the result's CommP must be
 *   the task's piece CID, or nothing is delivered and the task fails (abort: unsealing again gives the
 *   same bytes); a verified piece is renamed into data/unsealed/<piece cid>;
 * - Unsealed: AcquireUnsealDest, delivery to every destination, AchieveUnsealSector(""), then done.
 * The job holds no sector of its own (job.sector stays unset): the sector was finalized long ago and
 * ReportState/ReportAborted would treat it as a sealing sector. The manager hears of failures through
 * AchieveUnsealSector(errInfo) instead: at once for a failure that pauses the thread (so whoever waits on
 * the task learns why; a resumed thread that then succeeds reports "" and the task finishes), and on
 * abort from cleanup.
 */

export interface UnsealDeps {
  manager: ManagerClient;
  stages: StageRunner;
  location: string;
  attached: readonly AttachedStore[];
  /** `sector_manager.piece_token`: the bearer of http:// deliveries, which go to whoever the task names. */
  pieceToken: string | undefined;
  /** The worker's token of the manager: sent only to the manager's own piece store (store:///). */
  managerToken: string | undefined;
  /** The manager's piece store, as the sealer plan's piece sources name it. */
  pieceStoreUrl: string;
}

const Phases = v.object({ unseal: v.optional(SectorUnsealInfoSchema), unsealed_bytes: v.optional(v.number()) });

function heldTask(job: JobRecord): SectorUnsealInfo | undefined {
  const parsed = v.safeParse(Phases, job.phases);
  if (!parsed.success)
    throw abort(
      new Error(
        `the saved unseal task is damaged at ${v.getDotPath(parsed.issues[0]) ?? "phases"}: ${parsed.issues[0].message}`,
      ),
    );
  return parsed.output.unseal;
}

function mustHold(job: JobRecord): SectorUnsealInfo {
  const t = heldTask(job);
  if (!t) throw abort(new Error("no unseal task in this state: nothing to unseal"));
  return t;
}

/** Local files of a task: the delivered piece, its unverified predecessor, and the SDR scratch space. */
export function unsealPaths(location: string, t: SectorUnsealInfo) {
  const data = join(location, "data");
  const piece = join(data, "unsealed", t.PieceCid["/"]);
  return { piece, partial: `${piece}.partial`, scratch: join(data, "cache", `${sectorName(t.Sector.ID)}-unseal`) };
}

function label(t: SectorUnsealInfo): string {
  return `${sectorName(t.Sector.ID)} piece ${t.PieceCid["/"]}`;
}

export function unsealSteps(deps: UnsealDeps): PlanImpl<UnsealPlanState, UnsealPlanEvent> {
  const { manager } = deps;
  const stageCall = (ctx: StepContext) => ({ signal: ctx.signal, setActivity: ctx.setActivity, log: ctx.log });

  /** The task is gone from the manager (removed, or queued afresh by someone): nothing left to do here. */
  const taskCall = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause ?? err;
      if (cause instanceof RpcCallError && cause.code === RpcErrorCode.InvalidParams) throw abort(cause, what);
      throw err;
    }
  };

  const steps: Record<"Empty" | "Allocated" | "Unsealed", (ctx: StepContext) => Promise<StepOutcome<UnsealPlanEvent>>> =
    {
      async Empty(ctx) {
        const s = ctx.settings;
        let task: SectorUnsealInfo | null;
        try {
          task = await manager.call(VenusUnseal.AllocateUnsealSector, {
            AllowedMiners: s.allowed_miners ?? null,
            // A sector of an allowed size may have been sealed with any variant of its proof.
            AllowedProofTypes: s.allowed_sizes
              ? SEAL_PROOFS.filter((p) => s.allowed_sizes!.includes(p.sectorSize)).map((p) => p.id)
              : null,
          });
        } catch (err) {
          // The thread waits out an unreachable manager (logged once); an error answer is an empty round.
          if (err instanceof ManagerUnreachable) throw err;
          ctx.log.warn(
            `AllocateUnsealSector failed (trying again in ${s.recover_interval / 1000}s): ${(err as Error).message}`,
          );
          return { idle: true };
        }
        if (!task) return { idle: true };
        ctx.log.info(
          `unseal task ${label(task)} allocated: offset ${task.Offset}, ${task.Size} bytes from store "${task.PrivateInfo.AccessInstance}"`,
        );
        return { event: "AllocatedUnsealSector", patch: { unseal: task } };
      },

      async Allocated(ctx) {
        const t = mustHold(ctx.job);
        const name = sectorName(t.Sector.ID);
        const proof = sealProofInfo(t.Sector.ProofType);
        const ticket = Buffer.from(t.Ticket.Ticket ?? "", "base64");
        if (ticket.length !== 32) throw abort(new Error(`the task for ${label(t)} carries no 32-byte ticket`));
        if (t.CommD.every((b) => b === 0)) throw abort(new Error(`the task for ${label(t)} carries no CommD`));
        const store = deps.attached.find((a) => a.name === t.PrivateInfo.AccessInstance);
        if (!store) {
          const have = deps.attached.map((a) => a.name).join(", ") || "none";
          throw permanent(
            new Error(
              `${name} is sealed in persist store "${t.PrivateInfo.AccessInstance}", which is not among this worker's [[attached]] stores (it has: ${have})`,
            ),
          );
        }
        const sealed = join(store.location, "sealed", name);
        if (!existsSync(sealed)) throw permanent(new Error(`the sealed file of ${name} is missing: ${sealed}`));
        const p = unsealPaths(deps.location, t);
        await mkdir(join(p.piece, ".."), { recursive: true });
        await rm(p.partial, { force: true });
        // The proofs library writes the regenerated SDR layers here: never into the persist store.
        await rm(p.scratch, { recursive: true, force: true });
        await mkdir(p.scratch, { recursive: true });
        const started = Date.now();
        let written: number;
        try {
          const out = await deps.stages.run(
            "unseal",
            {
              registered_proof: proof.name,
              prover_id: [...proverId(t.Sector.ID.Miner)],
              sector_id: t.Sector.ID.Number,
              comm_d: t.CommD,
              ticket: [...ticket],
              cache_dir: p.scratch,
              sealed_file: sealed,
              unsealed_output: p.partial,
              offset: t.Offset,
              num_bytes: t.Size,
            },
            stageCall(ctx),
          );
          const n = v.safeParse(UnsealOutputSchema, out);
          if (!n.success) throw permanent(new Error(`unseal answered no byte count: ${n.issues[0].message}`));
          written = n.output;
        } finally {
          await rm(p.scratch, { recursive: true, force: true });
        }
        if (written !== t.Size)
          throw permanent(new Error(`unseal wrote ${written} bytes of ${label(t)}, expected ${t.Size}`));
        ctx.setActivity({ kind: "running", proc: "verify piece" });
        const got = pieceCid(
          (await generatePieceCommitment({ registeredProof: proof.id, path: p.partial, pieceSize: t.Size })).commitment,
        );
        if (got !== t.PieceCid["/"]) {
          await rm(p.partial, { force: true });
          throw abort(
            new Error(
              `unsealed data of ${name} at offset ${t.Offset} (${t.Size} bytes) is piece ${got}, not the requested ${t.PieceCid["/"]}: nothing was delivered`,
            ),
          );
        }
        await rename(p.partial, p.piece);
        ctx.log.info(`${label(t)} unsealed and verified in ${((Date.now() - started) / 1000).toFixed(1)}s`);
        return { event: "UnsealDone", patch: { unsealed_bytes: written } };
      },

      async Unsealed(ctx) {
        const t = mustHold(ctx.job);
        const { piece } = unsealPaths(deps.location, t);
        if (!existsSync(piece))
          throw permanent(
            new Error(
              `the unsealed piece ${piece} is gone; resume the thread with --state Allocated to unseal it again`,
            ),
          );
        const dests =
          (await taskCall("AcquireUnsealDest", () =>
            manager.call(VenusUnseal.AcquireUnsealDest, t.Sector.ID, t.PieceCid),
          )) ?? [];
        ctx.setActivity({ kind: "running", proc: "deliver piece" });
        for (const dest of dests) {
          await deliverPiece(dest, piece, {
            attached: deps.attached,
            pieceToken: deps.pieceToken,
            managerToken: deps.managerToken,
            pieceStoreUrl: deps.pieceStoreUrl,
            transfer: (task) => deps.stages.run("transfer", task, stageCall(ctx)),
            call: ctx,
          });
          ctx.log.info(`${label(t)} delivered to ${dest}`);
        }
        await taskCall("AchieveUnsealSector", () =>
          manager.call(VenusUnseal.AchieveUnsealSector, t.Sector.ID, t.PieceCid, ""),
        );
        return { event: "UploadPieceDone" };
      },
    };

  const clean = async (job: JobRecord) => {
    const t = heldTask(job);
    if (!t) return;
    const p = unsealPaths(deps.location, t);
    for (const f of [p.piece, p.partial, p.scratch]) await rm(f, { recursive: true, force: true });
  };

  /** Tells the manager the task failed; best effort (the task's state is only informative). */
  const reportFailure = async (job: JobRecord, reason: string, ctx: Pick<StepContext, "log">) => {
    const t = heldTask(job);
    if (!t) return;
    try {
      await manager.rpc.call(VenusUnseal.AchieveUnsealSector, t.Sector.ID, t.PieceCid, reason || "unseal failed");
    } catch (err) {
      ctx.log.warn(`could not report the failure of ${label(t)} to the manager: ${(err as Error).message}`);
    }
  };

  return {
    table: unsealPlan,
    async exec(state, ctx) {
      const step = steps[state as keyof typeof steps];
      if (!step) throw abort(new Error(`no work defined for unseal state ${state}`));
      try {
        return await step(ctx);
      } catch (err) {
        const f = toFailure(err);
        if (!ctx.signal.aborted && pauses(f, ctx)) await reportFailure(ctx.job, f.describe(), ctx);
        throw f;
      }
    },
    async finish(job, ctx) {
      const t = heldTask(job);
      if (t) ctx.log.info(`unseal task ${label(t)} finished`);
      await clean(job);
    },
    async cleanup(job, ctx) {
      await reportFailure(job, job.last_error?.message ?? "aborted by operator", ctx);
      await clean(job);
    },
  };
}

/** Whether the thread will pause on this failure (permanent, critical, or temporary with no retries left). */
function pauses(f: Failure, ctx: StepContext): boolean {
  if (f.level === "abort" || f instanceof ManagerUnreachable) return false;
  return f.level !== "temporary" || ctx.job.retry >= ctx.settings.max_retries;
}
