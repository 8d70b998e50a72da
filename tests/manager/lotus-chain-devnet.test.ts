import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { createToken, secretAuthenticator } from "../../src/core/auth/index.ts";
import { commDToCid } from "../../src/core/sector/cid.ts";
import { zeroCommD } from "../../src/core/sector/commd.ts";
import { KVStore } from "../../src/core/store/index.ts";
import { acceptAllPoStVerifier, DevnetChain, devnetRpc, devnetSettings } from "../../src/devnet/index.ts";
import type { LotusChain } from "../../src/manager/chain/lotus/chain.ts";
import { connectLotusChain } from "../../src/manager/chain/lotus/connect.ts";
import { FakeClock, fakeVerifier } from "./helpers.ts";

/**
 * The Lotus chain client against the embedded devnet's node API (in-process, through ClientOptions.fetch):
 * every read answers what the devnet itself answers, so the manager sees the same chain either way.
 */

const BLOCK = 1000;
const settings = devnetSettings({
  Seed: "lotus-chain-devnet",
  BlockTime: BLOCK,
  PreCommitChallengeDelay: 3,
  MessagePackDelay: 1,
  MessageLandDelay: 1,
  WPoStPeriodDeadlines: 4,
  WPoStChallengeWindow: 5,
  WPoStChallengeLookback: 2,
  // One miner with power and ElectionPeriod 1: it wins every epoch, so a block can be submitted at the head.
  ElectionPeriod: 1,
});
const commR = (n: number) => Array.from({ length: 32 }, (_, i) => (i * 11 + n) % 256);

const clock = new FakeClock();
const store = KVStore.open(":memory:");
const devnet = new DevnetChain({
  store,
  settings,
  verifier: fakeVerifier(),
  postVerifier: acceptAllPoStVerifier,
  miners: [{ actor: 1000, sectorSize: 2048 }],
  preseal: [1, 2, 3].map((number) => ({ actor: 1000, number, sealProof: 5, commR: commR(number) })),
  now: clock.now,
});
const advance = async (epochs: number) => {
  clock.advance(epochs * BLOCK);
  await devnet.tick();
};

let chain: LotusChain;

beforeAll(async () => {
  const secret = new Uint8Array(randomBytes(32));
  const rpc = devnetRpc(devnet, {
    store,
    workerOf: (actor) => (actor === 1000 ? "t0100" : undefined),
    auth: secretAuthenticator(secret),
  });
  await advance(7);
  chain = await connectLotusChain({
    chain: "http://devnet.in-process",
    token: await createToken(secret, { name: "manager", perm: "sign" }),
    fetch: rpc.fetch,
    miners: [1000],
    messageConfidence: 9,
    messages: () => ({
      push: (msg) => devnet.pushMessage(msg),
      lookup: (id) => devnet.messageLookup(id),
    }),
  });
});

afterAll(() => {
  chain.close();
  devnet.close();
  store.close();
});

