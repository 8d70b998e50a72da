import type { MarketDeal } from "../../core/sector/api-market.ts";
import { type DealInfo, pieceCid, zeroCommD } from "../../core/sector/index.ts";
import { fillerPieceSizes } from "../../core/sector/piece-layout.ts";

/**
 * How waiting deals fill a sector, as droplet's AssignDeals packs them for damocles: candidates in order
 * (smallest piece first), each placed at the next offset aligned to its own size, with zero "filler"
 * pieces (deal id 0) in the gaps and after the last deal, so the pieces cover the whole sector exactly.
 * A worker writes them one after another (add_pieces, no padding of its own), and the offsets here are
 * where the proofs library's compute_comm_d places them.
 */

export interface PackSpec {
  /** At most this many deals (0 or absent: no limit). */
  maxDeals?: number | null;
  /** Nothing is assigned unless the deals fill at least this many (padded) bytes. */
  minUsedSpace?: number | null;
}

export interface PackedPiece {
  /** Absent for a filler. */
  deal?: MarketDeal;
  /** Padded size and offset. */
  size: number;
  offset: number;
}

/** The largest power of two dividing `n` (n > 0): the biggest piece that can start at sector offset size − n. */
function lowestBit(n: number): number {
  let bit = 1;
  while (n % (bit * 2) === 0) bit *= 2;
  return bit;
}

/**
 * Packs `candidates` (already filtered and ordered) into a sector of `sectorSize` bytes. Undefined when no
 * deal fits or the deals packed stay under minUsedSpace: the sector gets no deals.
 */
export function packDeals(
  candidates: MarketDeal[],
  sectorSize: number,
  spec: PackSpec = {},
): PackedPiece[] | undefined {
  const pieces: PackedPiece[] = [];
  let space = sectorSize;
  let picked = 0;
  let used = 0;
  for (const deal of candidates) {
    if (spec.maxDeals && picked >= spec.maxDeals) break;
    if (deal.PieceSize > space) continue;
    // Zero pieces until an offset aligned to this piece's size (it fits: sizes and space are powers of two).
    while (deal.PieceSize > lowestBit(space)) {
      const filler = lowestBit(space);
      pieces.push({ size: filler, offset: sectorSize - space });
      space -= filler;
    }
    pieces.push({ deal, size: deal.PieceSize, offset: sectorSize - space });
    space -= deal.PieceSize;
    picked++;
    used += deal.PieceSize;
  }
  if (picked === 0 || used < (spec.minUsedSpace ?? 0)) return undefined;
  for (const size of fillerPieceSizes(sectorSize - space, sectorSize)) {
    pieces.push({ size, offset: sectorSize - space });
    space -= size;
  }
  return pieces;
}

/** The packed pieces as AcquireDeals answers them (core.Deals): fillers are deal id 0 with the zero piece CID. */
export function toDealInfos(pieces: PackedPiece[]): DealInfo[] {
  return pieces.map(({ deal, size, offset }) =>
    deal
      ? {
          ID: deal.DealID,
          PayloadSize: deal.PayloadSize,
          Piece: { Size: size, Offset: offset, Cid: deal.PieceCID },
          Proposal: {
            PieceCID: deal.PieceCID,
            PieceSize: deal.PieceSize,
            VerifiedDeal: deal.Verified,
            Client: deal.Client,
            Provider: `f0${deal.Provider}`,
            Label: deal.Label,
            StartEpoch: deal.StartEpoch,
            EndEpoch: deal.EndEpoch,
            StoragePricePerEpoch: "0",
            ProviderCollateral: "0",
            ClientCollateral: "0",
          },
          IsCompatible: false,
        }
      : {
          ID: 0,
          PayloadSize: 0,
          Piece: { Size: size, Offset: offset, Cid: { "/": zeroPieceCid(size) } },
          Proposal: null,
          IsCompatible: false,
        },
  );
}

/** The piece CID of `size` padded zero bytes. */
export function zeroPieceCid(size: number): string {
  return pieceCid(zeroCommD(size));
}
