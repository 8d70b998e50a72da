import { rmSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import type { AttachedStore } from "../../core/config/index.ts";
import { abort, permanent } from "../../core/errors/index.ts";
import { C2OutputSchema, PC2OutputSchema, PieceInfoSchema } from "../../core/processor/stages/seal.ts";
import { sectorName } from "../../core/sector/id.ts";
import { DealsSchema } from "../../core/sector/wire.ts";
import type { ManagerClient } from "../manager-client.ts";
import type { StageRunner } from "../stages.ts";
import type { JobRecord } from "../state/store.ts";

/** What a sealer job keeps between steps (the original's `phases` plus the sector's deals), validated on read. */
const Phases = v.object({
  /** The deal pieces AcquireDeals assigned, in their order in the sector; null for a CC sector. */
  deals: v.optional(DealsSchema),
  pieces: v.optional(v.array(PieceInfoSchema)),
  ticket: v.optional(v.object({ Ticket: v.string(), Epoch: v.number() })),
  pc1out: v.optional(v.unknown()),
  pc2out: v.optional(PC2OutputSchema),
  persist_instance: v.optional(v.string()),
  seed: v.optional(v.object({ Seed: v.string(), Epoch: v.number() })),
  c1out: v.optional(v.unknown()),
  c2out: v.optional(C2OutputSchema),
  /** Set by a failed message: the next submission asks the manager to replace the earlier one. */
  pc_resubmit: v.optional(v.boolean()),
  proof_resubmit: v.optional(v.boolean()),
});
export type Phases = v.InferOutput<typeof Phases>;

/** Where deal pieces come from: `local_pieces_dirs` first, else the manager's piece store. */
export interface PieceSources {
  localDirs: readonly string[];
  /** `<manager origin>/piecestore`: a piece is `<storeUrl>/<piece-cid>`. */
  storeUrl: string;
}

export interface SealerDeps {
  manager: ManagerClient;
  stages: StageRunner;
  location: string;
  attached: readonly AttachedStore[];
  staticTreeD: Record<string, string>;
  pieces: PieceSources;
}

export function sectorPaths(location: string, job: JobRecord) {
  const name = sectorName(job.sector!);
  const data = join(location, "data");
  return {
    name,
    data,
    staged: join(data, "unsealed", name),
    sealed: join(data, "sealed", name),
    cache: join(data, "cache", name),
  };
}
export type SectorPaths = ReturnType<typeof sectorPaths>;

/** The sector's local files (staged, sealed, cache): removed once it is finished or aborted. */
export function removeLocalFiles(location: string, job: JobRecord): void {
  if (!job.sector) return;
  const p = sectorPaths(location, job);
  for (const path of [p.staged, p.sealed, p.cache]) rmSync(path, { recursive: true, force: true });
}

export function phases(job: JobRecord): Phases {
  const parsed = v.safeParse(Phases, job.phases);
  if (!parsed.success)
    throw permanent(
      new Error(
        `saved sector data is damaged at ${v.getDotPath(parsed.issues[0]) ?? "phases"}: ${parsed.issues[0].message}`,
      ),
    );
  return parsed.output;
}

export function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw abort(new Error(`missing ${what}: the sector cannot continue from this state`));
  return value;
}
