import { randomUUID } from "node:crypto";
import { statSync } from "node:fs";
import { basename } from "node:path";
import { childLogger } from "../../core/log/index.ts";
import { unpaddedSize } from "../../core/proofs/types.ts";
import { RpcError, RpcErrorCode } from "../../core/rpc/index.ts";
import type { MarketDeal, MarketImportSpec } from "../../core/sector/api-market.ts";
import { type Chain, type DealProposalParams, DealRejectedError, type OnChainDeal } from "../../core/sector/chain.ts";
import { pieceCid } from "../../core/sector/index.ts";
import type { MarketDealStore, PendingImport } from "./deal-store.ts";
import { type MarketMiner, sealingLead } from "./market.ts";
import type { PieceFiles } from "./piece-files.ts";

const log = childLogger("market");

/** The embedded market's client account on the devnet: every imported deal is its proposal. */
export const MARKET_CLIENT = "f0100";
/** 180 days of 30-second epochs, the builtin market's minimum deal duration. */
export const DEFAULT_DEAL_DURATION = 180 * 2880;
const MIN_PIECE_SIZE = 128;

/** An import the market cannot make: an answer for the operator, not a failure of the daemon. */
const refused = (message: string) => new RpcError(RpcErrorCode.InvalidParams, message);

/** CommP of a piece file: the proofs library's generate_piece_commitment, injectable for tests. */
export interface PieceHasher {
  readonly name: string;
  /** CommP of `path` zero-filled to `unpadded` bytes (the piece's unpadded size). */
  pieceCommitment(sealProof: number, path: string, unpadded: number): Promise<Uint8Array>;
}

/** generate_piece_commitment of rust-fil-proofs, loaded on first use. */
export function proofsPieceHasher(): PieceHasher {
  return {
    name: "rust-fil-proofs generate_piece_commitment",
    async pieceCommitment(sealProof, path, unpadded) {
      const lib = await import("../../core/proofs/index.ts");
      if (!lib.addonAvailable())
        throw new RpcError(
          RpcErrorCode.Internal,
          "the proofs addon is not built (run ./scripts/setup): CommP cannot be computed",
        );
      const info = await lib.generatePieceCommitment({ registeredProof: sealProof, path, pieceSize: unpadded });
      return info.commitment;
    },
  };
}

/**
 * The padded piece size of a payload, as Lotus and boost size raw data: the smallest power of two (at
 * least 128) whose unpadded capacity (×127/128, the Fr32 padding) holds it; the rest is zero-filled.
 */
export function pieceSizeFor(payloadBytes: number): number {
  let padded = MIN_PIECE_SIZE;
  while (unpaddedSize(padded) < payloadBytes) padded *= 2;
  return padded;
}

export interface ImportDeps {
  chain: Chain;
  deals: MarketDealStore;
  pieces: PieceFiles;
  miners: () => MarketMiner[];
  hasher: PieceHasher;
  now: () => number;
}

/**
 * Damocles.MarketImport: a file on the manager's host becomes a deal. The file is copied into a piece
 * store (synced, then renamed to its piece CID, so the stored bytes are the ones hashed), its CommP
 * computed, and the proposal recorded in the import outbox before it is published on the chain; the deal
 * record replaces the outbox entry. An import a crash interrupted is published on the next start.
 */
export class MarketImporter {
  constructor(private readonly deps: ImportDeps) {}

