import { describe, expect, test } from "bun:test";
import { encode } from "@ipld/dag-cbor";
import * as v from "valibot";
import { ChainCodecError } from "../../src/core/chain/errors.ts";
import { FilAmountSchema, formatFil, parseFil, tokenFromBytes, tokenToBytes } from "../../src/core/chain/token.ts";
import { fromHex, toHex, vectors } from "../fixtures/vectors/chain.ts";

describe("token amounts against go-state-types big.Int", () => {
  for (const t of vectors.tokens) {
    test(`${t.atto} attoFIL`, () => {
      expect(toHex(tokenToBytes(BigInt(t.atto)))).toBe(t.bytes);
      expect(toHex(encode(tokenToBytes(BigInt(t.atto))))).toBe(t.cbor);
      expect(tokenFromBytes(fromHex(t.bytes))).toBe(BigInt(t.atto));
    });
  }

  test("bad sign bytes and oversized amounts are refused", () => {
    expect(() => tokenFromBytes(Uint8Array.from([2, 1]))).toThrow(ChainCodecError);
    expect(() => tokenFromBytes(new Uint8Array(129))).toThrow(/at most 128/);
    expect(() => tokenToBytes(1n << 1100n)).toThrow(ChainCodecError);
  });
});

describe("FIL strings as Lotus writes and reads them", () => {
  const cases: Array<[bigint, string]> = [
    [0n, "0 FIL"],
    [1n, "0.000000000000000001 FIL"],
    [10n ** 18n, "1 FIL"],
    [15n * 10n ** 17n, "1.5 FIL"],
    [-25n * 10n ** 16n, "-0.25 FIL"],
    [123456789n * 10n ** 18n + 1n, "123456789.000000000000000001 FIL"],
  ];
  for (const [atto, text] of cases) {
    test(text, () => {
      expect(formatFil(atto)).toBe(text);
      expect(parseFil(text)).toBe(atto);
    });
  }

  test("suffixes and plain numbers", () => {
    expect(parseFil("2")).toBe(2n * 10n ** 18n);
    expect(parseFil("0.5fil")).toBe(5n * 10n ** 17n);
    expect(parseFil("250 attoFIL")).toBe(250n);
    expect(parseFil("7 afil")).toBe(7n);
  });

  test("what is refused, with the text in the message", () => {
    for (const bad of ["", "one FIL", "1.5 attoFIL", "0.0000000000000000001", "1 BTC", "1,5 FIL", "--1"]) {
      expect(() => parseFil(bad)).toThrow(ChainCodecError);
    }
    expect(() => parseFil("1 BTC")).toThrow('"1 BTC" is not an amount');
  });

  test("the valibot schema takes strings only, naming the value it refuses", () => {
    expect(v.parse(FilAmountSchema, "0.1 FIL")).toBe(10n ** 17n);
    expect(v.safeParse(FilAmountSchema, 5).success).toBe(false);
    expect(v.safeParse(FilAmountSchema, "lots").issues?.[0]?.message).toContain('"lots" is not an amount');
  });
});
