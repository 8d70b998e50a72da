import { describe, expect, test } from "bun:test";
import { Venus } from "../../src/core/sector/api.ts";
import type { ChainMessage } from "../../src/core/sector/chain.ts";
import { b64, OnChainState, SubmitResult, zeroCommD } from "../../src/core/sector/index.ts";
import { KVStore } from "../../src/core/store/index.ts";
import {
  type Beacon,
  DevnetChain,
  deriveRandomness,
  devnetSettings,
  loadProofsVerifier,
} from "../../src/devnet/index.ts";
import { sealed2KiB } from "../fixtures/sealed-2kib.ts";
import { allocate, report, startTestManager } from "./fixture.ts";
import { FakeClock, waitFor } from "./helpers.ts";

/**
 * The devnet and the manager with the real verifier (rust-fil-proofs verify_seal via src/core/proofs)
 * and the shared real 2KiB sector of tests/fixtures/sealed-2kib.ts. That sector was sealed with the
 * fixture's own ticket and seed, so the chain's beacon answers exactly those at the epochs the flow
 * uses: ticket at head − SealRandomnessLookback when the ticket is assigned, seed at PreCommit epoch +
 * PreCommitChallengeDelay.
 */

const TICKET_EPOCH = 8; // head 10 − lookback 2
const SEED_EPOCH = 14; // PreCommit pushed at 10, packed at 11, + challenge delay 3

function fixtureBeacon(actor: number, ticket: Uint8Array, seed: Uint8Array): Beacon {
  return (domain, a, epoch) => {
    if (a === actor && domain === "SealRandomness" && epoch === TICKET_EPOCH) return ticket;
    if (a === actor && domain === "InteractiveSealChallengeSeed" && epoch === SEED_EPOCH) return seed;
    return deriveRandomness("real-proof-test", domain, a, epoch);
  };
}

function tamper(proof: Uint8Array): Uint8Array {
  const t = new Uint8Array(proof);
  t[10]! ^= 0xff;
  return t;
}