describe("LotusChain over the devnet's node API", () => {
  test("head, policy, miners", async () => {
    expect(chain.isDevnet).toBe(true);
    expect(await chain.head()).toEqual(await devnet.head());
    expect(chain.policy()).toEqual(devnet.policy());
    expect(await chain.minerInfo(1000)).toEqual(await devnet.minerInfo(1000));
    expect(await chain.minerInfo(1001)).toBeUndefined();
    expect(await chain.listMiners()).toEqual(await devnet.listMiners());
  });

  test("randomness of each kind is the devnet's", async () => {
    const epoch = (await devnet.head()).epoch - 1;
    expect(await chain.ticketRandomness(1000, epoch)).toEqual(await devnet.ticketRandomness(1000, epoch));
    expect(await chain.interactiveSeedRandomness(1000, epoch)).toEqual(
      await devnet.interactiveSeedRandomness(1000, epoch),
    );
    expect(await chain.windowPoStRandomness(1000, epoch)).toEqual(await devnet.windowPoStRandomness(1000, epoch));
    expect(await chain.winningPoStRandomness(1000, epoch)).toEqual(await devnet.winningPoStRandomness(1000, epoch));
  });

  test("sectors, allocation, deadlines, partitions, power", async () => {
    for (const n of [1, 2, 3]) expect(await chain.sectorInfo(1000, n)).toEqual(await devnet.sectorInfo(1000, n));
    expect(await chain.sectorInfo(1000, 40)).toBeUndefined();
    expect(await chain.isSectorNumberAllocated(1000, 2)).toBe(true);
    expect(await chain.isSectorNumberAllocated(1000, 40)).toBe(false);
    const dl = await devnet.provingDeadline(1000);
    expect(await chain.provingDeadline(1000)).toEqual(dl);
    expect(await chain.deadlines(1000)).toEqual(await devnet.deadlines(1000));
    for (let i = 0; i < devnet.policy().wpostPeriodDeadlines; i++) {
      const open = dl.open + i * devnet.policy().wpostChallengeWindow;
      expect(await chain.provingPartitions(1000, open)).toEqual(await devnet.provingPartitions(1000, open));
    }
    expect(await chain.minerPower(1000)).toEqual(await devnet.minerPower(1000));
    const epoch = (await devnet.head()).epoch;
    expect(await chain.winningSectorSet(1000, epoch)).toEqual(await devnet.winningSectorSet(1000, epoch));
  });

  test("a pre-commit, through the message port and back from state", async () => {
    const cc = [...zeroCommD(2048)];
    const sealRandEpoch = (await devnet.head()).epoch - 1;
    const id = await chain.pushMessage({
      from: 1000,
      nonce: 1,
      method: "PreCommitSectorBatch2",
      sectors: [{ number: 10, sealProof: 5, commR: commR(10), commD: cc, sealRandEpoch, dealIds: [] }],
    });
    await advance(3);
    expect((await chain.messageLookup(id))?.status).not.toBe("failed");
    expect(await chain.preCommitInfo(1000, 10)).toEqual(await devnet.preCommitInfo(1000, 10));
    expect(await chain.preCommitInfo(1000, 11)).toBeUndefined();
  });

  test("deals: publish, read back, a refusal with its code", async () => {
    const head = (await devnet.head()).epoch;
    const proposal = {
      pieceCid: commDToCid(zeroCommD(2048)),
      pieceSize: 2048,
      client: "t0100",
      provider: 1000,
      startEpoch: head + 100,
      endEpoch: head + 1000,
      verified: false,
      label: "lotus client",
    };
    const deal = await chain.publishDeal(proposal);
    expect(deal).toEqual((await devnet.marketDeal(deal.id))!);
    const read = await chain.marketDeal(deal.id);
    // Lotus' market state keeps no publish epoch; the rest is the devnet's deal.
    expect(read).toEqual({ ...deal, publishEpoch: -1 });
    expect(await chain.marketDeal(9999)).toBeUndefined();
    const refused = await chain.publishDeal({ ...proposal, startEpoch: 0 }).catch((e) => e);
    expect(refused.code).toBe("deal-invalid");
  });

  test("PoSt bookkeeping and elections are the devnet's", async () => {
    expect(await chain.faults(1000)).toEqual(await devnet.faults(1000));
    expect(await chain.postRecords(1000, 5)).toEqual(await devnet.postRecords(1000, 5));
    expect(await chain.provingStats(1000)).toEqual(await devnet.provingStats(1000));
    const epoch = (await devnet.head()).epoch;
    expect(await chain.isElected(1000, epoch)).toBe(await devnet.isElected(1000, epoch));
    expect(await chain.submitBlock(1000, epoch + 1000, [])).toMatchObject({ ok: false, code: "future-epoch" });
  });

  test("a won block through MinerCreateBlock and SyncSubmitBlock is accepted and counted", async () => {
    const epoch = (await devnet.head()).epoch;
    const mined = (await devnet.provingStats(1000)).blocksMined;
    const proofs = [{ postProof: 0, proof: Buffer.from("winning").toString("base64") }];
    expect(await chain.submitBlock(1000, epoch, proofs)).toEqual({ actor: 1000, epoch, ok: true, sectors: 3 });
    expect((await devnet.provingStats(1000)).blocksMined).toBe(mined + 1);
    // A block for an epoch past the lateness limit is refused with its code.
    const late = epoch - devnet.policy().wpostChallengeWindow - 1;
    expect(await chain.submitBlock(1000, late, proofs)).toMatchObject({ ok: false, code: "too-late", sectors: 0 });
  });
});
