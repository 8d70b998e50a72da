import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import type { AttachedStore } from "../../core/config/index.ts";
import { permanent } from "../../core/errors/index.ts";
import type { TransferInput } from "../../core/processor/stages/seal.ts";
import { commRFromPAux } from "../../core/proofs/index.ts";
import { Venus } from "../../core/sector/api.ts";
import { SECTOR_SIZES, sealProofInfo } from "../../core/sector/proof.ts";
import type { StoreBasicInfo } from "../../core/sector/wire.ts";
import { sleep } from "../../core/sync/semaphore.ts";
import { sectorId } from "../manager-client.ts";
import type { StepContext, StepOutcome } from "../thread.ts";
import { type SealerDeps, type SectorPaths, sectorPaths } from "./sealer-job.ts";

type RunStage = (name: string, task: unknown, ctx: StepContext) => Promise<unknown>;

/** The cache files a sealed sector needs later (the original's cached_filenames_for_sector), in its order. */
export function persistedCacheFiles(sectorSize: number): string[] {
  const trees = sectorSize === SECTOR_SIZES["32GiB"] ? 8 : sectorSize === SECTOR_SIZES["64GiB"] ? 16 : 1;
  const treeRLast =
    trees === 1
      ? ["sc-02-data-tree-r-last.dat"]
      : Array.from({ length: trees }, (_, i) => `sc-02-data-tree-r-last-${i}.dat`);
  return [...treeRLast, "p_aux", "t_aux"];
}

/** A replica's local files: the sealed (or updated) file and its cache directory, under the sector's name. */
export type ReplicaFiles = Pick<SectorPaths, "name" | "sealed" | "cache">;

/**
 * Where a replica lives in a persist store: sealed/ + cache/ for a sealed sector, update/ + update-cache/
 * for a snapped one (the original's layout, which PoSt and the manager's file checks follow).
 */
export interface ReplicaDirs {
  sealed: string;
  cache: string;
}
export const SEALED_DIRS: ReplicaDirs = { sealed: "sealed", cache: "cache" };
export const UPDATE_DIRS: ReplicaDirs = { sealed: "update", cache: "update-cache" };

/**
 * The transfer task that persists a sector, as the original builds it: absolute `uri`s, the source with no
 * store, the destination in the persist store the manager reserved (its `stores` entry carries the meta the
 * manager answered), the sealed file first and then the cache files.
 */
export function persistTransferTask(
  paths: ReplicaFiles,
  sectorSize: number,
  target: AttachedStore,
  meta: StoreBasicInfo["Meta"],
  dirs: ReplicaDirs = SEALED_DIRS,
): TransferInput {
  const files = persistedCacheFiles(sectorSize);
  const routes = [
    { local: paths.sealed, rel: join(dirs.sealed, paths.name) },
    ...files.map((f) => ({ local: join(paths.cache, f), rel: join(dirs.cache, paths.name, f) })),
  ];
  return {
    stores: { [target.name]: { name: target.name, meta } },
    routes: routes.map(({ local, rel }) => ({
      src: { store_name: null, uri: local },
      dest: { store_name: target.name, uri: join(target.location, rel) },
      opt: null,
    })),
  };
}

/**
 * A replica already at the destination is never replaced silently: a manager that handed out a sector number
 * twice must not cost the first sector its data. p_aux holds comm_c and comm_r_last, from which CommR is
 * derived, so equal p_aux files mean the same replica (copying again is harmless). Without a p_aux there (our
 * own copy cut short after the sealed file, which goes first), the sealed files are compared by size and by
 * their first and last blocks: two sealings of one sector number differ there. Anything else is a permanent
 * error naming both.
 *
 * A rebuild (`rebuilt` = the CommR its replica was checked to have, the sector's on-chain CommR) is there
 * to replace a lost or corrupt replica, whose files differ from the new ones by definition. It replaces a
 * replica whose p_aux derives that same CommR (this sector's replica, whatever state its sealed file is
 * in), or one without a readable p_aux whose sealed file has the new one's ends; a p_aux that derives
 * another CommR is another sealing's replica and is refused, naming both CommRs.
 */
