import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { generateFallbackSectorChallenges, generateSingleVanillaProof } from "../../src/core/proofs/index.ts";
import type { ChainMessage } from "../../src/core/sector/chain.ts";
import { deadlineIsMutable } from "../../src/core/sector/deadlines.ts";
import { b64, windowPoStProofFor, winningPoStProofFor } from "../../src/core/sector/index.ts";
import { KVStore } from "../../src/core/store/index.ts";
import {
  DevnetChain,
  devnetSettings,
  loadPoStVerifier,
  loadProofsVerifier,
  loadUpdateVerifier,
  proofsCommDCalculator,
} from "../../src/devnet/index.ts";
import { checkReplica } from "../../src/manager/poster/check.ts";
import { LocalProver } from "../../src/manager/prover/local.ts";
import type { PoStReplica } from "../../src/manager/prover.ts";
import { SectorIndexer } from "../../src/manager/sectors/indexer.ts";
import { locateReplica } from "../../src/manager/stores/locate.ts";
import { type Snapped2KiB, snapped2KiB } from "../fixtures/snapped-2kib.ts";
import { FakeClock } from "./helpers.ts";

/**
 * SnapDeals on the devnet with real proofs: the shared CC sector (tests/fixtures/sealed-2kib.ts), pre-sealed
 * on the chain, is updated with the shared real update (tests/fixtures/snapped-2kib.ts). The chain verifies
 * the update with verify_empty_sector_update_proof, and afterwards WindowPoSt and WinningPoSt over the update
 * replica (located through the sector index as the manager's poster and miner do) with the new CommR.
 */

// The fixtures seal (two C2 SNARKs) and prove an update on first use: minutes on a 2-core machine.
setDefaultTimeout(20 * 60_000);

const BLOCK = 1000;
const settings = devnetSettings({
  BlockTime: BLOCK,
  WPoStPeriodDeadlines: 4,
  WPoStChallengeWindow: 10,
  WPoStChallengeLookback: 2,
  ElectionPeriod: 1,
  MessagePackDelay: 1,
  MessageLandDelay: 1,
});

async function devnet(fx: Snapped2KiB) {
  const clock = new FakeClock();
  const actor = fx.sealed.actorId;
  const number = fx.sealed.cc.sectorId;
  const chain = new DevnetChain({
    store: KVStore.open(":memory:"),
    settings,
    verifier: await loadProofsVerifier(),
    postVerifier: await loadPoStVerifier(),
    updateVerifier: await loadUpdateVerifier(),
    commD: proofsCommDCalculator(),
    preseal: [{ actor, number, sealProof: fx.sealed.registeredProof, commR: [...fx.commROld] }],
    miners: [{ actor, sectorSize: 2048 }],
    now: clock.now,
  });
  const advance = async (n: number) => {
    clock.advance(n * BLOCK);
    await chain.tick();
  };
  await chain.tick();
  const deal = await chain.publishDeal({
    pieceCid: fx.pieceCid,
    pieceSize: fx.pieceSize,
    client: "f0100",
    provider: actor,
    startEpoch: 500,
    endEpoch: 500 + 100_000,
    verified: false,
    label: "snap",
  });
  const shape = { wpostChallengeWindow: 10, wpostPeriodDeadlines: 4 };
  /** Moves to an epoch where the sector's deadline may change. */
  const untilMutable = async () => {
    const dl = (await chain.sectorInfo(actor, number))!.deadline;
    while (!deadlineIsMutable(await chain.provingDeadline(actor), dl, shape)) await advance(1);
  };
  let nonce = 0;
  /** The update message for the sector, where the chain has it. */
  const updateMessage = async (proof: Uint8Array): Promise<ChainMessage> => {
    const info = (await chain.sectorInfo(actor, number))!;
    return {
      from: actor,
      nonce: ++nonce,
      method: "ProveReplicaUpdates",
      updates: [
        {
          number,
          deadline: info.deadline,
          partition: info.partition,
          newCommR: [...fx.commRNew],
          dealIds: [deal.id],
          updateProof: fx.updateProof,
          proof: b64(proof),
        },
      ],
    };
  };
  return { chain, advance, untilMutable, updateMessage, deal, actor, number };
}

function tamper(proof: Uint8Array): Uint8Array {
  const t = new Uint8Array(proof);
  t[10]! ^= 0xff;
  return t;
}

