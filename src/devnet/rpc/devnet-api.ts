import { DevnetApi } from "../../core/chain/lotus-api.ts";
import type { RpcRegistry } from "../../core/rpc/server.ts";
import { DealRejectedError } from "../../core/sector/chain.ts";
import { partyAddress, refusal } from "./shapes.ts";
import type { StateContext } from "./state.ts";
import { minerOf } from "./state-miner.ts";

/**
 * Devnet.*: what only the devnet answers (contract in core/chain/lotus-api.ts): its policy, its judgement
 * of WindowPoSts, its WinningPoSt election and blocks, and its test market.
 */
export function registerDevnetOwnApi(registry: RpcRegistry, ctx: StateContext): void {
  const { devnet } = ctx;
  const actor = async (miner: string) => (await minerOf(ctx, miner)).actor;
  registry
    .implement(DevnetApi.Policy, () => devnet.policy())
    .implement(DevnetApi.Faults, async (miner) => devnet.faults(await actor(miner)))
    .implement(DevnetApi.PoStRecords, async (miner, limit) => devnet.postRecords(await actor(miner), limit))
    .implement(DevnetApi.ProvingStats, async (miner) => devnet.provingStats(await actor(miner)))
    .implement(DevnetApi.IsElected, async (miner, epoch) => devnet.isElected(await actor(miner), epoch))
    .implement(DevnetApi.SubmitBlock, async (miner, epoch, proofs) =>
      devnet.submitBlock(await actor(miner), epoch, proofs),
    )
    .implement(DevnetApi.PublishDeal, async (proposal) => {
      // The client is an address on a real market; the devnet's market keeps it as text, so check it here.
      partyAddress("proposal.client", proposal.client);
      try {
        return await devnet.publishDeal(proposal);
      } catch (err) {
        if (err instanceof DealRejectedError) throw refusal(err.code, `deal refused: ${err.message}`);
        throw err;
      }
    });
}