export function checkExistingReplica(
  paths: ReplicaFiles,
  target: AttachedStore,
  dirs: ReplicaDirs = SEALED_DIRS,
  rebuilt?: Uint8Array,
): void {
  const destSealed = join(target.location, dirs.sealed, paths.name);
  const destAux = join(target.location, dirs.cache, paths.name, "p_aux");
  if (rebuilt) {
    checkReplacedByRebuild(paths, destSealed, destAux, rebuilt);
    return;
  }
  if (!existsSync(destSealed)) return;
  const localAux = join(paths.cache, "p_aux");
  const same = existsSync(destAux)
    ? readFileSync(destAux).equals(readFileSync(localAux))
    : sameEnds(destSealed, paths.sealed);
  if (!same) {
    throw permanent(
      new Error(
        `${destSealed} already holds a replica of ${paths.name} with a different CommR (${existsSync(destAux) ? `its p_aux differs from ${localAux}` : `its sealed data differs from ${paths.sealed}`}): refusing to overwrite it; move it aside if it is not needed`,
      ),
    );
  }
}

function checkReplacedByRebuild(paths: ReplicaFiles, destSealed: string, destAux: string, commR: Uint8Array): void {
  const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
  if (existsSync(destAux)) {
    let theirs: Uint8Array | undefined;
    try {
      theirs = commRFromPAux(readFileSync(destAux));
    } catch {
      theirs = undefined; // damaged: it cannot say whose replica this is; the sealed file may
    }
    if (theirs && Buffer.from(theirs).equals(commR)) return;
    if (theirs)
      throw permanent(
        new Error(
          `${destSealed} belongs to another replica of ${paths.name}: its p_aux derives CommR ${hex(theirs)}, the rebuilt replica's (the chain's) is ${hex(commR)}; refusing to overwrite it, move it aside if it is not needed`,
        ),
      );
  }
  if (!existsSync(destSealed) || sameEnds(destSealed, paths.sealed)) return;
  throw permanent(
    new Error(
      `${destSealed} holds a sealed file of ${paths.name} that no readable p_aux identifies and whose data differs from the rebuilt replica (CommR ${hex(commR)}): refusing to overwrite what cannot be identified; move it aside if it is the lost or corrupt replica`,
    ),
  );
}

const SAMPLE = 64 * 1024;

function sameEnds(a: string, b: string): boolean {
  const size = statSync(a).size;
  if (size !== statSync(b).size) return false;
  const read = (path: string, at: number) => {
    const fd = openSync(path, "r");
    try {
      const buf = Buffer.alloc(Math.min(SAMPLE, size));
      readSync(fd, buf, 0, buf.length, at);
      return buf;
    } finally {
      closeSync(fd);
    }
  };
  const tail = Math.max(0, size - SAMPLE);
  return read(a, 0).equals(read(b, 0)) && read(a, tail).equals(read(b, tail));
}

/**
 * PCLanded (sealer) and SnapDone (rebuild): reserve room in a persist store this worker can reach, then copy
 * the sector there. `rebuilt` is the CommR a rebuilt replica was checked to have (see checkExistingReplica).
 */
export async function persistFiles(
  deps: SealerDeps,
  ctx: StepContext,
  stage: RunStage,
  rebuilt?: Uint8Array,
): Promise<StepOutcome<"Persist">> {
  const p = sectorPaths(deps.location, ctx.job);
  const proof = sealProofInfo(ctx.job.sector!.proof_type);
  const writable = deps.attached.filter((a) => !a.readonly);
  if (writable.length === 0) throw permanent(new Error("no writable [[attached]] store to persist the sector into"));
  // Sealed file + cache; the manager reserves room in one of the stores we can reach.
  const store = await deps.manager.call(
    Venus.StoreReserveSpace,
    sectorId(ctx.job),
    proof.sectorSize * 2,
    writable.map((a) => a.name),
  );
  if (!store) {
    ctx.setActivity({ kind: "waiting", on: "persist store space" });
    await sleep(ctx.settings.rpc_polling_interval, ctx.signal);
    return { idle: true };
  }
  const target = deps.attached.find((a) => a.name === store.Name);
  if (!target)
    throw permanent(
      new Error(`the manager chose store "${store.Name}", which is not among this worker's [[attached]] stores`),
    );
  checkExistingReplica(p, target, SEALED_DIRS, rebuilt);
  await stage("transfer", persistTransferTask(p, proof.sectorSize, target, store.Meta), ctx);
  return { event: "Persist", patch: { persist_instance: target.name } };
}
