import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  deadlineAt,
  type FakeLotusNode,
  type FakeModel,
  fakeCommitment,
  fakeMiner,
  fakeModel,
  fakeRandomness,
  GENESIS_TIMESTAMP,
  startFakeLotusNode,
} from "../../../../tests/helpers/fake-lotus-node.ts";
import { DEVNET_NETWORK_PREFIX } from "../../../core/chain/lotus-api.ts";
import type { ChainMessage, ChainPolicy, MessageLookup } from "../../../core/sector/chain.ts";
import { DealRejectedError } from "../../../core/sector/chain.ts";
import { commDToCid } from "../../../core/sector/cid.ts";
import type { LotusChain, MessagePort } from "./chain.ts";
import { connectLotusChain } from "./connect.ts";
import { minerEntropy } from "./convert.ts";
import { LotusChainError } from "./errors.ts";

const DEVNET_POLICY: ChainPolicy = {
  blockTimeMs: 100,
  preCommitChallengeDelay: 10,
  sealRandomnessLookback: 5,
  maxTicketAge: 50,
  maxProveCommitDuration: 60,
  interactivePoRepConfidence: 1,
  wpostPeriodDeadlines: 4,
  wpostChallengeWindow: 10,
  wpostChallengeLookback: 3,
  messageConfidence: 1,
};

/** A miner f01000 with sectors in deadlines 0 and 2; sector 2 faulty, sector 3 snap-updated. */
function model(networkName: string): FakeModel {
  const sector = (number: number, deadline: number, partition: number) => ({
    number,
    sealProof: 5,
    commR: fakeCommitment(number),
    deadline,
    partition,
    activation: 10 + number,
    expiration: 5000,
    dealIds: [] as number[],
  });
  const m = fakeModel({
    networkName,
    height: 122, // deadline 0 of the period starting at 120 is open
    ...(networkName.startsWith(DEVNET_NETWORK_PREFIX) ? { devnetPolicy: DEVNET_POLICY } : {}),
  });
  m.miners.set(
    1000,
    fakeMiner(1000, {
      sectors: [
        sector(1, 0, 0),
        sector(2, 0, 0),
        { ...sector(3, 0, 1), sectorKey: fakeCommitment(300), dealIds: [7] },
        sector(4, 2, 0),
      ],
      preCommits: [
        {
          number: 9,
          sealProof: 5,
          commR: fakeCommitment(9),
          sealRandEpoch: 100,
          dealIds: [],
          expiration: 5000,
          preCommitEpoch: 110,
        },
      ],
      allocated: new Set([1, 2, 3, 4, 9]),
      faults: new Set([2]),
      postSubmissions: new Map([[0, new Set([1])]]),
      rawBytePower: "6144",
    }),
  );
  m.deals.set(7, {
    pieceCid: commDToCid(fakeCommitment(70)),
    pieceSize: 2048,
    client: "f0200",
    provider: 1000,
    startEpoch: 200,
    endEpoch: 3000,
    verified: false,
    label: "seven",
    sectorStartEpoch: 115,
    slashEpoch: -1,
    sectorNumber: 3,
  });
  return m;
}

/** The message side as the chain sees it: what was pushed, and lookups of it. */
class RecordingMessages implements MessagePort {
  readonly pushed: ChainMessage[] = [];
  async push(msg: ChainMessage): Promise<string> {
    this.pushed.push(msg);
    return `bafy-message-${this.pushed.length}`;
  }
  async lookup(id: string): Promise<MessageLookup | undefined> {
    const n = Number(id.replace("bafy-message-", ""));
    const message = this.pushed[n - 1];
    return message ? { cid: id, message, status: "pending", pushedEpoch: 122 } : undefined;
  }
}

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

interface Setup {
  node: FakeLotusNode;
  chain: LotusChain;
  messages: RecordingMessages;
  stop: () => Promise<void>;
}

