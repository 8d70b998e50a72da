import { afterEach, describe, expect, test } from "bun:test";
import { type ChainMessage, type DealProposalParams, DealRejectedError } from "../../src/core/sector/chain.ts";
import { pieceCommitment, zeroCommD } from "../../src/core/sector/index.ts";
import { KVStore } from "../../src/core/store/index.ts";
import { DevnetChain, devnetSettings } from "../../src/devnet/index.ts";
import { FakeClock, fakeVerifier, VALID_PROOF_B64 } from "./helpers.ts";
import { fakePieceCid, jsCommD, jsCommDCalculator } from "./market-helpers.ts";

const BLOCK = 1000;
const settings = devnetSettings({
  BlockTime: BLOCK,
  PreCommitChallengeDelay: 3,
  MessagePackDelay: 1,
  MessageLandDelay: 1,
  MaxTicketAge: 50,
  MaxProveCommitDuration: 20,
});
const open: DevnetChain[] = [];
afterEach(() => {
  for (const c of open.splice(0)) c.close();
});

function devnet(store = KVStore.open(":memory:"), clock = new FakeClock()) {
  const chain = new DevnetChain({
    store,
    settings,
    verifier: fakeVerifier(),
    commD: jsCommDCalculator(),
    miners: [
      { actor: 1000, sectorSize: 2048 },
      { actor: 1001, sectorSize: 2048 },
    ],
    now: clock.now,
  });
  open.push(chain);
  const advance = async (epochs: number) => {
    clock.advance(epochs * BLOCK);
    await chain.tick();
  };
  return { chain, clock, store, advance };
}

function proposal(o: Partial<DealProposalParams> = {}): DealProposalParams {
  return {
    pieceCid: fakePieceCid("a"),
    pieceSize: 512,
    client: "f0100",
    provider: 1000,
    startEpoch: 100,
    endEpoch: 1000,
    verified: false,
    label: "test",
    ...o,
  };
}

const commR = Array.from({ length: 32 }, (_, i) => i + 1);

/** CommD of a 2KiB sector holding these deals' pieces in order. */
function commDOf(...deals: DealProposalParams[]): number[] {
  return [
    ...jsCommD(
      2048,
      deals.map((d) => ({ commP: pieceCommitment(d.pieceCid), paddedSize: d.pieceSize })),
    ),
  ];
}

function pre(number: number, dealIds: number[], commD: number[], nonce: number, from = 1000): ChainMessage {
  return {
    from,
    nonce,
    method: "PreCommitSectorBatch2",
    sectors: [{ number, sealProof: 5, commR, commD, sealRandEpoch: 1, dealIds }],
  };
}

async function outcome(chain: DevnetChain, cid: string) {
  const look = await chain.messageLookup(cid);
  return look?.results?.[0];
}

