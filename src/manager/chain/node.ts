import { openKeystore } from "../../core/chain/keystore.ts";
import { LOTUS_RPC_PATH } from "../../core/chain/lotus-api.ts";
import type { ManagerConfig } from "../../core/config/index.ts";
import { childLogger } from "../../core/log/index.ts";
import type { FetchRequest } from "../../core/rpc/client.ts";
import type { KVStore } from "../../core/store/index.ts";
import type { HeadSubscription, LotusChain } from "./lotus/chain.ts";
import { connectLotusChain } from "./lotus/connect.ts";
import { OutboxRetention } from "./lotus/outbox-retention.ts";
import { sendPolicies } from "./lotus/policy.ts";
import { MessageSender } from "./lotus/sender.ts";

const log = childLogger("chain");

/** The default of [Miners.Commitment] Confidence: epochs after inclusion a message counts as landed. */
const DEFAULT_CONFIDENCE = 10;

/** Whether [Common.API] Chain names a node; without one the manager hosts the devnet itself. */
export function chainNodeConfigured(config: ManagerConfig): boolean {
  return (config.Common.API.Chain ?? "").trim() !== "";
}

/**
 * The manager's chain when [Common.API] Chain names a Filecoin node (Lotus, Venus, or `damocles devnet run`):
 * the Lotus-API client, with the durable message sender signing with the home's keystore where it holds the
 * sender's key and leaving it to the node's wallet otherwise. Connecting checks the node, its network and
 * every configured miner; a failure is a LotusChainError telling the operator what to fix.
 */
export interface ChainNodeOptions {
  home: string;
  config: ManagerConfig;
  store: KVStore;
  /** A node in this process (the hosted devnet): how to reach it without a socket, and its pushed heads. */
  inProcess?: { url: string; token: string; fetch: FetchRequest; heads: HeadSubscription };
}

export async function connectChainNode(opts: ChainNodeOptions): Promise<LotusChain> {
  const { config, store, home, inProcess } = opts;
  const api = config.Common.API;
  const confidences = config.Miners.map((m) => m.Commitment.Confidence);
  const chain = await connectLotusChain({
    chain: inProcess?.url ?? api.Chain ?? "",
    token: inProcess?.token ?? api.Token,
    ...(inProcess ? { fetch: inProcess.fetch, heads: inProcess.heads } : {}),
    miners: config.Miners.map((m) => m.Actor),
    messageConfidence: confidences.length > 0 ? Math.max(...confidences) : DEFAULT_CONFIDENCE,
    messages: (node) => {
      const network = node.networkName === "mainnet" ? "mainnet" : "testnet";
      return new MessageSender({
        rpc: node.client,
        store,
        keystore: openKeystore(home, network),
        policy: sendPolicies(config.Miners),
        confidence: node.policy.messageConfidence,
        network,
      });
    },
  });
  const retention = new OutboxRetention({
    store,
    lifetimeMs: api.MessageLifetime,
    blockTimeMs: chain.policy().blockTimeMs,
  });
  chain.onEpoch((epoch) => retention.onEpoch(epoch));
  const where = inProcess
    ? `the devnet hosted in this process (${LOTUS_RPC_PATH} in-process; also served on this manager's port)`
    : `the Filecoin node at ${chain.url}`;
  log.info(
    `chain: ${where}, network ${chain.networkName}, through the Lotus API client; messages land after ${chain.policy().messageConfidence} epoch(s)`,
  );
  return chain;
}
