import { afterEach, describe, expect, test } from "bun:test";
import { type ChainMessage, messageId } from "../../src/core/sector/chain.ts";
import { zeroCommD } from "../../src/core/sector/index.ts";
import { KVStore } from "../../src/core/store/index.ts";
import { DevnetChain, deriveRandomness, devnetSettings } from "../../src/devnet/index.ts";
import { BAD_PROOF_B64, FakeClock, fakeVerifier, VALID_PROOF_B64 } from "./helpers.ts";

const BLOCK = 1000;
const settings = devnetSettings({
  BlockTime: BLOCK,
  PreCommitChallengeDelay: 3,
  MessagePackDelay: 1,
  MessageLandDelay: 2,
  MaxTicketAge: 50,
  MaxProveCommitDuration: 20,
  WPoStPeriodDeadlines: 4,
  WPoStChallengeWindow: 5,
});
const open: DevnetChain[] = [];

function devnet(store = KVStore.open(":memory:"), clock = new FakeClock()) {
  const verifier = fakeVerifier();
  const chain = new DevnetChain({
    store,
    settings,
    verifier,
    miners: [{ actor: 1000, sectorSize: 2048 }],
    now: clock.now,
  });
  open.push(chain);
  const advance = async (epochs: number) => {
    clock.advance(epochs * BLOCK);
    await chain.tick();
  };
  return { chain, clock, store, verifier, advance };
}

afterEach(() => {
  for (const c of open.splice(0)) c.close();
});

const commR = Array.from({ length: 32 }, (_, i) => i + 1);
const commD = [...zeroCommD(2048)];
function pre(numbers: number[], sealRandEpoch: number, nonce = 1): ChainMessage {
  return {
    from: 1000,
    nonce,
    method: "PreCommitSectorBatch2",
    sectors: numbers.map((number) => ({ number, sealProof: 5, commR, commD, sealRandEpoch, dealIds: [] })),
  };
}
function prove(numbers: number[], proof = VALID_PROOF_B64, nonce = 2): ChainMessage {
  return { from: 1000, nonce, method: "ProveCommitSectors3", sectors: numbers.map((number) => ({ number, proof })) };
}

