import * as v from "valibot";
import { childLogger } from "../../core/log/index.ts";
import { describeRebuildData, type RebuildOptions, type SectorRebuildInfo } from "../../core/sector/api-rebuild.ts";
import type { Chain, OnChainSector } from "../../core/sector/chain.ts";
import { commRToCid } from "../../core/sector/cid.ts";
import { type SectorID, sectorName } from "../../core/sector/id.ts";
import { type AllocateSectorSpec, DealsSchema, type SectorState } from "../../core/sector/wire.ts";
import type { KVStore } from "../../core/store/index.ts";
import type { SectorStates } from "../sectors/states.ts";
import { upgradePublic } from "../snap/records.ts";
import { RebuildTasks } from "./tasks.ts";

const log = childLogger("rebuild");

const sameBytes = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

export interface RebuildDeps {
  store: KVStore;
  states: SectorStates;
  chain: Pick<Chain, "sectorInfo">;
  /** Actors this manager serves: only their sectors are handed to workers. */
  actors: () => readonly number[];
  now?: () => number;
}

/** A rebuild the sector's state or the chain does not allow; the message says why and what to do. */
export class RebuildRefusedError extends Error {
  override name = "RebuildRefusedError";
}

/**
 * The rebuild rules of the manager (the original's SectorSetForRebuild, AllocateRebuildSector and the
 * rebuild parts of ReportFinalized/ReportAborted):
 * - only a sector that is proven on chain and finalized here can be rebuilt, from what its state
 *   recorded: the ticket, the deal pieces (an imported sector's pieces only with PiecesAvailable), the
 *   CommR the chain holds (which the worker checks the new replica against); for a sector upgraded by a
 *   snap deal, the CC replica's CommR (the chain's sector key) and the update's, its CC public info and the
 *   update's deal pieces, so the worker seals the CC replica and encodes the update again;
 * - queuing brings the sector back online with NeedRebuild, in the same durable transaction as the task,
 *   so the worker's ReportState, StoreReserveSpace and SubmitPersistedEx work as for a sealing sector
 *   (SubmitPersistedEx re-points the sector index at the new replica);
 * - ReportFinalized ends the task (NeedRebuild clears, the sector goes offline finalized); an abort ends
 *   it failed and puts the sector back offline as it was: still proven, its deals untouched.
 */
export class RebuildService {
  readonly tasks: RebuildTasks;

  constructor(private readonly deps: RebuildDeps) {
    this.tasks = new RebuildTasks(deps.store, deps.now);
  }

  /** Venus.SectorSetForRebuild: true when queued now, false when the sector already waits for a rebuild. */
  async request(sid: SectorID, opt: RebuildOptions): Promise<boolean> {
    const name = sectorName(sid);
    const refuse = (why: string) => new RebuildRefusedError(`cannot rebuild ${name}: ${why}`);
    const onChain = await this.deps.chain.sectorInfo(sid.Miner, sid.Number);
    if (!onChain)
      throw refuse(
        "it is not a proven sector on chain (never proven, expired or terminated); only a proven sector's replica can be rebuilt",
      );
    const found = this.deps.states.find(sid);
    if (!found)
      throw refuse("its state is unknown to this manager (was it sealed by another one?), so its ticket is unknown");
    if (found.where === "online") {
      if (found.state.NeedRebuild) return false;
      throw refuse("it is still being sealed (online); a sector is rebuilt only after it was finalized");
    }
    const info = this.rebuildInfo(found.state, onChain, opt, refuse);
    const queued = await this.deps.states.moveOnline(
      sid,
      (st) => {
        st.NeedRebuild = true;
        // The worker drops a job whose sector the manager calls finalized; ReportFinalized sets it again.
        st.Finalized = false;
      },
      () => this.tasks.queue(info),
    );
    // Lost to a concurrent change of the same sector (it went online meanwhile): tell it like a second call.
    if (!queued) return false;
    log.info(`${name} queued for rebuild (${describeRebuildData(info)}${info.IsSnapUp ? ", upgraded" : ""})`);
    return true;
  }

