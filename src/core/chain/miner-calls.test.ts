import { describe, expect, test } from "bun:test";
import { encode } from "@ipld/dag-cbor";
import { CID } from "multiformats/cid";
import { fromHex, messageNamed, toHex, vectors } from "../../../tests/fixtures/vectors/chain.ts";
import type { ChainMessage } from "../sector/api-chain.ts";
import { cidToCommitment } from "../sector/cid.ts";
import { zeroCommD } from "../sector/commd.ts";
import { ChainCodecError } from "./errors.ts";
import { encodeMessage, messageCid } from "./message.ts";
import type { SectorPiece } from "./miner-call-pieces.ts";
import {
  type ChainMessageBody,
  chainCommitEpochOf,
  fromMinerCall,
  type MinerCallContext,
  minerMessage,
  toMinerCall,
} from "./miner-calls.ts";
import { decodeMinerParams, encodeMinerParams, MINER_METHODS } from "./miner-params.ts";

const SEAL_2KIB = 5; // StackedDrg2KiBV1_1
const SEAL_32GIB = 8; // StackedDrg32GiBV1_1
const UPDATE_2KIB = 0; // StackedDrg2KiBV1
const LOOKBACK = 20;
const SIZE_32GIB = 32 * 2 ** 30;
const bytes32 = (seed: number): number[] => Array.from({ length: 32 }, (_, i) => ((seed * 7 + i * 13) % 256) & 0x3f);
const proof = (seed: number, length = 192): string =>
  Buffer.from(Uint8Array.from({ length }, (_, i) => (seed + i * 5) % 256)).toString("base64");
const rand = Uint8Array.from({ length: 32 }, (_, i) => i * 3);
const PIECE_A = "baga6ea4seaqbigi6emuc2mrxhraums2qkvnf6zdjnzzxq7mcq6gjdfu3ucs2uly";
const PIECE_B = "baga6ea4seaqbkgq7equs4mzyhvbeotcrkznwazlkn52hs7udrcgzff44ugtkwma";

const commRCid = "bagboea4b5abcaaiea4fa2eatcymryhzceuucwlrrgq3tupkaindestcpkjkvqw26";

const pieces: Record<number, SectorPiece[]> = {
  7: [
    { cid: PIECE_A, size: 1024, dealId: 3 },
    { cid: PIECE_B, size: 512, dealId: null },
    { cid: PIECE_B, size: 512, dealId: 2 ** 40 },
  ],
};
const ctx: MinerCallContext = {
  expiration: (n) => 100_000 + n,
  pieces: (n) => pieces[n] ?? [],
  wpostChallengeLookback: LOOKBACK,
  chainCommitRand: rand,
};
const fromCtx = { wpostChallengeLookback: LOOKBACK };

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ChainCodecError) return `${err.code}: ${err.message}`;
    throw err;
  }
  return "accepted";
}

const roundTrip = (body: ChainMessageBody) => {
  const call = toMinerCall(body, ctx);
  return fromMinerCall(call.method, call.params, fromCtx);
};

