import { afterEach, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Venus } from "../../src/core/sector/api.ts";
import { Market } from "../../src/core/sector/api-market.ts";
import {
  type DealInfo,
  OnChainState,
  pieceCommitment,
  type SectorID,
  SubmitResult,
} from "../../src/core/sector/index.ts";
import type { PieceHasher } from "../../src/manager/market/import.ts";
import { runCli } from "../helpers/cli.ts";
import { allocate, startTestManager, TEST_COMM_R, type TestManager } from "./fixture.ts";
import { VALID_PROOF_B64, waitFor } from "./helpers.ts";
import { jsCommD } from "./market-helpers.ts";

/**
 * The embedded market on a manager with the fake verifier: AcquireDeals rules, deals through PreCommit
 * and ProveCommit to active, abort releasing deals, and the CLI. CommP here is a stand-in (sha256 of the
 * file); market-real.test.ts checks the real one.
 */

let t: TestManager | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const fakeHasher: PieceHasher = {
  name: "sha256 stand-in",
  async pieceCommitment(_proof, path) {
    const out = new Uint8Array(createHash("sha256").update(readFileSync(path)).digest());
    out[31]! &= 0x3f;
    return out;
  },
};

const FAR = 5000; // a start epoch well past head + the sealing lead (about 1800 epochs of 1 s)

async function market(o: { enableDeals?: boolean; secondMiner?: boolean } = {}) {
  t = await startTestManager({
    miner: { Sector: { EnableDeals: o.enableDeals ?? true } },
    pieceHasher: fakeHasher,
    secondMiner: o.secondMiner,
  });
  await t.advance(10);
  return t;
}

let fileNo = 0;
async function importFile(tm: TestManager, bytes: number, spec: { StartEpoch?: number; Miner?: number } = {}) {
  const path = join(tm.home, `data-${++fileNo}.bin`);
  writeFileSync(path, Buffer.alloc(bytes, fileNo));
  return tm.client.call(Market.Import, path, { StartEpoch: spec.StartEpoch ?? FAR, Miner: spec.Miner ?? null });
}

function acquire(tm: TestManager, sid: SectorID, MaxDeals: number | null = null, MinUsedSpace: number | null = null) {
  return tm.client.call(Venus.AcquireDeals, sid, { MaxDeals, MinUsedSpace });
}

const shape = (pieces: DealInfo[] | null) => pieces?.map((p) => `${p.ID}:${p.Piece.Size}@${p.Piece.Offset}`) ?? null;

async function allocateFor(tm: TestManager, miner = 1000) {
  const s = await tm.client.call(Venus.AllocateSector, { AllowedMiners: [miner], AllowedProofTypes: null });
  if (!s) throw new Error("no sector");
  return s;
}