  private rebuildInfo(
    st: SectorState,
    onChain: OnChainSector,
    opt: RebuildOptions,
    refuse: (why: string) => RebuildRefusedError,
  ): SectorRebuildInfo {
    if (st.AbortReason !== "") throw refuse(`it was aborted (${st.AbortReason}), nothing of it was proven`);
    const ticket = st.Ticket ?? st.Pre?.Ticket;
    if (!ticket) throw refuse("its state records no ticket, and PC1 cannot make the same replica without it");
    const pieces = v.safeParse(DealsSchema, st.Pieces);
    if (!pieces.success)
      throw refuse(`its recorded deal pieces are unreadable (${pieces.issues[0].message}); the data cannot be rebuilt`);
    const deals = pieces.output && pieces.output.length > 0 ? pieces.output : null;
    if (st.Imported && deals && !opt.PiecesAvailable)
      throw refuse(
        "it was imported with deal pieces that may not be in the piece store; put them there and pass --pieces-available",
      );
    const base = {
      Sector: { ID: { Miner: st.ID.Miner, Number: st.ID.Number }, ProofType: st.SectorType },
      Ticket: ticket,
      Pieces: null,
      PiecesV2: deals,
    };
    if (!st.Upgraded) {
      if (onChain.sectorKeyCommR)
        throw refuse(
          "the chain holds a snap update of it (a sector key CommR) but its state records no upgrade, so the update's deal pieces are unknown",
        );
      return { ...base, IsSnapUp: false, UpgradePublic: null, CommR: [...onChain.commR], UpdateCommR: null };
    }
    return { ...base, ...this.upgradeInfo(st, onChain, deals, refuse) };
  }

  /**
   * An upgraded sector is rebuilt in two steps the worker checks one by one: the CC replica sealed again
   * (its CommR must be the sector key CommR the chain keeps) and the update encoded over it again from the
   * update's deal pieces (its CommR must be the sector's CommR on chain now).
   */
  private upgradeInfo(
    st: SectorState,
    onChain: OnChainSector,
    deals: SectorRebuildInfo["PiecesV2"],
    refuse: (why: string) => RebuildRefusedError,
  ): Pick<SectorRebuildInfo, "IsSnapUp" | "UpgradePublic" | "CommR" | "UpdateCommR"> {
    const pub = upgradePublic(st);
    if (!pub) throw refuse("it was upgraded by a snap deal but its state lacks the upgrade's public info");
    const key = onChain.sectorKeyCommR;
    if (!key)
      throw refuse(
        "its state records a snap upgrade that the chain does not hold (no sector key CommR): the update never landed",
      );
    if (!sameBytes(key, pub.CommR))
      throw refuse(
        `the chain's sector key CommR ${commRToCid(key)} is not the CC CommR its upgrade recorded (${pub.SealedCID["/"]})`,
      );
    if (!deals)
      throw refuse(
        "its state records no deal pieces of its update, and the update cannot be encoded again without them",
      );
    return { IsSnapUp: true, UpgradePublic: pub, CommR: [...key], UpdateCommR: [...onChain.commR] };
  }

  /** Venus.AllocateRebuildSector. */
  async allocate(spec: AllocateSectorSpec): Promise<SectorRebuildInfo | null> {
    const served = new Set(this.deps.actors());
    const miners = spec.AllowedMiners ? new Set(spec.AllowedMiners) : undefined;
    const proofs = spec.AllowedProofTypes ? new Set(spec.AllowedProofTypes) : undefined;
    const taken = await this.deps.store.durable(() =>
      this.tasks.takeOldest((task) => {
        const { ID, ProofType } = task.Info.Sector;
        if (!served.has(ID.Miner) || (miners && !miners.has(ID.Miner))) return false;
        if (proofs && !proofs.has(ProofType)) return false;
        if (this.deps.states.get("online", ID)?.NeedRebuild) return true;
        this.tasks.end(
          ID,
          "failed",
          "the sector no longer waits for a rebuild (it was finalized or aborted meanwhile)",
        );
        return false;
      }),
    );
    if (!taken) return null;
    log.info(`rebuild of ${sectorName(taken.Info.Sector.ID)} handed to a worker`);
    return taken.Info;
  }

  /** ReportFinalized of a sector with NeedRebuild, inside its transaction. */
  finished(sid: SectorID): void {
    if (this.tasks.end(sid, "finished")) log.info(`${sectorName(sid)} rebuilt`);
  }

  /** ReportAborted of a sector with NeedRebuild, inside its transaction. */
  failed(sid: SectorID, reason: string): void {
    if (this.tasks.end(sid, "failed", reason)) log.warn(`rebuild of ${sectorName(sid)} failed: ${reason}`);
  }
}