describe("devnet storage market", () => {
  test("publishing validates the proposal, is idempotent per proposal, and deals persist", async () => {
    const store = KVStore.open(":memory:");
    const clock = new FakeClock();
    const { chain, advance } = devnet(store, clock);
    await advance(5);
    const deal = await chain.publishDeal(proposal());
    expect(deal).toMatchObject({ id: 1, state: "published", publishEpoch: 5 });
    expect((await chain.publishDeal(proposal())).id).toBe(1);
    expect((await chain.publishDeal(proposal({ label: "other" }))).id).toBe(2);

    const refused = async (p: DealProposalParams) => {
      const err = await chain.publishDeal(p).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DealRejectedError);
      return (err as DealRejectedError).code;
    };
    expect(await refused(proposal({ provider: 7 }))).toBe("unknown-miner");
    expect(await refused(proposal({ pieceSize: 300 }))).toBe("deal-invalid");
    expect(await refused(proposal({ pieceSize: 4096 }))).toBe("deal-invalid");
    expect(await refused(proposal({ startEpoch: 5 }))).toBe("deal-invalid");
    expect(await refused(proposal({ endEpoch: 100 }))).toBe("deal-invalid");
    expect(await refused(proposal({ pieceCid: "bafy2bzacea" }))).toBe("deal-invalid");

    chain.close();
    const again = devnet(store, clock);
    expect(await again.chain.marketDeal(1)).toEqual(deal);
    expect(await again.chain.marketDeal(3)).toBeUndefined();
  });

  test("a PreCommit with deals lands only with the deals' CommD, this provider's deals, before they start", async () => {
    const { chain, advance } = devnet();
    await advance(5);
    const a = proposal({ pieceCid: fakePieceCid("a"), pieceSize: 256 });
    const b = proposal({ pieceCid: fakePieceCid("b"), pieceSize: 512, startEpoch: 12 });
    const foreign = proposal({ pieceCid: fakePieceCid("f"), provider: 1001 });
    const dealA = (await chain.publishDeal(a)).id;
    const dealB = (await chain.publishDeal(b)).id;
    const dealF = (await chain.publishDeal(foreign)).id;

    const wrong = await chain.pushMessage(pre(1, [dealA, dealB], [...zeroCommD(2048)], 1));
    const notMine = await chain.pushMessage(pre(2, [dealF], commDOf(foreign), 2));
    const twice = await chain.pushMessage(pre(3, [dealA, dealA], commDOf(a, a), 3));
    const unknown = await chain.pushMessage(pre(4, [99], commDOf(a), 4));
    await advance(2);
    expect(await outcome(chain, wrong)).toMatchObject({ ok: false, code: "commd-mismatch" });
    expect(await outcome(chain, notMine)).toMatchObject({ ok: false, code: "deal-foreign" });
    expect(await outcome(chain, twice)).toMatchObject({ ok: false, code: "deal-invalid" });
    expect(await outcome(chain, unknown)).toMatchObject({ ok: false, code: "deal-invalid" });

    const good = await chain.pushMessage(pre(5, [dealA, dealB], commDOf(a, b), 5));
    const reused = await chain.pushMessage(pre(6, [dealB], commDOf(b), 6));
    await advance(2);
    expect(await outcome(chain, good)).toEqual({ number: 5, ok: true });
    expect(await outcome(chain, reused)).toMatchObject({ ok: false, code: "deal-in-use" });
    expect((await chain.preCommitInfo(1000, 5))?.dealIds).toEqual([dealA, dealB]);

    // Deal b starts at epoch 12: past it, neither a PreCommit nor an activation may use it.
    await advance(6); // epoch 15
    const late = await chain.publishDeal(proposal({ pieceCid: fakePieceCid("c"), startEpoch: 17 }));
    await advance(2); // the PreCommit below executes at 18
    const started = await chain.pushMessage(pre(7, [late.id], commDOf(proposal({ pieceCid: fakePieceCid("c") })), 7));
    await advance(2);
    expect(await outcome(chain, started)).toMatchObject({ ok: false, code: "deal-started" });
    expect((await chain.marketDeal(late.id))?.state).toBe("expired");

    const prove = await chain.pushMessage({
      from: 1000,
      nonce: 8,
      method: "ProveCommitSectors3",
      sectors: [{ number: 5, proof: VALID_PROOF_B64 }],
    });
    await advance(2);
    expect(await outcome(chain, prove)).toMatchObject({ ok: false, code: "deal-started" });
    expect(await chain.sectorInfo(1000, 5)).toBeUndefined();
  });

  test("ProveCommit activates the sector's deals; an unactivated deal expires after its start epoch", async () => {
    const { chain, advance } = devnet();
    await advance(5);
    const a = proposal({ pieceCid: fakePieceCid("a"), pieceSize: 1024, startEpoch: 40 });
    const idle = proposal({ pieceCid: fakePieceCid("idle"), startEpoch: 30 });
    const dealA = (await chain.publishDeal(a)).id;
    const dealIdle = (await chain.publishDeal(idle)).id;
    await chain.pushMessage(pre(1, [dealA], commDOf(a), 1));
    await advance(6);
    expect(await chain.preCommitInfo(1000, 1)).toBeDefined();
    const prove = await chain.pushMessage({
      from: 1000,
      nonce: 2,
      method: "ProveCommitSectors3",
      sectors: [{ number: 1, proof: VALID_PROOF_B64 }],
    });
    await advance(2);
    expect(await outcome(chain, prove)).toEqual({ number: 1, ok: true });
    expect(await chain.marketDeal(dealA)).toMatchObject({ state: "active", sectorNumber: 1, activationEpoch: 12 });

    await advance(17); // epoch 30: the idle deal starts now; still waiting
    expect((await chain.marketDeal(dealIdle))?.state).toBe("published");
    await advance(1);
    expect(await chain.marketDeal(dealIdle)).toMatchObject({ state: "expired", closedEpoch: 31 });
    expect((await chain.marketDeal(dealA))?.state).toBe("active");
  });

  test("without a way to compute CommD, a deal PreCommit is refused as unverifiable", async () => {
    const clock = new FakeClock();
    const chain = new DevnetChain({
      store: KVStore.open(":memory:"),
      settings,
      verifier: fakeVerifier(),
      commD: {
        name: "broken",
        computeCommD: async () => {
          throw new Error("no addon");
        },
      },
      miners: [{ actor: 1000, sectorSize: 2048 }],
      now: clock.now,
    });
    open.push(chain);
    clock.advance(5 * BLOCK);
    await chain.tick();
    const a = proposal();
    const id = (await chain.publishDeal(a)).id;
    const cid = await chain.pushMessage(pre(1, [id], commDOf(a), 1));
    clock.advance(2 * BLOCK);
    await chain.tick();
    expect(await outcome(chain, cid)).toMatchObject({ ok: false, code: "unverifiable" });
  });
});
