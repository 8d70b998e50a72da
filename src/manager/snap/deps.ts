import type { Chain } from "../../core/sector/chain.ts";
import type { KVStore } from "../../core/store/index.ts";
import type { CommDCalculator, UpdateVerifier } from "../../devnet/index.ts";
import type { CommitManager } from "../commit/manager.ts";
import type { DealMarket, MarketMiner } from "../market/market.ts";
import type { SectorIndexer } from "../sectors/indexer.ts";
import type { SectorStates } from "../sectors/states.ts";
import type { PersistStores } from "../stores/persist.ts";
import type { SnapCandidates } from "./candidates.ts";
import type { SnapMiner } from "./records.ts";

/** The market's part in a snap: packing waiting deals into a sector, assigning them, releasing them. */
export type MarketPick = Pick<DealMarket, "pickDeals" | "assign" | "release">;

/** What the snap module's parts work with. */
export interface SnapDeps {
  store: KVStore;
  states: SectorStates;
  chain: Chain;
  commit: Pick<CommitManager, "addKind" | "markPending" | "unmarkPending" | "isPending" | "inOutbox" | "kick">;
  /** Snap sectors are filled with the embedded market's deals; without one AllocateSanpUpSector answers null. */
  market?: MarketPick;
  indexer: SectorIndexer;
  stores: PersistStores;
  candidates: SnapCandidates;
  /** Checks SubmitSnapUpProof's proof before it is accepted (the devnet verifies it again). */
  verifier: UpdateVerifier;
  /** CommD of the sector's deal pieces, which the submitted CommD must equal. */
  commD: CommDCalculator;
  miners: () => SnapMiner[];
  now?: () => number;
  random?: () => number;
}

/** The market's view of a snap miner: deals are packed into its sector size, deal lead from its sealing time. */
export function marketMiner(m: SnapMiner): MarketMiner {
  return {
    actor: m.actor,
    sectorSize: m.sectorSize,
    sealProofType: m.sealProofType,
    enableDeals: true,
    sealingEpochs: m.sealingEpochs,
  };
}

/**
 * A sector this long from expiry is no longer worth updating (builtin market DealMinDuration, 180 days of
 * 30 s epochs): the deals it could take would be too short.
 */
export const MIN_REMAINING_LIFETIME = 180 * 2880;

/**
 * Epochs of headroom a ProveReplicaUpdates needs before its sector's deadline freezes: the message must
 * execute while the deadline is still mutable. The original assumes it does within 10 epochs; on a chain
 * with short deadlines (a devnet) that would leave no epoch to send in, so at most half a challenge window.
 */
export const SEND_MARGIN_EPOCHS = 10;

export function sendMargin(policy: { wpostChallengeWindow: number }): number {
  return Math.max(1, Math.min(SEND_MARGIN_EPOCHS, Math.floor(policy.wpostChallengeWindow / 2)));
}
