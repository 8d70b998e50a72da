import { describe, expect, test } from "bun:test";
import { encode } from "@ipld/dag-cbor";
import { CID } from "multiformats/cid";
import { ChainCodecError } from "../../src/core/chain/errors.ts";
import {
  decodeMinerParams,
  encodeMinerParams,
  MINER_METHODS,
  type MinerMethod,
  type MinerParams,
  type PreCommitSectorBatch2Params,
} from "../../src/core/chain/miner-params.ts";
import { fromHex, toHex, vectors, withBytes } from "../fixtures/vectors/chain.ts";

const precommit = (): PreCommitSectorBatch2Params =>
  decodeMinerParams("PreCommitSectorBatch2", fromHex(vectors.params[0]!.bytes));

describe("miner params against go-state-types builtin/v19", () => {
  test("method numbers", () => {
    expect({ ...MINER_METHODS }).toEqual(vectors.methods as typeof MINER_METHODS);
  });

  test("every method has a vector", () => {
    const methods = new Set(vectors.params.map((p) => p.method));
    for (const m of Object.keys(MINER_METHODS)) expect(methods.has(m)).toBe(true);
  });

  for (const p of vectors.params) {
    test(`${p.method}: ${p.name}`, () => {
      const method = p.method as MinerMethod;
      const value = withBytes(p.value) as MinerParams[typeof method];
      expect(toHex(encodeMinerParams(method, value))).toBe(p.bytes);
      expect(decodeMinerParams(method, fromHex(p.bytes))).toEqual(value);
    });
  }
});

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ChainCodecError) return `${err.code}: ${err.message}`;
    throw err;
  }
  return "accepted";
}

describe("refusals name the field", () => {
  test("a sealed CID where an unsealed one belongs, and the reverse", () => {
    const value = precommit();
    const sealed = value.sectors[0]!.sealedCid;
    value.sectors[1]!.unsealedCid = sealed;
    expect(codeOf(() => encodeMinerParams("PreCommitSectorBatch2", value))).toMatch(
      /^params: PreCommitSectorBatch2 params: sectors\[1\]\.unsealedCid: .*piece\/unsealed/,
    );
  });

  test("numbers past 2^53 and negative sector numbers", () => {
    const value = precommit();
    value.sectors[0]!.sectorNumber = -1;
    expect(codeOf(() => encodeMinerParams("PreCommitSectorBatch2", value))).toContain("sectors[0].sectorNumber");
    const huge = encode([[[8, 2n ** 60n, CID.parse(precommit().sectors[0]!.sealedCid), 1, [], 2, null]]]);
    expect(codeOf(() => decodeMinerParams("PreCommitSectorBatch2", huge))).toMatch(
      /^params: .*sectors\.0\.sectorNumber: an unsigned integer below 2\^53/,
    );
  });

  test("tuples of the wrong length, wrong types, trailing garbage", () => {
    expect(codeOf(() => decodeMinerParams("ProveCommitAggregate", encode([new Uint8Array(0)])))).toMatch(
      /a tuple of 2 fields \(sectorNumbers, aggregateProof\)/,
    );
    expect(codeOf(() => decodeMinerParams("ProveCommitAggregate", encode(["x", new Uint8Array(0)])))).toMatch(
      /sectorNumbers: an RLE\+ bitfield/,
    );
    const good = fromHex(vectors.params.find((p) => p.method === "DeclareFaultsRecovered")!.bytes);
    expect(codeOf(() => decodeMinerParams("DeclareFaultsRecovered", Uint8Array.from([...good, 0])))).toMatch(/^cbor: /);
  });

  test("a hostile bitfield inside params is refused by the bitfield rules", () => {
    const hostile = encode([[[0, 0, Uint8Array.from([0x34, 0x0e])]]]); // short block of length 1
    expect(codeOf(() => decodeMinerParams("DeclareFaultsRecovered", hostile))).toMatch(
      /recoveries\.0\.sectors: RLE\+ short block holds 1/,
    );
  });

  test("non-canonical CBOR (an integer not in its shortest form) is refused", () => {
    // [[]] for DeclareFaultsRecovered, but the outer array length written as a one-byte extra (0x98 0x01)
    expect(codeOf(() => decodeMinerParams("DeclareFaultsRecovered", Uint8Array.from([0x98, 0x01, 0x80])))).toMatch(
      /^cbor: /,
    );
  });

  test("addresses inside params render for the network asked", () => {
    const p = vectors.params.find((x) => x.method === "ProveCommitSectors3" && x.name.includes("pieces"))!;
    const decoded = decodeMinerParams("ProveCommitSectors3", fromHex(p.bytes), "testnet");
    expect(decoded.sectorActivations[1]!.pieces[0]!.notify[0]!.address).toBe("t05");
    expect(toHex(encodeMinerParams("ProveCommitSectors3", decoded))).toBe(p.bytes);
  });
});