describe("the embedded market", () => {
  test("import sizes the piece like Lotus, stores it under its piece CID, and publishes the deal", async () => {
    const tm = await market();
    const deal = await importFile(tm, 300);
    expect(deal).toMatchObject({
      DealID: 1,
      PieceSize: 512,
      PayloadSize: 300,
      Provider: 1000,
      Client: "f0100",
      StartEpoch: FAR,
      EndEpoch: FAR + 180 * 2880,
      State: "published",
      Sector: null,
      PieceStore: "pieces",
    });
    expect(readFileSync(join(tm.piecesPath, deal.PieceCID["/"]))).toEqual(Buffer.alloc(300, fileNo));
    expect(await tm.manager.services.chain.marketDeal(1)).toMatchObject({
      state: "published",
      proposal: { pieceCid: deal.PieceCID["/"], pieceSize: 512, provider: 1000 },
    });
    expect((await importFile(tm, 127)).PieceSize).toBe(128);
    expect((await importFile(tm, 1016)).PieceSize).toBe(1024);
    expect((await importFile(tm, 1017)).PieceSize).toBe(2048);
    const tooBig = await importFile(tm, 2033).catch((e: Error) => e);
    expect(String(tooBig)).toContain("larger than miner f01000's 2048-byte sectors");
    const missing = await tm.client.call(Market.Import, "/nonexistent/file", {}).catch((e: Error) => e);
    expect(String(missing)).toContain("does not exist on the manager's host");
    const past = await importFile(tm, 10, { StartEpoch: 5 }).catch((e: Error) => e);
    expect(String(past)).toContain("the chain refused the deal (deal-invalid)");
    expect((await tm.client.call(Market.Deals, null)).map((d) => d.DealID)).toEqual([1, 2, 3, 4]);
  });

  test("an import a crash interrupted (recorded, not yet published) is published once on the next start", async () => {
    const tm = await market();
    const deal = await importFile(tm, 300);
    const store = tm.manager.market.deals.deals;
    const proposal = { ...(await tm.manager.services.chain.marketDeal(deal.DealID))!.proposal };
    // Crashed after the outbox write, before the publish; and one whose publish landed but was not recorded.
    const unpublished = { ...proposal, label: "crashed before publish" };
    store.putPendingImport("a", { Proposal: unpublished, PayloadSize: 300, PieceStore: "pieces", CreatedAt: 1 });
    store.putPendingImport("b", { Proposal: proposal, PayloadSize: 300, PieceStore: "pieces", CreatedAt: 1 });
    await tm.manager.market.start();
    expect(store.pendingImports()).toEqual([]);
    const deals = await tm.client.call(Market.Deals, null);
    expect(deals.map((d) => [d.DealID, d.Label, d.State])).toEqual([
      [deal.DealID, deal.Label, "published"],
      [deal.DealID + 1, "crashed before publish", "published"],
    ]);
  });

  test("AcquireDeals: MaxDeals, sector size, in order with aligned offsets, idempotent, never in two sectors", async () => {
    const tm = await market();
    const small = await importFile(tm, 100); // 128
    const mid = await importFile(tm, 300); // 512
    const big = await importFile(tm, 1000); // 1024
    const s1 = await allocate(tm.client);
    const first = await acquire(tm, s1.ID, 2);
    expect(shape(first)).toEqual([
      `${small.DealID}:128@0`,
      "0:128@128",
      "0:256@256",
      `${mid.DealID}:512@512`,
      "0:1024@1024",
    ]);
    expect(first![0]!.Piece.Cid).toEqual(small.PieceCID);
    expect(await acquire(tm, s1.ID, 2)).toEqual(first);
    expect((await tm.client.call(Venus.FindSector, "online", s1.ID))?.Pieces).toEqual(first);

    const s2 = await allocate(tm.client);
    expect(shape(await acquire(tm, s2.ID))).toEqual([`${big.DealID}:1024@0`, "0:1024@1024"]);
    const s3 = await allocate(tm.client);
    expect(await acquire(tm, s3.ID)).toBeNull();
    const states = Object.fromEntries((await tm.client.call(Market.Deals, null)).map((d) => [d.DealID, d]));
    expect(states[small.DealID]).toMatchObject({ State: "assigned", Sector: s1.ID, Offset: 0 });
    expect(states[mid.DealID]).toMatchObject({ State: "assigned", Sector: s1.ID, Offset: 512 });
    expect(states[big.DealID]).toMatchObject({ State: "assigned", Sector: s2.ID, Offset: 0 });
  });

  test("AcquireDeals: MinUsedSpace, the start epoch, the miner, and EnableDeals", async () => {
    const tm = await market({ secondMiner: true });
    const soon = await importFile(tm, 300, { StartEpoch: 1000 }); // head 10 + lead 1808 > 1000
    const other = await importFile(tm, 300, { Miner: 1001 });
    const s1 = await allocateFor(tm);
    expect(await acquire(tm, s1.ID)).toBeNull();
    const ok = await importFile(tm, 300);
    expect(await acquire(tm, s1.ID, null, 1024)).toBeNull(); // 512 bytes of deals < 1024
    expect(shape(await acquire(tm, s1.ID, null, 512))).toEqual([`${ok.DealID}:512@0`, "0:512@512", "0:1024@1024"]);
    const s2 = await allocateFor(tm, 1001);
    expect(shape(await acquire(tm, s2.ID))?.[0]).toBe(`${other.DealID}:512@0`);
    expect((await tm.client.call(Market.Deals, 1000)).find((d) => d.DealID === soon.DealID)?.State).toBe("published");
    await t!.close();

    const off = await market({ enableDeals: false });
    await importFile(off, 300);
    const s = await allocate(off.client);
    expect(await acquire(off, s.ID)).toBeNull();
  });

  test("an aborted sector releases its deals to the next sector", async () => {
    const tm = await market();
    const deal = await importFile(tm, 300);
    const s1 = await allocate(tm.client);
    expect(shape(await acquire(tm, s1.ID))?.[0]).toBe(`${deal.DealID}:512@0`);
    expect(await tm.client.call(Venus.ReportAborted, s1.ID, "test abort")).toBeNull();
    expect((await tm.client.call(Market.Deals, null))[0]).toMatchObject({ State: "published", Sector: null });
    const s2 = await allocate(tm.client);
    expect(shape(await acquire(tm, s2.ID))?.[0]).toBe(`${deal.DealID}:512@0`);
    expect((await tm.client.call(Market.Deals, null))[0]).toMatchObject({ State: "assigned", Sector: s2.ID });
    // The restored sector kept its record of the pieces, but the deal is s2's now: its PreCommit is refused.
    expect(await tm.client.call(Venus.RestoreSector, s1.ID, false)).toBeNull();
    const ticket = await tm.client.call(Venus.AssignTicket, s1.ID);
    const pieces = (await tm.client.call(Venus.FindSector, "online", s1.ID))!.Pieces as DealInfo[];
    const r = await tm.client.call(
      Venus.SubmitPreCommit,
      s1,
      { CommR: TEST_COMM_R, CommD: commDOf(pieces), Ticket: ticket, Deals: null },
      false,
    );
    expect(r.Res).toBe(SubmitResult.Rejected);
    expect(r.Desc).toContain(`deal ${deal.DealID} is no longer assigned to s-t01000-1`);
  });

  test("the sector's deals: CommD is checked, the PreCommit declares it, ProveCommit's pieces activate the deals", async () => {
    const tm = await market();
    const { client, advance } = tm;
    const a = await importFile(tm, 300);
    const b = await importFile(tm, 1000);
    const sector = await allocate(client);
    const sid = sector.ID;
    const pieces = (await acquire(tm, sid))!;
    const ticket = await client.call(Venus.AssignTicket, sid);
    const submit = (CommD: number[], Deals: number[] | null) =>
      client.call(Venus.SubmitPreCommit, sector, { CommR: TEST_COMM_R, CommD, Ticket: ticket, Deals }, false);

    const wrong = await submit(commDOf(pieces.slice(0, 1)), null);
    expect(wrong.Res).toBe(SubmitResult.MismatchedSubmission);
    expect(wrong.Desc).toContain("is not the commitment of s-t01000-1's pieces");
    const foreign = await submit(commDOf(pieces), [a.DealID, 99]);
    expect(foreign.Res).toBe(SubmitResult.Rejected);
    expect((await submit(commDOf(pieces), null)).Res).toBe(SubmitResult.Accepted);
    expect((await client.call(Venus.FindSector, "online", sid))?.Pre?.Deals).toEqual([a.DealID, b.DealID]);

    const commit = tm.manager.services.commit;
    await waitFor(() => commit.outboxSize() === 0 && commit.pendingCount(1000, "pre") === 0, "the PreCommit push");
    await advance(2);
    expect((await client.call(Venus.PollPreCommitState, sid)).State).toBe(OnChainState.Landed);
    // builtin's rule: the PreCommit declares the data's CommD and names no deal; the deals travel as the
    // ProveCommitSectors3's pieces.
    const onChain = await tm.manager.services.chain.preCommitInfo(1000, sid.Number);
    expect(onChain?.dealIds).toEqual([]);
    expect(onChain?.commD).toEqual(commDOf(pieces));
    await advance(4);
    expect((await client.call(Venus.WaitSeed, sid, 5)).ShouldWait).toBe(false);
    expect((await client.call(Venus.SubmitProof, sid, { Proof: VALID_PROOF_B64 }, false)).Res).toBe(
      SubmitResult.Accepted,
    );
    await waitFor(() => commit.outboxSize() === 0 && commit.pendingCount(1000, "prove") === 0, "the ProveCommit push");
    await advance(2);
    expect((await client.call(Venus.PollProofState, sid)).State).toBe(OnChainState.Landed);

    const deals = await client.call(Market.Deals, null);
    expect(deals.map((d) => [d.DealID, d.State, d.Sector, d.Offset])).toEqual([
      [a.DealID, "active", sid, 0],
      [b.DealID, "active", sid, 1024],
    ]);
    const where = await client.call(Market.PieceLocate, b.PieceCID["/"]);
    expect(where).toMatchObject({
      PieceSize: 1024,
      PayloadSize: 1000,
      Sector: sid,
      Offset: 1024,
      PieceStore: "pieces",
    });
    expect(await client.call(Market.PieceLocate, pieces[1]!.Piece.Cid["/"])).toBeNull(); // a filler is no deal

    const cli = await runCli([
      "util",
      "market",
      "deals",
      "--api",
      new URL(tm.manager.url).host,
      "--token",
      tm.tokens.read,
    ]);
    expect(cli.code).toBe(0);
    const lines = cli.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^DealID\s+PieceCID\s+Size\s+Client\s+Provider\s+Start\s+End\s+State\s+Sector$/);
    expect(lines[1]).toMatch(
      new RegExp(
        `^${a.DealID}\\s+${a.PieceCID["/"]}\\s+512\\s+f0100\\s+f01000\\s+${FAR}\\s+\\d+\\s+active\\s+s-t01000-1$`,
      ),
    );
    expect(lines.at(-1)).toBe("2 deal(s)");
    const json = await runCli([
      "util",
      "market",
      "deals",
      "--json",
      "--api",
      new URL(tm.manager.url).host,
      "--token",
      tm.tokens.read,
    ]);
    expect(JSON.parse(json.stdout)).toEqual(deals);
  });
});

function commDOf(pieces: DealInfo[]): number[] {
  return [
    ...jsCommD(
      2048,
      pieces.map((p) => ({ commP: pieceCommitment(p.Piece.Cid["/"]), paddedSize: p.Piece.Size })),
    ),
  ];
}
