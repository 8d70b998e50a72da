import { afterEach, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { commRToCid, type DealInfo, SubmitResult } from "../../core/sector/index.ts";
import { ACTOR, type Harness, snapHarness } from "./testing.ts";

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

/** A harness with candidates marked and one waiting deal. */
async function withCandidates() {
  const h = await harness();
  const fetched = await h.snap.preFetch(ACTOR, undefined);
  expect(fetched.Total).toBeGreaterThan(0);
  const deal = await h.publishDeal("a");
  return { h, deal };
}

describe("AllocateSanpUpSector", () => {
  test("takes a candidate, fills it with a waiting deal and brings it online as an upgrade, in one step", async () => {
    const { h, deal } = await withCandidates();
    const before = [...h.deps.candidates.byDeadline(ACTOR).values()].flat();
    // A sealed CC sector finalized by this manager comes back from offline.
    const first = before[0]!;
    const { newSectorState } = await import("../../core/sector/index.ts");
    const offline = newSectorState({ Miner: ACTOR, Number: first }, 5);
    offline.Finalized = true;
    h.states.saveOffline(offline);

    const a = (await h.snap.allocate(spec))!;
    expect(a).not.toBeNull();
    const sid = a.Sector.ID;
    expect(sid.Number).toBe(first); // random() = 0: the first candidate
    expect(a.Sector.ProofType).toBe(5);
    const info = (await h.chain.sectorInfo(ACTOR, sid.Number))!;
    expect(a.Public).toEqual({
      CommR: info.commR,
      SealedCID: { "/": commRToCid(info.commR) },
      Activation: info.activation,
      Expiration: info.expiration,
    });
    expect(a.Private).toEqual({ AccessInstance: "persist-1" });
    const deals = (a.Pieces ?? []).filter((p: DealInfo) => p.ID !== 0);
    expect(deals.map((p: DealInfo) => p.ID)).toEqual([deal.id]);
    expect((a.Pieces ?? []).reduce((n: number, p: DealInfo) => n + p.Piece.Size, 0)).toBe(2048);

    const state = h.states.get("online", sid)!;
    expect(state.Upgraded).toBe(true);
    expect(state.Finalized).toBe(false);
    expect(state.UpgradePublic).toEqual(a.Public);
    expect(state.Pieces).toEqual(a.Pieces);
    expect(h.states.get("offline", sid)).toBeUndefined();
    expect(h.deps.candidates.has(ACTOR, sid.Number)).toBe(false);
    expect(h.market.deals.get(deal.id)).toMatchObject({ State: "assigned", Sector: sid });

    // The one deal is taken: the next call has candidates but no deals.
    expect(await h.snap.allocate(spec)).toBeNull();
    expect([...h.deps.candidates.byDeadline(ACTOR).values()].flat().length).toBe(before.length - 1);
  });

  test("nothing for miners the worker does not allow, miners without SnapUp, or deals that outlive the sector", async () => {
    const { h } = await withCandidates();
    expect(await h.snap.allocate({ ...spec, Sector: { AllowedMiners: [1001], AllowedProofTypes: null } })).toBeNull();
    expect(await h.snap.allocate({ ...spec, Sector: { AllowedMiners: null, AllowedProofTypes: [8] } })).toBeNull();

    const disabled = await harness({ miner: { enabled: false } });
    await disabled.snap.preFetch(ACTOR, undefined);
    await disabled.publishDeal("x");
    expect(await disabled.snap.allocate(spec)).toBeNull();

    // A deal ending after every sector's expiration (540 days) cannot go into any of them.
    const long = await harness();
    await long.snap.preFetch(ACTOR, undefined);
    await long.publishDeal("late", 1024, 1_500_000);
    expect(await long.snap.allocate(spec)).toBeNull();
    expect([...long.deps.candidates.byDeadline(ACTOR).values()].flat().length).toBeGreaterThan(0);
  });

  test("a candidate that has become unfit is dropped on the way, and its files must be indexed", async () => {
    const { h } = await withCandidates();
    const candidates = [...h.deps.candidates.byDeadline(ACTOR).values()].flat();
    const [gone, ...rest] = candidates as [number, ...number[]];
    h.indexer.remove("normal", { Miner: ACTOR, Number: gone });
    const a = (await h.snap.allocate(spec))!;
    expect(a.Sector.ID.Number).not.toBe(gone);
    expect(rest).toContain(a.Sector.ID.Number);
    expect(h.deps.candidates.has(ACTOR, gone)).toBe(false);
  });

  test("the allocation is all or nothing: a failure while assigning leaves the candidate and the deal as they were", async () => {
    const { h, deal } = await withCandidates();
    const candidates = [...h.deps.candidates.byDeadline(ACTOR).values()].flat();
    const assign = h.market.assign.bind(h.market);
    h.market.assign = () => {
      throw new Error("disk full");
    };
    await expect(h.snap.allocate(spec)).rejects.toThrow("disk full");
    expect([...h.deps.candidates.byDeadline(ACTOR).values()].flat()).toEqual(candidates);
    expect(h.states.list("online")).toEqual([]);
    expect(h.market.deals.get(deal.id)?.State).toBe("published");
    h.market.assign = assign;
    expect(await h.snap.allocate(spec)).not.toBeNull();
  });
});

describe("SubmitSnapUpProof", () => {
  test("files missing → FilesMissed; wrong pieces → Rejected; wrong CommD → Mismatched; bad proof → Rejected", async () => {
    const { h } = await withCandidates();
    const sid = (await h.snap.allocate(spec))!.Sector.ID;
    const good = await h.updateFor(sid, { persist: false });
    const missed = await h.snap.submit(sid, good);
    expect(missed.Res).toBe(SubmitResult.FilesMissed);
    expect(missed.Desc).toContain("update/s-t01000-");

    await h.updateFor(sid); // persists the files
    const wrongPieces = await h.snap.submit(sid, { ...good, Pieces: good.Pieces!.slice(1) });
    expect(wrongPieces.Res).toBe(SubmitResult.Rejected);
    expect(wrongPieces.Desc).toContain("not s-t01000-");

    const wrongD = await h.snap.submit(sid, { ...good, CommD: good.CommR });
    expect(wrongD.Res).toBe(SubmitResult.MismatchedSubmission);

    const bad = await h.snap.submit(sid, { ...good, Proof: Buffer.from("tampered").toString("base64") });
    expect(bad.Res).toBe(SubmitResult.Rejected);
    expect(bad.Desc).toContain("verify_empty_sector_update_proof rejected it");
    expect(h.states.get("online", sid)?.UpgradedInfo).toBeNull();
    expect(h.commit.isPending("snap", sid)).toBe(false);
  });

  test("accepted: the update is recorded, indexed as the upgrade replica and queued, once", async () => {
    const { h } = await withCandidates();
    const sid = (await h.snap.allocate(spec))!.Sector.ID;
    const info = await h.updateFor(sid);
    // Keep the batcher from sending: this test looks at the queue.
    h.deps.commit.kick = async () => {};
    expect(await h.snap.submit(sid, info)).toEqual({ Res: SubmitResult.Accepted, Desc: null });
    expect(h.states.get("online", sid)?.UpgradedInfo).toEqual({
      AccessInstance: "persist-1",
      SealedCID: { "/": commRToCid(info.CommR) },
      UnsealedCID: expect.anything(),
      Proof: info.Proof,
    });
    expect(h.indexer.find("upgrade", sid)).toEqual({
      Found: true,
      Instance: { SealedFile: "persist-1", CacheDir: "persist-1" },
    });
    expect(h.commit.isPending("snap", sid)).toBe(true);
    expect((await h.snap.submit(sid, info)).Res).toBe(SubmitResult.DuplicateSubmit);
    // Proven again after a worker restart: other proof bytes, same update — still a duplicate, first proof kept.
    const reproven = { ...info, Proof: Buffer.from("valid-update-2").toString("base64") };
    expect((await h.snap.submit(sid, reproven)).Res).toBe(SubmitResult.DuplicateSubmit);
    expect(h.states.get("online", sid)?.UpgradedInfo).toMatchObject({ Proof: info.Proof });
    const other = { ...info, CommR: info.CommD };
    expect((await h.snap.submit(sid, other)).Res).toBe(SubmitResult.MismatchedSubmission);
  });

  test("a sector not allocated for snap is refused; an unknown one is 11001", async () => {
    const { h } = await withCandidates();
    const { newSectorState } = await import("../../core/sector/index.ts");
    h.states.create(newSectorState({ Miner: ACTOR, Number: 77 }, 5));
    const info = {
      CommR: Array(32).fill(1),
      CommD: Array(32).fill(2),
      AccessInstance: "persist-1",
      Pieces: [],
      Proof: "AAAA",
    };
    expect((await h.snap.submit({ Miner: ACTOR, Number: 77 }, info)).Res).toBe(SubmitResult.Rejected);
    await expect(h.snap.submit({ Miner: ACTOR, Number: 78 }, info)).rejects.toThrow("sector state not found");
  });
});

describe("abort and cancel", () => {
  test("an aborted snap returns the sector to committed capacity: deals released, update files removed", async () => {
    const { h, deal } = await withCandidates();
    const sid = (await h.snap.allocate(spec))!.Sector.ID;
    h.deps.commit.kick = async () => {};
    expect((await h.snap.submit(sid, await h.updateFor(sid))).Res).toBe(SubmitResult.Accepted);
    const update = h.stores.sectorPaths("persist-1", sid, true)!;
    expect(existsSync(update.file)).toBe(true);

    await h.snap.cancelCommitment(sid);
    expect(h.commit.isPending("snap", sid)).toBe(false);
    await h.snap.abort(sid, "operator");
    const off = h.states.get("offline", sid)!;
    expect(off).toMatchObject({ Finalized: true, AbortReason: "", Upgraded: false, Pieces: null, UpgradedInfo: null });
    expect(h.market.deals.get(deal.id)).toMatchObject({ State: "published", Sector: null });
    expect(h.indexer.find("upgrade", sid).Found).toBe(false);
    expect(existsSync(update.file)).toBe(false);
    expect(existsSync(update.cache)).toBe(false);
    // The CC replica is untouched.
    expect(existsSync(h.stores.sectorPaths("persist-1", sid)!.file)).toBe(true);
  });
});
