import type { KVStore } from "../../core/store/index.ts";
import type { Chain } from "../chain/chain.ts";
import type { SealVerifier } from "../chain/verifier.ts";
import type { ManagerMetrics } from "../metrics.ts";
import type { SectorStates } from "../sectors/states.ts";
import type { CommitMiner } from "./policy.ts";

/** What the commit manager's parts work with. */
export interface CommitDeps {
  store: KVStore;
  states: SectorStates;
  chain: Chain;
  verifier: SealVerifier;
  miners: () => CommitMiner[];
  metrics?: ManagerMetrics;
  now?: () => number;
}
