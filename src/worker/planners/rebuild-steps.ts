import { mkdirSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { abort, permanent } from "../../core/errors/index.ts";
import { Venus } from "../../core/sector/api.ts";
import { describeRebuildData, type SectorRebuildInfo, VenusRebuild } from "../../core/sector/api-rebuild.ts";
import { commRToCid } from "../../core/sector/cid.ts";
import { sectorName } from "../../core/sector/id.ts";
import { SEAL_PROOFS, sealProofInfo } from "../../core/sector/proof.ts";
import { Commitment32Schema } from "../../core/sector/wire.ts";
import { ManagerUnreachable, sectorId } from "../manager-client.ts";
import type { JobRecord } from "../state/store.ts";
import type { PlanImpl, StepContext, StepOutcome } from "../thread.ts";
import { type RebuildEvent, type RebuildState, rebuildPlan } from "./rebuild.ts";
import { addPieces } from "./sealer-deals.ts";
import { need, phases, removeLocalFiles, type SealerDeps, sectorPaths } from "./sealer-job.ts";
import { persistFiles } from "./sealer-persist.ts";
import { buildTreeD, pc2Recorded, runC1, runPC1, runPC2 } from "./sealer-replica.ts";

/**
 * The work behind each state of the rebuild plan. It is the sealer's work (sealer-deals.ts,
 * sealer-replica.ts, sealer-persist.ts) with what the manager recorded instead of what the chain hands out:
 * - Empty: AllocateRebuildSector; the job keeps the sector, its deal pieces, its ticket and its CommR;
 * - Allocated → PC2Done: add_pieces (CC: none; deals: re-fetched like the sealer fetches them), tree_d,
 *   PC1 with the recorded ticket (never AssignTicket), PC2 with the sealer's kill -9 guard;
 * - PC2Done (CheckSealed): the new CommR must be the sector's on-chain CommR, which the manager sent: a
 *   wrong ticket or wrong pieces make another replica, which is a permanent error naming both, before any
 *   persisted file is touched. From a manager that sends no CommR, the original's C1 sanity check;
 * - SnapDone: persist like the sealer, but replacing the lost or corrupt replica of this sector (a
 *   replica whose p_aux names another CommR is still refused); Persisted: SubmitPersistedEx, which points
 *   the sector index at the new replica; finish: ReportFinalized, which clears NeedRebuild.
 * An upgraded (snapped) sector needs the snap steps as well, which this build does not have yet.
 */

const RebuildPhases = v.object({
  rebuild: v.optional(
    v.object({
      /** The sector's on-chain CommR, from the manager; null when it sent none. */
      comm_r: v.nullable(Commitment32Schema),
      is_snapup: v.boolean(),
      upgrade_public: v.nullable(v.unknown()),
      /** The manager sent deal pieces only in the legacy `Pieces` field, which this worker cannot read. */
      legacy_pieces: v.boolean(),
    }),
  ),
});
type RebuildRecord = NonNullable<v.InferOutput<typeof RebuildPhases>["rebuild"]>;

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

/** What a rebuild of an upgraded sector would need, named where it stops. */
function snapUnsupported(job: JobRecord): Error {
  return permanent(
    new Error(
      `rebuild of an upgraded sector needs the snapup plan steps (snap_encode, snap_prove), which this build does not have yet: ${sectorName(job.sector!)} was upgraded by a snap deal. Abort it here with 'damocles worker resume --state Aborted' and rebuild it with a worker that has them`,
    ),
  );
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
        `rebuilding ${p.name} (${sealProofInfo(info.Sector.ProofType).name}, ${describeRebuildData(info)}, ticket of epoch ${info.Ticket.Epoch})`,
      );
      const rebuild: RebuildRecord = {
        comm_r: info.CommR ?? null,
        is_snapup: info.IsSnapUp,
        upgrade_public: info.UpgradePublic ?? null,
        legacy_pieces: !deals && (info.Pieces?.length ?? 0) > 0,
      };
      return {
        event: "AllocatedRebuildSector",
        sector,
        patch: { deals, ticket: { Ticket: info.Ticket.Ticket, Epoch: info.Ticket.Epoch }, rebuild },
      };
    },

    async Allocated(ctx) {
      const r = held(ctx.job);
      // Stop before hours of PC1 that could not be finished anyway.
      if (r.is_snapup) throw snapUnsupported(ctx.job);
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
      const onChain = held(ctx.job).comm_r;
      if (onChain === null) {
        // An original manager: its worker's sanity check, C1 with the ticket as the seed.
        const ticket = need(ph.ticket, "ticket");
        await runC1(deps, ctx, stage, { Seed: ticket.Ticket });
      } else if (!rebuilt.every((b, i) => b === onChain[i])) {
        throw permanent(
          new Error(
            `the rebuilt replica of ${sectorName(ctx.job.sector!)} has CommR ${commRToCid(rebuilt)}, but the sector's CommR on chain is ${commRToCid(onChain)}: the recorded ticket or pieces do not make this sector's replica. Nothing was persisted; the persisted files are untouched. Abort this rebuild with 'damocles worker resume --state Aborted'`,
          ),
        );
      }
      return { event: "CheckSealed", patch: { c1out: undefined } };
    },

    async SealedChecked(ctx) {
      if (held(ctx.job).is_snapup) throw snapUnsupported(ctx.job);
      return { event: "SkipSnap" };
    },

    async SnapPieceAdded(ctx) {
      throw snapUnsupported(ctx.job);
    },

    async SnapTreeDBuilt(ctx) {
      throw snapUnsupported(ctx.job);
    },

    async SnapEncoded(ctx) {
      throw snapUnsupported(ctx.job);
    },

    async SnapDone(ctx) {
      const rebuilt = Uint8Array.from(need(phases(ctx.job).pc2out, "PC2 output").comm_r);
      return persistFiles(deps, ctx, stage, rebuilt);
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
      removeLocalFiles(deps.location, job);
      ctx.log.info(`${sectorPaths(deps.location, job).name} rebuilt`);
    },
    async cleanup(job) {
      removeLocalFiles(deps.location, job);
    },
  };
}