describe("devnet chain", () => {
  test("epochs follow the clock and the miner is created with the configured size", async () => {
    const { chain, advance } = devnet();
    expect((await chain.head()).epoch).toBe(0);
    await advance(7);
    expect((await chain.head()).epoch).toBe(7);
    expect(await chain.minerInfo(1000)).toEqual({
      actor: 1000,
      sectorSize: 2048,
      sealProofType: 5,
      windowPoStProofType: 10,
    });
    expect(await chain.minerInfo(1001)).toBeUndefined();
  });

  test("randomness is deterministic, refuses the future, and PoSt randomness is a field element", async () => {
    const { chain, advance } = devnet();
    await advance(10);
    expect(Buffer.from(await chain.ticketRandomness(1000, 5))).toEqual(
      Buffer.from(deriveRandomness("damocles-devnet", "SealRandomness", 1000, 5)),
    );
    await expect(chain.ticketRandomness(1000, 11)).rejects.toThrow("not available yet");
    for (let e = 0; e <= 10; e++) expect((await chain.windowPoStRandomness(1000, e))[31]! & 0xc0).toBe(0);
  });

  test("a PreCommit packs, lands after the configured epochs, and proving activates the sector into a deadline", async () => {
    const { chain, advance, verifier } = devnet();
    await advance(5);
    const cid = await chain.pushMessage(pre([1, 2], 4));
    expect(cid).toBe(messageId(pre([1, 2], 4)));
    expect((await chain.messageLookup(cid))!.status).toBe("pending");
    await advance(1);
    expect((await chain.messageLookup(cid))!.status).toBe("packed");
    expect(await chain.isSectorNumberAllocated(1000, 1)).toBe(true);
    await advance(2);
    const landed = (await chain.messageLookup(cid))!;
    expect(landed.status).toBe("landed");
    expect(landed.results).toEqual([
      { number: 1, ok: true },
      { number: 2, ok: true },
    ]);
    const pc = (await chain.preCommitInfo(1000, 1))!;
    expect(pc.preCommitEpoch).toBe(6);

    await advance(4); // past the seed epoch 6+3
    const pcid = await chain.pushMessage(prove([1, 2]));
    await advance(3);
    expect((await chain.messageLookup(pcid))!.status).toBe("landed");
    expect(verifier.calls).toBe(2);
    const s1 = (await chain.sectorInfo(1000, 1))!;
    expect(s1.activation).toBe(13);
    expect(await chain.preCommitInfo(1000, 1)).toBeUndefined();
    const power = await chain.minerPower(1000);
    expect(power).toEqual({ rawBytes: 4096, activeSectors: 2, faultySectors: 0 });
    const dls = await chain.deadlines(1000);
    const placed = dls.flatMap((d) => d.partitions.flat());
    expect(placed.sort()).toEqual([1, 2]);
    const current = (await chain.provingDeadline(1000)).index;
    // Never the deadline open at activation time, nor the next one.
    for (const n of [1, 2]) {
      const s = (await chain.sectorInfo(1000, n))!;
      expect(dls[s.deadline]!.partitions[s.partition]).toContain(n);
    }
    expect(typeof current).toBe("number");
  });

  test("pushing the same message twice is one message", async () => {
    const { chain, advance, store } = devnet();
    await advance(5);
    const a = await chain.pushMessage(pre([1], 4));
    const b = await chain.pushMessage(pre([1], 4));
    expect(a).toBe(b);
    expect(store.collection("chain").count("msg/")).toBe(1);
  });

  test("it is strict: expired tickets, reused numbers, bad proofs and early proofs are rejected", async () => {
    const { chain, advance } = devnet();
    await advance(60);
    const expired = await chain.pushMessage(pre([1], 5));
    await advance(1);
    const look = (await chain.messageLookup(expired))!;
    expect(look.status).toBe("failed");
    expect(look.error).toContain("ticket expired");
    expect(look.code).toBe("ticket-expired");

    const ok = await chain.pushMessage(pre([2], 58, 2));
    await advance(1);
    const again = await chain.pushMessage(pre([2, 3], 59, 3));
    await advance(1);
    const mixed = (await chain.messageLookup(again))!;
    expect(mixed.status).toBe("packed");
    expect(mixed.results![0]).toEqual({
      number: 2,
      ok: false,
      code: "already-allocated",
      error: "sector number 2 is already allocated on chain",
    });
    expect(mixed.results![1]!.ok).toBe(true);
    expect((await chain.messageLookup(ok))!.status).not.toBe("failed");

    const early = await chain.pushMessage(prove([3], VALID_PROOF_B64, 4));
    await advance(1);
    expect((await chain.messageLookup(early))!.error).toContain("too early");
    expect((await chain.messageLookup(early))!.code).toBe("too-early");
    expect((await chain.messageLookup(early))!.results![0]!.code).toBe("too-early");

    await advance(5);
    const bad = await chain.pushMessage(prove([3], BAD_PROOF_B64, 5));
    await advance(1);
    expect((await chain.messageLookup(bad))!.error).toContain("invalid seal proof");
    expect((await chain.messageLookup(bad))!.code).toBe("invalid-proof");
    expect(await chain.sectorInfo(1000, 3)).toBeUndefined();
    const good = await chain.pushMessage(prove([3], VALID_PROOF_B64, 6));
    await advance(3);
    expect((await chain.messageLookup(good))!.status).toBe("landed");
    expect(await chain.sectorInfo(1000, 3)).toBeDefined();
  });

  test("a PreCommit without a ProveCommit expires", async () => {
    const { chain, advance } = devnet();
    await advance(5);
    await chain.pushMessage(pre([1], 4));
    await advance(2);
    expect(await chain.preCommitInfo(1000, 1)).toBeDefined();
    await advance(30);
    expect(await chain.preCommitInfo(1000, 1)).toBeUndefined();
    expect(await chain.isSectorNumberAllocated(1000, 1)).toBe(true);
  });

  test("a malformed stored record is an error naming its key and field, not a wrongly shaped object", async () => {
    const { chain, store } = devnet();
    const kv = store.collection("chain");
    kv.putJSON("sector/1000/1", { number: 1, sealProof: 5, commR: "not bytes", activation: 0 });
    await expect(chain.sectorInfo(1000, 1)).rejects.toThrow(
      /^stored record chain\/sector\/1000\/1 is malformed: commR: /,
    );
    kv.put("miner/1000", "{truncated");
    expect(() => devnet(store)).toThrow("stored record chain/miner/1000 is malformed: not valid JSON");
  });

  test("a message that does not fit the message schema is refused at the pool", async () => {
    const { chain, advance, store } = devnet();
    await advance(5);
    const msg = pre([1], 4) as Extract<ChainMessage, { method: "PreCommitSectorBatch2" }>;
    const short: ChainMessage = { ...msg, sectors: [{ ...msg.sectors[0]!, commR: [1, 2] }] };
    await expect(chain.pushMessage(short)).rejects.toThrow("malformed message: sectors.0.commR");
    expect(store.collection("chain").count("msg/")).toBe(0);
  });

  test("a restart continues from the stored state, replaying the epochs it was down", async () => {
    const store = KVStore.open(":memory:");
    const clock = new FakeClock();
    const first = devnet(store, clock);
    await first.advance(5);
    const cid = await first.chain.pushMessage(pre([1], 4));
    first.chain.close();
    clock.advance(10 * BLOCK); // down for 10 epochs
    const second = devnet(store, clock);
    expect((await second.chain.messageLookup(cid))!.status).toBe("pending");
    await second.chain.tick();
    expect((await second.chain.head()).epoch).toBe(15);
    const look = (await second.chain.messageLookup(cid))!;
    expect(look.status).toBe("landed");
    expect(look.packedEpoch).toBe(6);
    expect(look.landedEpoch).toBe(8);
  });
});
