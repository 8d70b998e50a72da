import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { epochsUntilMutable } from "../../core/sector/deadlines.ts";
import { commRToCid, type SectorID, SubmitResult } from "../../core/sector/index.ts";
import { sendMargin } from "./deps.ts";
import { ACTOR, type Harness, SETTINGS, snapHarness } from "./testing.ts";

const open: Harness[] = [];
afterEach(() => {
  for (const h of open.splice(0)) h.close();
});

async function harness(...args: Parameters<typeof snapHarness>) {
  const h = await snapHarness(...args);
  open.push(h);
  return h;
}

const spec = {
  Sector: { AllowedMiners: null, AllowedProofTypes: null },
  Deals: { MaxDeals: null, MinUsedSpace: null },
};
const shape = {
  wpostChallengeWindow: SETTINGS.WPoStChallengeWindow,
  wpostPeriodDeadlines: SETTINGS.WPoStPeriodDeadlines,
};

async function deadlineOf(h: Harness, sid: SectorID): Promise<number> {
  return (await h.chain.sectorInfo(ACTOR, sid.Number))!.deadline;
}

/** Advances epoch by epoch until the sector's deadline is the one being proven. */
async function untilFrozen(h: Harness, sid: SectorID): Promise<void> {
  const target = await deadlineOf(h, sid);
  while ((await h.chain.provingDeadline(ACTOR)).index !== target) await h.advance(1);
}

/** Advances until a ProveReplicaUpdates for the sector may be sent (mutable with the committer's margin). */
async function untilSendable(h: Harness, sid: SectorID): Promise<void> {
  const target = await deadlineOf(h, sid);
  while (epochsUntilMutable(await h.chain.provingDeadline(ACTOR), target, shape, sendMargin(shape)) > 0)
    await h.advance(1);
}

/** A snap sector with its update accepted while its deadline is frozen (so nothing is sent yet). */
async function acceptedUpdate(h: Harness, startIn = 5000) {
  expect((await h.snap.preFetch(ACTOR, undefined)).Total).toBeGreaterThan(0);
  const deal = await h.publishDeal("d", 1024, startIn);
  const sid = (await h.snap.allocate(spec))!.Sector.ID;
  await untilFrozen(h, sid);
  const info = await h.updateFor(sid);
  expect((await h.snap.submit(sid, info)).Res).toBe(SubmitResult.Accepted);
  await h.commit.kick(ACTOR, "snap");
  return { sid, info, deal };
}

