import { ChainCodecError } from "./errors.ts";
import { decodeRuns, encodeRuns, MAX_ENCODED_BITFIELD_BYTES, type Run } from "./rleplus.ts";

/**
 * Bitfields as the rest of the code uses them: sorted lists of sector (or partition) numbers, encoded
 * as RLE+. Decoding is bounded twice, since a few bytes can describe 2^64 bits: by the encoded size (the
 * chain's 32 KiB) and by how many set bits the caller is ready to hold (`maxCount`).
 */

/** Default cap on set bits a decoded list may hold: far above a partition (2349 sectors) or a batch. */
export const DEFAULT_MAX_BITFIELD_COUNT = 1 << 17;

export interface BitfieldLimits {
  /** At most this many encoded bytes (default: the chain's 32 KiB). */
  maxBytes?: number;
  /** At most this many set bits (default DEFAULT_MAX_BITFIELD_COUNT). */
  maxCount?: number;
}

/** The RLE+ bytes of a set of non-negative safe integers (any order, duplicates ignored). */
export function bitfieldFromNumbers(values: Iterable<number>): Uint8Array {
  const sorted = [...new Set(values)].sort((a, b) => a - b);
  const runs: Run[] = [];
  let next = 0; // the first bit not yet covered by a run
  for (const value of sorted) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new ChainCodecError(
        "bitfield-unsafe-number",
        `bitfield member ${value} is not a non-negative safe integer`,
      );
    }
    const last = runs[runs.length - 1];
    if (last?.set && value === next) {
      last.length += 1n;
    } else {
      if (value > next) runs.push({ set: false, length: BigInt(value - next) });
      runs.push({ set: true, length: 1n });
    }
    next = value + 1;
  }
  return encodeRuns(runs);
}

/** How many bits are set, without expanding them. */
export function bitfieldCount(bytes: Uint8Array, maxBytes: number = MAX_ENCODED_BITFIELD_BYTES): bigint {
  let count = 0n;
  for (const run of decodeRuns(bytes, maxBytes)) if (run.set) count += run.length;
  return count;
}

/**
 * The set bits of RLE+ bytes, ascending. Throws ChainCodecError: `bitfield-*` codes for bytes the chain
 * refuses, `bitfield-too-many-bits` past `maxCount`, `bitfield-unsafe-number` for a bit at 2^53 or above.
 */
export function bitfieldToNumbers(bytes: Uint8Array, limits: BitfieldLimits = {}): number[] {
  const maxCount = limits.maxCount ?? DEFAULT_MAX_BITFIELD_COUNT;
  const runs = decodeRuns(bytes, limits.maxBytes ?? MAX_ENCODED_BITFIELD_BYTES);
  let count = 0n;
  let end = 0n;
  for (const run of runs) {
    end += run.length;
    if (run.set) count += run.length;
  }
  if (count > BigInt(maxCount)) {
    throw new ChainCodecError(
      "bitfield-too-many-bits",
      `bitfield sets ${count} bits; at most ${maxCount} are accepted here`,
    );
  }
  if (end - 1n > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new ChainCodecError("bitfield-unsafe-number", `bitfield sets bit ${end - 1n}, above 2^53-1`);
  }
  const out: number[] = [];
  let position = 0;
  for (const run of runs) {
    const length = Number(run.length);
    if (run.set) for (let i = 0; i < length; i++) out.push(position + i);
    position += length;
  }
  return out;
}
