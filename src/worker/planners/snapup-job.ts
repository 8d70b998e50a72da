import { rmSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { abort, permanent } from "../../core/errors/index.ts";
import { PieceInfoSchema } from "../../core/processor/stages/seal.ts";
import { SnapEncodeOutputSchema, SnapProveOutputSchema } from "../../core/processor/stages/snap.ts";
import { SectorPublicInfoSchema } from "../../core/sector/api-snap.ts";
import { DealsSchema } from "../../core/sector/wire.ts";
import type { JobRecord } from "../state/store.ts";
import { type SealerDeps, sectorPaths } from "./sealer-job.ts";

/**
 * What a snapup job keeps between steps (the original's sector record: deals, finalized.public/private and
 * phases pieces, snap_encode_out, snap_prov_out, persist_instance), validated on read.
 */
const Phases = v.object({
  /** The deal pieces the manager assigned with the sector, in their order in the sector. */
  deals: v.optional(DealsSchema),
  /** The CC sector as it is on chain: its CommR is the update's comm_r_old. */
  cc_public: v.optional(SectorPublicInfoSchema),
  /** The persist store holding the CC sector's sealed file and cache (the sector key). */
  access_instance: v.optional(v.string()),
  pieces: v.optional(v.array(PieceInfoSchema)),
  snap_encode_out: v.optional(SnapEncodeOutputSchema),
  snap_prov_out: v.optional(SnapProveOutputSchema),
  /** The persist store update/ and update-cache/ were copied into. */
  persist_instance: v.optional(v.string()),
});
export type SnapupPhases = v.InferOutput<typeof Phases>;

export function snapPhases(job: JobRecord): SnapupPhases {
  const parsed = v.safeParse(Phases, job.phases);
  if (!parsed.success)
    throw permanent(
      new Error(
        `saved snapup data is damaged at ${v.getDotPath(parsed.issues[0]) ?? "phases"}: ${parsed.issues[0].message}`,
      ),
    );
  return parsed.output;
}

export function required<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null)
    throw abort(new Error(`missing ${what}: the snapup sector cannot continue from this state`));
  return value;
}

/** A snapup thread needs what a sealer thread needs, except static trees (a snap sector always has data). */
export type SnapupDeps = Pick<SealerDeps, "manager" | "stages" | "location" | "attached" | "pieces">;

/**
 * Local files of a snapup sector under `<location>/data` (reference §4.1): the staged deal data, its tree_d in
 * prepared/, the CC replica brought from its persist store into sealed/ + cache/ (links, or copies with
 * DISABLE_LINK: never written to), and the new replica in update/ + update-cache/.
 */
export function snapPaths(location: string, job: JobRecord) {
  const p = sectorPaths(location, job);
  return {
    ...p,
    prepared: join(p.data, "prepared", p.name),
    update: join(p.data, "update", p.name),
    updateCache: join(p.data, "update-cache", p.name),
  };
}
export type SnapPaths = ReturnType<typeof snapPaths>;

/** The tree_d file name, in prepared/ and linked into update-cache/ (the original's tree_d_path_in_dir). */
export const TREE_D_FILE = "sc-02-data-tree-d.dat";

/**
 * The sector's local files, once it is finished or aborted (the rebuild plan's upgraded sectors have the same
 * ones). The sector key paths of a snapup sector are links into (or copies of) the persist store: removing a
 * link never touches its target, and rm does not follow links inside a directory.
 */
export function removeSnapLocalFiles(location: string, job: JobRecord): void {
  if (!job.sector) return;
  const p = snapPaths(location, job);
  for (const path of [p.staged, p.prepared, p.sealed, p.cache, p.update, p.updateCache])
    rmSync(path, { recursive: true, force: true });
}
