import { afterEach, describe, expect, test } from "bun:test";
import type { PoStMessage, ProvingPartition } from "../../src/core/sector/chain.ts";
import { winningPoStProofFor } from "../../src/core/sector/index.ts";
import { KVStore } from "../../src/core/store/index.ts";
import {
  DevnetChain,
  devnetSettings,
  InvalidProofError,
  type PoStVerifier,
  type PoStVerifyInput,
} from "../../src/devnet/index.ts";
import { FakeClock, fakeVerifier } from "./helpers.ts";

const BLOCK = 1000;
const WINDOW = 5;
const b64 = (text: string) => Buffer.from(text).toString("base64");

/** Accepts the proof bytes "good", finds "garbage" unparseable, rejects anything else. */
const verify = async ({ proofs }: PoStVerifyInput): Promise<boolean> => {
  const text = Buffer.from(proofs[0]!.proof).toString();
  if (text === "garbage") throw new InvalidProofError("not on the curve");
  return text === "good";
};
const postVerifier: PoStVerifier = { name: "test", verifyWindowPoSt: verify, verifyWinningPoSt: verify };

const open: DevnetChain[] = [];
afterEach(() => {
  for (const c of open.splice(0)) c.close();
});

/** A devnet with four pre-sealed sectors, active from genesis, so WindowPoSt starts at once. */
function devnet() {
  const clock = new FakeClock();
  const chain = new DevnetChain({
    store: KVStore.open(":memory:"),
    settings: devnetSettings({
      BlockTime: BLOCK,
      WPoStPeriodDeadlines: 4,
      WPoStChallengeWindow: WINDOW,
      WPoStChallengeLookback: 2,
      ElectionPeriod: 1,
    }),
    verifier: fakeVerifier(),
    postVerifier,
    preseal: [1, 2, 3, 4].map((number) => ({ actor: 1000, number, sealProof: 5, commR: Array(32).fill(number) })),
    miners: [{ actor: 1000, sectorSize: 2048 }],
    now: clock.now,
  });
  open.push(chain);
  const advance = async (epochs: number) => {
    clock.advance(epochs * BLOCK);
    await chain.tick();
  };
  /** Moves to the next deadline that has sectors to prove; returns it with its partitions. */
  const nextProvable = async () => {
    for (;;) {
      const dl = await chain.provingDeadline(1000);
      const parts = await chain.provingPartitions(1000, dl.open);
      if (parts.some((p) => p.sectors.length > 0)) return { dl, parts };
      await advance(dl.close - dl.currentEpoch);
    }
  };
  return { chain, advance, nextProvable };
}

function submission(dl: { index: number; open: number }, parts: ProvingPartition[], proof: string): PoStMessage {
  return {
    from: 1000,
    nonce: dl.open,
    method: "SubmitWindowedPoSt",
    post: {
      deadline: dl.index,
      open: dl.open,
      partitions: parts
        .filter((p) => p.sectors.length > 0)
        .map((p) => ({ index: p.index, skipped: [], recovered: [] })),
      proofs: [{ postProof: 10, proof: b64(proof) }],
    },
  };
}

describe("devnet WindowPoSt", () => {
  test("a verified proof proves its partitions; a deadline closed without one makes its sectors faulty", async () => {
    const { chain, advance, nextProvable } = devnet();
    const first = await nextProvable();
    const cid = await chain.pushMessage(submission(first.dl, first.parts, "good"));
    await advance(2);
    expect((await chain.messageLookup(cid))!.status).toBe("landed");
    const proven = first.parts.flatMap((p) => p.sectors.map((s) => s.number));
    await advance(first.dl.close - first.dl.open);

    const second = await nextProvable(); // left unproven
    await advance(second.dl.close - second.dl.currentEpoch);
    const records = await chain.postRecords(1000);
    expect(records.find((r) => r.open === first.dl.open)).toMatchObject({ outcome: "proven", verifiedProofs: 1 });
    expect(records.find((r) => r.open === second.dl.open)!.outcome).toBe("missed");
    const faulty = (await chain.faults(1000)).map((f) => f.number);
    expect(faulty).toEqual(second.parts.flatMap((p) => p.sectors.map((s) => s.number)).sort());
    expect(faulty.some((n) => proven.includes(n))).toBe(false);
    expect(await chain.provingStats(1000)).toMatchObject({ windowPoStsVerified: 1, deadlinesMissed: 1 });
  });

  test("refusals carry a reason code: a wrong proof, an unparseable one, a proof for another deadline", async () => {
    const { chain, advance, nextProvable } = devnet();
    const { dl, parts } = await nextProvable();
    const bad = await chain.pushMessage(submission(dl, parts, "bad"));
    const garbage = await chain.pushMessage({ ...submission(dl, parts, "garbage"), nonce: 1 });
    const stale = await chain.pushMessage(submission({ index: dl.index, open: dl.open - 4 * WINDOW }, parts, "good"));
    await advance(1);
    for (const [cid, code] of [
      [bad, "invalid-proof"],
      [garbage, "invalid-proof"],
      [stale, "wrong-deadline"],
    ] as const) {
      const look = (await chain.messageLookup(cid))!;
      expect(look.status).toBe("failed");
      expect(look.code).toBe(code);
    }
    expect((await chain.provingStats(1000)).windowPoStsRejected).toBe(3);
  });
});

describe("devnet WinningPoSt", () => {
  test("a sole miner with ElectionPeriod 1 wins every epoch; its block counts once the proof verifies", async () => {
    const { chain, advance } = devnet();
    await advance(3);
    const proofType = winningPoStProofFor(5);
    expect(await chain.isElected(1000, 3)).toBe(true);
    expect((await chain.winningSectorSet(1000, 3)).map((s) => s.number)).toEqual([1, 2, 3, 4]);
    const refused = async (epoch: number, proofs: { postProof: number; proof: string }[]) =>
      (await chain.submitBlock(1000, epoch, proofs)).code;
    expect(await refused(5, [{ postProof: proofType, proof: b64("good") }])).toBe("future-epoch");
    expect(await refused(3, [{ postProof: proofType, proof: b64("bad") }])).toBe("invalid-proof");
    expect(await refused(3, [{ postProof: 99, proof: b64("good") }])).toBe("wrong-proof-type");
    expect(await chain.submitBlock(1000, 3, [{ postProof: proofType, proof: b64("good") }])).toEqual({
      actor: 1000,
      epoch: 3,
      ok: true,
      sectors: 4,
    });
    await advance(10);
    expect(await refused(3, [{ postProof: proofType, proof: b64("good") }])).toBeUndefined(); // already accepted
    expect(await refused(2, [{ postProof: proofType, proof: b64("good") }])).toBe("too-late");
    expect(await chain.provingStats(1000)).toMatchObject({ blocksMined: 1, winningPoStsRejected: 3 + 1 });
  });
});
