import { describe, expect, test } from "bun:test";
import { bitfieldCount, bitfieldFromNumbers, bitfieldToNumbers } from "../../src/core/chain/bitfield.ts";
import { ChainCodecError } from "../../src/core/chain/errors.ts";
import { decodeRuns, encodeRuns, MAX_ENCODED_BITFIELD_BYTES, type Run } from "../../src/core/chain/rleplus.ts";
import { fromHex, toHex, vectors } from "../fixtures/vectors/chain.ts";

const runsOf = (v: { runs: Array<{ set: boolean; length: string }> }): Run[] =>
  v.runs.map((r) => ({ set: r.set, length: BigInt(r.length) }));

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ChainCodecError) return err.code;
    throw err;
  }
  return "accepted";
}

/** Packs "00 1 01 0001" (first bit first) into bytes the way RLE+ does: least significant bit first. */
function bits(text: string): Uint8Array {
  const digits = text.replaceAll(" ", "");
  const out = new Uint8Array(Math.ceil(digits.length / 8));
  for (let i = 0; i < digits.length; i++) if (digits[i] === "1") out[i >> 3]! |= 1 << (i & 7);
  let end = out.length;
  while (end > 0 && out[end - 1] === 0) end--;
  return out.slice(0, end);
}

describe("RLE+ against go-bitfield", () => {
  for (const v of vectors.bitfields.valid) {
    test(v.name, () => {
      const bytes = fromHex(v.bytes);
      expect(toHex(encodeRuns(runsOf(v)))).toBe(v.bytes);
      expect(decodeRuns(bytes)).toEqual(runsOf(v));
      expect(bitfieldCount(bytes)).toBe(BigInt(v.count));
      if (v.set) {
        expect(toHex(bitfieldFromNumbers(v.set))).toBe(v.bytes);
        expect(bitfieldToNumbers(bytes, { maxCount: v.set.length })).toEqual(v.set);
      }
    });
  }

  test("the vectors cover go-bitfield's own cases", () => {
    const names = vectors.bitfields.valid.map((v) => v.name);
    for (const name of ["go-bitfield goldenRLE", "TestAll8bit runs", "rust reference {0,2,4,5,6,11..27}"]) {
      expect(names).toContain(name);
    }
  });
});

