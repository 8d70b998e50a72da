import { DEVNET_NETWORK_PREFIX, LotusApi, type TipSet } from "../../core/chain/lotus-api.ts";
import type { RpcRegistry } from "../../core/rpc/server.ts";
import type { KVStore } from "../../core/store/index.ts";
import { VERSION } from "../../core/version.ts";
import type { DevnetChain } from "../chain.ts";
import { DevnetStore } from "../store.ts";
import { registerDevnetBlockApi } from "./blocks.ts";
import { registerDevnetOwnApi } from "./devnet-api.ts";
import { devnetTipSetKey } from "./messages.ts";
import { drawRandomness } from "./randomness.ts";
import {
  actorAddress,
  DEVNET_API_VERSION,
  DEVNET_BASE_FEE,
  DEVNET_NETWORK_VERSION,
  devnetNetworkName,
  lotusMarketDeal,
  refusal,
} from "./shapes.ts";
import { registerMinerState } from "./state-miner.ts";

/**
 * The read side of the node API on the embedded devnet: Filecoin.* chain and state queries (this file and
 * state-miner.ts), block production (MinerCreateBlock, SyncSubmitBlock: blocks.ts) and the devnet's own
 * Devnet.* methods (devnet-api.ts). The devnet keeps no history: every
 * query answers at the head, and the tipset key a caller passes is accepted and not consulted.
 */

export interface DevnetStateDeps {
  /** The store the DevnetChain was built on: the genesis seed (block CIDs, network name) is read from it. */
  store: KVStore;
  /**
   * The miner's worker key address (the devnet's miners are owned by their worker):
   * DevnetChain.minerWorker(actor) once accounts exist. undefined: the miner has no worker key yet.
   */
  workerOf(actor: number): string | undefined | Promise<string | undefined>;
}

/** What the handler modules share. */
export interface StateContext {
  devnet: DevnetChain;
  deps: DevnetStateDeps;
  db: DevnetStore;
  /** The chain's genesis seed. */
  seed(): string;
}

export function registerDevnetStateApi(registry: RpcRegistry, devnet: DevnetChain, deps: DevnetStateDeps): void {
  const db = new DevnetStore(deps.store);
  const seed = () => {
    const genesis = db.genesis();
    if (!genesis) throw new Error("the devnet store has no genesis: build the DevnetChain on the same store first");
    return genesis.seed;
  };
  const ctx: StateContext = { devnet, deps, db, seed };
  registerChainState(registry, ctx);
  registerMinerState(registry, ctx);
  registerDevnetOwnApi(registry, ctx);
  registerDevnetBlockApi(registry, ctx);
}

/** The head as a one-block tipset; its block is the one mined at the epoch, else the system actor's. */
async function chainHead(ctx: StateContext): Promise<TipSet> {
  const head = await ctx.devnet.head();
  const miner = ctx.db.miners().find((m) => ctx.db.block(m.actor, head.epoch)?.ok);
  return {
    Cids: devnetTipSetKey(head.epoch),
    Blocks: [
      {
        Miner: actorAddress(miner?.actor ?? 0),
        Height: head.epoch,
        Timestamp: Math.floor(head.timestamp / 1000),
        ParentBaseFee: DEVNET_BASE_FEE,
      },
    ],
    Height: head.epoch,
  };
}

/** Lotus' BlockDelay is whole seconds; a sub-second devnet block time rounds up to 1. */
function blockDelaySecs(devnet: DevnetChain): number {
  return Math.max(1, Math.ceil(devnet.policy().blockTimeMs / 1000));
}

function registerChainState(registry: RpcRegistry, ctx: StateContext): void {
  const { devnet } = ctx;
  const networkName = () => devnetNetworkName(DEVNET_NETWORK_PREFIX, ctx.seed());
  registry
    .implement(LotusApi.Version, () => ({
      Version: `${VERSION}+damocles-devnet`,
      APIVersion: DEVNET_API_VERSION,
      BlockDelay: blockDelaySecs(devnet),
    }))
    .implement(LotusApi.ChainHead, () => chainHead(ctx))
    .implement(LotusApi.StateNetworkName, networkName)
    .implement(LotusApi.StateNetworkVersion, () => DEVNET_NETWORK_VERSION)
    .implement(LotusApi.StateGetNetworkParams, () => ({
      NetworkName: networkName(),
      BlockDelaySecs: blockDelaySecs(devnet),
      PreCommitChallengeDelay: devnet.policy().preCommitChallengeDelay,
      ConsensusMinerMinPower: "0",
    }))
    .implement(LotusApi.StateGetRandomnessFromTickets, (tag, epoch, entropy) =>
      drawRandomness(devnet, "tickets", tag, epoch, entropy),
    )
    .implement(LotusApi.StateGetRandomnessFromBeacon, (tag, epoch, entropy) =>
      drawRandomness(devnet, "beacon", tag, epoch, entropy),
    )
    .implement(LotusApi.StateMarketStorageDeal, async (id) => {
      const deal = await devnet.marketDeal(id);
      if (!deal) throw refusal("deal-invalid", `deal ${id} not found on this devnet`);
      return lotusMarketDeal(deal);
    });
}
