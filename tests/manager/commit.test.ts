import { describe, expect, test } from "bun:test";
import type { Chain, ChainMessage, MessageLookup, RejectionCode } from "../../src/core/sector/chain.ts";
import { b64, newSectorState, OnChainState, SubmitResult, zeroCommD } from "../../src/core/sector/index.ts";
import { KVStore } from "../../src/core/store/index.ts";
import { DevnetChain, devnetSettings } from "../../src/devnet/index.ts";
import { CommitManager } from "../../src/manager/commit/manager.ts";
import { rejectedSectorState } from "../../src/manager/commit/message-state.ts";
import { batchDue, type CommitMiner } from "../../src/manager/commit/policy.ts";
import { SectorStates } from "../../src/manager/sectors/states.ts";
import { FakeClock, fakeVerifier } from "./helpers.ts";

const miner: CommitMiner = {
  actor: 1000,
  sectorSize: 2048,
  pre: { threshold: 1, maxWaitMs: 3_600_000, checkIntervalMs: 3_600_000 },
  prove: { threshold: 1, maxWaitMs: 3_600_000, checkIntervalMs: 3_600_000 },
};

describe("batch rule", () => {
  const policy = { threshold: 3, maxWaitMs: 1000, checkIntervalMs: 100 };
  test("threshold, MaxWait and manual trigger", () => {
    expect(batchDue(policy, [], 0, true)).toBe(false);
    expect(batchDue(policy, [{ since: 0 }, { since: 0 }], 999)).toBe(false);
    expect(batchDue(policy, [{ since: 0 }, { since: 500 }], 1000)).toBe(true);
    expect(batchDue(policy, [{ since: 900 }, { since: 900 }, { since: 900 }], 901)).toBe(true);
    expect(batchDue(policy, [{ since: 900 }], 901, true)).toBe(true);
  });
});

/** An in-memory devnet of miner 1000 at epoch 20, and the sector states beside it in the same store. */
async function devnetAt20() {
  const store = KVStore.open(":memory:");
  const clock = new FakeClock();
  const chain = new DevnetChain({
    store,
    settings: devnetSettings({ BlockTime: 1000 }),
    verifier: fakeVerifier(),
    miners: [{ actor: 1000, sectorSize: 2048 }],
    now: clock.now,
  });
  clock.advance(20_000);
  await chain.tick();
  return { store, clock, chain, states: new SectorStates(store) };
}

describe("transactional outbox", () => {
  test("a crash between writing a batch and pushing it, or after pushing, sends the message exactly once", async () => {
    const { store, clock, chain, states } = await devnetAt20();
    const sid = { Miner: 1000, Number: 1 };
    states.create(newSectorState(sid, 5));

    // The "crashing" chain: the push never happens, as if the process died right after the batch commit.
    let pushes = 0;
    const crashing: Chain = Object.assign(Object.create(chain) as Chain, {
      pushMessage: async (_m: ChainMessage) => {
        pushes++;
        throw new Error("process killed");
      },
    });
    const first = new CommitManager({
      store,
      states,
      chain: crashing,
      verifier: fakeVerifier(),
      miners: () => [miner],
      now: clock.now,
    });
    const epoch = 20 - 5;
    const ticket = { Ticket: b64(await chain.ticketRandomness(1000, epoch)), Epoch: epoch };
    const commR = Array.from({ length: 32 }, (_, i) => i);
    const res = await first.submitPreCommit(
      { ID: sid, ProofType: 5 },
      { CommR: commR, CommD: [...zeroCommD(2048)], Ticket: ticket, Deals: null },
      false,
    );
    expect(res.Res).toBe(SubmitResult.Accepted);
    await first.kick(1000, "pre");
    expect(pushes).toBeGreaterThan(0);
    expect(first.outboxSize()).toBe(1);
    const cid = states.get("online", sid)!.MessageInfo.PreCommitCid!["/"];
    expect(await chain.messageLookup(cid)).toBeUndefined();

    // Restart: the outbox is pushed.
    const second = new CommitManager({
      store,
      states,
      chain,
      verifier: fakeVerifier(),
      miners: () => [miner],
      now: clock.now,
    });
    await second.start();
    second.stop();
    expect(second.outboxSize()).toBe(0);
    expect((await chain.messageLookup(cid))?.status).toBe("pending");

    // A crash after the push but before the outbox entry was removed: pushing again changes nothing.
    const msg = (await chain.messageLookup(cid))!.message;
    store.collection("common").putJSON(`commit/outbox/${cid}`, msg);
    await second.kick(1000, "pre");
    expect(store.collection("chain").count("msg/")).toBe(1);
    expect(second.outboxSize()).toBe(0);
    chain.close();
  });
});

