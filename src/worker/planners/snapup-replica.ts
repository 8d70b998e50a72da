import { existsSync } from "node:fs";
import { join } from "node:path";
import { permanent } from "../../core/errors/index.ts";
import type { TransferInput } from "../../core/processor/stages/seal.ts";
import { Venus } from "../../core/sector/api.ts";
import { SECTOR_SIZES, sealProofInfo } from "../../core/sector/proof.ts";
import { sleep } from "../../core/sync/semaphore.ts";
import { sectorId } from "../manager-client.ts";
import type { StepContext } from "../thread.ts";
import { checkExistingReplica, persistedCacheFiles, persistTransferTask, UPDATE_DIRS } from "./sealer-persist.ts";
import type { SnapPaths, SnapupDeps } from "./snapup-job.ts";

/**
 * The replica files of a snapup sector: bringing the CC sector's sealed file and cache (the sector key) from
 * the persist store the manager named into local paths, and persisting the new replica (update/ +
 * update-cache/) into a persist store the manager reserves, as the original's snapup planner does.
 */

type RunStage = (name: string, task: unknown, ctx: StepContext) => Promise<unknown>;

/** The sector key's files in local paths: the sealed file, then the cache files PoSt and snap need. */
function sectorKeyFiles(p: SnapPaths, sectorSize: number): string[] {
  return [p.sealed, ...persistedCacheFiles(sectorSize).map((f) => join(p.cache, f))];
}

/**
 * The transfer task linking the sector key into local paths (vc-processors' Transfer): sources in the access
 * store, `allow_link` so the builtin processor symlinks instead of copying (unless DISABLE_LINK). Nothing
 * ever writes through these paths: snap_encode and the partition proofs only read the sector key.
 */
export function sectorKeyTransferTask(
  p: SnapPaths,
  sectorSize: number,
  store: { name: string; location: string },
  meta: Record<string, string> | null,
): TransferInput {
  const rels = [join("sealed", p.name), ...persistedCacheFiles(sectorSize).map((f) => join("cache", p.name, f))];
  const locals = sectorKeyFiles(p, sectorSize);
  return {
    stores: { [store.name]: { name: store.name, meta } },
    routes: rels.map((rel, i) => ({
      src: { store_name: store.name, uri: join(store.location, rel) },
      dest: { store_name: null, uri: locals[i]! },
      opt: { is_dir: false, allow_link: true },
    })),
  };
}

/**
 * Makes the sector key available locally. `always` re-links even when the files are there (before encoding:
 * cheap with links, and it repairs anything an operator moved); otherwise only missing files bring it back.
 */
export async function bringSectorKey(
  deps: SnapupDeps,
  ctx: StepContext,
  stage: RunStage,
  p: SnapPaths,
  accessInstance: string,
  always: boolean,
): Promise<void> {
  const sectorSize = sealProofInfo(ctx.job.sector!.proof_type).sectorSize;
  if (!always && sectorKeyFiles(p, sectorSize).every((f) => existsSync(f))) return;
  const store = deps.attached.find((a) => a.name === accessInstance);
  if (!store) {
    const have = deps.attached.map((a) => a.name).join(", ") || "none";
    throw permanent(
      new Error(
        `the CC sector ${p.name} is in persist store "${accessInstance}", which is not among this worker's [[attached]] stores (it has: ${have}); attach it (readonly = true is enough)`,
      ),
    );
  }
  const info = await deps.manager.call(Venus.StoreBasicInfo, accessInstance);
  if (!info) throw permanent(new Error(`the manager does not know persist store "${accessInstance}"`));
  await stage("transfer", sectorKeyTransferTask(p, sectorSize, store, info.Meta), ctx);
}

/** Room the original reserves for a replica: 2× the sector size below 32GiB, 1.02× from 32GiB on. */
export function persistReserveSize(sectorSize: number): number {
  return sectorSize < SECTOR_SIZES["32GiB"] ? sectorSize * 2 : sectorSize + Math.floor(sectorSize / 50);
}

/**
 * SnapProved (snapup) and SnapDone (rebuild of an upgraded sector): reserve room in a writable persist
 * store, refuse to replace a different update already there, copy update/ + update-cache/. `rebuilt` is the
 * update CommR a rebuilt update was checked to have: it replaces the lost or corrupt update of this sector
 * (see checkExistingReplica). Answers the store's name, or undefined while no store has room.
 */
export async function persistUpdate(
  deps: SnapupDeps,
  ctx: StepContext,
  stage: RunStage,
  p: SnapPaths,
  rebuilt?: Uint8Array,
): Promise<string | undefined> {
  const sectorSize = sealProofInfo(ctx.job.sector!.proof_type).sectorSize;
  const local = { name: p.name, sealed: p.update, cache: p.updateCache };
  for (const f of [local.sealed, ...persistedCacheFiles(sectorSize).map((n) => join(local.cache, n))])
    if (!existsSync(f))
      throw permanent(
        new Error(
          `the updated replica's ${f} is missing; resume the thread with --state ${ctx.job.plan === "rebuild" ? "SnapTreeDBuilt" : "TreeDBuilt"} to encode again`,
        ),
      );
  const writable = deps.attached.filter((a) => !a.readonly);
  if (writable.length === 0) throw permanent(new Error("no writable [[attached]] store to persist the update into"));
  const store = await deps.manager.call(
    Venus.StoreReserveSpace,
    sectorId(ctx.job),
    persistReserveSize(sectorSize),
    writable.map((a) => a.name),
  );
  if (!store) {
    ctx.setActivity({ kind: "waiting", on: "persist store space" });
    await sleep(ctx.settings.rpc_polling_interval, ctx.signal);
    return undefined;
  }
  const target = deps.attached.find((a) => a.name === store.Name);
  if (!target)
    throw permanent(
      new Error(`the manager chose store "${store.Name}", which is not among this worker's [[attached]] stores`),
    );
  checkExistingReplica(local, target, UPDATE_DIRS, rebuilt);
  await stage("transfer", persistTransferTask(local, sectorSize, target, store.Meta, UPDATE_DIRS), ctx);
  return target.name;
}
