import { describe, expect, test } from "bun:test";
import { lotusBitfieldFromNumbers } from "../../../core/chain/lotus-bitfield.ts";
import { commDToCid, commRToCid } from "../../../core/sector/cid.ts";
import { zeroCommD } from "../../../core/sector/commd.ts";
import { networkPolicy } from "./chain-policy.ts";
import {
  actorIdOf,
  bitfieldMembers,
  DomainSeparationTag,
  deadlineIndexAt,
  dealFromLotus,
  headFromTipSet,
  minerAddress,
  minerEntropy,
  minerInfoFromLotus,
  preCommitFromLotus,
  provingSectorFromLotus,
  randomnessBytes,
  sealProofForWindowPoSt,
  sectorFromLotus,
} from "./convert.ts";
import { LotusChainError } from "./errors.ts";

const commR = Array.from({ length: 32 }, (_, i) => i + 1);
const commD = Array.from({ length: 32 }, (_, i) => 100 + i);

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof LotusChainError ? err.code : `not a LotusChainError: ${err}`;
  }
  return undefined;
}

describe("bitfields (go-bitfield JSON runs)", () => {
  test("runs to members and back", () => {
    expect(bitfieldMembers([0, 3])).toEqual([0, 1, 2]);
    expect(bitfieldMembers([2, 1, 3, 2])).toEqual([2, 6, 7]);
    expect(bitfieldMembers([])).toEqual([]);
    const members = [0, 5, 6, 7, 100, 2349];
    expect(bitfieldMembers(lotusBitfieldFromNumbers(members))).toEqual(members);
  });

  test("a bitfield too large to expand is refused with a code", () => {
    expect(codeOf(() => bitfieldMembers([0, 2 ** 30]))).toBe("bad-answer");
  });
});

test("head: height and the first block's timestamp in ms", () => {
  const head = headFromTipSet({
    Cids: [{ "/": "bafy" }],
    Blocks: [{ Miner: "f01000", Height: 42, Timestamp: 1_700_000_000, ParentBaseFee: "1" }],
    Height: 42,
  });
  expect(head).toEqual({ epoch: 42, timestamp: 1_700_000_000_000 });
  expect(codeOf(() => headFromTipSet({ Cids: [], Blocks: [], Height: 1 }))).toBe("bad-answer");
});

describe("proof types", () => {
  test("WindowPoSt V1_1 10..14 → seal V1_1 5..9", () => {
    expect([10, 11, 12, 13, 14].map(sealProofForWindowPoSt)).toEqual([5, 6, 7, 8, 9]);
    // The older WindowPoSt V1 types (5..9) map to the same seal proofs by sector size.
    expect(sealProofForWindowPoSt(8)).toBe(8);
  });

  test("a winning PoSt type or an unknown number is refused", () => {
    expect(codeOf(() => sealProofForWindowPoSt(3))).toBe("bad-answer");
    expect(codeOf(() => sealProofForWindowPoSt(99))).toBe("bad-answer");
  });

  test("miner info", () => {
    const base = { Owner: "f0100", Worker: "f0101", ControlAddresses: null, WindowPoStPartitionSectors: 2349 };
    expect(minerInfoFromLotus(1000, { ...base, WindowPoStProofType: 13, SectorSize: 32 * 2 ** 30 })).toEqual({
      actor: 1000,
      sectorSize: 32 * 2 ** 30,
      sealProofType: 8,
      windowPoStProofType: 13,
    });
    expect(codeOf(() => minerInfoFromLotus(1000, { ...base, WindowPoStProofType: 13, SectorSize: 2048 }))).toBe(
      "bad-answer",
    );
  });
});

describe("addresses and randomness", () => {
  test("miner addresses by network, actor ids back", () => {
    expect(minerAddress(1000, "mainnet")).toBe("f01000");
    expect(minerAddress(1000, "calibrationnet")).toBe("t01000");
    expect(actorIdOf("t01234", "Provider")).toBe(1234);
    expect(codeOf(() => actorIdOf("f1abcdefg", "Provider"))).toBe("bad-answer");
  });

  test("entropy is the CBOR byte string of the address bytes", () => {
    // f01000: protocol 0, uvarint(1000) = e8 07; CBOR byte string of 3 bytes: 0x43.
    expect([...Buffer.from(minerEntropy(1000), "base64")]).toEqual([0x43, 0x00, 0xe8, 0x07]);
  });

  test("domain separation tags match go-state-types", () => {
    expect(DomainSeparationTag).toMatchObject({
      WinningPoStChallengeSeed: 3,
      WindowedPoStChallengeSeed: 4,
      SealRandomness: 5,
      InteractiveSealChallengeSeed: 6,
    });
  });

  test("randomness is 32 bytes; PoSt randomness gets its top two bits cleared", () => {
    const raw = Buffer.alloc(32, 0xff).toString("base64");
    expect(randomnessBytes(raw, "m", false)[31]).toBe(0xff);
    expect(randomnessBytes(raw, "m", true)[31]).toBe(0x3f);
    expect(codeOf(() => randomnessBytes(Buffer.alloc(31).toString("base64"), "m", false))).toBe("bad-answer");
    expect(codeOf(() => randomnessBytes(null, "m", false))).toBe("bad-answer");
  });
});

