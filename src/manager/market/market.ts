import * as v from "valibot";
import { childLogger } from "../../core/log/index.ts";
import type { MarketDeal, PieceLocation } from "../../core/sector/api-market.ts";
import type { Chain, ChainPolicy } from "../../core/sector/chain.ts";
import {
  type AcquireDealsSpec,
  commDToCid,
  type DealInfo,
  DealInfoSchema,
  type Deals,
  pieceCommitment,
  type SectorID,
  type SectorState,
  SubmitResult,
  sameSector,
  sectorName,
} from "../../core/sector/index.ts";
import type { KVStore } from "../../core/store/index.ts";
import type { CommDCalculator } from "../../devnet/index.ts";
import type { PreCommitDealsVerdict, SectorDealCheck } from "../commit/deps.ts";
import type { SectorStates } from "../sectors/states.ts";
import { type PackedPiece, packDeals, toDealInfos, zeroPieceCid } from "./assign.ts";
import { MarketDealStore } from "./deal-store.ts";
import type { PieceFiles } from "./piece-files.ts";

const log = childLogger("market");

/** A miner as the market sees it. */
export interface MarketMiner {
  actor: number;
  sectorSize: number;
  sealProofType: number;
  /** `[[Miners]] Sector.EnableDeals`: without it AcquireDeals answers no deals, as the original does. */
  enableDeals: boolean;
  /** `[[Miners]] Sealing.SealingEpochDuration`: epochs from AcquireDeals to a proven sector (0: estimated). */
  sealingEpochs: number;
}

export interface MarketDeps {
  store: KVStore;
  chain: Chain;
  states: SectorStates;
  miners: () => MarketMiner[];
  commD: CommDCalculator;
  pieces: PieceFiles;
}

/** Wall time a sector takes from AcquireDeals to its ProveCommit landing, beyond the chain's own delays. */
const SEALING_MARGIN_MS = 30 * 60_000;

/**
 * Epochs between AcquireDeals and the earliest start epoch a deal may have to be sealed: SealingEpochDuration
 * when set, else the PreCommit challenge delay, seed confidence and two message landings, plus half an hour.
 */
export function sealingLead(policy: ChainPolicy, miner: MarketMiner): number {
  if (miner.sealingEpochs > 0) return miner.sealingEpochs;
  return (
    policy.preCommitChallengeDelay +
    policy.interactivePoRepConfidence +
    2 * (policy.messageConfidence + 1) +
    Math.ceil(SEALING_MARGIN_MS / policy.blockTimeMs)
  );
}

/** The deal pieces a sector holds (SectorState.Pieces), fillers included; [] for CC or unreadable records. */
export function sectorPieces(state: SectorState): DealInfo[] {
  const parsed = v.safeParse(v.array(DealInfoSchema), state.Pieces ?? []);
  return parsed.success ? parsed.output : [];
}

const RANK: Record<MarketDeal["State"], number> = { active: 0, assigned: 1, published: 2, expired: 3, slashed: 4 };

/**
 * The embedded market's deal side: assigning waiting deals to sectors (AcquireDeals), releasing them
 * when a sector is aborted, following their state on chain, locating pieces, and the manager's own check
 * of a PreCommit's deals (checkPrecommit's checkPieces and CommD, as the original makes them).
 */
export class DealMarket implements SectorDealCheck {
  readonly deals: MarketDealStore;
  private refreshing: Promise<void> | undefined;

  constructor(private readonly deps: MarketDeps) {
    this.deals = new MarketDealStore(deps.store);
  }

  miner(actor: number): MarketMiner | undefined {
    return this.deps.miners().find((m) => m.actor === actor);
  }

