import { RpcError, RpcErrorCode, type RpcRegistry } from "../../core/rpc/index.ts";
import { encodeRandomness, PoStChainApi } from "../../core/sector/api-chain.ts";
import type { PoStChain } from "../../core/sector/chain.ts";

/**
 * Serves `Damocles.PoStChain*` from a manager's chain, so proxy nodes prove against it (seed 002, proxy
 * node mode). Params were validated by the registry; handlers only translate: undefined → null, randomness
 * bytes → base64.
 */
export function registerPoStChainApi(registry: RpcRegistry, chain: PoStChain): void {
  registry
    .implement(PoStChainApi.Head, () => answer(() => chain.head()))
    .implement(PoStChainApi.Policy, () => answer(async () => chain.policy()))
    .implement(PoStChainApi.MinerInfo, (actor) => answer(async () => (await chain.minerInfo(actor)) ?? null))
    .implement(PoStChainApi.ProvingDeadline, (actor) => answer(() => chain.provingDeadline(actor)))
    .implement(PoStChainApi.ProvingPartitions, (actor, open) => answer(() => chain.provingPartitions(actor, open)))
    .implement(PoStChainApi.WindowPoStRandomness, (actor, epoch) =>
      answer(async () => encodeRandomness(await chain.windowPoStRandomness(actor, epoch))),
    )
    .implement(PoStChainApi.PushMessage, (message) => answer(() => chain.pushMessage(message)))
    .implement(PoStChainApi.MessageLookup, (cid) => answer(async () => (await chain.messageLookup(cid)) ?? null))
    .implement(PoStChainApi.IsElected, (actor, epoch) => answer(() => chain.isElected(actor, epoch)))
    .implement(PoStChainApi.WinningPoStRandomness, (actor, epoch) =>
      answer(async () => encodeRandomness(await chain.winningPoStRandomness(actor, epoch))),
    )
    .implement(PoStChainApi.WinningSectorSet, (actor, epoch) => answer(() => chain.winningSectorSet(actor, epoch)))
    .implement(PoStChainApi.SubmitBlock, (actor, epoch, proofs) =>
      answer(() => chain.submitBlock(actor, epoch, proofs)),
    )
    .implement(PoStChainApi.Faults, (actor) => answer(() => chain.faults(actor)))
    .implement(PoStChainApi.PostRecords, (actor, limit) => answer(() => chain.postRecords(actor, limit)))
    .implement(PoStChainApi.ProvingStats, (actor) => answer(() => chain.provingStats(actor)));
}

/**
 * The chain refuses with plain Errors ("unknown miner f01234", "randomness for epoch 90 is not available
 * yet"): those are answers for the proxy, not failures of this daemon, so they go back as RpcError without
 * the stack trace the registry logs for unexpected throws. Anything else (TypeError …) is a bug: rethrown.
 */
async function answer<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof Error && err.constructor === Error) throw new RpcError(RpcErrorCode.Internal, err.message);
    throw err;
  }
}
