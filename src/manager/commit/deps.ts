import type { Chain } from "../../core/sector/chain.ts";
import type { SectorState } from "../../core/sector/index.ts";
import type { KVStore } from "../../core/store/index.ts";
import type { SealVerifier } from "../../devnet/index.ts";
import type { ManagerMetrics } from "../metrics.ts";
import type { SectorStates } from "../sectors/states.ts";
import type { CommitMiner } from "./policy.ts";

/** The deal ids a PreCommit carries, or why it is refused (a SubmitResult with its description). */
export type PreCommitDealsVerdict = { ok: true; dealIds: number[] } | { ok: false; res: number; desc: string };

/** The market's side of SubmitPreCommit: the sector's assigned deals, checked as the original's checkPrecommit. */
export interface SectorDealCheck {
  preCommitDeals(state: SectorState, commD: readonly number[]): Promise<PreCommitDealsVerdict>;
}

/** What the commit manager's parts work with. */
export interface CommitDeps {
  store: KVStore;
  states: SectorStates;
  chain: Chain;
  verifier: SealVerifier;
  miners: () => CommitMiner[];
  /** Without a market, sectors have no deals and a PreCommit naming deals is refused. */
  deals?: SectorDealCheck;
  metrics?: ManagerMetrics;
  now?: () => number;
}
