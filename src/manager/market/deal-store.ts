import * as v from "valibot";
import { type MarketDeal, MarketDealSchema } from "../../core/sector/api-market.ts";
import { DealProposalParamsSchema } from "../../core/sector/chain.ts";
import type { Collection, KVStore } from "../../core/store/index.ts";

/**
 * The embedded market's records in the "market" collection: one record per deal plus empty markers that
 * index them (waiting deals per provider, deals still to follow on chain, deals per piece CID), kept in
 * step by `put`; and the import outbox (a proposal recorded before it is published, so an import
 * interrupted by a crash is published once, on the next start).
 */

const pad = (id: number) => String(id).padStart(12, "0");

const KEY = {
  deals: "deal/",
  deal: (id: number) => `deal/${pad(id)}`,
  waitingOf: (provider: number) => `waiting/${provider}/`,
  waiting: (provider: number, id: number) => `waiting/${provider}/${pad(id)}`,
  opens: "open/",
  open: (id: number) => `open/${pad(id)}`,
  pieceOf: (cid: string) => `piece/${cid}/`,
  piece: (cid: string, id: number) => `piece/${cid}/${pad(id)}`,
  pendings: "pending/",
  pending: (id: string) => `pending/${id}`,
};

export const PendingImportSchema = v.object({
  Proposal: DealProposalParamsSchema,
  PayloadSize: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
  PieceStore: v.string(),
  /** Unix seconds. */
  CreatedAt: v.number(),
});
export type PendingImport = v.InferOutput<typeof PendingImportSchema>;

export class MarketDealStore {
  readonly kv: Collection;

  constructor(private readonly store: KVStore) {
    this.kv = store.collection("market");
  }

  transaction<T>(fn: () => T): T {
    return this.store.transaction(fn);
  }

  durable<T>(fn: () => T): Promise<T> {
    return this.store.durable(fn);
  }

  get(id: number): MarketDeal | undefined {
    return this.kv.getParsed(KEY.deal(id), MarketDealSchema);
  }

  /** Every deal, by id. */
  list(): MarketDeal[] {
    return this.kv.scanParsed(KEY.deals, MarketDealSchema).map((e) => e.value);
  }

  /** The provider's deals waiting for a sector, by id. */
  waiting(provider: number): MarketDeal[] {
    return this.indexed(KEY.waitingOf(provider));
  }

  /** Deals whose chain state may still change (published or assigned), by id. */
  open(): MarketDeal[] {
    return this.indexed(KEY.opens);
  }

  byPiece(cid: string): MarketDeal[] {
    return this.indexed(KEY.pieceOf(cid));
  }

  /** Writes a deal and its index markers; call inside a transaction when it goes with other writes. */
  put(deal: MarketDeal): void {
    this.transaction(() => {
      this.kv.putJSON(KEY.deal(deal.DealID), deal);
      this.kv.put(KEY.piece(deal.PieceCID["/"], deal.DealID), "");
      const waiting = KEY.waiting(deal.Provider, deal.DealID);
      if (deal.State === "published") this.kv.put(waiting, "");
      else this.kv.del(waiting);
      if (deal.State === "published" || deal.State === "assigned") this.kv.put(KEY.open(deal.DealID), "");
      else this.kv.del(KEY.open(deal.DealID));
    });
  }

  pendingImports(): { id: string; value: PendingImport }[] {
    return this.kv
      .scanParsed(KEY.pendings, PendingImportSchema)
      .map((e) => ({ id: e.key.slice(KEY.pendings.length), value: e.value }));
  }

  putPendingImport(id: string, value: PendingImport): void {
    this.kv.putJSON(KEY.pending(id), value);
  }

  delPendingImport(id: string): void {
    this.kv.del(KEY.pending(id));
  }

  private indexed(prefix: string): MarketDeal[] {
    return this.kv
      .scan(prefix)
      .map((e) => this.get(Number(e.key.slice(e.key.lastIndexOf("/") + 1))))
      .filter((d): d is MarketDeal => d !== undefined);
  }
}