describe("snap committer", () => {
  test("sends ProveReplicaUpdates once its deadline is mutable, waits the confidences, cleans the CC data up, finalizes", async () => {
    const h = await harness();
    const { sid, info, deal } = await acceptedUpdate(h);
    // Frozen deadline: still pending, nothing sent.
    expect(h.commit.isPending("snap", sid)).toBe(true);
    expect(h.chainMessages("ProveReplicaUpdates")).toEqual([]);

    await untilSendable(h, sid);
    await h.commit.kick(ACTOR, "snap");
    const cid = h.states.get("online", sid)!.UpgradeMessageID!;
    expect(cid).toBeString();
    expect(h.commit.isPending("snap", sid)).toBe(false);
    const [sent] = h.chainMessages("ProveReplicaUpdates");
    expect(sent!.cid).toBe(cid);
    expect(sent!.message).toMatchObject({
      method: "ProveReplicaUpdates",
      updates: [{ number: sid.Number, deadline: await deadlineOf(h, sid), newCommR: info.CommR, dealIds: [deal.id] }],
    });

    await h.advance(2); // packed, then landed
    const onChain = (await h.chain.sectorInfo(ACTOR, sid.Number))!;
    expect(onChain.commR).toEqual(info.CommR);
    expect(onChain.dealIds).toEqual([deal.id]);
    expect((await h.chain.marketDeal(deal.id))?.state).toBe("active");
    const live = await h.chain.winningSectorSet(ACTOR, await h.head());
    expect(live.find((s) => s.number === sid.Number)).toMatchObject({ commR: info.CommR, upgraded: true });

    // MessageConfidence (3) counts from inclusion: not yet.
    await h.snap.committer.tick();
    expect(h.states.get("online", sid)!.UpgradeLandedEpoch).toBeNull();
    await h.advance(2);
    await h.snap.committer.tick();
    const landed = h.states.get("online", sid)!.UpgradeLandedEpoch;
    expect(landed).toBeNumber();

    // ReleaseConfidence (5) after landing: the CC replica goes, the sector is finalized.
    const cc = h.stores.sectorPaths("persist-1", sid)!;
    expect(existsSync(cc.file)).toBe(true);
    await h.advance(5);
    await h.snap.committer.tick();
    expect(existsSync(cc.file)).toBe(false);
    expect(existsSync(cc.cache)).toBe(false);
    expect(existsSync(h.stores.sectorPaths("persist-1", sid, true)!.file)).toBe(true);
    expect(h.states.get("online", sid)).toBeUndefined();
    expect(h.states.get("offline", sid)).toMatchObject({
      Finalized: true,
      Upgraded: true,
      UpgradeMessageID: cid,
      UpgradeLandedEpoch: landed,
      UpgradedInfo: { SealedCID: { "/": commRToCid(info.CommR) } },
    });
    expect(h.chainMessages("ProveReplicaUpdates").length).toBe(1);
    // The sector's deadline comes round: the chain verifies its WindowPoSt against the new CommR.
    const provenBefore = h.provenReplicas.length;
    await h.advance(SETTINGS.WPoStPeriodDeadlines * SETTINGS.WPoStChallengeWindow);
    const covered = h.provenReplicas
      .slice(provenBefore)
      .flat()
      .filter((r) => r.sectorId === sid.Number);
    expect(covered.length).toBeGreaterThan(0);
    for (const r of covered) expect(r.commR).toEqual(info.CommR);
    expect((await h.chain.faults(ACTOR)).length).toBe(0);
    // An updated sector is no candidate any more.
    await h.snap.preFetch(ACTOR, undefined);
    expect(h.deps.candidates.has(ACTOR, sid.Number)).toBe(false);
  });

  test("CleanupCCData = false keeps the CC replica", async () => {
    const h = await harness({ miner: { cleanupCCData: false, messageConfidence: 0, releaseConfidence: 0 } });
    const { sid } = await acceptedUpdate(h);
    await untilSendable(h, sid);
    await h.commit.kick(ACTOR, "snap");
    await h.advance(2);
    await h.snap.committer.tick();
    expect(h.states.get("offline", sid)?.Finalized).toBe(true);
    expect(existsSync(h.stores.sectorPaths("persist-1", sid)!.file)).toBe(true);
  });

  test("a refusal the chain may lift (unverifiable) queues the update again; it lands with the next message", async () => {
    const h = await harness();
    const { sid } = await acceptedUpdate(h);
    const verify = h.updateVerifier.verifyReplicaUpdate;
    h.updateVerifier.verifyReplicaUpdate = async () => {
      throw new Error("parameters not ready");
    };
    await untilSendable(h, sid);
    await h.commit.kick(ACTOR, "snap");
    const first = h.states.get("online", sid)!.UpgradeMessageID!;
    await h.advance(1);
    expect((await h.chain.messageLookup(first))?.code).toBe("unverifiable");
    h.updateVerifier.verifyReplicaUpdate = verify;
    // Queued again, and sent by the batch check that follows (the deadline is still mutable).
    await h.snap.committer.tick();
    await h.commit.kick(ACTOR, "snap");
    const second = h.states.get("online", sid)!.UpgradeMessageID!;
    expect(second).toBeString();
    expect(second).not.toBe(first);
    await h.advance(2);
    expect((await h.chain.messageLookup(second))?.status).toBe("landed");
    expect(h.chainMessages("ProveReplicaUpdates").length).toBe(2);
  });

  test("a final refusal (the deal started meanwhile) returns the sector to committed capacity", async () => {
    const h = await harness();
    const { sid, deal } = await acceptedUpdate(h, 60);
    // The deal's start epoch passes while the deadline is frozen or the update waits.
    while ((await h.head()) <= deal.proposal.startEpoch) await h.advance(5);
    await untilSendable(h, sid);
    await h.commit.kick(ACTOR, "snap");
    const cid = h.states.get("online", sid)!.UpgradeMessageID!;
    await h.advance(1);
    expect((await h.chain.messageLookup(cid))?.code).toBe("deal-started");
    await h.snap.committer.tick();
    expect(h.states.get("online", sid)).toBeUndefined();
    expect(h.states.get("offline", sid)).toMatchObject({ Finalized: true, Upgraded: false, Pieces: null });
    expect(h.indexer.find("upgrade", sid).Found).toBe(false);
    expect(existsSync(h.stores.sectorPaths("persist-1", sid)!.file)).toBe(true);
    const onChain = (await h.chain.sectorInfo(ACTOR, sid.Number))!;
    expect(onChain.sectorKeyCommR).toBeUndefined();
  });

  test("kill -9 after the batch was written but before it was pushed: the restarted manager sends it, once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "damocles-snap-kill-"));
    const storePath = join(dir, "damocles.db");
    const persistPath = join(dir, "persist-1");
    const clock = { ms: 1_700_000_000_000 };
    try {
      const h = await snapHarness({ storePath, persistPath, now: clock });
      open.push(h); // closed after the test: a killed process's handles are not left to the GC
      const { sid } = await acceptedUpdate(h);
      await untilSendable(h, sid);
      h.chain.pushMessage = async () => {
        throw new Error("connection reset");
      };
      await h.commit.kick(ACTOR, "snap");
      const cid = h.states.get("online", sid)!.UpgradeMessageID!;
      expect(h.commit.inOutbox(cid)).toBe(true);
      expect(h.chainMessages("ProveReplicaUpdates")).toEqual([]);
      // "kill -9": nothing is stopped or flushed beyond what was made durable; a new process opens the file.

      const h2 = await snapHarness({ storePath, persistPath, now: clock });
      open.push(h2);
      await h2.commit.start();
      expect(h2.commit.inOutbox(cid)).toBe(false);
      expect(h2.chainMessages("ProveReplicaUpdates").map((m) => m.cid)).toEqual([cid]);
      await h2.advance(4);
      await h2.snap.committer.tick();
      expect(h2.states.get("online", sid)!.UpgradeLandedEpoch).toBeNumber();

      // Killed again after landing: the next process finalizes from the record.
      const h3 = await snapHarness({ storePath, persistPath, now: clock });
      open.push(h3);
      await h3.commit.start();
      await h3.advance(6);
      await h3.snap.committer.tick();
      expect(h3.states.get("offline", sid)?.Finalized).toBe(true);
      expect(h3.chainMessages("ProveReplicaUpdates").length).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("Retry.MaxAttempts: a sector whose chain lookups keep failing is left alone", async () => {
    const h = await harness({
      miner: { retry: { maxAttempts: 2, pollIntervalMs: 1000, apiFailureWaitMs: 1000, localFailureWaitMs: 1000 } },
    });
    const { sid } = await acceptedUpdate(h);
    await untilSendable(h, sid);
    await h.commit.kick(ACTOR, "snap");
    let lookups = 0;
    h.chain.messageLookup = async () => {
      lookups++;
      throw new Error("chain down");
    };
    for (let i = 0; i < 4; i++) {
      await h.advance(1);
      await h.snap.committer.tick();
    }
    expect(lookups).toBe(2);
  });
});