async function setup(networkName: string, transport: "socket" | "in-process"): Promise<Setup> {
  const node = await startFakeLotusNode(model(networkName));
  const messages = new RecordingMessages();
  const common = { miners: [1000], messageConfidence: 4, messages: () => messages };
  if (transport === "socket") {
    const server = node.serve();
    const chain = await connectLotusChain({
      ...common,
      chain: `${node.tokens.sign}:/ip4/127.0.0.1/tcp/${server.port}/http`,
    });
    return { node, chain, messages, stop: server.stop };
  }
  const chain = await connectLotusChain({
    ...common,
    chain: "http://devnet.in-process",
    token: node.tokens.sign,
    fetch: node.fetch,
  });
  return { node, chain, messages, stop: async () => {} };
}

function expectCode(err: unknown, code: string): void {
  expect(err).toBeInstanceOf(LotusChainError);
  expect((err as LotusChainError).code).toBe(code as LotusChainError["code"]);
}

for (const transport of ["socket", "in-process"] as const) {
  describe(`LotusChain over a Lotus node (${transport})`, () => {
    let s: Setup;
    beforeAll(async () => {
      s = await setup("mainnet", transport);
    });
    afterAll(async () => {
      s.chain.close();
      await s.stop();
    });

    test("head and policy", async () => {
      expect(await s.chain.head()).toEqual({ epoch: 122, timestamp: (GENESIS_TIMESTAMP + 122 * 30) * 1000 });
      expect(s.chain.policy()).toMatchObject({
        blockTimeMs: 30_000,
        preCommitChallengeDelay: 150,
        sealRandomnessLookback: 900,
        wpostPeriodDeadlines: 4,
        wpostChallengeWindow: 10,
        wpostChallengeLookback: 3,
        messageConfidence: 4,
      });
      expect(s.chain.isDevnet).toBe(false);
    });

    test("miners", async () => {
      const info = { actor: 1000, sectorSize: 2048, sealProofType: 5, windowPoStProofType: 10 };
      expect(await s.chain.minerInfo(1000)).toEqual(info);
      expect(await s.chain.minerInfo(999)).toBeUndefined();
      expect(await s.chain.listMiners()).toEqual([info]);
    });

    test("randomness: tags, epoch and the miner's entropy reach the node; PoSt values are canonical", async () => {
      const entropy = minerEntropy(1000);
      expect(await s.chain.ticketRandomness(1000, 50)).toEqual(fakeRandomness("tickets", 5, 50, entropy));
      expect(await s.chain.interactiveSeedRandomness(1000, 60)).toEqual(fakeRandomness("beacon", 6, 60, entropy));
      const wpost = fakeRandomness("beacon", 4, 117, entropy);
      wpost[31]! &= 0x3f;
      expect(await s.chain.windowPoStRandomness(1000, 117)).toEqual(wpost);
      const winning = fakeRandomness("beacon", 3, 123, entropy);
      winning[31]! &= 0x3f;
      expect(await s.chain.winningPoStRandomness(1000, 123)).toEqual(winning);
    });

    test("messages go to the message port", async () => {
      const msg: ChainMessage = {
        from: 1000,
        nonce: 1,
        method: "ProveCommitSectors3",
        sectors: [{ number: 9, proof: "AAAA" }],
      };
      const id = await s.chain.pushMessage(msg);
      expect(s.messages.pushed.at(-1)).toEqual(msg);
      expect((await s.chain.messageLookup(id))?.message).toEqual(msg);
    });

    test("pre-commits, sectors, allocation", async () => {
      const pc = await s.chain.preCommitInfo(1000, 9);
      expect(pc).toMatchObject({ number: 9, sealProof: 5, commR: fakeCommitment(9), preCommitEpoch: 110 });
      expect(pc?.commD).toHaveLength(32);
      expect(await s.chain.preCommitInfo(1000, 10)).toBeUndefined();
      expect(await s.chain.sectorInfo(1000, 3)).toEqual({
        number: 3,
        sealProof: 5,
        commR: fakeCommitment(3),
        activation: 13,
        expiration: 5000,
        deadline: 0,
        partition: 1,
        dealIds: [7],
        sectorKeyCommR: fakeCommitment(300),
      });
      expect(await s.chain.sectorInfo(1000, 77)).toBeUndefined();
      expect(await s.chain.isSectorNumberAllocated(1000, 9)).toBe(true);
      expect(await s.chain.isSectorNumberAllocated(1000, 10)).toBe(false);
    });

    test("deadlines and power", async () => {
      expect(await s.chain.provingDeadline(1000)).toEqual({
        currentEpoch: 122,
        periodStart: 120,
        index: 0,
        open: 120,
        close: 130,
        challenge: 117,
      });
      expect(await s.chain.deadlines(1000)).toEqual([
        { index: 0, partitions: [[1, 2], [3]] },
        { index: 1, partitions: [] },
        { index: 2, partitions: [[4]] },
        { index: 3, partitions: [] },
      ]);
      expect(await s.chain.minerPower(1000)).toEqual({ rawBytes: 6144, activeSectors: 4, faultySectors: 1 });
    });

    test("proving partitions of the open deadline, a later instance, and an epoch no deadline opens at", async () => {
      const open = await s.chain.provingPartitions(1000, 120);
      expect(open.map((p) => ({ ...p, sectors: p.sectors.map((x) => [x.number, x.upgraded]) }))).toEqual([
        {
          index: 0,
          sectors: [
            [1, false],
            [2, false],
          ],
          faults: [2],
          proven: false,
        },
        { index: 1, sectors: [[3, true]], faults: [], proven: true },
      ]);
      expect(open[0]!.sectors[0]!.commR).toEqual(fakeCommitment(1));
      const next = await s.chain.provingPartitions(1000, 160);
      expect(next.map((p) => p.proven)).toEqual([false, false]);
      expect((await s.chain.provingPartitions(1000, 140)).map((p) => p.sectors.map((x) => x.number))).toEqual([[4]]);
      expectCode(await s.chain.provingPartitions(1000, 121).catch((e) => e), "wrong-deadline");
    });

    test("market deals; publishing is Boost's on a real network", async () => {
      expect(await s.chain.marketDeal(7)).toMatchObject({
        id: 7,
        state: "active",
        sectorNumber: 3,
        activationEpoch: 115,
      });
      expect(await s.chain.marketDeal(8)).toBeUndefined();
      const proposal = {
        pieceCid: commDToCid(fakeCommitment(80)),
        pieceSize: 2048,
        client: "f0200",
        provider: 1000,
        startEpoch: 500,
        endEpoch: 3000,
        verified: false,
        label: "",
      };
      const err = await s.chain.publishDeal(proposal).catch((e) => e);
      expectCode(err, "not-supported");
      expect((err as Error).message).toContain("Boost");
    });

    test("PoSt bookkeeping from state: faults detected, no records, zero stats; elections refused", async () => {
      expect(await s.chain.faults(1000)).toEqual([
        { number: 2, since: -1, kind: "detected", reason: "faulty on chain (StateMinerFaults)" },
      ]);
      expect(await s.chain.postRecords(1000)).toEqual([]);
      expect((await s.chain.provingStats(1000)).windowPoStsVerified).toBe(0);
      expectCode(await s.chain.isElected(1000, 123).catch((e) => e), "not-supported");
    });

    test("a block goes through MinerCreateBlock and SyncSubmitBlock; Lotus' text-only refusal is thrown", async () => {
      s.node.model.templates.length = 0;
      s.node.model.blocks.length = 0;
      const proofs = [{ postProof: 3, proof: "AAEC" }];
      expect(await s.chain.submitBlock(1000, 122, proofs)).toEqual({ actor: 1000, epoch: 122, ok: true, sectors: 3 });
      expect(s.node.model.templates[0]).toMatchObject({
        Miner: "f01000",
        Parents: [{ "/": "bafy2bzacea" }],
        Epoch: 122,
        Timestamp: GENESIS_TIMESTAMP + 122 * 30,
        Eproof: { WinCount: 1 },
        WinningPoStProof: [{ PoStProof: 3, ProofBytes: "AAEC" }],
        Messages: [],
      });
      expect(s.node.model.blocks.map((b) => b.Header.Height)).toEqual([122]);
      // A block one epoch ahead of the head is stamped one block time later.
      const err = await s.chain.submitBlock(1000, 123, proofs).catch((e) => e);
      expect((err as Error).message).toContain("in the future");
      expect(s.node.model.templates[1]?.Timestamp).toBe(GENESIS_TIMESTAMP + 123 * 30);
      expect(s.node.model.blocks).toHaveLength(1);
    });

    test("winning sector set: the base info's sectors, upgraded from their infos", async () => {
      const set = await s.chain.winningSectorSet(1000, 123);
      expect(set.map((x) => [x.number, x.upgraded])).toEqual([
        [1, false],
        [3, true],
        [4, false],
      ]);
      expect(await s.chain.winningSectorSet(1000, 500)).toEqual([]);
    });
  });
}