describe("hostile RLE+ input", () => {
  // What the chain's decoder (fvm_ipld_bitfield) says, case by case; go-bitfield's verdict is in the
  // vectors: where it refuses, so do we, and where it lets a non-minimal form through, the chain does not.
  const expected: Record<string, string> = {
    "version 3 (0xff)": "bitfield-version",
    "version 1": "bitfield-version",
    "trailing zero byte": "bitfield-not-minimal",
    "only a zero byte": "bitfield-not-minimal",
    "varint of 11 bytes (run too long)": "bitfield-invalid-varint",
    "varint above 2^64-1": "bitfield-invalid-varint",
    "varint with a zero last byte": "bitfield-invalid-varint",
    "runs overflow 2^64": "bitfield-overflow",
    "short block of length 1": "bitfield-not-minimal",
    "long block of length 1": "bitfield-not-minimal",
    "long block of length 3": "bitfield-not-minimal",
    "trailing garbage after a zero short block": "bitfield-not-minimal",
    "trailing garbage after a zero long block": "bitfield-not-minimal",
    "trailing run of zeros": "bitfield-not-minimal",
    "starts with zeros, only zeros": "bitfield-not-minimal",
    "{2^64-1}: 2^64 bits in all": "bitfield-overflow",
  };
  for (const v of vectors.bitfields.hostile) {
    test(`${v.name} (go-bitfield: ${v.goError || "accepts"})`, () => {
      expect(expected[v.name]).toBeDefined();
      expect(codeOf(() => decodeRuns(fromHex(v.bytes)))).toBe(expected[v.name]!);
    });
  }

  test("a header with a set first bit and no run is refused (the chain refuses it; go reads it as empty)", () => {
    expect(codeOf(() => decodeRuns(bits("00 1")))).toBe("bitfield-not-minimal");
  });

  test("more than 32 KiB is refused before decoding", () => {
    const big = new Uint8Array(MAX_ENCODED_BITFIELD_BYTES + 1).fill(0xff);
    expect(codeOf(() => decodeRuns(big))).toBe("bitfield-too-large");
    expect(codeOf(() => bitfieldToNumbers(bitfieldFromNumbers([1]), { maxBytes: 0 }))).toBe("bitfield-too-large");
  });

  test("huge counts in a few bytes are refused before expanding", () => {
    // one run of 2^40 set bits: 8 bytes that would expand to a trillion numbers
    const huge = encodeRuns([{ set: true, length: 1n << 40n }]);
    expect(huge.length).toBeLessThan(10);
    expect(bitfieldCount(huge)).toBe(1n << 40n);
    expect(codeOf(() => bitfieldToNumbers(huge))).toBe("bitfield-too-many-bits");
    expect(codeOf(() => bitfieldToNumbers(bitfieldFromNumbers([1, 2, 3]), { maxCount: 2 }))).toBe(
      "bitfield-too-many-bits",
    );
  });

  test("set bits past 2^53 do not become imprecise numbers", () => {
    const far = encodeRuns([
      { set: false, length: 1n << 60n },
      { set: true, length: 1n },
    ]);
    expect(codeOf(() => bitfieldToNumbers(far))).toBe("bitfield-unsafe-number");
    expect(codeOf(() => bitfieldFromNumbers([2 ** 53]))).toBe("bitfield-unsafe-number");
    expect(codeOf(() => bitfieldFromNumbers([-1]))).toBe("bitfield-unsafe-number");
    expect(codeOf(() => bitfieldFromNumbers([1.5]))).toBe("bitfield-unsafe-number");
  });

  test("the encoder refuses runs that could not decode", () => {
    expect(codeOf(() => encodeRuns([{ set: true, length: 0n }]))).toBe("bitfield-not-minimal");
    expect(
      codeOf(() =>
        encodeRuns([
          { set: true, length: 2n },
          { set: true, length: 3n },
        ]),
      ),
    ).toBe("bitfield-not-minimal");
    expect(
      codeOf(() =>
        encodeRuns([
          { set: false, length: 1n << 63n },
          { set: true, length: 1n << 63n },
        ]),
      ),
    ).toBe("bitfield-overflow");
  });

  test("random bytes never crash the decoder and what it accepts re-encodes to the same bytes", () => {
    let seed = 12345;
    const next = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed >> 16;
    };
    let accepted = 0;
    for (let i = 0; i < 3000; i++) {
      const bytes = Uint8Array.from({ length: 1 + (next() % 12) }, () => next() & 0xff);
      let runs: Run[];
      try {
        runs = decodeRuns(bytes);
      } catch (err) {
        expect(err).toBeInstanceOf(ChainCodecError);
        continue;
      }
      accepted++;
      expect(toHex(encodeRuns(runs))).toBe(toHex(bytes));
    }
    expect(accepted).toBeGreaterThan(100);
  });
});

describe("round trips", () => {
  test("sets of sector numbers, sparse and dense, unsorted with duplicates", () => {
    const sets = [
      [],
      [0],
      [5, 3, 3, 1],
      Array.from({ length: 2349 }, (_, i) => i),
      Array.from({ length: 300 }, (_, i) => i * i),
      [Number.MAX_SAFE_INTEGER],
      [0, 15, 16, 17, 31, 32, 33, 1000, 1001, 123456789],
    ];
    for (const set of sets) {
      const sorted = [...new Set(set)].sort((a, b) => a - b);
      expect(bitfieldToNumbers(bitfieldFromNumbers(set))).toEqual(sorted);
    }
  });

  test("trailing unset runs are implicit, so they encode to nothing", () => {
    expect(encodeRuns([{ set: false, length: 10n }]).length).toBe(0);
    expect(
      toHex(
        encodeRuns([
          { set: true, length: 3n },
          { set: false, length: 10n },
        ]),
      ),
    ).toBe(toHex(bitfieldFromNumbers([0, 1, 2])));
  });
});