describe("devnet with real proofs", () => {
  test("devnet accepts a real 2KiB proof and rejects a tampered one", async () => {
    const fx = await sealed2KiB();
    const sector = fx.cc;
    expect(Buffer.from(sector.commD)).toEqual(Buffer.from(zeroCommD(2048))); // our CC CommD matches the library's
    const verifier = await loadProofsVerifier();
    expect(verifier.name).toContain("verify_seal");

    const BLOCK = 1000;
    const settings = devnetSettings({
      BlockTime: BLOCK,
      PreCommitChallengeDelay: 3,
      MessagePackDelay: 1,
      MessageLandDelay: 1,
    });
    const clock = new FakeClock();
    const chain = new DevnetChain({
      store: KVStore.open(":memory:"),
      settings,
      verifier,
      miners: [{ actor: fx.actorId, sectorSize: 2048 }],
      now: clock.now,
      beacon: fixtureBeacon(fx.actorId, fx.ticket, fx.seed),
    });
    const advance = async (n: number) => {
      clock.advance(n * BLOCK);
      await chain.tick();
    };
    try {
      await advance(10);
      const pre: ChainMessage = {
        from: fx.actorId,
        nonce: 1,
        method: "PreCommitSectorBatch2",
        sectors: [
          {
            number: sector.sectorId,
            sealProof: fx.registeredProof,
            commR: [...sector.commR],
            commD: [...sector.commD],
            sealRandEpoch: TICKET_EPOCH,
            dealIds: [],
          },
        ],
      };
      await chain.pushMessage(pre);
      await advance(2);
      expect((await chain.preCommitInfo(fx.actorId, sector.sectorId))?.preCommitEpoch).toBe(11);
      await advance(3); // head 15: past the seed epoch

      const bad = await chain.pushMessage({
        from: fx.actorId,
        nonce: 2,
        method: "ProveCommitSectors3",
        sectors: [{ number: sector.sectorId, proof: b64(tamper(sector.proof!)) }],
      });
      await advance(1);
      const badLook = (await chain.messageLookup(bad))!;
      expect(badLook.status).toBe("failed");
      expect(badLook.results![0]!.error).toContain("invalid seal proof");
      expect(badLook.results![0]!.code).toBe("invalid-proof");
      expect(await chain.sectorInfo(fx.actorId, sector.sectorId)).toBeUndefined();

      // A well-formed proof of another sector: the library answers false instead of failing to parse it.
      const other = await chain.pushMessage({
        from: fx.actorId,
        nonce: 4,
        method: "ProveCommitSectors3",
        sectors: [{ number: sector.sectorId, proof: b64(fx.data.proof!) }],
      });
      await advance(1);
      expect((await chain.messageLookup(other))!.results![0]!.error).toStartWith(
        "invalid seal proof: verify_seal rejected it",
      );
      expect((await chain.messageLookup(other))!.results![0]!.code).toBe("invalid-proof");

      const good = await chain.pushMessage({
        from: fx.actorId,
        nonce: 3,
        method: "ProveCommitSectors3",
        sectors: [{ number: sector.sectorId, proof: b64(sector.proof!) }],
      });
      await advance(2);
      const goodLook = (await chain.messageLookup(good))!;
      expect(goodLook.status).toBe("landed");
      expect(goodLook.results).toEqual([{ number: sector.sectorId, ok: true }]);
      expect((await chain.minerPower(fx.actorId)).activeSectors).toBe(1);
    } finally {
      chain.close();
    }
  }, 600_000);

  test("over RPC: the manager hands out the ticket and seed, rejects the tampered proof and lands the real one", async () => {
    const fx = await sealed2KiB();
    const sector = fx.cc;
    const t = await startTestManager({
      verifier: await loadProofsVerifier(),
      beacon: fixtureBeacon(fx.actorId, fx.ticket, fx.seed),
    });
    try {
      const { client, advance } = t;
      await advance(10);
      const allocated = await allocate(client);
      expect(allocated.ID).toEqual({ Miner: fx.actorId, Number: sector.sectorId });
      const sid = allocated.ID;
      const ticket = await client.call(Venus.AssignTicket, sid);
      expect(ticket).toEqual({ Ticket: b64(fx.ticket), Epoch: TICKET_EPOCH });
      const info = { CommR: [...sector.commR], CommD: [...sector.commD], Ticket: ticket, Deals: null };
      expect((await client.call(Venus.SubmitPreCommit, allocated, info, false)).Res).toBe(SubmitResult.Accepted);
      await waitFor(
        () =>
          t.manager.services.commit.pendingCount(sid.Miner, "pre") === 0 &&
          t.manager.services.commit.outboxSize() === 0,
        "the PreCommit to be pushed",
      );
      await advance(2);
      expect((await client.call(Venus.PollPreCommitState, sid)).State).toBe(OnChainState.Landed);
      await advance(3);
      const seed = await client.call(Venus.WaitSeed, sid, fx.registeredProof);
      expect(seed.Seed).toEqual({ Seed: b64(fx.seed), Epoch: SEED_EPOCH });

      const bad = await client.call(Venus.SubmitProof, sid, { Proof: b64(tamper(sector.proof!)) }, false);
      expect(bad.Res).toBe(SubmitResult.Rejected);
      expect(bad.Desc).toContain("verify_seal rejected it");
      expect((await client.call(Venus.SubmitProof, sid, { Proof: b64(sector.proof!) }, false)).Res).toBe(
        SubmitResult.Accepted,
      );
      await waitFor(
        () =>
          t.manager.services.commit.pendingCount(sid.Miner, "prove") === 0 &&
          t.manager.services.commit.outboxSize() === 0,
        "the ProveCommit to be pushed",
      );
      await advance(2);
      expect(await client.call(Venus.PollProofState, sid)).toEqual({ State: OnChainState.Landed, Desc: null });
      await report(client, sid, "ProofSubmitted", "Finished", "Finish");
      expect(await client.call(Venus.ReportFinalized, sid)).toBeNull();
    } finally {
      await t.close();
    }
  }, 600_000);
});
