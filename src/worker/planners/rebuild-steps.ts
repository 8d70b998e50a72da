import { mkdirSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { abort, permanent } from "../../core/errors/index.ts";
import { PieceInfoSchema } from "../../core/processor/stages/seal.ts";
import { SnapEncodeOutputSchema, SnapProveOutputSchema } from "../../core/processor/stages/snap.ts";
import { Venus } from "../../core/sector/api.ts";
import { describeRebuildData, type SectorRebuildInfo, VenusRebuild } from "../../core/sector/api-rebuild.ts";
import { SectorPublicInfoSchema } from "../../core/sector/api-snap.ts";
import { commRToCid } from "../../core/sector/cid.ts";
import { sectorName } from "../../core/sector/id.ts";
import { SEAL_PROOFS, sealProofInfo } from "../../core/sector/proof.ts";
import { Commitment32Schema, DealsSchema } from "../../core/sector/wire.ts";
import { ManagerUnreachable, sectorId } from "../manager-client.ts";
import type { JobRecord } from "../state/store.ts";
import type { PlanImpl, StepContext, StepOutcome } from "../thread.ts";
import { type RebuildEvent, type RebuildState, rebuildPlan } from "./rebuild.ts";
import { addPieces } from "./sealer-deals.ts";
import { need, phases, type SealerDeps, sectorPaths } from "./sealer-job.ts";
import { persistFiles } from "./sealer-persist.ts";
import { buildTreeD, pc2Recorded, runC1, runPC1, runPC2 } from "./sealer-replica.ts";
import { addSnapPieces, buildSnapTreeD, snapEncode, snapProve } from "./snapup-encode.ts";
import { removeSnapLocalFiles, snapPaths } from "./snapup-job.ts";
import { persistUpdate } from "./snapup-replica.ts";

/**
 * The work behind each state of the rebuild plan. It is the sealer's work (sealer-deals.ts,
 * sealer-replica.ts, sealer-persist.ts) with what the manager recorded instead of what the chain hands out:
 * - Empty: AllocateRebuildSector; the job keeps the sector, its deal pieces, its ticket and its CommR;
 * - Allocated → PC2Done: add_pieces (CC: none; deals: re-fetched like the sealer fetches them), tree_d,
 *   PC1 with the recorded ticket (never AssignTicket), PC2 with the sealer's kill -9 guard;
 * - PC2Done (CheckSealed): the new CommR must be the sector's on-chain CommR, which the manager sent: a
 *   wrong ticket or wrong pieces make another replica, which is a permanent error naming both, before any
 *   persisted file is touched. From a manager that sends no CommR, the original's C1 sanity check;
 * - SealedChecked → SnapDone, for a sector upgraded by a snap deal (IsSnapUp): the CC replica just re-sealed
 *   (checked against the chain's sector key CommR) is the sector key, and the update is encoded over it again
 *   with the snapup plan's steps (snapup-encode.ts): the update's deal pieces, tree_d, snap_encode (its CommR
 *   must be the sector's CommR on chain, else a permanent error naming both, nothing persisted), snap_prove
 *   and its verification. A sector that was not upgraded skips these (SkipSnap);
 * - SnapDone: persist like the sealer, but replacing the lost or corrupt replica of this sector (a
 *   replica whose p_aux names another CommR is still refused). An upgraded sector persists only its update
 *   (update/ + update-cache/), as the original does: the update is what PoSt proves, and the CC replica may
 *   have been removed on purpose (CleanupCCData). Persisted: SubmitPersistedEx (isUpgrade for an upgraded
 *   sector), which points the sector index ("normal" or "upgrade") at the new replica; finish:
 *   ReportFinalized, which clears NeedRebuild.
 */

const RebuildPhases = v.object({
  rebuild: v.optional(
    v.object({
      /** The CommR the re-sealed replica must have (an upgraded sector's: its sector key); null: none sent. */
      comm_r: v.nullable(Commitment32Schema),
      is_snapup: v.boolean(),
      upgrade_public: v.nullable(v.unknown()),
      /** An upgraded sector: the update's CommR on chain, which the re-encoded update must have. */
      update_comm_r: v.optional(v.nullable(Commitment32Schema)),
      /** An upgraded sector: the update's deal pieces (the CC replica is sealed without pieces first). */
      snap_deals: v.optional(DealsSchema),
      /** The manager sent deal pieces only in the legacy `Pieces` field, which this worker cannot read. */
      legacy_pieces: v.boolean(),
    }),
  ),
});
type RebuildRecord = NonNullable<v.InferOutput<typeof RebuildPhases>["rebuild"]>;

/** What the snap steps of an upgraded sector keep (apart from the sealer's pieces, which PC1 used). */
const SnapPhases = v.object({
  snap_pieces: v.optional(v.array(PieceInfoSchema)),
  snap_encode_out: v.optional(SnapEncodeOutputSchema),
  snap_prov_out: v.optional(SnapProveOutputSchema),
});

function snapHeld(job: JobRecord): v.InferOutput<typeof SnapPhases> {
  const parsed = v.safeParse(SnapPhases, job.phases);
  if (!parsed.success)
    throw permanent(
      new Error(
        `saved snap data of the rebuild is damaged at ${v.getDotPath(parsed.issues[0]) ?? "phases"}: ${parsed.issues[0].message}`,
      ),
    );
  return parsed.output;
}

/** An upgraded sector's snap inputs: its CC public info (the sector key) and the update's deals. */
function upgrade(job: JobRecord, r: RebuildRecord) {
  const name = sectorName(job.sector!);
  const pub = v.safeParse(SectorPublicInfoSchema, r.upgrade_public);
  if (!pub.success)
    throw abort(
      new Error(
        `the manager sent ${name} as upgraded without a readable UpgradePublic (${pub.issues[0].message}); the update cannot be encoded again`,
      ),
    );
  const deals = r.snap_deals;
  if (!deals || deals.length === 0)
    throw abort(new Error(`the manager sent ${name} as upgraded without the update's deal pieces (PiecesV2)`));
  return { pub: pub.output, deals };
}

const hex = (b: readonly number[]) => Buffer.from(b).toString("hex");
const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

function held(job: JobRecord): RebuildRecord {
  const parsed = v.safeParse(RebuildPhases, job.phases);
  if (!parsed.success)
    throw permanent(
      new Error(
        `saved rebuild data is damaged at ${v.getDotPath(parsed.issues[0]) ?? "phases"}: ${parsed.issues[0].message}`,
      ),
    );
  return need(parsed.output.rebuild, "rebuild info");
}

export function rebuildSteps(deps: SealerDeps): PlanImpl<RebuildState, RebuildEvent> {
  const stage = (name: string, task: unknown, ctx: StepContext) =>
    deps.stages.run(name, task, { signal: ctx.signal, setActivity: ctx.setActivity, log: ctx.log });

  const steps: Record<
    Exclude<RebuildState, "Finished" | "Aborted">,
    (ctx: StepContext) => Promise<StepOutcome<RebuildEvent>>
  > = {
    async Empty(ctx) {
      const s = ctx.settings;
      let info: SectorRebuildInfo | null;
      try {
        info = await deps.manager.call(VenusRebuild.AllocateRebuildSector, {
          AllowedMiners: s.allowed_miners ?? null,
          // A sector of an allowed size may have been sealed with any variant of its proof.
          AllowedProofTypes: s.allowed_sizes
            ? SEAL_PROOFS.filter((p) => s.allowed_sizes!.includes(p.sectorSize)).map((p) => p.id)
            : null,
        });
      } catch (err) {
        // As the original: nothing is allocated yet, so an error answer is one more empty round.
        if (err instanceof ManagerUnreachable) throw err;
        ctx.log.warn(
          `AllocateRebuildSector failed (trying again in ${s.recover_interval / 1000}s): ${(err as Error).message}`,
        );
        return { idle: true };
      }
      if (!info) return { idle: true };
      const sector = { miner: info.Sector.ID.Miner, number: info.Sector.ID.Number, proof_type: info.Sector.ProofType };
      const p = sectorPaths(deps.location, { ...ctx.job, sector });
      for (const dir of [join(p.staged, ".."), join(p.sealed, ".."), p.cache]) mkdirSync(dir, { recursive: true });
      const deals = info.PiecesV2 && info.PiecesV2.length > 0 ? info.PiecesV2 : null;
      ctx.log.info(
        `rebuilding ${p.name} (${sealProofInfo(info.Sector.ProofType).name}, ${describeRebuildData(info)}${info.IsSnapUp ? " encoded into an upgrade" : ""}, ticket of epoch ${info.Ticket.Epoch})`,
      );
      const rebuild: RebuildRecord = {
        comm_r: info.CommR ?? null,
        is_snapup: info.IsSnapUp,
        upgrade_public: info.UpgradePublic ?? null,
        update_comm_r: info.UpdateCommR ?? null,
        // An upgraded sector was sealed as CC: its deals go into the update, after the CC replica is checked.
        snap_deals: info.IsSnapUp ? deals : null,
        legacy_pieces: !deals && (info.Pieces?.length ?? 0) > 0,
      };
      return {
        event: "AllocatedRebuildSector",
        sector,
        patch: {
          deals: info.IsSnapUp ? null : deals,
          ticket: { Ticket: info.Ticket.Ticket, Epoch: info.Ticket.Epoch },
          rebuild,
        },
      };
    },

    async Allocated(ctx) {
      const r = held(ctx.job);
      // Stop before hours of PC1 that could not be finished anyway.
      if (r.is_snapup) upgrade(ctx.job, r);
      if (r.legacy_pieces)
        throw abort(
          new Error(
            `the manager sent ${sectorName(ctx.job.sector!)}'s pieces only in the legacy Pieces field; this worker rebuilds from PiecesV2`,
          ),
        );
      return addPieces(deps, ctx, stage);
    },

    async PieceAdded(ctx) {
      await buildTreeD(deps, ctx, stage);
      return { event: "BuildTreeD" };
    },

    async TreeDBuilt(ctx) {
      // The ticket the sector was sealed with; a fresh one would make another replica.
      const pc1out = await runPC1(deps, ctx, stage, need(phases(ctx.job).ticket, "ticket"));
      return { event: "PC1", patch: { pc1out } };
    },

    async PC1Done(ctx) {
      return { event: "PC2", patch: { pc2out: await runPC2(deps, ctx, stage) } };
    },

    async PC2Done(ctx) {
      pc2Recorded(deps, ctx);
      const ph = phases(ctx.job);
      const rebuilt = need(ph.pc2out, "PC2 output").comm_r;
      const r = held(ctx.job);
      // An upgraded sector's CC replica is its sector key, which its upgrade's public info names as well.
      const onChain = r.comm_r ?? (r.is_snapup ? upgrade(ctx.job, r).pub.CommR : null);
      const what = r.is_snapup ? "the sector key CommR (the CC replica's) on chain" : "the sector's CommR on chain";
      if (onChain === null) {
        // An original manager: its worker's sanity check, C1 with the ticket as the seed.
        const ticket = need(ph.ticket, "ticket");
        await runC1(deps, ctx, stage, { Seed: ticket.Ticket });
      } else if (!rebuilt.every((b, i) => b === onChain[i])) {
        throw permanent(
          new Error(
            `the rebuilt replica of ${sectorName(ctx.job.sector!)} has CommR ${commRToCid(rebuilt)}, but ${what} is ${commRToCid(onChain)}: the recorded ticket or pieces do not make this sector's replica. Nothing was persisted; the persisted files are untouched. Abort this rebuild with 'damocles worker resume --state Aborted'`,
          ),
        );
      }
      return { event: "CheckSealed", patch: { c1out: undefined } };
    },

    async SealedChecked(ctx) {
      const r = held(ctx.job);
      if (!r.is_snapup) return { event: "SkipSnap" };
      const { deals } = upgrade(ctx.job, r);
      const snap_pieces = await addSnapPieces(deps, ctx, stage, snapPaths(deps.location, ctx.job), deals);
      return { event: "AddPiece", patch: { snap_pieces } };
    },

    async SnapPieceAdded(ctx) {
      await buildSnapTreeD(ctx, stage, snapPaths(deps.location, ctx.job));
      return { event: "BuildTreeD" };
    },

    async SnapTreeDBuilt(ctx) {
      // The sector key is the CC replica re-sealed and checked here, in sealed/ + cache/.
      const pieces = need(snapHeld(ctx.job).snap_pieces, "the update's pieces");
      const out = await snapEncode(ctx, stage, snapPaths(deps.location, ctx.job), pieces);
      const onChain = held(ctx.job).update_comm_r ?? null;
      if (onChain !== null && !same(out.comm_r_new, onChain))
        throw permanent(
          new Error(
            `the re-encoded update of ${sectorName(ctx.job.sector!)} has CommR ${commRToCid(out.comm_r_new)} (${hex(out.comm_r_new)}), but the sector's CommR on chain (its update's) is ${commRToCid(onChain)} (${hex(onChain)}): the recorded deal pieces do not make this sector's update. Nothing was persisted; the persisted files are untouched. Abort this rebuild with 'damocles worker resume --state Aborted'`,
          ),
        );
      return { event: "SnapEncode", patch: { snap_encode_out: out } };
    },

    async SnapEncoded(ctx) {
      const enc = need(snapHeld(ctx.job).snap_encode_out, "snap_encode output");
      const sectorKey = need(phases(ctx.job).pc2out, "PC2 output").comm_r;
      const proof = await snapProve(ctx, stage, snapPaths(deps.location, ctx.job), sectorKey, enc);
      return { event: "SnapProve", patch: { snap_prov_out: proof } };
    },

    async SnapDone(ctx) {
      if (!held(ctx.job).is_snapup) {
        const rebuilt = Uint8Array.from(need(phases(ctx.job).pc2out, "PC2 output").comm_r);
        return persistFiles(deps, ctx, stage, rebuilt);
      }
      // Only the update: PoSt proves it, and the CC replica may have been removed on purpose (CleanupCCData).
      const enc = need(snapHeld(ctx.job).snap_encode_out, "snap_encode output");
      const p = snapPaths(deps.location, ctx.job);
      const instance = await persistUpdate(deps, ctx, stage, p, Uint8Array.from(enc.comm_r_new));
      if (instance === undefined) return { idle: true };
      return { event: "Persist", patch: { persist_instance: instance } };
    },

    async Persisted(ctx) {
      const instance = need(phases(ctx.job).persist_instance, "persist store");
      const ok = await deps.manager.call(Venus.SubmitPersistedEx, sectorId(ctx.job), instance, held(ctx.job).is_snapup);
      if (!ok) throw permanent(new Error(`the manager could not find the persisted files in store "${instance}"`));
      return { event: "SubmitPersistance" };
    },
  };

  return {
    table: rebuildPlan,
    exec(state, ctx) {
      const step = steps[state as keyof typeof steps];
      if (!step) throw permanent(new Error(`no work defined for state ${state}`));
      return step(ctx);
    },
    async finish(job, ctx) {
      // ReportFinalized clears the sector's NeedRebuild and ends its rebuild task on the manager.
      if (job.sector) await deps.manager.call(Venus.ReportFinalized, sectorId(job));
      removeSnapLocalFiles(deps.location, job);
      ctx.log.info(`${sectorPaths(deps.location, job).name} rebuilt`);
    },
    async cleanup(job) {
      removeSnapLocalFiles(deps.location, job);
    },
  };
}