describe("deadlines", () => {
  const dl = {
    CurrentEpoch: 125,
    PeriodStart: 120,
    Index: 0,
    Open: 120,
    Close: 130,
    Challenge: 117,
    FaultCutoff: 118,
    WPoStPeriodDeadlines: 4,
    WPoStProvingPeriod: 40,
    WPoStChallengeWindow: 10,
    WPoStChallengeLookback: 3,
    FaultDeclarationCutoff: 2,
  };
  test("the index of any instance's open epoch, or none off the grid", () => {
    expect(deadlineIndexAt(dl, 120)).toBe(0);
    expect(deadlineIndexAt(dl, 150)).toBe(3);
    expect(deadlineIndexAt(dl, 160)).toBe(0);
    expect(deadlineIndexAt(dl, 110)).toBe(3);
    expect(deadlineIndexAt(dl, 121)).toBeUndefined();
  });

  test("policy of a real network", () => {
    const p = networkPolicy({ blockDelaySecs: 30, preCommitChallengeDelay: 150, deadline: dl, messageConfidence: 5 });
    expect(p).toEqual({
      blockTimeMs: 30_000,
      preCommitChallengeDelay: 150,
      sealRandomnessLookback: 900,
      maxTicketAge: 3780,
      maxProveCommitDuration: 3030,
      interactivePoRepConfidence: 6,
      wpostPeriodDeadlines: 4,
      wpostChallengeWindow: 10,
      wpostChallengeLookback: 3,
      messageConfidence: 5,
    });
    const mainnet = networkPolicy({ blockDelaySecs: 30, preCommitChallengeDelay: 150, messageConfidence: 5 });
    expect([mainnet.wpostPeriodDeadlines, mainnet.wpostChallengeWindow, mainnet.wpostChallengeLookback]).toEqual([
      48, 60, 20,
    ]);
  });
});

describe("sectors", () => {
  test("pre-commit with deals, and a CC pre-commit whose CommD is the zero sector's", () => {
    const info = {
      SealProof: 5,
      SectorNumber: 7,
      SealedCID: { "/": commRToCid(commR) },
      SealRandEpoch: 90,
      DealIDs: [3],
      Expiration: 9999,
      UnsealedCid: { "/": commDToCid(commD) },
    };
    expect(preCommitFromLotus({ Info: info, PreCommitEpoch: 95 })).toEqual({
      number: 7,
      sealProof: 5,
      commR,
      commD,
      sealRandEpoch: 90,
      dealIds: [3],
      preCommitEpoch: 95,
    });
    const cc = preCommitFromLotus({ Info: { ...info, DealIDs: null, UnsealedCid: null }, PreCommitEpoch: 95 });
    expect(cc.commD).toEqual([...zeroCommD(2048)]);
    expect(cc.dealIds).toEqual([]);
    // A piece CID where a sealed CID belongs is refused, never read as a CommR.
    const wrong = { Info: { ...info, SealedCID: { "/": commDToCid(commD) } }, PreCommitEpoch: 95 };
    expect(codeOf(() => preCommitFromLotus(wrong))).toBe("bad-answer");
  });

  test("sector info with location and sector key", () => {
    const s = {
      SectorNumber: 4,
      SealProof: 5,
      SealedCID: { "/": commRToCid(commR) },
      DealIDs: null,
      Activation: 10,
      Expiration: 500,
      SectorKeyCID: null,
    };
    expect(sectorFromLotus(s, { Deadline: 2, Partition: 1 })).toEqual({
      number: 4,
      sealProof: 5,
      commR,
      activation: 10,
      expiration: 500,
      deadline: 2,
      partition: 1,
      dealIds: [],
    });
    const updated = sectorFromLotus({ ...s, SectorKeyCID: { "/": commRToCid(commD) } }, { Deadline: 0, Partition: 0 });
    expect(updated.sectorKeyCommR).toEqual(commD);
    expect(provingSectorFromLotus(s)).toEqual({ number: 4, sealProof: 5, commR, upgraded: false });
    expect(provingSectorFromLotus({ ...s, SectorKeyCID: { "/": commRToCid(commD) } }).upgraded).toBe(true);
  });
});

describe("deals", () => {
  const deal = (state: { SectorStartEpoch: number; SlashEpoch: number; SectorNumber?: number }) => ({
    Proposal: {
      PieceCID: { "/": commDToCid(commD) },
      PieceSize: 2048,
      VerifiedDeal: false,
      Client: "f0200",
      Provider: "f01000",
      Label: "hello",
      StartEpoch: 100,
      EndEpoch: 1000,
      StoragePricePerEpoch: "0",
      ProviderCollateral: "0",
      ClientCollateral: "0",
    },
    State: { LastUpdatedEpoch: -1, ...state },
  });

  test("published, expired before activation, active, expired after its end, slashed", () => {
    const published = dealFromLotus(5, deal({ SectorStartEpoch: -1, SlashEpoch: -1 }), 50);
    expect(published).toEqual({
      id: 5,
      proposal: {
        pieceCid: commDToCid(commD),
        pieceSize: 2048,
        client: "f0200",
        provider: 1000,
        startEpoch: 100,
        endEpoch: 1000,
        verified: false,
        label: "hello",
      },
      state: "published",
      publishEpoch: -1,
    });
    expect(dealFromLotus(5, deal({ SectorStartEpoch: -1, SlashEpoch: -1 }), 101)).toMatchObject({
      state: "expired",
      closedEpoch: 100,
    });
    expect(dealFromLotus(5, deal({ SectorStartEpoch: 90, SlashEpoch: -1, SectorNumber: 3 }), 500)).toMatchObject({
      state: "active",
      activationEpoch: 90,
      sectorNumber: 3,
    });
    expect(dealFromLotus(5, deal({ SectorStartEpoch: 90, SlashEpoch: -1 }), 1001)).toMatchObject({
      state: "expired",
      closedEpoch: 1000,
    });
    expect(dealFromLotus(5, deal({ SectorStartEpoch: 90, SlashEpoch: 400 }), 500)).toMatchObject({
      state: "slashed",
      closedEpoch: 400,
      activationEpoch: 90,
    });
  });
});
