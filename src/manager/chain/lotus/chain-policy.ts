import type { LotusDeadlineInfo } from "../../../core/chain/lotus-api.ts";
import type { ChainPolicy } from "../../../core/sector/chain.ts";

/**
 * The sealing policy of a real Filecoin network: builtin-actors' miner policy constants (go-state-types
 * builtin/v1x/miner policy.go), the parts a node reports taken from it (PreCommitChallengeDelay and the
 * block time from StateGetNetworkParams, the WindowPoSt geometry from StateMinerProvingDeadline).
 */

const EPOCHS_IN_DAY = 2880;
/** builtin ChainFinality: SealRandomnessLookback. */
export const CHAIN_FINALITY = 900;
/** lotus-miner waits this many epochs past the interactive seed epoch before asking for the seed. */
export const INTERACTIVE_POREP_CONFIDENCE = 6;
/** builtin-actors mainnet WindowPoSt geometry, used when no miner is configured to ask the node about. */
export const MAINNET_WPOST = { periodDeadlines: 48, challengeWindow: 60, challengeLookback: 20 } as const;

export interface NetworkPolicyInput {
  blockDelaySecs: number;
  preCommitChallengeDelay: number;
  /** A deadline of any miner on the network: its WindowPoSt geometry; absent: the mainnet values. */
  deadline?: LotusDeadlineInfo;
  /** [Commitment] Confidence: epochs a message waits after inclusion before it counts as landed. */
  messageConfidence: number;
}

export function networkPolicy(input: NetworkPolicyInput): ChainPolicy {
  const dl = input.deadline;
  return {
    blockTimeMs: input.blockDelaySecs * 1000,
    preCommitChallengeDelay: input.preCommitChallengeDelay,
    sealRandomnessLookback: CHAIN_FINALITY,
    // MaxPreCommitRandomnessLookback = EpochsInDay + SealRandomnessLookback.
    maxTicketAge: EPOCHS_IN_DAY + CHAIN_FINALITY,
    // MaxProveCommitDuration = EpochsInDay + PreCommitChallengeDelay.
    maxProveCommitDuration: EPOCHS_IN_DAY + input.preCommitChallengeDelay,
    interactivePoRepConfidence: INTERACTIVE_POREP_CONFIDENCE,
    wpostPeriodDeadlines: dl?.WPoStPeriodDeadlines ?? MAINNET_WPOST.periodDeadlines,
    wpostChallengeWindow: dl?.WPoStChallengeWindow ?? MAINNET_WPOST.challengeWindow,
    wpostChallengeLookback: dl?.WPoStChallengeLookback ?? MAINNET_WPOST.challengeLookback,
    messageConfidence: input.messageConfidence,
  };
}
