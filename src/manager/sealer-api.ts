import { childLogger } from "../core/log/index.ts";
import type { RpcRegistry } from "../core/rpc/index.ts";
import { Damocles, Venus } from "../core/sector/api.ts";
import type { Chain } from "../core/sector/chain.ts";
import { type SectorID, type SectorState, sealProofInfo, sectorName } from "../core/sector/index.ts";
import { VERSION_STRING } from "../core/version.ts";
import type { DevnetChain } from "../devnet/index.ts";
import type { CommitManager } from "./commit/manager.ts";
import type { DealMarket } from "./market/market.ts";
import type { ManagerMetrics } from "./metrics.ts";
import type { SectorAllocator } from "./sectors/allocator.ts";
import type { SectorIndexer } from "./sectors/indexer.ts";
import type { SectorStates } from "./sectors/states.ts";
import type { SnapUp } from "./snap/index.ts";
import type { PersistStores } from "./stores/persist.ts";
import type { WorkerRegistry } from "./workers/registry.ts";

const log = childLogger("sealer");

/** What the sealer API tells the rebuild queue (manager/rebuild) about a sector with NeedRebuild. */
export interface RebuildHooks {
  finished(sid: SectorID): void;
  failed(sid: SectorID, reason: string): void;
}

export interface SealerServices {
  states: SectorStates;
  allocator: SectorAllocator;
  commit: CommitManager;
  stores: PersistStores;
  indexer: SectorIndexer;
  workers: WorkerRegistry;
  /** The chain: the hosted devnet, or the Lotus-API client of the node [Common.API] Chain names. */
  chain: Chain;
  /** The devnet this manager hosts in its process (none when it runs against a node). */
  devnet?: DevnetChain;
  /** The embedded market; without one AcquireDeals answers no deals (CC only). */
  market?: DealMarket;
  /** The rebuild queue: told, inside the same transaction, when a sector being rebuilt ends. */
  rebuild?: RebuildHooks;
  metrics?: ManagerMetrics;
  /** SnapDeals: snap sectors are finalized by its committer and aborted back to committed capacity. */
  snap?: SnapUp;
}

/**
 * Registers the Venus namespace (worker-facing and admin methods) and our Damocles.* additions.
 * Handlers stay thin: validation happened in the registry, the services hold the rules.
 */
export function registerSealerApi(registry: RpcRegistry, s: SealerServices): void {
  const { states, commit, stores, indexer, workers, chain } = s;

  registry
    .implement(Venus.AllocateSector, (spec) => s.allocator.allocate(spec))
    .implement(Venus.AcquireDeals, (sid, spec) => {
      if (s.market) return s.market.acquire(sid, spec);
      states.mustOnline(sid);
      return null;
    })
    .implement(Venus.AssignTicket, async (sid) => {
      states.mustOnline(sid);
      const head = (await chain.head()).epoch;
      const epoch = Math.max(0, head - chain.policy().sealRandomnessLookback);
      const ticket = {
        Ticket: Buffer.from(await chain.ticketRandomness(sid.Miner, epoch)).toString("base64"),
        Epoch: epoch,
      };
      await states.updateDurable(sid, (st) => (st.Ticket = ticket));
      return ticket;
    })
    .implement(Venus.SubmitPreCommit, (sector, info, reset) => commit.submitPreCommit(sector, info, reset))
    .implement(Venus.PollPreCommitState, (sid) => commit.pollPreCommitState(sid))
    .implement(Venus.SubmitPersisted, (sid, instance) => submitPersisted(s, sid, instance))
    .implement(Venus.SubmitPersistedEx, (sid, instance, isUpgrade) => submitPersisted(s, sid, instance, isUpgrade))
    .implement(Venus.WaitSeed, (sid) => commit.waitSeed(sid))
    .implement(Venus.SubmitProof, (sid, proof, reset) => commit.submitProof(sid, proof, reset))
    .implement(Venus.PollProofState, (sid) => commit.pollProofState(sid))
    .implement(Venus.ReportState, (sid, req) => {
      const st = states.update(sid, (x) => (x.LatestState = req));
      if (req.Failure)
        log.debug(
          `${sectorName(sid)} ${req.StateChange.Prev} => ${req.StateChange.Next}: ${req.Failure.Level}: ${req.Failure.Desc}`,
        );
      return { Id: st.ID, Finalized: st.Finalized, AbortReason: st.AbortReason === "" ? null : st.AbortReason };
    })
    .implement(Venus.ReportFinalized, async (sid) => {
      // A snap sector is finalized by the snap committer once its update is final, not by its worker.
      const online = states.get("online", sid);
      if (online?.Upgraded && !online.NeedRebuild) {
        stores.release(sid);
        return null;
      }
      let rebuilt = false;
      const moved = await states.moveOffline(
        sid,
        (x) => {
          rebuilt = x.NeedRebuild;
          x.Finalized = true;
          x.NeedRebuild = false;
          x.Unsealing = false;
        },
        () => {
          stores.release(sid);
          if (rebuilt) s.rebuild?.finished(sid);
        },
      );
      if (!moved) {
        const off = states.get("offline", sid);
        if (!off) states.mustOnline(sid); // throws the explanatory 11001
      }
      return null;
    })
    .implement(Venus.ReportAborted, (sid, reason) => abortSector(s, sid, reason))
    .implement(Venus.WorkerPing, (winfo) => {
      workers.ping(winfo);
      return null;
    })
    .implement(Venus.StoreReserveSpace, (sid, size, candidates) => {
      states.mustOnline(sid);
      return stores.reserve(sid, size, candidates);
    })
    .implement(Venus.StoreBasicInfo, (name) => stores.basicInfo(name))

    .implement(Venus.ListSectors, (where, job, after, limit) =>
      limit === undefined ? states.list(where, job) : states.page(where, { job, after: after ?? undefined, limit }),
    )
    .implement(Venus.FindSector, (where, sid) => states.get(where, sid) ?? null)
    .implement(Venus.FindSectorInAllStates, (sid) => states.find(sid)?.state ?? null)
    .implement(Venus.RestoreSector, async (sid, forced) => {
      const off = states.get("offline", sid);
      if (!off) states.mustOnline(sid); // online already: nothing to restore; unknown: 11001
      if (off?.Finalized && off.AbortReason === "" && !forced) {
        throw new Error(
          `${sectorName(sid)} was finalized normally; restore it with --force if it must be sealed again`,
        );
      }
      await states.moveOnline(sid, (x) => {
        x.Finalized = false;
        x.AbortReason = "";
      });
      log.info(`${sectorName(sid)} restored to online`);
      return null;
    })
    .implement(Venus.SectorIndexerFind, (type, sid) => indexer.find(type, sid))
    .implement(Venus.StoreList, () => stores.list())
    .implement(Venus.StoreReleaseReserved, (sid) => stores.release(sid))
    .implement(Venus.WorkerPingInfoList, () => workers.list())
    .implement(Venus.WorkerGetPingInfo, (name) => workers.get(name))
    .implement(Venus.WorkerPingInfoRemove, (name) => {
      workers.remove(name);
      return null;
    })
    .implement(Venus.Version, () => VERSION_STRING)
    .implement(Damocles.ChainHead, async () => {
      const head = await chain.head();
      const miners = [];
      for (const m of await chain.listMiners()) {
        const power = await chain.minerPower(m.actor);
        const dl = await chain.provingDeadline(m.actor);
        miners.push({
          Actor: m.actor,
          SectorSize: m.sectorSize,
          SealProofType: m.sealProofType,
          WindowPoStProofType: m.windowPoStProofType,
          RawPower: power.rawBytes,
          ActiveSectors: power.activeSectors,
          ProvingDeadline: {
            Index: dl.index,
            Open: dl.open,
            Close: dl.close,
            Challenge: dl.challenge,
            PeriodStart: dl.periodStart,
          },
        });
      }
      // Only a hosted devnet can count its pool here; a node's pool is its own business.
      const pending = s.devnet?.pendingMessageCount() ?? { pending: 0, packed: 0 };
      return {
        Kind: chain.kind,
        Epoch: head.epoch,
        Timestamp: head.timestamp,
        BlockTimeMs: chain.policy().blockTimeMs,
        PendingMessages: pending.pending + pending.packed,
        Miners: miners,
      };
    });
}