describe("batch checks", () => {
  test("a submission during a running check is pushed when that check ends, not at the next interval", async () => {
    const { store, clock, chain, states } = await devnetAt20();
    // A chain node that is slow to take a message: the first push waits until the test lets it go.
    let release!: () => void;
    const held = new Promise<void>((done) => (release = done));
    const pushed: number[][] = [];
    const slow: Chain = Object.assign(Object.create(chain) as Chain, {
      pushMessage: async (m: ChainMessage) => {
        if (pushed.length === 0) await held;
        pushed.push("sectors" in m ? m.sectors.map((s) => s.number) : []);
        return chain.pushMessage(m);
      },
    });
    // CheckInterval 1h: only the kicks of the submissions can push.
    const commit = new CommitManager({
      store,
      states,
      chain: slow,
      verifier: fakeVerifier(),
      miners: () => [miner],
      now: clock.now,
    });
    const epoch = 20 - 5;
    const ticket = { Ticket: b64(await chain.ticketRandomness(1000, epoch)), Epoch: epoch };
    const submit = (n: number) => {
      const sid = { Miner: 1000, Number: n };
      states.create(newSectorState(sid, 5));
      const commR = Array.from({ length: 32 }, (_, i) => (i + n) % 256);
      return commit.submitPreCommit(
        { ID: sid, ProofType: 5 },
        { CommR: commR, CommD: [...zeroCommD(2048)], Ticket: ticket, Deals: null },
        false,
      );
    };
    expect((await submit(1)).Res).toBe(SubmitResult.Accepted);
    const first = commit.kick(1000, "pre"); // the check under way, its push held
    expect((await submit(2)).Res).toBe(SubmitResult.Accepted);
    const second = commit.kick(1000, "pre");
    release();
    await Promise.all([first, second]);
    expect(pushed).toEqual([[1], [2]]);
    expect(commit.pendingCount(1000, "pre")).toBe(0);
    chain.close();
  });
});

describe("a sector the chain refused", () => {
  test("its fate follows the reason code: too early retries, a bad proof pauses, anything else aborts", () => {
    expect(rejectedSectorState("prove", "too-early")).toBe(OnChainState.Failed);
    expect(rejectedSectorState("prove", "invalid-proof")).toBe(OnChainState.PermFailed);
    expect(rejectedSectorState("pre", "invalid-proof")).toBe(OnChainState.ShouldAbort);
    for (const code of ["too-late", "no-precommit", "already-proven", "unverifiable", undefined] as const)
      expect(rejectedSectorState("prove", code)).toBe(OnChainState.ShouldAbort);
    expect(rejectedSectorState("pre", "ticket-expired")).toBe(OnChainState.ShouldAbort);
  });

  test("PollProofState decides on the code, never on the message text", async () => {
    const store = KVStore.open(":memory:");
    const clock = new FakeClock();
    const devnet = new DevnetChain({
      store,
      settings: devnetSettings({ BlockTime: 1000 }),
      verifier: fakeVerifier(),
      miners: [{ actor: 1000, sectorSize: 2048 }],
      now: clock.now,
    });
    const states = new SectorStates(store);
    const sid = { Miner: 1000, Number: 7 };
    states.create(newSectorState(sid, 5));
    states.update(sid, (s) => {
      s.Pre = { CommR: { "/": "r" }, CommD: { "/": "d" }, Ticket: { Ticket: "", Epoch: 1 }, Deals: null };
      s.Seed = { Seed: "", Epoch: 2 };
      s.Proof = { Proof: "cHJvb2Y=" };
      s.MessageInfo = { PreCommitCid: null, CommitCid: { "/": "bafy-prove" }, NeedSend: false };
    });
    // The chain's verdict, with text that would mislead anything that read it.
    let verdict: { code: RejectionCode; error: string } = { code: "too-early", error: "invalid seal proof" };
    const chain: Chain = Object.assign(Object.create(devnet) as Chain, {
      messageLookup: async (cid: string): Promise<MessageLookup> => ({
        cid,
        message: { from: 1000, nonce: 1, method: "ProveCommitSectors3", sectors: [{ number: 7, proof: "cHJvb2Y=" }] },
        status: "failed",
        pushedEpoch: 1,
        packedEpoch: 2,
        exitCode: 16,
        ...verdict,
        results: [{ number: 7, ok: false, ...verdict }],
      }),
    });
    const commit = new CommitManager({ store, states, chain, verifier: fakeVerifier(), miners: () => [miner] });

    const first = await commit.pollProofState(sid);
    expect(first.State).toBe(OnChainState.Failed);
    expect(first.Desc).toContain("invalid seal proof"); // the text is still shown to the operator
    verdict = { code: "invalid-proof", error: "too early: reworded" };
    expect((await commit.pollProofState(sid)).State).toBe(OnChainState.PermFailed);
    verdict = { code: "too-late", error: "too early" };
    expect((await commit.pollProofState(sid)).State).toBe(OnChainState.ShouldAbort);
    devnet.close();
  });
});
