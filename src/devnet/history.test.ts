import { afterEach, describe, expect, test } from "bun:test";
import { keyAddress, MINER_METHODS, signMessage, toMinerCall, type UnsignedMessage } from "../core/chain/index.ts";
import type { PoStMessage } from "../core/sector/chain.ts";
import { winningPoStProofFor, zeroCommD } from "../core/sector/index.ts";
import { KVStore } from "../core/store/index.ts";
import { DEVNET_NETWORK } from "./accounts.ts";
import { DevnetChain } from "./chain.ts";
import { devnetSettings } from "./config.ts";
import { DevnetStore, K } from "./store.ts";
import { acceptAllPoStVerifier, acceptAllVerifier } from "./verifier.ts";

/**
 * HistoryLifetime on a devnet of 5-epoch deadlines (a 20-epoch proving period) with four pre-sealed
 * sectors: "1s" is one epoch, so the floor (finality, 900 epochs) decides what is kept.
 */
const BLOCK = 1000;
const WINDOW = 5;
const open: DevnetChain[] = [];
afterEach(() => {
  for (const c of open.splice(0)) c.close();
});

function devnet(HistoryLifetime: number) {
  const clock = { t: 1_700_000_000_000 };
  const store = KVStore.open(":memory:");
  const chain = new DevnetChain({
    store,
    settings: devnetSettings({
      BlockTime: BLOCK,
      WPoStPeriodDeadlines: 4,
      WPoStChallengeWindow: WINDOW,
      WPoStChallengeLookback: 2,
      ElectionPeriod: 1,
      HistoryLifetime,
    }),
    verifier: acceptAllVerifier,
    postVerifier: acceptAllPoStVerifier,
    preseal: [1, 2, 3, 4].map((number) => ({ actor: 1000, number, sealProof: 5, commR: Array(32).fill(number) })),
    miners: [{ actor: 1000, sectorSize: 2048 }],
    now: () => clock.t,
  });
  open.push(chain);
  const advance = async (epochs: number) => {
    clock.t += epochs * BLOCK;
    await chain.tick();
  };
  return { chain, store, db: new DevnetStore(store), advance };
}

/** Proves the next deadline that has sectors; returns its open epoch and the message. */
async function proveNext(d: ReturnType<typeof devnet>): Promise<{ open: number; cid: string }> {
  for (;;) {
    const dl = await d.chain.provingDeadline(1000);
    const parts = (await d.chain.provingPartitions(1000, dl.open)).filter((p) => p.sectors.length > 0);
    if (parts.length > 0) {
      const msg: PoStMessage = {
        from: 1000,
        nonce: dl.open,
        method: "SubmitWindowedPoSt",
        post: {
          deadline: dl.index,
          open: dl.open,
          partitions: parts.map((p) => ({ index: p.index, skipped: [], recovered: [] })),
          proofs: [{ postProof: 10, proof: Buffer.from("proof").toString("base64") }],
        },
      };
      return { open: dl.open, cid: await d.chain.pushMessage(msg) };
    }
    await d.advance(dl.close - dl.currentEpoch);
  }
}

/** A signed PreCommit from the miner's dev worker, pushed with a MsgUuid (premium sets a replacement apart). */
function signedPreCommit(d: ReturnType<typeof devnet>, gasPremium: bigint, uuid: string): string {
  const key = d.chain.devKey(1000)!;
  const head = d.chain.headEpoch();
  const params = toMinerCall(
    {
      method: "PreCommitSectorBatch2",
      sectors: [
        {
          number: 7,
          sealProof: 5,
          commR: Array(32).fill(7),
          commD: [...zeroCommD(2048)],
          sealRandEpoch: head - 1,
          dealIds: [],
        },
      ],
    },
    { expiration: head + 100_000 },
  ).params;
  const msg: UnsignedMessage = {
    version: 0,
    to: "t01000",
    from: keyAddress(key, DEVNET_NETWORK).string,
    nonce: 0,
    value: 0n,
    gasLimit: 50_000_000,
    gasFeeCap: 1_000n,
    gasPremium,
    method: MINER_METHODS.PreCommitSectorBatch2,
    params,
  };
  return d.chain.pushSigned(signMessage(msg, key), uuid);
}

