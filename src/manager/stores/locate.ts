import { join } from "node:path";
import type { ProvingSector } from "../../core/sector/chain.ts";
import { type SectorID, type SectorIndexLocation, sectorName } from "../../core/sector/index.ts";
import type { PoStReplica } from "../prover.ts";

/**
 * Where a proving sector's files are: the sector indexer answers persist-store names (locally, or over
 * RPC from the source manager on a proxy node), and this node's store config turns them into paths.
 */
export interface SectorLocator {
  find(type: "normal" | "upgrade", sid: SectorID): Promise<SectorIndexLocation>;
}

export type StorePaths = (storeName: string) => string | undefined;

export type Located = { ok: true; replica: PoStReplica } | { ok: false; reason: string };

export async function locateReplica(
  locator: SectorLocator,
  paths: StorePaths,
  actor: number,
  sector: ProvingSector,
): Promise<Located> {
  const sid = { Miner: actor, Number: sector.number };
  const name = sectorName(sid);
  // The chain says which replica its CommR is: a snap update's files are indexed (as "upgrade") before the
  // update lands, and until it does the sector is still proven with its sealed file. A chain that does not
  // say (older proxy sources) gets the update replica whenever one is indexed.
  let upgrade = sector.upgraded ?? true;
  let loc = upgrade ? await locator.find("upgrade", sid) : undefined;
  if (!loc?.Found && sector.upgraded === true)
    return {
      ok: false,
      reason: `${name} was snap-updated on chain, but its update replica is not in the sector index (SubmitSnapUpProof never reached this manager?)`,
    };
  if (!loc?.Found) {
    upgrade = false;
    loc = await locator.find("normal", sid);
  }
  if (!loc.Found)
    return { ok: false, reason: `${name} is not in the sector index (never persisted, or indexed on another manager)` };
  const sealedRoot = paths(loc.Instance.SealedFile);
  const cacheRoot = paths(loc.Instance.CacheDir);
  const missing =
    sealedRoot === undefined ? loc.Instance.SealedFile : cacheRoot === undefined ? loc.Instance.CacheDir : undefined;
  if (missing !== undefined)
    return { ok: false, reason: `${name} is in persist store "${missing}", which is not configured on this node` };
  return {
    ok: true,
    replica: {
      sectorId: sector.number,
      commR: Uint8Array.from(sector.commR),
      upgrade,
      accesses: { sealedFile: loc.Instance.SealedFile, cacheDir: loc.Instance.CacheDir },
      sealedPath: join(sealedRoot!, upgrade ? "update" : "sealed", name),
      cacheDir: join(cacheRoot!, upgrade ? "update-cache" : "cache", name),
    },
  };
}
