import { expect, test } from "bun:test";
import { lotusBitfieldFromNumbers, lotusBitfieldNumbers } from "./lotus-bitfield.ts";

test("go-bitfield JSON: runs start with absent values, the empty set is []", () => {
  expect(lotusBitfieldFromNumbers([])).toEqual([]);
  expect(lotusBitfieldFromNumbers([0, 1, 2])).toEqual([0, 3]);
  expect(lotusBitfieldFromNumbers([5])).toEqual([5, 1]);
  expect(lotusBitfieldFromNumbers([5, 1, 2, 2])).toEqual([1, 2, 2, 1]);
  expect(lotusBitfieldNumbers([])).toEqual([]);
  expect(lotusBitfieldNumbers([0])).toEqual([]);
  expect(lotusBitfieldNumbers([1, 2, 2, 1])).toEqual([1, 2, 5]);
});