describe("toMinerCall then fromMinerCall gives the body back", () => {
  test("PreCommitSectorBatch2: CC sectors (UnsealedCid null), and a sector with data (UnsealedCid set)", () => {
    const body: ChainMessageBody = {
      method: "PreCommitSectorBatch2",
      sectors: [
        {
          number: 1,
          sealProof: SEAL_2KIB,
          commR: bytes32(1),
          commD: Array.from(zeroCommD(2048)),
          sealRandEpoch: 9,
          dealIds: [],
        },
        { number: 2, sealProof: SEAL_2KIB, commR: bytes32(2), commD: bytes32(3), sealRandEpoch: 10, dealIds: [] },
      ],
    };
    const call = toMinerCall(body, ctx);
    expect(call.method).toBe(MINER_METHODS.PreCommitSectorBatch2);
    const params = decodeMinerParams("PreCommitSectorBatch2", call.params);
    expect(params.sectors.map((s) => [s.unsealedCid === null, s.expiration])).toEqual([
      [true, 100_001],
      [false, 100_002],
    ]);
    const back = fromMinerCall(call.method, call.params, fromCtx);
    expect(back).toEqual({ method: "PreCommitSectorBatch2", body, expirations: [100_001, 100_002] });
  });

  test("PreCommitSectorBatch2: deal ids do not travel in the pre-commit (ProveCommitSectors3 refuses them there)", () => {
    const sector = { number: 7, sealProof: SEAL_2KIB, commR: bytes32(4), commD: bytes32(5), sealRandEpoch: 1 };
    const back = roundTrip({ method: "PreCommitSectorBatch2", sectors: [{ ...sector, dealIds: [3, 2 ** 40] }] });
    expect(back.body).toEqual({ method: "PreCommitSectorBatch2", sectors: [{ ...sector, dealIds: [] }] });
  });

  test("ProveCommitSectors3: proofs one per sector, deals as pieces notifying the market actor", () => {
    const body: ChainMessageBody = {
      method: "ProveCommitSectors3",
      sectors: [
        { number: 6, proof: proof(1) },
        { number: 7, proof: proof(2) },
      ],
    };
    const call = toMinerCall(body, ctx);
    expect(call.method).toBe(MINER_METHODS.ProveCommitSectors3);
    const params = decodeMinerParams("ProveCommitSectors3", call.params);
    expect(params.aggregateProof.length).toBe(0);
    expect(params.aggregateProofType).toBeNull();
    expect(params.sectorActivations[0]!.pieces).toEqual([]);
    const notified = params.sectorActivations[1]!.pieces.map((p) => p.notify.map((n) => [n.address, toHex(n.payload)]));
    expect(notified).toEqual([[["f05", "03"]], [], [["f05", "1b0000010000000000"]]]);
    expect(fromMinerCall(call.method, call.params, fromCtx)).toEqual({
      method: "ProveCommitSectors3",
      body,
      activation: { pieces: [[], pieces[7]!], requireActivationSuccess: true, requireNotificationSuccess: true },
    });
  });

  test("ProveReplicaUpdates: deal ids come back from the pieces' notifications", () => {
    const update = { deadline: 3, partition: 1, updateProof: UPDATE_2KIB };
    const body: ChainMessageBody = {
      method: "ProveReplicaUpdates",
      updates: [
        { ...update, number: 7, newCommR: bytes32(8), dealIds: [3, 2 ** 40], proof: proof(3, 1200) },
        { ...update, number: 9, newCommR: bytes32(9), dealIds: [], proof: proof(4, 1200) },
      ],
    };
    const call = toMinerCall(body, ctx);
    expect(call.method).toBe(MINER_METHODS.ProveReplicaUpdates3);
    expect(decodeMinerParams("ProveReplicaUpdates3", call.params).updateProofsType).toBe(UPDATE_2KIB);
    expect(fromMinerCall(call.method, call.params, fromCtx)).toEqual({
      method: "ProveReplicaUpdates",
      body,
      activation: { pieces: [pieces[7]!, []], requireActivationSuccess: true, requireNotificationSuccess: true },
    });
  });

  test("SubmitWindowedPoSt: commit epoch = open − lookback, recovered does not travel", () => {
    const post = {
      deadline: 5,
      open: 400,
      partitions: [
        { index: 0, skipped: [], recovered: [] },
        { index: 2, skipped: [4, 5, 9], recovered: [] },
      ],
      proofs: [{ postProof: 10, proof: proof(5) }],
    };
    const call = toMinerCall({ method: "SubmitWindowedPoSt", post }, ctx);
    expect(call.method).toBe(MINER_METHODS.SubmitWindowedPoSt);
    expect(decodeMinerParams("SubmitWindowedPoSt", call.params).chainCommitEpoch).toBe(
      chainCommitEpochOf(400, LOOKBACK),
    );
    expect(fromMinerCall(call.method, call.params, fromCtx)).toEqual({
      method: "SubmitWindowedPoSt",
      body: { method: "SubmitWindowedPoSt", post },
      chainCommit: { epoch: 380, rand },
    });
    const withRecovery = { ...post, partitions: [{ index: 0, skipped: [], recovered: [3] }] };
    const back = roundTrip({ method: "SubmitWindowedPoSt", post: withRecovery });
    expect(back.body).toEqual({
      method: "SubmitWindowedPoSt",
      post: { ...post, partitions: [{ index: 0, skipped: [], recovered: [] }] },
    });
  });
});

