import { afterEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { computeCommD, generatePieceCommitment, unpaddedSize } from "../../src/core/proofs/index.ts";
import { Venus } from "../../src/core/sector/api.ts";
import { Market } from "../../src/core/sector/api-market.ts";
import { b64, OnChainState, pieceCid, pieceCommitment, SubmitResult, zeroCommD } from "../../src/core/sector/index.ts";
import {
  type Beacon,
  deriveRandomness,
  loadProofsVerifier,
  proofsCommDCalculator,
  zeroFilled,
} from "../../src/devnet/index.ts";
import { sealed2KiB } from "../fixtures/sealed-2kib.ts";
import { allocate, startTestManager, type TestManager } from "./fixture.ts";
import { waitFor } from "./helpers.ts";
import { fakeCommP, jsCommD } from "./market-helpers.ts";

/**
 * The market with the proofs library: CommP of an import is generate_piece_commitment's, the TypeScript
 * compute_comm_d the other tests use agrees with the library's, and a real 2KiB sector holding a deal goes
 * through the manager and the devnet, which check its CommD with compute_comm_d and its proof with verify_seal.
 */

let t: TestManager | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const STD_2KIB = 5; // StackedDrg2KiBV1_1

describe("market with the proofs library", () => {
  test("an import's CommP is generate_piece_commitment's over the payload zero-filled to the piece", async () => {
    t = await startTestManager();
    await t.advance(10);
    for (const bytes of [1, 127, 128, 300, 1016, 2032]) {
      const path = join(t.home, `payload-${bytes}.bin`);
      writeFileSync(path, Buffer.from(Array.from({ length: bytes }, (_, i) => (i * 31 + bytes) % 251)));
      const deal = await t.client.call(Market.Import, path, { StartEpoch: 5000 });
      const direct = await generatePieceCommitment({
        registeredProof: STD_2KIB,
        path,
        pieceSize: unpaddedSize(deal.PieceSize),
      });
      expect(deal.PieceCID["/"]).toBe(pieceCid(direct.commitment));
      expect(deal.PayloadSize).toBe(bytes);
    }
  });

  test("the TypeScript compute_comm_d of the tests agrees with the library", async () => {
    const layouts: [string, number][][] = [
      [],
      [["a", 2048]],
      [
        ["a", 128],
        ["b", 512],
        ["c", 1024],
      ],
      [
        ["a", 1024],
        ["b", 256],
        ["c", 512],
      ],
      [["a", 256]],
    ];
    const calc = proofsCommDCalculator();
    for (const layout of layouts) {
      const pieces = layout.map(([label, size]) => ({ commP: fakeCommP(label), paddedSize: size }));
      const library = await computeCommD({
        registeredProof: STD_2KIB,
        pieces: zeroFilled(pieces, 2048).map((p) => ({ commitment: p.commP, size: unpaddedSize(p.paddedSize) })),
      });
      expect(Buffer.from(jsCommD(2048, pieces))).toEqual(Buffer.from(library));
      expect(Buffer.from(await calc.computeCommD(STD_2KIB, pieces))).toEqual(Buffer.from(library));
    }
    expect(Buffer.from(jsCommD(2048, []))).toEqual(Buffer.from(zeroCommD(2048)));
    // Why the zero fill is named: the library reduces the pieces it is given, it does not pad them to the sector.
    const lone = await computeCommD({ registeredProof: STD_2KIB, pieces: [{ commitment: fakeCommP("a"), size: 254 }] });
    expect(Buffer.from(lone)).toEqual(Buffer.from(fakeCommP("a")));
  });

  test("a real 2KiB sector with a deal: import, AcquireDeals, PreCommit, ProveCommit, deal active", async () => {
    const fx = await sealed2KiB();
    const sector = fx.data;
    const TICKET_EPOCH = 8; // head 10 − lookback 2
    const SEED_EPOCH = 14; // PreCommit pushed at 10, packed at 11, + challenge delay 3
    const beacon: Beacon = (domain, a, epoch) => {
      if (a === fx.actorId && domain === "SealRandomness" && epoch === TICKET_EPOCH) return fx.ticket;
      if (a === fx.actorId && domain === "InteractiveSealChallengeSeed" && epoch === SEED_EPOCH) return fx.seed;
      return deriveRandomness("market-real-proof-test", domain, a, epoch);
    };
    t = await startTestManager({
      verifier: await loadProofsVerifier(),
      commD: proofsCommDCalculator(),
      beacon,
      miner: { Sector: { InitNumber: 1, EnableDeals: true } },
    });
    const { client, advance } = t;
    await advance(10);
    const deal = await client.call(Market.Import, sector.payloadPath, { StartEpoch: 5000 });
    expect(deal.PieceCID["/"]).toBe(pieceCid(sector.pieces[0]!.commitment));
    expect(deal.PieceSize).toBe(1024);

    const allocated = await allocate(client);
    expect(allocated.ID).toEqual({ Miner: fx.actorId, Number: sector.sectorId });
    const sid = allocated.ID;
    const pieces = (await client.call(Venus.AcquireDeals, sid, { MaxDeals: null, MinUsedSpace: null }))!;
    expect(pieces.map((p) => [p.ID, p.Piece.Size, p.Piece.Offset])).toEqual([
      [deal.DealID, 1024, 0],
      [0, 1024, 1024],
    ]);
    // The sector the fixture sealed holds exactly these pieces: the data piece, then zeros.
    expect(Buffer.from(pieceCommitment(pieces[1]!.Piece.Cid["/"]))).toEqual(Buffer.from(sector.pieces[1]!.commitment));

    const ticket = await client.call(Venus.AssignTicket, sid);
    expect(ticket).toEqual({ Ticket: b64(fx.ticket), Epoch: TICKET_EPOCH });
    const info = { CommR: [...sector.commR], CommD: [...sector.commD], Ticket: ticket, Deals: null };
    expect((await client.call(Venus.SubmitPreCommit, allocated, info, false)).Res).toBe(SubmitResult.Accepted);
    const commit = t.manager.services.commit;
    await waitFor(() => commit.pendingCount(sid.Miner, "pre") === 0 && commit.outboxSize() === 0, "the PreCommit push");
    await advance(2);
    expect((await client.call(Venus.PollPreCommitState, sid)).State).toBe(OnChainState.Landed);
    // The PreCommit declares the data's CommD and names no deal (builtin's rule); ProveCommit's pieces carry it.
    expect((await t.manager.services.chain.preCommitInfo(sid.Miner, sid.Number))?.dealIds).toEqual([]);
    await advance(3);
    expect((await client.call(Venus.WaitSeed, sid, fx.registeredProof)).Seed).toEqual({
      Seed: b64(fx.seed),
      Epoch: SEED_EPOCH,
    });
    expect((await client.call(Venus.SubmitProof, sid, { Proof: b64(sector.proof!) }, false)).Res).toBe(
      SubmitResult.Accepted,
    );
    await waitFor(() => commit.pendingCount(sid.Miner, "prove") === 0 && commit.outboxSize() === 0, "the ProveCommit");
    await advance(2);
    expect(await client.call(Venus.PollProofState, sid)).toEqual({ State: OnChainState.Landed, Desc: null });
    expect((await client.call(Market.Deals, null))[0]).toMatchObject({ State: "active", Sector: sid, Offset: 0 });
    expect(await t.manager.services.chain.marketDeal(deal.DealID)).toMatchObject({ state: "active", sectorNumber: 2 });
  }, 900_000);
});
