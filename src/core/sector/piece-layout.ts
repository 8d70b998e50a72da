/**
 * How pieces sit in a sector, as rust-fil-proofs writes them: each piece starts at a multiple of its own
 * padded size (zero bytes fill the gap before it), in the order given. The piece list of a sector (PC1 and
 * C1 `piece_infos`, and the CommD a verifier computes) must cover the whole sector: filecoin-proofs'
 * compute_comm_d pads between pieces but not after the last one, so a 1KiB piece alone in a 2KiB sector
 * gives CommD = CommP and PC1 refuses it. The space after the last piece is therefore filled with zero
 * (pledge) pieces, smallest first, which keeps every one of them aligned too.
 */

/** The smallest piece: 128 padded bytes (127 unpadded). */
export const MIN_PIECE_SIZE = 128;

function isPowerOfTwo(n: number): boolean {
  if (!Number.isSafeInteger(n) || n < 1) return false;
  while (n % 2 === 0) n /= 2;
  return n === 1;
}

/** A padded piece size: a power of two of at least 128 bytes. */
export function isPaddedPieceSize(padded: number): boolean {
  return padded >= MIN_PIECE_SIZE && isPowerOfTwo(padded);
}

/** An unpadded piece size: 127 × 2^n bytes, at least 127 (1016 for a 1KiB piece). */
export function isUnpaddedPieceSize(unpadded: number): boolean {
  return Number.isSafeInteger(unpadded) && unpadded % 127 === 0 && isPaddedPieceSize((unpadded / 127) * 128);
}

export class PieceLayoutError extends RangeError {
  override name = "PieceLayoutError";
}

/**
 * Where each piece starts (padded bytes) when written in this order, and where the last one ends.
 * Throws PieceLayoutError for a size that is not a piece size or pieces that overflow `sectorSize`.
 */
export function layoutPieces(paddedSizes: readonly number[], sectorSize: number): { offsets: number[]; end: number } {
  const offsets: number[] = [];
  let end = 0;
  paddedSizes.forEach((size, i) => {
    if (!isPaddedPieceSize(size))
      throw new PieceLayoutError(
        `piece #${i} has padded size ${size}: a piece is a power of two of at least 128 bytes`,
      );
    const offset = Math.ceil(end / size) * size;
    offsets.push(offset);
    end = offset + size;
  });
  if (end > sectorSize)
    throw new PieceLayoutError(
      `the pieces (padded sizes ${paddedSizes.join(", ")}) need ${end} bytes with alignment; the sector has ${sectorSize}`,
    );
  return { offsets, end };
}

/** Padded sizes of the zero pieces that fill a sector from padded offset `end` to its end, smallest first. */
export function fillerPieceSizes(end: number, sectorSize: number): number[] {
  const sizes: number[] = [];
  let rest = sectorSize - end;
  if (rest < 0 || rest % MIN_PIECE_SIZE !== 0)
    throw new PieceLayoutError(`pieces ending at ${end} cannot be followed by zero pieces up to ${sectorSize} bytes`);
  // The binary digits of what is left, smallest first: each starts at a multiple of its size.
  for (let size = MIN_PIECE_SIZE; rest > 0; size *= 2) {
    if (rest % (size * 2) !== 0) {
      sizes.push(size);
      rest -= size;
    }
  }
  return sizes;
}
