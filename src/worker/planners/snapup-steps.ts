import { abort, permanent, temporary } from "../../core/errors/index.ts";
import { Venus } from "../../core/sector/api.ts";
import { type AllocatedSnapUpSector, VenusSnap } from "../../core/sector/api-snap.ts";
import { sectorName } from "../../core/sector/id.ts";
import { SEAL_PROOFS, sealProofInfo } from "../../core/sector/proof.ts";
import { SubmitResult } from "../../core/sector/states.ts";
import { ManagerUnreachable, sectorId } from "../manager-client.ts";
import type { PlanImpl, StepContext, StepOutcome } from "../thread.ts";
import { type SnapupEvent, type SnapupState, snapupPlan } from "./snapup.ts";
import { addSnapPieces, buildSnapTreeD, snapEncode, snapProve } from "./snapup-encode.ts";
import { removeSnapLocalFiles, required, type SnapupDeps, snapPaths, snapPhases } from "./snapup-job.ts";
import { bringSectorKey, persistUpdate } from "./snapup-replica.ts";

export type { SnapupDeps } from "./snapup-job.ts";

/**
 * The work behind each state of the snapup plan (reference §4.4), built as the original's planner/snapup.rs:
 * add_pieces, tree_d, snap_encode and snap_prove run through the stage runner (stage tokens, external
 * processors with the original's task shapes); the vanilla partition proofs and the final verification run
 * in-process (snapup-encode.ts, shared with the rebuild plan). Every step starts over from the files it
 * writes, so a worker killed anywhere resumes from its saved state without trusting a half-written file; the
 * CC replica in its persist store is only ever read.
 */