  async import(path: string, spec: MarketImportSpec): Promise<MarketDeal> {
    const miner = this.chooseMiner(spec.Miner);
    const payload = fileSize(path);
    const pieceSize = pieceSizeFor(payload);
    if (pieceSize > miner.sectorSize) {
      throw refused(
        `${path} holds ${payload} bytes: it needs a ${pieceSize}-byte piece, larger than miner f0${miner.actor}'s ${miner.sectorSize}-byte sectors (at most ${unpaddedSize(miner.sectorSize)} bytes)`,
      );
    }
    const store = this.deps.pieces.writable();
    if (!store) {
      throw refused(
        "no writable piece store: add a [[Common.PieceStores]] entry (Path = an existing directory, ReadOnly = false) to sector-manager.cfg",
      );
    }
    const staged = this.deps.pieces.stage(store, path);
    let cid: string;
    try {
      cid = pieceCid(await this.deps.hasher.pieceCommitment(miner.sealProofType, staged, unpaddedSize(pieceSize)));
      this.deps.pieces.commit(store, staged, cid);
    } catch (err) {
      this.deps.pieces.discard(staged);
      throw err;
    }

    const { chain } = this.deps;
    const head = (await chain.head()).epoch;
    const startEpoch = spec.StartEpoch ?? head + 2 * sealingLead(chain.policy(), miner);
    const proposal: DealProposalParams = {
      pieceCid: cid,
      pieceSize,
      client: MARKET_CLIENT,
      provider: miner.actor,
      startEpoch,
      endEpoch: startEpoch + (spec.Duration ?? DEFAULT_DEAL_DURATION),
      verified: spec.Verified ?? false,
      // Unique per import: importing the same file twice makes two deals.
      label: `${basename(path)} ${randomUUID()}`.slice(0, 256),
    };
    const pending: PendingImport = {
      Proposal: proposal,
      PayloadSize: payload,
      PieceStore: store.name,
      CreatedAt: Math.floor(this.deps.now() / 1000),
    };
    const id = randomUUID();
    await this.deps.deals.durable(() => this.deps.deals.putPendingImport(id, pending));
    let deal: OnChainDeal;
    try {
      deal = await chain.publishDeal(proposal);
    } catch (err) {
      if (err instanceof DealRejectedError) {
        await this.deps.deals.durable(() => this.deps.deals.delPendingImport(id));
        throw refused(`the chain refused the deal (${err.code}): ${err.message}`);
      }
      throw err;
    }
    return this.record(id, pending, deal);
  }

  /** Publishes what a crash left in the import outbox (the chain answers an already published proposal's deal). */
  async resumePending(): Promise<void> {
    for (const { id, value } of this.deps.deals.pendingImports()) {
      try {
        await this.record(id, value, await this.deps.chain.publishDeal(value.Proposal));
      } catch (err) {
        if (!(err instanceof DealRejectedError)) {
          log.warn(`publishing the interrupted import of ${value.Proposal.pieceCid} failed, will retry: ${err}`);
          continue;
        }
        await this.deps.deals.durable(() => this.deps.deals.delPendingImport(id));
        log.warn(`the interrupted import of ${value.Proposal.pieceCid} was refused by the chain: ${err.message}`);
      }
    }
  }

  private async record(id: string, pending: PendingImport, deal: OnChainDeal): Promise<MarketDeal> {
    const p = deal.proposal;
    const record: MarketDeal = {
      DealID: deal.id,
      PieceCID: { "/": p.pieceCid },
      PieceSize: p.pieceSize,
      PayloadSize: pending.PayloadSize,
      Client: p.client,
      Provider: p.provider,
      StartEpoch: p.startEpoch,
      EndEpoch: p.endEpoch,
      Verified: p.verified,
      Label: p.label,
      State: "published",
      Sector: null,
      Offset: null,
      PieceStore: pending.PieceStore,
      PublishedAt: pending.CreatedAt,
    };
    return this.deps.deals.durable(() => {
      // Already recorded (an outbox entry published twice): keep what the market knows.
      const known = this.deps.deals.get(deal.id);
      if (!known) this.deps.deals.put(record);
      this.deps.deals.delPendingImport(id);
      if (!known)
        log.info(
          `deal ${deal.id}: ${p.pieceCid} (${p.pieceSize} bytes) for f0${p.provider}, stored in ${pending.PieceStore}`,
        );
      return known ?? record;
    });
  }

  private chooseMiner(actor: number | null | undefined): MarketMiner {
    const miners = this.deps.miners();
    if (actor !== undefined && actor !== null) {
      const m = miners.find((x) => x.actor === actor);
      if (!m) throw refused(`miner ${actor} is not a [[Miners]] entry of this manager on its chain`);
      return m;
    }
    const chosen = miners.find((m) => m.enableDeals) ?? miners[0];
    if (!chosen) throw refused("this manager has no [[Miners]] on its chain to make deals with");
    return chosen;
  }
}

function fileSize(path: string): number {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw refused(`${path} is not a regular file`);
    size = st.size;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "ENOENT") throw refused(`${path} does not exist on the manager's host`);
    throw err;
  }
  if (size === 0) throw refused(`${path} is empty: a deal needs data`);
  return size;
}
