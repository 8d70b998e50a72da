import type { MinerCallContext, SectorPiece } from "../../../core/chain/index.ts";
import { idAddress, type Network } from "../../../core/chain/index.ts";
import { LotusApi } from "../../../core/chain/lotus-api.ts";
import type { ChainMessage } from "../../../core/sector/api-chain.ts";
import type { LotusCaller } from "./caller.ts";

/**
 * What toMinerCall needs besides the ChainMessage, fetched from the node for that message's kind:
 * - PreCommitSectorBatch2: every sector expires at head + sectorLifetimeEpochs.
 * - ProveCommitSectors3: each sector's pieces, from the deal ids its PreCommit named (recorded in the
 *   outbox when that PreCommit was sent) and the deals' proposals on chain; none recorded means CC.
 * - ProveReplicaUpdates: each update's pieces, from its deal ids and the deals' proposals.
 * - SubmitWindowedPoSt: the node's WPoStChallengeLookback and the PoStChainCommit ticket randomness at the
 *   commit epoch, open − lookback (the deadline's challenge epoch, see core/chain/miner-calls.ts).
 */

/** go-state-types crypto.DomainSeparationTag_PoStChainCommit (1 + iota, the ninth tag). */
export const DST_POST_CHAIN_COMMIT = 9;

/** 540 days of 2880 epochs: the original's default sector lifetime (`[Miners.Sector].LifetimeDays`). */
export const DEFAULT_SECTOR_LIFETIME_EPOCHS = 540 * 2880;

export interface CallContextDeps {
  rpc: LotusCaller;
  network: Network;
  sectorLifetimeEpochs: number;
  /** The deal ids of a sector's PreCommit, when known. */
  sectorDeals(actor: number, sector: number): number[] | undefined;
}

async function piecesOf(rpc: LotusCaller, dealIds: readonly number[]): Promise<SectorPiece[]> {
  const pieces: SectorPiece[] = [];
  for (const dealId of dealIds) {
    const deal = await rpc.call(LotusApi.StateMarketStorageDeal, dealId, null);
    pieces.push({ cid: deal.Proposal.PieceCID["/"], size: deal.Proposal.PieceSize, dealId });
  }
  return pieces;
}

async function piecesBySector(
  rpc: LotusCaller,
  sectors: readonly { number: number; dealIds: readonly number[] }[],
): Promise<(sector: number) => readonly SectorPiece[]> {
  const bySector = new Map<number, SectorPiece[]>();
  for (const s of sectors) bySector.set(s.number, await piecesOf(rpc, s.dealIds));
  return (sector) => bySector.get(sector) ?? [];
}

export async function callContextFor(
  msg: ChainMessage,
  head: number,
  deps: CallContextDeps,
): Promise<MinerCallContext> {
  const { rpc } = deps;
  switch (msg.method) {
    case "PreCommitSectorBatch2":
      return { expiration: head + deps.sectorLifetimeEpochs };
    case "ProveCommitSectors3": {
      const sectors = msg.sectors.map((s) => ({
        number: s.number,
        dealIds: deps.sectorDeals(msg.from, s.number) ?? [],
      }));
      return { pieces: await piecesBySector(rpc, sectors) };
    }
    case "ProveReplicaUpdates":
      return { pieces: await piecesBySector(rpc, msg.updates) };
    case "SubmitWindowedPoSt": {
      const miner = idAddress(msg.from, deps.network).string;
      const dl = await rpc.call(LotusApi.StateMinerProvingDeadline, miner, null);
      const lookback = dl.WPoStChallengeLookback;
      const rand = await rpc.call(
        LotusApi.StateGetRandomnessFromTickets,
        DST_POST_CHAIN_COMMIT,
        msg.post.open - lookback,
        null,
        null,
      );
      return {
        wpostChallengeLookback: lookback,
        chainCommitRand: new Uint8Array(Buffer.from(rand ?? "", "base64")),
      };
    }
  }
}