describe("toMinerCall against the go-state-types vectors", () => {
  const vector = (name: string) => vectors.params.find((p) => p.name === name)!;

  test("PreCommitSectorBatch2: two 32GiB sectors, one with data", () => {
    const v = vector("two 32GiB sectors, one with data");
    const sectors = decodeMinerParams("PreCommitSectorBatch2", fromHex(v.bytes)).sectors;
    const body: ChainMessageBody = {
      method: "PreCommitSectorBatch2",
      sectors: sectors.map((s) => ({
        number: s.sectorNumber,
        sealProof: s.sealProof,
        commR: Array.from(cidToCommitment(s.sealedCid, "sealed")),
        commD: Array.from(s.unsealedCid ? cidToCommitment(s.unsealedCid, "unsealed") : zeroCommD(SIZE_32GIB)),
        sealRandEpoch: s.sealRandEpoch,
        dealIds: [],
      })),
    };
    expect(body.sectors.map((s) => s.sealProof)).toEqual([SEAL_32GIB, SEAL_32GIB]);
    const call = toMinerCall(body, { expiration: 5678901 });
    expect(toHex(call.params)).toBe(v.bytes);
    expect(fromMinerCall(call.method, call.params).body).toEqual(body);
  });

  for (const name of ["2KiB devnet, deadline 47", "two partitions, one with skipped sectors"]) {
    test(`SubmitWindowedPoSt: ${name}`, () => {
      const v = vector(name);
      const p = decodeMinerParams("SubmitWindowedPoSt", fromHex(v.bytes));
      const post = {
        deadline: p.deadline,
        open: p.chainCommitEpoch + LOOKBACK,
        partitions: p.partitions.map((x) => ({ index: x.index, skipped: x.skipped, recovered: [] })),
        proofs: p.proofs.map((x) => ({ postProof: x.postProof, proof: Buffer.from(x.proofBytes).toString("base64") })),
      };
      const call = toMinerCall(
        { method: "SubmitWindowedPoSt", post },
        { wpostChallengeLookback: LOOKBACK, chainCommitRand: p.chainCommitRand },
      );
      expect(toHex(call.params)).toBe(v.bytes);
    });
  }

  test("minerMessage: the PreCommitSectorBatch2 message from the secp256k1 worker, byte for byte and its CID", () => {
    const m = messageNamed("PreCommitSectorBatch2 from the secp256k1 worker");
    const sectors = decodeMinerParams("PreCommitSectorBatch2", fromHex(m.message.params)).sectors;
    const msg: ChainMessage = {
      method: "PreCommitSectorBatch2",
      from: 1000,
      nonce: 0, // the manager's own sequence; the chain nonce is the envelope's
      sectors: sectors.map((s) => ({
        number: s.sectorNumber,
        sealProof: s.sealProof,
        commR: Array.from(cidToCommitment(s.sealedCid, "sealed")),
        commD: Array.from(s.unsealedCid ? cidToCommitment(s.unsealedCid, "unsealed") : zeroCommD(SIZE_32GIB)),
        sealRandEpoch: s.sealRandEpoch,
        dealIds: [],
      })),
    };
    const unsigned = minerMessage(
      msg,
      {
        from: m.message.from,
        to: m.message.to,
        nonce: BigInt(m.message.nonce),
        value: BigInt(m.message.value),
        gasLimit: m.message.gasLimit,
        gasFeeCap: BigInt(m.message.gasFeeCap),
        gasPremium: BigInt(m.message.gasPremium),
      },
      { expiration: 5678901 },
    );
    expect(toHex(encodeMessage(unsigned))).toBe(m.bytes);
    expect(messageCid(unsigned).toString()).toBe(m.cid);
  });
});

