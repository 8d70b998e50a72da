import { mkdirSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import * as v from "valibot";
import { abort, permanent, temporary } from "../../core/errors/index.ts";
import { SnapEncodeOutputSchema, SnapProveOutputSchema } from "../../core/processor/stages/snap.ts";
import {
  computeCommD,
  fromWirePieceInfo,
  generateEmptySectorUpdatePartitionProofs,
  verifyEmptySectorUpdateProof,
} from "../../core/proofs/index.ts";
import { Venus } from "../../core/sector/api.ts";
import { type AllocatedSnapUpSector, VenusSnap } from "../../core/sector/api-snap.ts";
import { pieceCid } from "../../core/sector/cid.ts";
import { sectorName } from "../../core/sector/id.ts";
import { SEAL_PROOFS, sealProofInfo, UPDATE_PROOFS, updateProofFor } from "../../core/sector/proof.ts";
import { SubmitResult } from "../../core/sector/states.ts";
import { ManagerUnreachable, sectorId } from "../manager-client.ts";
import type { JobRecord } from "../state/store.ts";
import type { PlanImpl, StepContext, StepOutcome } from "../thread.ts";
import { addPiecesTask, checkAddedPieces, checkDeals } from "./sealer-deals.ts";
import { type SnapupEvent, type SnapupState, snapupPlan } from "./snapup.ts";
import { required, type SnapupDeps, snapPaths, snapPhases, TREE_D_FILE } from "./snapup-job.ts";
import { bringSectorKey, persistUpdate } from "./snapup-replica.ts";

export type { SnapupDeps } from "./snapup-job.ts";

/**
 * The work behind each state of the snapup plan (reference §4.4), built as the original's planner/snapup.rs:
 * add_pieces, tree_d, snap_encode and snap_prove run through the stage runner (stage tokens, external
 * processors with the original's task shapes); the vanilla partition proofs and the final verification run
 * in-process. Every step starts over from the files it writes, so a worker killed anywhere resumes from its
 * saved state without trusting a half-written file; the CC replica in its persist store is only ever read.
 */

const bytes = (a: readonly number[]) => Uint8Array.from(a);
const same = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  a.length === b.length && Array.from(a).every((x, i) => x === b[i]);

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
      const p = snapPaths(deps.location, ctx.job);
      const proof = sealProofInfo(ctx.job.sector!.proof_type);
      checkDeals(deals, proof.sectorSize);
      mkdirSync(dirname(p.staged), { recursive: true });
      // Start from an empty staged file: a retry must not append the pieces twice.
      rmSync(p.staged, { force: true });
      const task = addPiecesTask(proof, p.staged, deals, deps.pieces);
      const answer = await stage("add_pieces", task, ctx);
      return { event: "AddPiece", patch: { pieces: checkAddedPieces(task, answer, deals, proof.sectorSize) } };
    },

    async PieceAdded(ctx) {
      const p = snapPaths(deps.location, ctx.job);
      const proof = sealProofInfo(ctx.job.sector!.proof_type);
      // Never a static tree: a snap sector holds deal data, whose tree_d is its own.
      rmSync(p.prepared, { recursive: true, force: true });
      mkdirSync(p.prepared, { recursive: true });
      await stage("tree_d", { registered_proof: proof.name, staged_file: p.staged, cache_dir: p.prepared }, ctx);
      return { event: "BuildTreeD" };
    },

    async TreeDBuilt(ctx) {
      const ph = snapPhases(ctx.job);
      const p = snapPaths(deps.location, ctx.job);
      const proof = sealProofInfo(ctx.job.sector!.proof_type);
      const pieces = required(ph.pieces, "pieces");
      await bringSectorKey(deps, ctx, stage, p, required(ph.access_instance, "access instance"), true);
      // An earlier run (killed, failed) may have left a partial replica: start both from nothing.
      rmSync(p.update, { force: true });
      rmSync(p.updateCache, { recursive: true, force: true });
      mkdirSync(dirname(p.update), { recursive: true });
      mkdirSync(p.updateCache, { recursive: true });
      // As the original: the new replica exists at sector size, and tree_d is the one built at PieceAdded.
      writeFileSync(p.update, "");
      truncateSync(p.update, proof.sectorSize);
      symlinkSync(join(p.prepared, TREE_D_FILE), join(p.updateCache, TREE_D_FILE));
      const answer = await stage(
        "snap_encode",
        {
          registered_proof: UPDATE_PROOFS[updateProofFor(proof.id)]!.rustName,
          new_replica_path: p.update,
          new_cache_path: p.updateCache,
          sector_path: p.sealed,
          sector_cache_path: p.cache,
          staged_data_path: p.staged,
          piece_infos: pieces,
        },
        ctx,
      );
      const out = v.safeParse(SnapEncodeOutputSchema, answer);
      if (!out.success) throw permanent(new Error(`snap_encode returned no commitments: ${out.issues[0].message}`));
      const commD = await computeCommD({ registeredProof: proof.id, pieces: pieces.map(fromWirePieceInfo) });
      if (!same(out.output.comm_d_new, commD))
        throw permanent(
          new Error(
            `snap_encode produced CommD ${pieceCid(out.output.comm_d_new)}, but the sector's pieces give ${pieceCid(commD)}; resume with --state PieceAdded to rebuild tree_d`,
          ),
        );
      return { event: "SnapEncode", patch: { snap_encode_out: out.output } };
    },

    async SnapEncoded(ctx) {
      const ph = snapPhases(ctx.job);
      const p = snapPaths(deps.location, ctx.job);
      const enc = required(ph.snap_encode_out, "snap_encode output");
      const updateProof = updateProofFor(ctx.job.sector!.proof_type);
      const comms = {
        updateProof,
        commROld: bytes(required(ph.cc_public, "the CC sector's CommR").CommR),
        commRNew: bytes(enc.comm_r_new),
        commDNew: bytes(enc.comm_d_new),
      };
      await bringSectorKey(deps, ctx, stage, p, required(ph.access_instance, "access instance"), false);
      ctx.setActivity({ kind: "running", proc: "snap vanilla proofs" });
      let vanilla: Uint8Array[];
      try {
        vanilla = await generateEmptySectorUpdatePartitionProofs({
          ...comms,
          sectorKeyPath: p.sealed,
          sectorKeyCachePath: p.cache,
          replicaPath: p.update,
          replicaCachePath: p.updateCache,
        });
      } catch (err) {
        throw permanent(err, "snap vanilla partition proofs");
      }
      const answer = await stage(
        "snap_prove",
        {
          registered_proof: UPDATE_PROOFS[updateProof]!.rustName,
          vannilla_proofs: vanilla.map((b) => Array.from(b)),
          comm_r_old: Array.from(comms.commROld),
          comm_r_new: enc.comm_r_new,
          comm_d_new: enc.comm_d_new,
        },
        ctx,
      );
      const proof = v.safeParse(SnapProveOutputSchema, answer);
      if (!proof.success) throw permanent(new Error(`snap_prove returned no proof: ${proof.issues[0].message}`));
      ctx.setActivity({ kind: "running", proc: "verify update proof" });
      if (!(await verifyEmptySectorUpdateProof({ ...comms, proof: bytes(proof.output) })))
        throw permanent(new Error("snap_prove generated an update proof that does not verify"));
      return { event: "SnapProve", patch: { snap_prov_out: proof.output } };
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
      removeLocalFiles(deps.location, job);
      if (job.sector) ctx.log.info(`snapup ${sectorName(sectorId(job))} finished`);
    },
    async cleanup(job) {
      removeLocalFiles(deps.location, job);
    },
  };
}

/**
 * The sector's local files. The sector key paths are links into (or copies of) the persist store: removing
 * a link never touches its target, and rm does not follow links inside a directory.
 */
function removeLocalFiles(location: string, job: JobRecord): void {
  if (!job.sector) return;
  const p = snapPaths(location, job);
  for (const path of [p.staged, p.prepared, p.sealed, p.cache, p.update, p.updateCache])
    rmSync(path, { recursive: true, force: true });
}