export function snapupSteps(deps: SnapupDeps): PlanImpl<SnapupState, SnapupEvent> {
  const stage = (name: string, task: unknown, ctx: StepContext) =>
    deps.stages.run(name, task, { signal: ctx.signal, setActivity: ctx.setActivity, log: ctx.log });

  const steps: Record<
    Exclude<SnapupState, "Finished" | "Aborted">,
    (ctx: StepContext) => Promise<StepOutcome<SnapupEvent>>
  > = {
    async Empty(ctx) {
      const s = ctx.settings;
      let got: AllocatedSnapUpSector | null;
      try {
        got = await deps.manager.call(VenusSnap.AllocateSanpUpSector, {
          Sector: {
            AllowedMiners: s.allowed_miners ?? null,
            // A CC sector of an allowed size may have been sealed with any variant of its proof.
            AllowedProofTypes: s.allowed_sizes
              ? SEAL_PROOFS.filter((p) => s.allowed_sizes!.includes(p.sectorSize)).map((p) => p.id)
              : null,
          },
          Deals: { MaxDeals: s.max_deals ?? null, MinUsedSpace: s.min_deal_space ?? null },
        });
      } catch (err) {
        // Nothing is allocated yet: an error answer is an empty round, as in the original.
        if (err instanceof ManagerUnreachable) throw err;
        ctx.log.warn(`AllocateSanpUpSector failed (trying again later): ${(err as Error).message}`);
        return { idle: true };
      }
      if (!got) return { idle: true };
      const name = sectorName(got.Sector.ID);
      const missing = !got.Pieces?.length
        ? "deals required, got none"
        : !got.Private.AccessInstance
          ? "the persist store of the CC sector (Private.AccessInstance) is required, got none"
          : undefined;
      if (missing) {
        // The manager has handed the candidate out: tell it, so its deals and candidacy are released.
        await deps.manager.call(Venus.ReportAborted, got.Sector.ID, missing).catch((err: Error) => {
          ctx.log.warn(`ReportAborted for ${name} failed: ${err.message}`);
        });
        throw abort(new Error(`AllocateSanpUpSector answered ${name} without what a snap needs: ${missing}`));
      }
      ctx.log.info(
        `snapup ${name} (${sealProofInfo(got.Sector.ProofType).name}) allocated from store "${got.Private.AccessInstance}" with ${got.Pieces!.length} deal piece(s)`,
      );
      return {
        event: "AllocatedSnapUpSector",
        sector: { miner: got.Sector.ID.Miner, number: got.Sector.ID.Number, proof_type: got.Sector.ProofType },
        patch: { deals: got.Pieces, cc_public: got.Public, access_instance: got.Private.AccessInstance },
      };
    },

    async Allocated(ctx) {
      const deals = required(snapPhases(ctx.job).deals, "deals");
      const pieces = await addSnapPieces(deps, ctx, stage, snapPaths(deps.location, ctx.job), deals);
      return { event: "AddPiece", patch: { pieces } };
    },

    async PieceAdded(ctx) {
      await buildSnapTreeD(ctx, stage, snapPaths(deps.location, ctx.job));
      return { event: "BuildTreeD" };
    },

    async TreeDBuilt(ctx) {
      const ph = snapPhases(ctx.job);
      const p = snapPaths(deps.location, ctx.job);
      await bringSectorKey(deps, ctx, stage, p, required(ph.access_instance, "access instance"), true);
      const out = await snapEncode(ctx, stage, p, required(ph.pieces, "pieces"));
      return { event: "SnapEncode", patch: { snap_encode_out: out } };
    },

    async SnapEncoded(ctx) {
      const ph = snapPhases(ctx.job);
      const p = snapPaths(deps.location, ctx.job);
      const enc = required(ph.snap_encode_out, "snap_encode output");
      const commROld = required(ph.cc_public, "the CC sector's CommR").CommR;
      await bringSectorKey(deps, ctx, stage, p, required(ph.access_instance, "access instance"), false);
      const proof = await snapProve(ctx, stage, p, commROld, enc);
      return { event: "SnapProve", patch: { snap_prov_out: proof } };
    },

    async SnapProved(ctx) {
      const instance = await persistUpdate(deps, ctx, stage, snapPaths(deps.location, ctx.job));
      if (instance === undefined) return { idle: true };
      return { event: "Persist", patch: { persist_instance: instance } };
    },

    async Persisted(ctx) {
      const ph = snapPhases(ctx.job);
      const enc = required(ph.snap_encode_out, "snap_encode output");
      const resp = await deps.manager.call(VenusSnap.SubmitSnapUpProof, sectorId(ctx.job), {
        CommR: enc.comm_r_new,
        CommD: enc.comm_d_new,
        AccessInstance: required(ph.persist_instance, "persist store"),
        Pieces: required(ph.deals, "deals").map((d) => d.Piece.Cid),
        Proof: Buffer.from(required(ph.snap_prov_out, "update proof")).toString("base64"),
      });
      const desc = resp.Desc ? `: ${resp.Desc}` : "";
      switch (resp.Res) {
        case SubmitResult.Accepted:
        case SubmitResult.DuplicateSubmit:
          return { event: "Finish" };
        case SubmitResult.FilesMissed:
          ctx.log.warn(
            `${sectorName(sectorId(ctx.job))}: the manager cannot find the update files${desc}; persisting again`,
          );
          return { event: "RePersist", patch: { persist_instance: undefined } };
        case SubmitResult.MismatchedSubmission:
          throw abort(new Error(`snap proof submission does not match the one the manager has${desc}`));
        case SubmitResult.Rejected:
          throw abort(new Error(`snap proof rejected${desc}`));
        default:
          throw temporary(new Error(`SubmitSnapUpProof: unexpected submit result ${resp.Res}${desc}`));
      }
    },
  };

  return {
    table: snapupPlan,
    exec(state, ctx) {
      const step = steps[state as keyof typeof steps];
      if (!step) throw permanent(new Error(`no work defined for snapup state ${state}`));
      return step(ctx);
    },
    async finish(job, ctx) {
      if (job.sector) await deps.manager.call(Venus.ReportFinalized, sectorId(job));
      removeSnapLocalFiles(deps.location, job);
      if (job.sector) ctx.log.info(`snapup ${sectorName(sectorId(job))} finished`);
    },
    async cleanup(job) {
      removeSnapLocalFiles(deps.location, job);
    },
  };
}
