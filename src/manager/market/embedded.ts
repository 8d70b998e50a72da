import type { Hono } from "hono";
import type { Authenticator } from "../../core/auth/index.ts";
import type { ManagerConfig } from "../../core/config/index.ts";
import { childLogger } from "../../core/log/index.ts";
import type { RpcRegistry } from "../../core/rpc/index.ts";
import { Market } from "../../core/sector/api-market.ts";
import type { Chain, MinerInfo } from "../../core/sector/chain.ts";
import type { KVStore } from "../../core/store/index.ts";
import type { CommDCalculator } from "../../devnet/index.ts";
import type { SectorStates } from "../sectors/states.ts";
import { MarketImporter, type PieceHasher, proofsPieceHasher } from "./import.ts";
import { DealMarket, type MarketMiner } from "./market.ts";
import { PieceFiles, pieceStoreDirs } from "./piece-files.ts";
import { mountPieceStore } from "./piecestore-http.ts";

const log = childLogger("market");

export interface EmbeddedMarketOptions {
  home: string;
  config: ManagerConfig;
  store: KVStore;
  chain: Chain;
  states: SectorStates;
  /** The configured miners as the chain knows them. */
  chainMiners: Map<number, MinerInfo>;
  commD: CommDCalculator;
  /** CommP of imported files; default: the proofs library. */
  hasher?: PieceHasher;
  now?: () => number;
}

/**
 * The manager's embedded market, composed: deals (market.ts), imports (import.ts), the piece stores and
 * their HTTP face (piece-files.ts, piecestore-http.ts) behind the manager's tokens, and the Damocles.Market* API.
 */
export class EmbeddedMarket {
  readonly deals: DealMarket;
  readonly importer: MarketImporter;
  readonly pieces: PieceFiles;

  constructor(opts: EmbeddedMarketOptions) {
    const miners: MarketMiner[] = opts.config.Miners.filter((m) => opts.chainMiners.has(m.Actor)).map((m) => {
      const info = opts.chainMiners.get(m.Actor)!;
      return {
        actor: m.Actor,
        sectorSize: info.sectorSize,
        sealProofType: info.sealProofType,
        enableDeals: m.Sector.EnableDeals,
        sealingEpochs: m.Sealing.SealingEpochDuration,
      };
    });
    this.pieces = new PieceFiles(pieceStoreDirs(opts.config.Common.PieceStores));
    this.deals = new DealMarket({
      store: opts.store,
      chain: opts.chain,
      states: opts.states,
      miners: () => miners,
      commD: opts.commD,
      pieces: this.pieces,
    });
    this.importer = new MarketImporter({
      chain: opts.chain,
      deals: this.deals.deals,
      pieces: this.pieces,
      miners: () => miners,
      hasher: opts.hasher ?? proofsPieceHasher(),
      now: opts.now ?? Date.now,
    });
    if (this.pieces.stores.length === 0)
      log.info("no [[Common.PieceStores]]: deals cannot be imported and /piecestore/ serves nothing");
  }

  register(registry: RpcRegistry): void {
    registry
      .implement(Market.Import, (path, spec) => this.importer.import(path, spec))
      .implement(Market.Deals, async (miner) => {
        await this.deals.refresh();
        return this.deals.list(miner);
      })
      .implement(Market.PieceLocate, async (cid) => {
        await this.deals.refresh();
        return this.deals.locate(cid);
      });
  }

  mount(app: Hono, auth: Authenticator): void {
    mountPieceStore(app, { pieces: this.pieces, auth });
  }

  /** Publishes imports a crash interrupted and catches up with the chain. */
  async start(): Promise<void> {
    await this.importer.resumePending();
    await this.deals.refresh();
  }

  /** Each processed epoch: follow the deals' state on chain. */
  onEpoch(): void {
    this.deals.refresh().catch((err) => log.warn("following deal states on chain failed:", err));
  }
}