describe("devnet SnapDeals with real proofs", () => {
  test("a real 2KiB update proof is accepted and replaces the CommR; a tampered one is rejected", async () => {
    const fx = await snapped2KiB();
    const d = await devnet(fx);
    try {
      await d.untilMutable();
      const bad = await d.chain.pushMessage(await d.updateMessage(tamper(fx.proof)));
      await d.advance(1);
      const badLook = (await d.chain.messageLookup(bad))!;
      expect(badLook.status).toBe("failed");
      expect(badLook.results![0]).toMatchObject({ number: d.number, ok: false, code: "invalid-proof" });
      expect((await d.chain.sectorInfo(d.actor, d.number))!.commR).toEqual([...fx.commROld]);

      await d.untilMutable();
      const good = await d.chain.pushMessage(await d.updateMessage(fx.proof));
      await d.advance(2);
      const look = (await d.chain.messageLookup(good))!;
      expect(look.status).toBe("landed");
      expect(look.results).toEqual([{ number: d.number, ok: true }]);
      const sector = (await d.chain.sectorInfo(d.actor, d.number))!;
      expect(sector.commR).toEqual([...fx.commRNew]);
      expect(sector.sectorKeyCommR).toEqual([...fx.commROld]);
      expect(sector.dealIds).toEqual([d.deal.id]);
      expect((await d.chain.marketDeal(d.deal.id))?.state).toBe("active");

      // The same proof again: the sector was updated already.
      await d.untilMutable();
      const again = await d.chain.pushMessage(await d.updateMessage(fx.proof));
      await d.advance(1);
      expect((await d.chain.messageLookup(again))!.code).toBe("already-updated");
    } finally {
      d.chain.close();
    }
  });

  test("WindowPoSt and WinningPoSt over the updated replica verify with the new CommR; the old replica's do not", async () => {
    const fx = await snapped2KiB();
    const d = await devnet(fx);
    const store = KVStore.open(":memory:");
    try {
      await d.untilMutable();
      await d.chain.pushMessage(await d.updateMessage(fx.proof));
      await d.advance(2);
      expect((await d.chain.sectorInfo(d.actor, d.number))!.commR).toEqual([...fx.commRNew]);

      // The manager's index: the CC replica and its update, both in the fixture's store.
      const indexer = new SectorIndexer(store);
      const sid = { Miner: d.actor, Number: d.number };
      indexer.update("normal", sid, { sealed: "store", cache: "store" });
      indexer.update("upgrade", sid, { sealed: "store", cache: "store" });
      const locator = { find: async (type: "normal" | "upgrade", s: typeof sid) => indexer.find(type, s) };
      const paths = (name: string) => (name === "store" ? fx.storePath : undefined);

      // The sector's next deadline, from its challenge on.
      const sectorDl = (await d.chain.sectorInfo(d.actor, d.number))!.deadline;
      let dl = await d.chain.provingDeadline(d.actor);
      while (dl.index !== sectorDl) {
        await d.advance(dl.close - dl.currentEpoch);
        dl = await d.chain.provingDeadline(d.actor);
      }
      const [part] = await d.chain.provingPartitions(d.actor, dl.open);
      expect(part!.sectors).toEqual([
        { number: d.number, sealProof: fx.sealed.registeredProof, commR: [...fx.commRNew], upgraded: true },
      ]);
      const located = await locateReplica(locator, paths, d.actor, part!.sectors[0]!);
      if (!located.ok) throw new Error(located.reason);
      const replica = located.replica;
      expect(replica).toMatchObject({ upgrade: true, sealedPath: fx.updatePath, cacheDir: fx.updateCacheDir });

      // The poster's checks (StrictCheck's vanilla proof included) pass over the update replica.
      const postProof = windowPoStProofFor(fx.sealed.registeredProof);
      const randomness = await d.chain.windowPoStRandomness(d.actor, dl.challenge);
      const vanilla = async (r: PoStReplica) => {
        const challenges = await generateFallbackSectorChallenges({
          postProof,
          randomness,
          proverId: d.actor,
          sectorIds: [r.sectorId],
        });
        await generateSingleVanillaProof({
          postProof,
          replica: { sectorId: r.sectorId, commR: r.commR, cacheDir: r.cacheDir, sealedPath: r.sealedPath },
          challenges: challenges.get(r.sectorId)!,
        });
      };
      expect(
        await checkReplica(replica, { sectorSize: 2048, timeoutMs: 60_000, strict: true, vanilla }),
      ).toBeUndefined();

      const prover = new LocalProver();
      const task = { minerId: d.actor, proofType: postProof, deadline: dl.index, partitions: [0], seed: randomness };
      const submit = async (proof: { postProof: number; proof: Uint8Array }[], nonce: number) => {
        const cid = await d.chain.pushMessage({
          from: d.actor,
          nonce,
          method: "SubmitWindowedPoSt",
          post: {
            deadline: dl.index,
            open: dl.open,
            partitions: [{ index: 0, skipped: [], recovered: [] }],
            proofs: proof.map((p) => ({ postProof: p.postProof, proof: b64(p.proof) })),
          },
        });
        await d.advance(1);
        return (await d.chain.messageLookup(cid))!;
      };
      // A WindowPoSt over the old CC replica (a valid proof of the old CommR) no longer counts.
      const old = await prover.generateWindowPoSt({
        ...task,
        replicas: [
          {
            ...replica,
            commR: fx.commROld,
            upgrade: false,
            sealedPath: fx.sealed.cc.sealedPath,
            cacheDir: fx.sealed.cc.cacheDir,
          },
        ],
      });
      expect(old.faults).toEqual([]);
      expect((await submit(old.proofs, 1000)).code).toBe("invalid-proof");

      const out = await prover.generateWindowPoSt({ ...task, replicas: [replica] });
      expect(out.faults).toEqual([]);
      const look = await submit(out.proofs, 1001);
      expect(look.status).not.toBe("failed");
      const record = (await d.chain.postRecords(d.actor)).find((r) => r.open === dl.open)!;
      expect(record.verifiedProofs).toBe(1);
      expect(record.partitions[0]).toMatchObject({ proven: true, sectors: [d.number] });

      // WinningPoSt: the only miner is always elected (ElectionPeriod 1); the block verifies over the update.
      const epoch = (await d.chain.head()).epoch;
      const set = await d.chain.winningSectorSet(d.actor, epoch);
      const winLocated = await locateReplica(locator, paths, d.actor, set[0]!);
      if (!winLocated.ok) throw new Error(winLocated.reason);
      const winProof = await prover.generateWinningPoSt({
        minerId: d.actor,
        proofType: winningPoStProofFor(fx.sealed.registeredProof),
        replicas: [winLocated.replica],
        seed: await d.chain.winningPoStRandomness(d.actor, epoch),
      });
      const block = await d.chain.submitBlock(
        d.actor,
        epoch,
        winProof.map((p) => ({ postProof: p.postProof, proof: b64(p.proof) })),
      );
      expect(block).toMatchObject({ ok: true, sectors: 1 });
    } finally {
      d.chain.close();
      store.close();
    }
  });
});