describe("LotusChain over the devnet's API", () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup(`${DEVNET_NETWORK_PREFIX}-test`, "in-process");
  });
  afterAll(async () => {
    s.chain.close();
    await s.stop();
  });

  test("a miner the devnet does not have is undefined, as on Lotus", async () => {
    expect(await s.chain.minerInfo(999)).toBeUndefined();
    expect((await s.chain.minerInfo(1000))?.sealProofType).toBe(5);
  });

  test("the devnet's own policy", () => {
    expect(s.chain.isDevnet).toBe(true);
    expect(s.chain.policy()).toEqual(DEVNET_POLICY);
  });

  test("PoSt bookkeeping and elections from Devnet.*", async () => {
    expect(await s.chain.faults(1000)).toEqual([
      { number: 2, since: 7, kind: "declared", reason: "skipped by the miner" },
    ]);
    expect(await s.chain.postRecords(1000, 1)).toHaveLength(1);
    expect(await s.chain.provingStats(1000)).toMatchObject({ windowPoStsVerified: 4, blocksMined: 3 });
    s.node.model.electedEpochs.add(130);
    expect(await s.chain.isElected(1000, 130)).toBe(true);
    expect(await s.chain.isElected(1000, 131)).toBe(false);
    expect(await s.chain.submitBlock(1000, 122, [{ postProof: 0, proof: "AAAA" }])).toEqual({
      actor: 1000,
      epoch: 122,
      ok: true,
      sectors: 3,
    });
    // The devnet's refusal carries its RejectionCode: a BlockRecord, not a throw.
    expect(await s.chain.submitBlock(1000, 130, [{ postProof: 0, proof: "AAAA" }])).toMatchObject({
      actor: 1000,
      epoch: 130,
      ok: false,
      sectors: 0,
      code: "future-epoch",
    });
  });

  test("publishing a deal, and a refusal as DealRejectedError with its code", async () => {
    const proposal = {
      pieceCid: commDToCid(fakeCommitment(80)),
      pieceSize: 2048,
      client: "f0200",
      provider: 1000,
      startEpoch: 500,
      endEpoch: 3000,
      verified: false,
      label: "x",
    };
    const deal = await s.chain.publishDeal(proposal);
    expect(deal).toMatchObject({ state: "published", proposal });
    expect(await s.chain.marketDeal(deal.id)).toMatchObject({ id: deal.id, state: "published" });
    const err = await s.chain.publishDeal({ ...proposal, pieceSize: 4096 }).catch((e) => e);
    expect(err).toBeInstanceOf(DealRejectedError);
    expect((err as DealRejectedError).code).toBe("deal-invalid");
  });

  test("onEpoch: each new height once, in order, while started", async () => {
    const seen: number[] = [];
    s.chain.onEpoch((epoch) => seen.push(epoch));
    s.chain.start();
    await until(() => seen.length === 1, "the first epoch");
    expect(seen).toEqual([122]);
    s.node.model.height = 123;
    await until(() => seen.length === 2, "epoch 123");
    s.node.model.height = 125;
    await until(() => seen.length === 3, "epoch 125");
    expect(seen).toEqual([122, 123, 125]);
    expect(deadlineAt(s.node.model, 125).Index).toBe(0);
  });
});