describe("refusals carry a code and name the field", () => {
  test("unknown and untranslated method numbers", () => {
    expect(codeOf(() => fromMinerCall(7, new Uint8Array([0x80])))).toMatch(
      /^method: miner method 7 is not a ChainMessage/,
    );
    expect(codeOf(() => fromMinerCall(MINER_METHODS.ProveCommitAggregate, new Uint8Array([0x80])))).toMatch(
      /^method: miner method 26 \(ProveCommitAggregate\)/,
    );
  });

  test("params that do not decode name the method and the field", () => {
    expect(
      codeOf(() => fromMinerCall(MINER_METHODS.PreCommitSectorBatch2, encode([[[5, 1, "x", 0, [], 1, null]]]))),
    ).toMatch(/^params: PreCommitSectorBatch2 params: sectors\.0\.sealedCid/);
    expect(codeOf(() => fromMinerCall(MINER_METHODS.ProveCommitSectors3, Uint8Array.from([0x98, 0x01, 0x80])))).toMatch(
      /^cbor: ProveCommitSectors3 params/,
    );
    const badProofType = encode([[[999, 1, CID.parse(commRCid), 0, [], 1, null]]]);
    expect(codeOf(() => fromMinerCall(MINER_METHODS.PreCommitSectorBatch2, badProofType))).toMatch(
      /^params: PreCommitSectorBatch2 params: sectors\[0\]\.sealProof/,
    );
  });

  test("aggregates, verified allocations, foreign notifications and proofs that do not pair are refused", () => {
    const aggregated = vectors.params.find((p) => p.name === "aggregated")!;
    expect(codeOf(() => fromMinerCall(MINER_METHODS.ProveCommitSectors3, fromHex(aggregated.bytes)))).toMatch(
      /^unsupported: ProveCommitSectors3 params: aggregateProof/,
    );
    const snapped = vectors.params.find((p) => p.method === "ProveReplicaUpdates3")!;
    expect(codeOf(() => fromMinerCall(MINER_METHODS.ProveReplicaUpdates3, fromHex(snapped.bytes)))).toMatch(
      /^unsupported: ProveReplicaUpdates3 params: sectorUpdates\[0\]\.pieces\[0\]\.verifiedAllocationKey/,
    );
    const call = toMinerCall({ method: "ProveCommitSectors3", sectors: [{ number: 7, proof: proof(1) }] }, ctx);
    const params = decodeMinerParams("ProveCommitSectors3", call.params);
    params.sectorActivations[0]!.pieces[0]!.notify[0]!.address = "f06";
    const foreign = encodeMinerParams("ProveCommitSectors3", params);
    expect(codeOf(() => fromMinerCall(MINER_METHODS.ProveCommitSectors3, foreign))).toMatch(
      /^unsupported: .*sectorActivations\[0\]\.pieces\[0\]\.notify\[0\]\.address: f06/,
    );
    params.sectorActivations[0]!.pieces[0]!.notify[0] = { address: "f05", payload: encode("deal") };
    const notADeal = encodeMinerParams("ProveCommitSectors3", params);
    expect(codeOf(() => fromMinerCall(MINER_METHODS.ProveCommitSectors3, notADeal))).toMatch(
      /^params: .*pieces\[0\]\.notify\[0\]\.payload: deal is not a deal id/,
    );
    params.sectorProofs = [];
    params.sectorActivations[0]!.pieces = [];
    const unpaired = encodeMinerParams("ProveCommitSectors3", params);
    expect(codeOf(() => fromMinerCall(MINER_METHODS.ProveCommitSectors3, unpaired))).toMatch(
      /^params: ProveCommitSectors3 params: sectorProofs: 0 proofs for 1 sectors/,
    );
  });

  test("a context that lacks what the call needs, or contradicts it", () => {
    const pre: ChainMessageBody = {
      method: "PreCommitSectorBatch2",
      sectors: [
        { number: 1, sealProof: SEAL_2KIB, commR: bytes32(1), commD: bytes32(2), sealRandEpoch: 0, dealIds: [] },
      ],
    };
    expect(codeOf(() => toMinerCall(pre))).toBe("context: PreCommitSectorBatch2 needs ctx.expiration");
    const post: ChainMessageBody = {
      method: "SubmitWindowedPoSt",
      post: { deadline: 0, open: 100, partitions: [], proofs: [] },
    };
    expect(codeOf(() => toMinerCall(post, { wpostChallengeLookback: 20 }))).toBe(
      "context: SubmitWindowedPoSt needs ctx.chainCommitRand",
    );
    expect(
      codeOf(() => toMinerCall(post, { wpostChallengeLookback: 20, chainCommitRand: new Uint8Array(31) })),
    ).toMatch(/^context: .*31 bytes/);
    const call = toMinerCall(post, ctx);
    expect(codeOf(() => fromMinerCall(call.method, call.params))).toBe(
      "context: SubmitWindowedPoSt needs ctx.wpostChallengeLookback",
    );
    const update = {
      number: 7,
      deadline: 0,
      partition: 0,
      newCommR: bytes32(1),
      updateProof: UPDATE_2KIB,
      proof: proof(1),
    };
    expect(
      codeOf(() => toMinerCall({ method: "ProveReplicaUpdates", updates: [{ ...update, dealIds: [3] }] }, ctx)),
    ).toMatch(
      /^context: ProveReplicaUpdates: updates\[0\]\.dealIds are \[3\] but ctx\.pieces\(7\) carries deals \[3, 1099511627776\]/,
    );
  });

  test("messages the builtin params cannot hold", () => {
    expect(codeOf(() => toMinerCall({ method: "ProveReplicaUpdates", updates: [] }, ctx))).toMatch(
      /^params: ProveReplicaUpdates: updates is empty/,
    );
    const update = { number: 9, deadline: 0, partition: 0, newCommR: bytes32(1), dealIds: [], proof: proof(1) };
    const mixed: ChainMessageBody = {
      method: "ProveReplicaUpdates",
      updates: [
        { ...update, updateProof: 0 },
        { ...update, number: 10, updateProof: 3 },
      ],
    };
    expect(codeOf(() => toMinerCall(mixed, ctx))).toMatch(
      /^params: ProveReplicaUpdates: updates\[1\]\.updateProof is 3/,
    );
    expect(
      codeOf(() => toMinerCall({ method: "ProveCommitSectors3", sectors: [{ number: 1, proof: "AAE" }] }, ctx)),
    ).toMatch(/^params: sectors\[0\]\.proof: not canonical base64/);
    const envelope = { from: "f01001", to: "f01000", gasLimit: 1, gasFeeCap: 1n, gasPremium: 1n };
    const post: ChainMessageBody = {
      method: "SubmitWindowedPoSt",
      post: { deadline: 0, open: 40, partitions: [], proofs: [] },
    };
    expect(codeOf(() => minerMessage(post, { ...envelope, nonce: 2n ** 60n }, ctx))).toMatch(/^message: nonce/);
  });
});
