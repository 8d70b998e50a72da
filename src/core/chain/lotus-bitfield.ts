import { bitfieldFromNumbers, bitfieldNumbers } from "../sector/api-snap.ts";
import type { LotusBitfield } from "./lotus-api.ts";

/**
 * Sets of numbers ↔ go-bitfield's JSON (run lengths, the first one a run of absent values), the shape of
 * every bitfield in the node API. The run-length codec is api-snap's; only the empty set differs: Lotus
 * writes [] where api-snap writes [0], and both read back as the empty set.
 */
export function lotusBitfieldFromNumbers(numbers: Iterable<number>): LotusBitfield {
  const runs = bitfieldFromNumbers(numbers);
  return runs.length === 1 && runs[0] === 0 ? [] : runs;
}

/** The numbers of a go-bitfield JSON value, ascending. */
export function lotusBitfieldNumbers(runs: LotusBitfield): number[] {
  return bitfieldNumbers(runs);
}