describe("devnet history retention", () => {
  test("deadline records, blocks and done-with messages older than the lifetime go; counters and recent history stay", async () => {
    const d = devnet(1000);
    const { chain, db, advance } = d;
    await advance(3);
    expect((await chain.submitBlock(1000, 3, [{ postProof: winningPoStProofFor(5), proof: "" }])).ok).toBe(true);
    const replaced = signedPreCommit(d, 500n, "uuid-replaced");
    const replacement = signedPreCommit(d, 625n, "uuid-replacement");
    const proven = await proveNext(d);
    const wrong = await chain.pushMessage({
      from: 1000,
      nonce: 1,
      method: "SubmitWindowedPoSt",
      post: { deadline: 0, open: 999_999, partitions: [{ index: 0, skipped: [], recovered: [] }], proofs: [] },
    });
    await advance(3);
    expect((await chain.messageLookup(proven.cid))?.status).toBe("landed");
    expect((await chain.messageLookup(wrong))?.status).toBe("failed");
    expect(chain.executedMessage(replaced, true)?.lookup.cid).toBe(replacement);
    // As a store of an older version has it: the landed PoSt without its index marker (indexed at the first prune).
    const marker = db.kv.scan(K.finals).find((e) => e.key.endsWith(`/${proven.cid}`))!;
    db.kv.del(marker.key);

    await advance(1200);
    const head = chain.headEpoch();
    const records = await chain.postRecords(1000, 10_000);
    expect(records[0]!.open).toBeGreaterThanOrEqual(head - 900);
    expect(records.some((r) => r.open === proven.open)).toBe(false);
    expect(records.at(-1)!.close).toBeGreaterThan(head - WINDOW); // the last judged deadline is kept
    expect(db.block(1000, 3)).toBeUndefined();
    expect(await chain.messageLookup(proven.cid)).toBeUndefined();
    expect(await chain.messageLookup(wrong)).toBeUndefined();
    expect(chain.executedMessage(replaced, true)).toBeUndefined();
    expect(chain.signedEnvelope(replaced)).toBeUndefined();
    expect(chain.signedByUuid("uuid-replaced")).toBeUndefined();
    expect(chain.signedByUuid("uuid-replacement")).toBeUndefined();
    expect(db.kv.count(K.finals)).toBe(0);

    // Counters are running totals: they still count what was pruned.
    const stats = await chain.provingStats(1000);
    expect(stats).toMatchObject({ windowPoStsVerified: 1, windowPoStsRejected: 1, blocksMined: 1 });
    expect(stats.deadlinesMissed).toBeGreaterThan(records.filter((r) => r.outcome === "missed").length);
    // What the chain answers from state is not history.
    expect(chain.account(keyAddress(chain.devKey(1000)!, DEVNET_NETWORK).string)?.nonce).toBe(1);
    expect(db.sectors(1000).map((s) => s.number)).toEqual([1, 2, 3, 4]);

    // A message executed now is found, and stays while within the lifetime.
    const recent = await chain.pushMessage({
      from: 1000,
      nonce: 2,
      method: "SubmitWindowedPoSt",
      post: { deadline: 0, open: 999_999, partitions: [{ index: 0, skipped: [], recovered: [] }], proofs: [] },
    });
    await advance(3 * WINDOW);
    expect((await chain.messageLookup(recent))?.status).toBe("failed");
  });

  test("HistoryLifetime 0 keeps everything", async () => {
    const d = devnet(0);
    const proven = await proveNext(d);
    await d.advance(1200);
    expect((await d.chain.messageLookup(proven.cid))?.status).toBe("landed");
    expect((await d.chain.postRecords(1000, 1_000_000)).some((r) => r.open === proven.open)).toBe(true);
  });
});
