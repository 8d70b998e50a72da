import { rmSync } from "node:fs";
import { childLogger } from "../../core/log/index.ts";
import { type SectorID, sectorKey, sectorName } from "../../core/sector/index.ts";
import type { KVStore } from "../../core/store/index.ts";
import type { SnapDeps } from "./deps.ts";
import { clearUpgrade, upgradedInfo } from "./records.ts";

const log = childLogger("snap");

/**
 * Commitments the operator cancelled (`snap cancel`): collection snapup, key cancelled/m-<m>-n-<n>. The
 * committer leaves such a sector alone until it is aborted (which returns it to committed capacity).
 */
export class CancelledCommitments {
  constructor(private readonly store: KVStore) {}

  private key(sid: SectorID): string {
    return `cancelled/${sectorKey(sid)}`;
  }

  has(sid: SectorID): boolean {
    return this.store.collection("snapup").has(this.key(sid));
  }

  /** Inside the caller's transaction. */
  add(sid: SectorID): void {
    this.store.collection("snapup").put(this.key(sid), "");
  }

  /** Inside the caller's transaction. */
  remove(sid: SectorID): void {
    this.store.collection("snapup").del(this.key(sid));
  }
}

/**
 * Ends a snap that will not land: the sector goes back offline as the finalized CC sector it still is on
 * chain, its deals wait for another sector, its pending commitment, update index entry and store
 * reservation are dropped — one durable transaction. The update files are garbage then and removed
 * (best effort). False when the sector was not online.
 */
export async function returnToCommittedCapacity(
  deps: SnapDeps,
  cancelled: CancelledCommitments,
  sid: SectorID,
  why: string,
): Promise<boolean> {
  let pieces: unknown = null;
  let access: string | undefined;
  const moved = await deps.states.moveOffline(
    sid,
    (s) => {
      pieces = s.Pieces;
      access = upgradedInfo(s)?.AccessInstance;
      clearUpgrade(s);
      s.Finalized = true;
      s.AbortReason = "";
    },
    () => {
      deps.market?.release(sid, pieces);
      deps.commit.unmarkPending("snap", sid);
      deps.indexer.remove("upgrade", sid);
      cancelled.remove(sid);
      deps.stores.release(sid);
    },
  );
  if (!moved) return false;
  log.warn(`${sectorName(sid)}: snap update dropped (${why}); the sector is committed capacity again`);
  const paths = access === undefined ? undefined : deps.stores.sectorPaths(access, sid, true);
  if (paths) {
    try {
      rmSync(paths.file, { force: true });
      rmSync(paths.cache, { recursive: true, force: true });
    } catch (err) {
      log.warn(`${sectorName(sid)}: removing the dropped update files failed: ${(err as Error).message}`);
    }
  }
  return true;
}