function submitPersisted(
  s: SealerServices,
  sid: { Miner: number; Number: number },
  instance: string,
  isUpgrade = false,
): boolean {
  const state: SectorState = s.states.mustOnline(sid);
  const problem = s.stores.checkPersisted(instance, sid, sealProofInfo(state.SectorType).sectorSize, isUpgrade);
  if (problem) {
    log.warn(`SubmitPersisted ${sectorName(sid)} in "${instance}": ${problem}`);
    return false;
  }
  s.indexer.update(isUpgrade ? "upgrade" : "normal", sid, { sealed: instance, cache: instance });
  return true;
}

/**
 * ReportAborted and `util sealer sectors abort`: the sector leaves the online states with its reason; its
 * reservation, pending commitments and assigned deals are released in the same transaction.
 */
export async function abortSector(
  s: SealerServices,
  sid: { Miner: number; Number: number },
  reason: string,
): Promise<null> {
  const why = reason.trim() === "" ? "aborted" : reason;
  const online = s.states.get("online", sid);
  if (online?.NeedRebuild) return abortRebuild(s, sid, why);
  if (s.snap && online?.Upgraded) {
    await s.snap.abort(sid, why);
    return null;
  }
  let pieces: unknown = null;
  const moved = await s.states.moveOffline(
    sid,
    (x) => {
      x.AbortReason = why;
      pieces = x.Pieces;
    },
    () => {
      s.stores.release(sid);
      s.commit.forget(sid);
      s.market?.release(sid, pieces);
    },
  );
  if (moved) {
    log.info(`${sectorName(sid)} aborted: ${why}`);
    return null;
  }
  // Aborting twice is fine; an unknown sector is the explanatory 11001.
  if (!s.states.get("offline", sid)) s.states.mustOnline(sid);
  return null;
}

/**
 * An aborted rebuild: the sector itself is still proven on chain, so it goes back offline finalized as it
 * was (no AbortReason, its deals stay active); only the rebuild task fails, with the reason.
 */
async function abortRebuild(s: SealerServices, sid: SectorID, why: string): Promise<null> {
  await s.states.moveOffline(
    sid,
    (x) => {
      x.NeedRebuild = false;
      x.Finalized = true;
    },
    () => {
      s.stores.release(sid);
      s.rebuild?.failed(sid, why);
    },
  );
  log.warn(
    `rebuild of ${sectorName(sid)} aborted: ${why}; queue it again with 'damocles util sealer sectors rebuild ${sid.Miner} ${sid.Number}'`,
  );
  return null;
}
