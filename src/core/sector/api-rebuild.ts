import * as v from "valibot";
import { defineMethod } from "../rpc/method.ts";
import { SectorIDSchema } from "./id.ts";
import {
  AllocatedSectorSchema,
  AllocateSectorSpecSchema,
  Commitment32Schema,
  DealsSchema,
  TicketSchema,
} from "./wire.ts";

/**
 * Rebuilding a sector's lost or corrupt replica (reference §3.2 AllocateRebuildSector, §3.4
 * SectorSetForRebuild, §4.5). Shapes are the original's core.SectorRebuildInfo and core.RebuildOptions
 * (damocles-manager/core/types.go), plus one field of ours (CommR) that lets the worker check what it
 * rebuilt before it replaces anything.
 */

export const RebuildOptionsSchema = v.object({
  /**
   * The deal pieces of an imported sector can be fetched again (from the piece store): without it, an
   * imported sector holding deals is refused, as the original refuses it.
   */
  PiecesAvailable: v.optional(v.boolean(), false),
});
export type RebuildOptions = v.InferOutput<typeof RebuildOptionsSchema>;

/** core.SectorRebuildInfo: what a rebuild thread needs to seal the sector again exactly as it was. */
export const SectorRebuildInfoSchema = v.object({
  Sector: AllocatedSectorSchema,
  /** The ticket the sector was sealed with: PC1 uses it, never a fresh one. */
  Ticket: TicketSchema,
  /** Legacy deal list of older sectors (core.Deals); ours is always null. */
  Pieces: v.nullish(v.array(v.unknown())),
  /** The sector's deal pieces in their order in the sector (as AcquireDeals gave them); null for CC. */
  PiecesV2: v.nullish(DealsSchema),
  /** The sector was upgraded by a snap deal: the update must be encoded again over the rebuilt replica. */
  IsSnapUp: v.boolean(),
  /**
   * core.SectorUpgradePublic of an upgraded sector, as the snap allocation recorded it: the CC sector's
   * public info (its CommR is the sector key, the update's comm_r_old; sealed CID, activation, expiration).
   */
  UpgradePublic: v.nullish(v.unknown()),
  /**
   * Ours: the CommR the re-sealed replica must have: the sector's CommR on chain, or for an upgraded sector
   * its sector key CommR (the CC replica's, which the chain keeps beside the update's). The worker refuses
   * to persist a rebuilt replica whose CommR differs (a wrong ticket or wrong pieces make another replica,
   * which could never be proven). An original manager does not send it; the worker then runs the
   * original's C1 sanity check instead.
   */
  CommR: v.nullish(Commitment32Schema),
  /**
   * Ours, for an upgraded sector: the update's CommR on chain (comm_r_new). The worker refuses to persist a
   * re-encoded update whose CommR differs. Absent from an original manager: only the update proof is checked.
   */
  UpdateCommR: v.nullish(Commitment32Schema),
});
export type SectorRebuildInfo = v.InferOutput<typeof SectorRebuildInfoSchema>;

/** "CC", or how many deal pieces a rebuild puts back (pledge fillers, ID 0, are not deals): for logs and CLIs. */
export function describeRebuildData(info: Pick<SectorRebuildInfo, "PiecesV2">): string {
  const deals = (info.PiecesV2 ?? []).filter((p) => p.ID !== 0).length;
  return deals > 0 ? `${deals} deal piece(s)` : "CC";
}

/** Where a queued rebuild is: waiting for a thread, held by one, done, or given up (with the reason). */
export const REBUILD_TASK_STATES = ["queued", "rebuilding", "finished", "failed"] as const;
export const RebuildTaskStateSchema = v.picklist(REBUILD_TASK_STATES);
export type RebuildTaskState = v.InferOutput<typeof RebuildTaskStateSchema>;

/** Ours: one rebuild as the manager keeps it (collection "rebuild"). Times are unix ms. */
export const RebuildTaskSchema = v.object({
  Info: SectorRebuildInfoSchema,
  State: RebuildTaskStateSchema,
  ErrorInfo: v.string(),
  CreatedAt: v.number(),
  UpdatedAt: v.number(),
});
export type RebuildTask = v.InferOutput<typeof RebuildTaskSchema>;

const sid = ["sid", SectorIDSchema] as const;

/** The original's methods, in the `Venus` namespace. */
export const VenusRebuild = {
  /** Worker-facing (core.SealerAPI): the oldest queued rebuild of a miner and proof type the thread takes. */
  AllocateRebuildSector: defineMethod(
    "Venus.AllocateRebuildSector",
    [["spec", AllocateSectorSpecSchema]] as const,
    v.nullable(SectorRebuildInfoSchema),
    "write",
  ),
  /**
   * Admin (core.SealerCliAPI): queue a rebuild of a proven sector. True when queued now, false when the
   * sector is already waiting for (or in) a rebuild. Refusals are errors that say why.
   */
  SectorSetForRebuild: defineMethod(
    "Venus.SectorSetForRebuild",
    [sid, ["opt", RebuildOptionsSchema]] as const,
    v.boolean(),
    "admin",
  ),
} as const;

/** Ours: the rebuild queue, for CLIs and scripts that wait on a rebuild. */
export const DamoclesRebuild = {
  RebuildTasks: defineMethod("Damocles.RebuildTasks", [] as const, v.array(RebuildTaskSchema), "read"),
} as const;
