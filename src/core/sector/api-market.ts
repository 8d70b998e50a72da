import * as v from "valibot";
import { defineMethod } from "../rpc/method.ts";
import { CommitmentCidError, pieceCommitment } from "./cid.ts";
import { ActorIDSchema, EpochSchema, SectorIDSchema } from "./id.ts";
import { CidJsonSchema } from "./wire.ts";

/**
 * `Damocles.Market*`: the manager's embedded storage market (ours; the original reached droplet for this).
 * It imports files as deals on the devnet, lists them, and says where a piece lives for retrieval and
 * unsealing. Sizes are bytes; PieceSize is the padded piece size (a power of two), PayloadSize the bytes of
 * the imported file; Offset is the padded offset of the piece inside its sector.
 */

const u64 = v.pipe(v.number(), v.safeInteger(), v.minValue(0));

/**
 * A deal's life on the manager: published on chain and waiting for a sector, assigned to a sector being
 * sealed, active once its sector's ProveCommit landed, expired when its start epoch passed before that,
 * slashed when its sector was terminated early.
 */
export const MARKET_DEAL_STATES = ["published", "assigned", "active", "expired", "slashed"] as const;
export const MarketDealStateSchema = v.picklist(MARKET_DEAL_STATES);
export type MarketDealState = v.InferOutput<typeof MarketDealStateSchema>;

export const MarketDealSchema = v.object({
  DealID: u64,
  PieceCID: CidJsonSchema,
  PieceSize: u64,
  PayloadSize: u64,
  Client: v.string(),
  /** The storage provider: a miner actor id. */
  Provider: ActorIDSchema,
  StartEpoch: EpochSchema,
  EndEpoch: EpochSchema,
  Verified: v.boolean(),
  Label: v.string(),
  State: MarketDealStateSchema,
  /** The sector holding the piece (assigned or active), else null. */
  Sector: v.nullable(SectorIDSchema),
  Offset: v.nullable(u64),
  /** The `[[Common.PieceStores]]` entry the piece file was stored in at import. */
  PieceStore: v.nullable(v.string()),
  /** Unix seconds. */
  PublishedAt: u64,
});
export type MarketDeal = v.InferOutput<typeof MarketDealSchema>;

/** A piece CID as text ("baga6ea4sea…"); anything else is refused with the parser's reason. */
export const PieceCidTextSchema = v.pipe(
  v.string("expected a piece CID as a string"),
  v.check((text) => {
    try {
      pieceCommitment(text);
      return true;
    } catch (err) {
      if (err instanceof CommitmentCidError) return false;
      throw err;
    }
  }, 'expected a piece CID ("baga6ea4sea…"): a CID with codec fil-commitment-unsealed'),
);

export const MarketImportSpecSchema = v.object({
  /** The provider; default: the only [[Miners]] entry with Sector.EnableDeals, else the first one. */
  Miner: v.nullish(ActorIDSchema),
  /** Epochs from the start epoch to the end epoch; default 180 days of 30-second epochs. */
  Duration: v.nullish(v.pipe(u64, v.minValue(1, "Duration must be at least one epoch"))),
  /** Absolute start epoch; default: far enough ahead for a sector to be sealed and proven first. */
  StartEpoch: v.nullish(EpochSchema),
  Verified: v.nullish(v.boolean()),
});
export type MarketImportSpec = v.InferOutput<typeof MarketImportSpecSchema>;

/** Where a piece lives: its deals, best first (active, then assigned, then waiting), and a stored copy. */
export const PieceLocationSchema = v.object({
  PieceCID: CidJsonSchema,
  PieceSize: u64,
  PayloadSize: u64,
  /** The sector of the best deal that has one (an active deal's sector first), else null. */
  Sector: v.nullable(SectorIDSchema),
  Offset: v.nullable(u64),
  /** The piece store whose directory holds the piece file now, else null (unseal it from the sector). */
  PieceStore: v.nullable(v.string()),
  Deals: v.array(MarketDealSchema),
});
export type PieceLocation = v.InferOutput<typeof PieceLocationSchema>;

const path = v.pipe(v.string(), v.minLength(1, "path must not be empty"));

export const Market = {
  /** Imports a file on the manager's host: CommP, a copy in a piece store, a deal published on the devnet. */
  Import: defineMethod(
    "Damocles.MarketImport",
    [
      ["path", path],
      ["spec", MarketImportSpecSchema],
    ] as const,
    MarketDealSchema,
    "admin",
  ),
  /** Every deal the market knows, by deal id; with a miner, only that provider's. */
  Deals: defineMethod(
    "Damocles.MarketDeals",
    [["miner", v.nullish(ActorIDSchema)]] as const,
    v.array(MarketDealSchema),
    "read",
  ),
  /** null: no deal has this piece. */
  PieceLocate: defineMethod(
    "Damocles.MarketPieceLocate",
    [["pieceCid", PieceCidTextSchema]] as const,
    v.nullable(PieceLocationSchema),
    "read",
  ),
} as const;
