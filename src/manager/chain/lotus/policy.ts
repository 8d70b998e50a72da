import type { MinerConfig } from "../../../core/config/manager.ts";
import type { MessageMethod } from "../../../core/sector/api-chain.ts";
import type { GasPolicy } from "./gas.ts";

/**
 * Which `[Miners.*]` message policy governs each message kind, and what the sender reads from it:
 * PreCommitSectorBatch2 → Commitment.Pre, ProveCommitSectors3 → Commitment.Prove, ProveReplicaUpdates →
 * SnapUp, SubmitWindowedPoSt → PoSt. `Sender` (when set) signs the message; otherwise the miner's worker
 * does. `Senders` (choose the funded one of several) and `SendFund` (attach collateral) are not read: see
 * the sender's module comment. The Batch tables' own fee keys are not read either: every message of a
 * kind takes its policy's fee keys (gas.ts says what each does).
 */

export interface SendPolicy extends GasPolicy {
  /** The address that signs, as configured (f0 id, f1/f3 key); undefined: the miner's worker. */
  sender?: string;
}

type MessagePolicyConfig = Pick<
  MinerConfig["PoSt"],
  "Sender" | "GasOverEstimation" | "GasOverPremium" | "GasFeeCap" | "MaxFeeCap"
>;

function fromConfig(p: MessagePolicyConfig): SendPolicy {
  return {
    sender: p.Sender,
    gasOverEstimation: p.GasOverEstimation,
    gasOverPremium: p.GasOverPremium,
    gasFeeCap: p.GasFeeCap,
    maxFeeCap: p.MaxFeeCap,
  };
}

/** The policy of `method` for a configured miner. */
export function sendPolicyOf(miner: MinerConfig, method: MessageMethod): SendPolicy {
  switch (method) {
    case "PreCommitSectorBatch2":
      return fromConfig(miner.Commitment.Pre);
    case "ProveCommitSectors3":
      return fromConfig(miner.Commitment.Prove);
    case "ProveReplicaUpdates":
      return fromConfig(miner.SnapUp);
    case "SubmitWindowedPoSt":
      return fromConfig(miner.PoSt);
  }
}

/** The defaults of an unconfigured miner: its worker signs, the config file's default fees. */
export const DEFAULT_SEND_POLICY: SendPolicy = {
  gasOverEstimation: 1.2,
  gasOverPremium: 0,
  gasFeeCap: 5_000_000_000n,
};

/** A policy lookup over the configured miners (DEFAULT_SEND_POLICY for others). */
export function sendPolicies(miners: readonly MinerConfig[]): (actor: number, method: MessageMethod) => SendPolicy {
  return (actor, method) => {
    const miner = miners.find((m) => m.Actor === actor);
    return miner ? sendPolicyOf(miner, method) : DEFAULT_SEND_POLICY;
  };
}
