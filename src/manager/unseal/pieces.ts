import * as v from "valibot";
import { unpaddedSize } from "../../core/proofs/types.ts";
import { sealProofInfo } from "../../core/sector/proof.ts";
import { SectorPieceRefSchema, type SectorState } from "../../core/sector/wire.ts";

/**
 * Where a piece sits in a sealed sector, from the manager's sector state: one of its deal pieces
 * (SectorState.Pieces, or the legacy Deals, each carrying `Piece: {Size, Offset, Cid}` with padded sizes),
 * or the sector's whole data, whose piece CID is the sector's CommD: how a CC sector (whose only "piece"
 * is the zero piece) or a whole deal sector is unsealed.
 */

/** Unpadded offset and size of the piece inside the sector's data. */
export interface PieceLocation {
  offset: number;
  size: number;
  /** "deal": a piece of the sector; "sector": the sector's whole data (CommD). */
  kind: "deal" | "sector";
}

const PieceEntrySchema = v.looseObject({ Piece: SectorPieceRefSchema });

/** The sector's pieces with padded offsets and sizes, in the order they were recorded. */
export function sectorPieces(state: SectorState): { cid: string; offset: number; size: number }[] {
  const out: { cid: string; offset: number; size: number }[] = [];
  for (const entry of [...(state.Pieces ?? []), ...(state.Deals ?? [])]) {
    const parsed = v.safeParse(PieceEntrySchema, entry);
    if (!parsed.success) continue;
    const p = parsed.output.Piece;
    out.push({ cid: p.Cid["/"], offset: p.Offset, size: p.Size });
  }
  return out;
}

export function locatePiece(state: SectorState, pieceCid: string): PieceLocation | undefined {
  const deal = sectorPieces(state).find((p) => p.cid === pieceCid);
  if (deal) return { offset: unpaddedSize(deal.offset), size: unpaddedSize(deal.size), kind: "deal" };
  if (state.Pre && state.Pre.CommD["/"] === pieceCid)
    return { offset: 0, size: unpaddedSize(sealProofInfo(state.SectorType).sectorSize), kind: "sector" };
  return undefined;
}

/** One line for an operator: what pieces the sector does hold. */
export function describePieces(state: SectorState): string {
  const deals = sectorPieces(state).map((p) => `${p.cid} (offset ${p.offset}, size ${p.size})`);
  const whole = state.Pre ? `the whole sector's data is ${state.Pre.CommD["/"]}` : "it has no CommD yet";
  return deals.length > 0 ? `its pieces are ${deals.join(", ")}; ${whole}` : `it has no deal pieces; ${whole}`;
}

/**
 * Checks an explicitly given range (unpadded offset and size): it must be a whole number of padded
 * chunks inside the sector, and a piece size (127 × 2^k bytes), since the unsealed range is checked
 * against the piece's commitment. Answers the problem, or undefined.
 */
export function rangeProblem(sectorSize: number, offset: number, size: number): string | undefined {
  const capacity = unpaddedSize(sectorSize);
  if (size % 127 !== 0 || !Number.isInteger(Math.log2(size / 127)) || size < 127)
    return `size ${size} is not an unpadded piece size (127 × 2^k bytes; a padded size of 2^k bytes)`;
  if (offset % 127 !== 0) return `offset ${offset} is not a multiple of 127 unpadded bytes (128 padded)`;
  if (offset + size > capacity)
    return `offset ${offset} + size ${size} runs past the sector's ${capacity} unpadded bytes`;
  return undefined;
}