  /**
   * Venus.AcquireDeals: the sector's pieces if it has some already; else waiting deals of its miner that
   * start late enough, packed into the sector (MaxDeals, MinUsedSpace), assigned to it in one transaction.
   */
  async acquire(sid: SectorID, spec: AcquireDealsSpec): Promise<Deals> {
    const state = this.deps.states.mustOnline(sid);
    const held = sectorPieces(state);
    if (held.length > 0) return held;
    const miner = this.miner(sid.Miner);
    if (!miner?.enableDeals) return null;
    const head = (await this.deps.chain.head()).epoch;
    const minStart = head + sealingLead(this.deps.chain.policy(), miner);
    return this.deals.durable(() => {
      const again = sectorPieces(this.deps.states.mustOnline(sid));
      if (again.length > 0) return again;
      const packed = this.pickDeals(miner, spec, { minStart });
      return packed ? this.assign(sid, packed) : null;
    });
  }

  /**
   * The miner's waiting deals that start after `minStart` (and end by `maxEnd` when given), smallest
   * first, packed into one sector (MaxDeals, MinUsedSpace); undefined when none fit. Reads only: call it
   * inside the transaction that assigns them.
   */
  pickDeals(
    miner: MarketMiner,
    spec: AcquireDealsSpec,
    window: { minStart: number; maxEnd?: number },
  ): PackedPiece[] | undefined {
    const candidates = this.deals
      .waiting(miner.actor)
      .filter((d) => d.StartEpoch > window.minStart && (window.maxEnd === undefined || d.EndEpoch <= window.maxEnd))
      .sort((a, b) => a.PieceSize - b.PieceSize || a.StartEpoch - b.StartEpoch || a.DealID - b.DealID);
    return packDeals(candidates, miner.sectorSize, { maxDeals: spec.MaxDeals, minUsedSpace: spec.MinUsedSpace });
  }

  /** Assigns packed deals to an online sector (its Pieces, the deals' state); inside the caller's transaction. */
  assign(sid: SectorID, packed: PackedPiece[]): DealInfo[] {
    return this.deals.transaction(() => {
      for (const p of packed) {
        if (p.deal) this.deals.put({ ...p.deal, State: "assigned", Sector: { ...sid }, Offset: p.offset });
      }
      const pieces = toDealInfos(packed);
      this.deps.states.update(sid, (s) => (s.Pieces = pieces));
      const ids = pieces.filter((p) => p.ID !== 0).map((p) => p.ID);
      log.info(`${sectorName(sid)}: deals ${ids.join(", ")} assigned (${pieces.length} pieces with fillers)`);
      return pieces;
    });
  }

  /** ReportAborted: the sector's assigned deals wait for another sector again. Run it in the abort's transaction. */
  release(sid: SectorID, pieces: unknown): number {
    const parsed = v.safeParse(v.array(DealInfoSchema), pieces ?? []);
    let released = 0;
    for (const piece of parsed.success ? parsed.output : []) {
      const d = piece.ID === 0 ? undefined : this.deals.get(piece.ID);
      if (d?.State !== "assigned" || !d.Sector || !sameSector(d.Sector, sid)) continue;
      this.deals.put({ ...d, State: "published", Sector: null, Offset: null });
      released++;
    }
    if (released > 0) log.info(`${sectorName(sid)} aborted: ${released} deal(s) wait for another sector`);
    return released;
  }

