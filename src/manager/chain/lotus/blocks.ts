import * as v from "valibot";
import { LotusApi } from "../../../core/chain/lotus-api.ts";
import { type BlockTemplate, LotusBlockApi } from "../../../core/chain/lotus-blocks.ts";
import { RpcCallError, type RpcClient } from "../../../core/rpc/index.ts";
import { RejectionCodeSchema } from "../../../core/sector/api-chain.ts";
import type { BlockRecord, PoStProofWire } from "../../../core/sector/chain.ts";
import { LotusChainError } from "./errors.ts";

/** A node's refusal of a block that says why as our code (the devnet's judge does; Lotus says it in text). */
const BlockRefusalSchema = v.looseObject({ code: RejectionCodeSchema });

/**
 * Submits a won block the way lotus-miner does: Filecoin.MinerCreateBlock (the node builds the header on
 * the head and signs it with the worker's key from its wallet), then Filecoin.SyncSubmitBlock. The ticket
 * and election VRFs stay empty: they need the worker key's VRF, which the manager's keystore may not hold;
 * the devnet decides elections itself (Devnet.IsElected), and a Lotus node checks them and refuses.
 * A refusal that carries a RejectionCode is a BlockRecord with ok false; any other failure is thrown.
 */
export async function submitBlockThroughNode(
  client: RpcClient,
  blockTimeMs: number,
  miner: string,
  actor: number,
  epoch: number,
  proofs: PoStProofWire[],
): Promise<BlockRecord> {
  const head = await client.call(LotusApi.ChainHead);
  const headBlock = head.Blocks[0];
  if (!headBlock)
    throw new LotusChainError("bad-answer", `ChainHead answered a tipset at ${head.Height} without blocks`);
  const template: BlockTemplate = {
    Miner: miner,
    Parents: head.Cids,
    Ticket: { VRFProof: "" },
    Eproof: { WinCount: 1, VRFProof: "" },
    BeaconValues: [],
    Messages: [],
    Epoch: epoch,
    Timestamp: Math.max(0, Math.floor(headBlock.Timestamp + ((epoch - head.Height) * blockTimeMs) / 1000)),
    WinningPoStProof: proofs.map((p) => ({ PoStProof: p.postProof, ProofBytes: p.proof })),
  };
  try {
    const block = await client.call(LotusBlockApi.MinerCreateBlock, template);
    await client.call(LotusBlockApi.SyncSubmitBlock, block);
  } catch (err) {
    const refusal = err instanceof RpcCallError ? v.safeParse(BlockRefusalSchema, err.data) : undefined;
    if (err instanceof RpcCallError && refusal?.success) {
      return { actor, epoch, ok: false, sectors: 0, code: refusal.output.code, error: err.rpcMessage };
    }
    throw err;
  }
  // The node accepted the block; the sectors its WinningPoSt drew from are the base info's for the epoch.
  const base = await client.call(LotusApi.MinerGetBaseInfo, miner, epoch, null);
  return { actor, epoch, ok: true, sectors: base?.Sectors?.length ?? 0 };
}