  /** Follows the chain: deals it activated, expired or slashed change state here. Concurrent calls share one run. */
  refresh(): Promise<void> {
    this.refreshing ??= this.followChain().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async followChain(): Promise<void> {
    for (const d of this.deals.open()) {
      const onChain = await this.deps.chain.marketDeal(d.DealID);
      if (!onChain || onChain.state === "published") continue;
      this.deals.transaction(() => {
        const cur = this.deals.get(d.DealID);
        if (!cur || (cur.State !== "published" && cur.State !== "assigned")) return;
        if (onChain.state === "active") {
          const sector = { Miner: cur.Provider, Number: onChain.sectorNumber ?? 0 };
          const same = cur.Sector !== null && sameSector(cur.Sector, sector);
          this.deals.put({ ...cur, State: "active", Sector: sector, Offset: same ? cur.Offset : null });
          log.info(`deal ${cur.DealID} is active in ${sectorName(sector)}`);
        } else {
          this.deals.put({ ...cur, State: onChain.state });
          log.info(`deal ${cur.DealID} ${onChain.state} at epoch ${onChain.closedEpoch ?? "?"}`);
        }
      });
    }
  }

  list(miner?: number | null): MarketDeal[] {
    const all = this.deals.list();
    return miner === undefined || miner === null ? all : all.filter((d) => d.Provider === miner);
  }

  /** Damocles.MarketPieceLocate: the piece's deals, best first, its sector and a stored copy. */
  locate(cid: string): PieceLocation | null {
    const deals = this.deals.byPiece(cid).sort((a, b) => RANK[a.State] - RANK[b.State] || a.DealID - b.DealID);
    const first = deals[0];
    if (!first) return null;
    const inSector = deals.find((d) => d.Sector !== null && (d.State === "active" || d.State === "assigned"));
    return {
      PieceCID: first.PieceCID,
      PieceSize: first.PieceSize,
      PayloadSize: first.PayloadSize,
      Sector: inSector?.Sector ?? null,
      Offset: inSector?.Offset ?? null,
      PieceStore: this.deps.pieces.find(cid)?.store ?? null,
      Deals: deals,
    };
  }

  /**
   * SubmitPreCommit: the deal ids the PreCommit carries, from the sector's assigned pieces. Refused when a
   * filler is not zero, a deal is no longer assigned to the sector, differs on chain or has started
   * (Rejected), or when CommD is not the pieces' (MismatchedSubmission: the worker pauses, the deals stay).
   */
  async preCommitDeals(state: SectorState, commD: readonly number[]): Promise<PreCommitDealsVerdict> {
    const pieces = sectorPieces(state);
    if (pieces.length === 0) return { ok: true, dealIds: [] };
    const name = sectorName(state.ID);
    const rejected = (desc: string): PreCommitDealsVerdict => ({ ok: false, res: SubmitResult.Rejected, desc });
    const head = (await this.deps.chain.head()).epoch;
    for (const [i, piece] of pieces.entries()) {
      const cid = piece.Piece.Cid["/"];
      if (piece.ID === 0) {
        if (cid !== zeroPieceCid(piece.Piece.Size))
          return rejected(`${name} piece ${i} is a filler with data (${cid})`);
        continue;
      }
      const mine = this.deals.get(piece.ID);
      if (mine?.State !== "assigned" || !mine.Sector || !sameSector(mine.Sector, state.ID))
        return rejected(`deal ${piece.ID} is no longer assigned to ${name} (${mine?.State ?? "unknown"})`);
      const onChain = await this.deps.chain.marketDeal(piece.ID);
      if (!onChain) return rejected(`deal ${piece.ID} of ${name} is not on chain`);
      const p = onChain.proposal;
      if (p.provider !== state.ID.Miner) return rejected(`deal ${piece.ID} belongs to provider f0${p.provider}`);
      if (p.pieceCid !== cid || p.pieceSize !== piece.Piece.Size)
        return rejected(`deal ${piece.ID} is for piece ${p.pieceCid} (${p.pieceSize} bytes), not ${cid}`);
      if (head >= p.startEpoch)
        return rejected(`deal ${piece.ID} of ${name} expired: it should start at epoch ${p.startEpoch}, head ${head}`);
    }
    const expected = await this.deps.commD.computeCommD(
      state.SectorType,
      pieces.map((p) => ({ commP: pieceCommitment(p.Piece.Cid["/"]), paddedSize: p.Piece.Size })),
    );
    if (commDToCid(expected) !== commDToCid(commD)) {
      return {
        ok: false,
        res: SubmitResult.MismatchedSubmission,
        desc: `CommD ${commDToCid(commD)} is not the commitment of ${name}'s pieces (${commDToCid(expected)})`,
      };
    }
    return { ok: true, dealIds: pieces.filter((p) => p.ID !== 0).map((p) => p.ID) };
  }
}
