import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bearer } from "../../src/core/auth/index.ts";
import { RpcCallError } from "../../src/core/rpc/index.ts";
import { Damocles, Venus } from "../../src/core/sector/api.ts";
import { OnChainState, SubmitResult } from "../../src/core/sector/index.ts";
import { allocate, CC_COMM_D, report, startTestManager, TEST_COMM_R, type TestManager } from "./fixture.ts";
import { BAD_PROOF_B64, VALID_PROOF_B64, waitFor } from "./helpers.ts";

let t: TestManager | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe("a sector through every state, with an RPC client acting as the worker", () => {
  test("AllocateSector → … → PollProofState Landed → ReportFinalized", async () => {
    t = await startTestManager();
    const { client, advance } = t;
    await advance(10);

    const sector = await allocate(client);
    expect(sector).toEqual({ ID: { Miner: 1000, Number: 1 }, ProofType: 5 });
    const sid = sector.ID;
    expect(await report(client, sid, "Empty", "Allocated", "Allocate")).toEqual({
      Id: sid,
      Finalized: false,
      AbortReason: null,
    });
    expect(await client.call(Venus.AcquireDeals, sid, { MaxDeals: null, MinUsedSpace: null })).toBeNull();
    await report(client, sid, "Allocated", "DealsAcquired", "AcquireDeals");

    const ticket = await client.call(Venus.AssignTicket, sid);
    expect(ticket.Epoch).toBe(8);
    expect(Buffer.from(ticket.Ticket, "base64").length).toBe(32);
    await report(client, sid, "TreeDBuilt", "TicketAssigned", "AssignTicket");

    const info = { CommR: TEST_COMM_R, CommD: CC_COMM_D, Ticket: ticket, Deals: [] };
    expect(await client.call(Venus.SubmitPreCommit, sector, info, false)).toEqual({
      Res: SubmitResult.Accepted,
      Desc: null,
    });
    expect((await client.call(Venus.SubmitPreCommit, sector, info, false)).Res).toBe(SubmitResult.DuplicateSubmit);
    const other = await client.call(Venus.SubmitPreCommit, sector, { ...info, CommR: CC_COMM_D }, false);
    expect(other.Res).toBe(SubmitResult.MismatchedSubmission);
    await report(client, sid, "PC2Done", "PCSubmitted", "SubmitPC");

    expect((await client.call(Venus.PollPreCommitState, sid)).State).toBe(OnChainState.Pending);
    await waitFor(
      () => t!.manager.services.commit.outboxSize() === 0 && t!.manager.services.commit.pendingCount(1000, "pre") === 0,
      "the PreCommit batch to be pushed",
    );
    await advance(1);
    expect((await client.call(Venus.PollPreCommitState, sid)).State).toBe(OnChainState.Packed);
    await advance(1);
    expect(await client.call(Venus.PollPreCommitState, sid)).toEqual({ State: OnChainState.Landed, Desc: null });
    await report(client, sid, "PCSubmitted", "PCLanded", "CheckPC");

    const store = await client.call(Venus.StoreReserveSpace, sid, 4096, ["persist-1"]);
    expect(store?.Name).toBe("persist-1");
    expect(await client.call(Venus.SubmitPersistedEx, sid, "persist-1", false)).toBe(false);
    mkdirSync(join(t.persistPath, "cache", "s-t01000-1"), { recursive: true });
    mkdirSync(join(t.persistPath, "sealed"), { recursive: true });
    writeFileSync(join(t.persistPath, "sealed", "s-t01000-1"), Buffer.alloc(2048));
    expect(await client.call(Venus.SubmitPersistedEx, sid, "persist-1", false)).toBe(true);
    expect(await client.call(Venus.SectorIndexerFind, "normal", sid)).toEqual({
      Found: true,
      Instance: { SealedFile: "persist-1", CacheDir: "persist-1" },
    });
    await report(client, sid, "Persisted", "PersistanceSubmitted", "SubmitPersistance");

    const early = await client.call(Venus.WaitSeed, sid, 5);
    expect(early.ShouldWait).toBe(true);
    expect(early.Seed).toBeNull();
    expect(early.Delay).toBeGreaterThan(0);
    await advance(4);
    const seed = await client.call(Venus.WaitSeed, sid, undefined); // older workers send no proof type
    expect(seed.ShouldWait).toBe(false);
    expect(seed.Seed!.Epoch).toBe(11 + 3); // PreCommit packed at epoch 11, challenge delay 3
    await report(client, sid, "PersistanceSubmitted", "SeedAssigned", "AssignSeed");

    const bad = await client.call(Venus.SubmitProof, sid, { Proof: BAD_PROOF_B64 }, false);
    expect(bad.Res).toBe(SubmitResult.Rejected);
    expect(bad.Desc).toContain("invalid proof");
    expect(await client.call(Venus.SubmitProof, sid, { Proof: VALID_PROOF_B64 }, false)).toEqual({
      Res: SubmitResult.Accepted,
      Desc: null,
    });
    await report(client, sid, "C2Done", "ProofSubmitted", "SubmitProof");
    await waitFor(
      () =>
        t!.manager.services.commit.pendingCount(1000, "prove") === 0 && t!.manager.services.commit.outboxSize() === 0,
      "the ProveCommit batch to be pushed",
    );
    expect((await client.call(Venus.PollProofState, sid)).State).toBe(OnChainState.Pending);
    await advance(1);
    expect((await client.call(Venus.PollProofState, sid)).State).toBe(OnChainState.Packed);
    await advance(1);
    expect((await client.call(Venus.PollProofState, sid)).State).toBe(OnChainState.Landed);
    await report(client, sid, "ProofSubmitted", "Finished", "Finish");

    expect(await client.call(Venus.ReportFinalized, sid)).toBeNull();
    expect(await client.call(Venus.ReportFinalized, sid)).toBeNull(); // idempotent
    const offline = (await client.call(Venus.ListSectors, "offline", 0))!;
    expect(offline.map((s) => [s.ID.Number, s.Finalized])).toEqual([[1, true]]);
    expect(offline[0]!.LatestState?.StateChange.Next).toBe("Finished");
    expect(offline[0]!.MessageInfo.PreCommitCid!["/"]).toStartWith("bafy2bza");
    expect((await client.call(Venus.ListSectors, "online", 0))!).toEqual([]);
    expect((await client.call(Venus.StoreList))![0]!.Reserved).toBe(0);

    const head = await client.call(Damocles.ChainHead);
    expect(head.Miners[0]).toMatchObject({ Actor: 1000, RawPower: 2048, ActiveSectors: 1 });

    await t.manager.services.commit.observeLandings();
    const metrics = await (await fetch(`${t.manager.url}/metrics`)).text();
    for (const line of [
      'damocles_manager_new_sector{miner="1000"} 1',
      'damocles_manager_sector_pre_commit{miner="1000"} 1',
      'damocles_manager_sector_commit{miner="1000"} 1',
      'damocles_manager_message_pushed_total{method="PreCommitSectorBatch2",miner="1000"} 1',
      'damocles_manager_sector_landed_total{kind="provecommit",miner="1000",result="ok"} 1',
    ]) {
      expect(metrics).toContain(line);
    }
  });

  test("a ticket that is not the chain's is rejected; a wrong CommD is a mismatch", async () => {
    t = await startTestManager();
    await t.advance(10);
    const sector = await allocate(t.client);
    const ticket = await t.client.call(Venus.AssignTicket, sector.ID);
    const forged = { ...ticket, Ticket: Buffer.alloc(32, 1).toString("base64") };
    const r1 = await t.client.call(
      Venus.SubmitPreCommit,
      sector,
      { CommR: TEST_COMM_R, CommD: CC_COMM_D, Ticket: forged, Deals: null },
      false,
    );
    expect(r1.Res).toBe(SubmitResult.Rejected);
    expect(r1.Desc).toContain("ticket does not match");
    const r2 = await t.client.call(
      Venus.SubmitPreCommit,
      sector,
      { CommR: TEST_COMM_R, CommD: TEST_COMM_R, Ticket: ticket, Deals: null },
      false,
    );
    expect(r2.Res).toBe(SubmitResult.MismatchedSubmission);
    expect(r2.Desc).toContain("baga6ea4seaqpy7usqklokfx2vxuynmupslkeutzexe2uqurdg5vhtebhxqmpqmy");
  });

  test("batches: Threshold collects sectors into one message; MaxWait sends a partial batch", async () => {
    t = await startTestManager({ preThreshold: 2, maxWait: "30s" });
    await t.advance(10);
    const a = await allocate(t.client);
    const b = await allocate(t.client);
    const c = await allocate(t.client);
    for (const s of [a, b, c]) {
      const ticket = await t.client.call(Venus.AssignTicket, s.ID);
      expect(
        (
          await t.client.call(
            Venus.SubmitPreCommit,
            s,
            { CommR: TEST_COMM_R, CommD: CC_COMM_D, Ticket: ticket, Deals: null },
            false,
          )
        ).Res,
      ).toBe(1);
    }
    const commit = t.manager.services.commit;
    await waitFor(() => commit.pendingCount(1000, "pre") === 1, "two sectors to be batched");
    const states = (await t.client.call(Venus.ListSectors, "online", 0))!;
    const cids = states.map((s) => s.MessageInfo.PreCommitCid?.["/"] ?? null);
    expect(cids[0]).toBe(cids[1]!);
    expect(cids[2]).toBeNull();
    await commit.kick(1000, "pre");
    expect(commit.pendingCount(1000, "pre")).toBe(1); // not yet past MaxWait
    t.clock.advance(30_000);
    await commit.kick(1000, "pre");
    expect(commit.pendingCount(1000, "pre")).toBe(0);
  });

  test("abort and restore, as seed 000 describes", async () => {
    t = await startTestManager();
    await t.advance(10);
    const { ID: sid } = await allocate(t.client);
    await report(t.client, sid, "Empty", "Allocated", "Allocate");
    // `util sealer sectors abort` ends up here; the worker learns it from its next call.
    expect(await t.client.call(Venus.ReportAborted, sid, "aborted by operator")).toBeNull();
    const err = (await report(t.client, sid, "Allocated", "DealsAcquired", "AcquireDeals").catch(
      (e) => e,
    )) as RpcCallError;
    expect(err).toBeInstanceOf(RpcCallError);
    expect(err.code).toBe(11001);
    expect(err.rpcMessage).toContain("aborted on the manager (aborted by operator)");
    expect(err.rpcMessage).toContain("damocles util sealer sectors restore 1000 1");
    // The worker reacts to 11001 by aborting too: that must not fail.
    expect(await t.client.call(Venus.ReportAborted, sid, "sector state not found")).toBeNull();
    const off = (await t.client.call(Venus.ListSectors, "offline", 0))!;
    expect(off[0]!.AbortReason).toBe("aborted by operator");

    expect(await t.client.call(Venus.RestoreSector, sid, false)).toBeNull();
    expect(await report(t.client, sid, "Allocated", "DealsAcquired", "AcquireDeals")).toEqual({
      Id: sid,
      Finalized: false,
      AbortReason: null,
    });
    expect((await t.client.call(Venus.FindSector, "online", sid))?.AbortReason).toBe("");

    const unknown = (await t.client
      .call(Venus.AssignTicket, { Miner: 1000, Number: 77 })
      .catch((e) => e)) as RpcCallError;
    expect(unknown.code).toBe(11001);
    expect(unknown.rpcMessage).toContain("unknown to this manager (load state: key not found)");
    const restoreUnknown = (await t.client
      .call(Venus.RestoreSector, { Miner: 1000, Number: 77 }, false)
      .catch((e) => e)) as RpcCallError;
    expect(restoreUnknown.code).toBe(11001);
  });

  test("errors keep the daemon serving: -32700, -32601, -32602 naming the field, 11001", async () => {
    t = await startTestManager();
    const post = async (body: string) =>
      (
        await fetch(`${t!.manager.url}/rpc/v0`, { method: "POST", body, headers: bearer(t!.tokens.write) })
      ).json() as Promise<any>;
    expect((await post("{{{")).error.code).toBe(-32700);
    expect(
      (await post(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "Venus.Frobnicate", params: [] }))).error.code,
    ).toBe(-32601);
    const bad = await post(
      JSON.stringify({
        jsonrpc: "2.0",
        id: 2,
        method: "Venus.SubmitPreCommit",
        params: [{ ID: { Miner: 1000, Number: 1 }, ProofType: 5 }, { CommR: [1, 2], CommD: [], Ticket: {} }, false],
      }),
    );
    expect(bad.error.code).toBe(-32602);
    expect(bad.error.message).toContain('"info.CommR"');
    const spec = await post(
      JSON.stringify({ jsonrpc: "2.0", id: 3, method: "Venus.AllocateSector", params: [{ AllowedMiners: "1000" }] }),
    );
    expect(spec.error.code).toBe(-32602);
    expect(spec.error.message).toContain('"spec.AllowedMiners"');
    expect(
      (
        await post(
          JSON.stringify({ jsonrpc: "2.0", id: 4, method: "Venus.PollProofState", params: [{ Miner: 1, Number: 1 }] }),
        )
      ).error.code,
    ).toBe(11001);
    const ok = await post(
      JSON.stringify({
        jsonrpc: "2.0",
        id: 5,
        method: "Venus.AllocateSector",
        params: [{ AllowedMiners: null, AllowedProofTypes: null }],
      }),
    );
    expect(ok.result).toEqual({ ID: { Miner: 1000, Number: 1 }, ProofType: 5 });
    expect(await (await fetch(`${t.manager.url}/healthcheck`)).text()).toBe("ok\n");
  });

  test("worker pings feed WorkerPingInfoList and the thread gauges", async () => {
    t = await startTestManager();
    const winfo = {
      Name: "w1",
      Dest: "10.0.0.2:17890",
      Version: "test",
      Summary: { Threads: 4, Empty: 1, Paused: 1, Running: 2, Waiting: 0, Errors: 1 },
    };
    expect(await t.client.call(Venus.WorkerPing, winfo)).toBeNull();
    const list = (await t.client.call(Venus.WorkerPingInfoList))!;
    expect(list).toEqual([{ Info: winfo, LastPing: Math.floor(t.clock.ms / 1000) }]);
    expect((await t.client.call(Venus.WorkerGetPingInfo, "w1"))?.Info.Dest).toBe("10.0.0.2:17890");
    const metrics = await (await fetch(`${t.manager.url}/metrics`)).text();
    expect(metrics).toContain('damocles_manager_thread_count{category="running"} 2');
    expect(metrics).toContain('damocles_manager_worker_count{category="latency<=60s"} 1');
    await t.client.call(Venus.WorkerPingInfoRemove, "w1");
    expect(await t.client.call(Venus.WorkerGetPingInfo, "w1")).toBeNull();
  });
});

describe("sector numbers", () => {
  test("follow InitNumber/MinNumber/MaxNumber, are unique under concurrency and end with null", async () => {
    t = await startTestManager({ miner: { Sector: { InitNumber: 10, MinNumber: 15, MaxNumber: 60 } } });
    const all = await Promise.all(
      Array.from({ length: 50 }, () =>
        t!.client.call(Venus.AllocateSector, { AllowedMiners: null, AllowedProofTypes: null }),
      ),
    );
    const numbers = all.map((s) => s?.ID.Number ?? null);
    const got = numbers.filter((n): n is number => n !== null).sort((a, b) => a - b);
    expect(got).toEqual(Array.from({ length: 46 }, (_, i) => 15 + i));
    expect(numbers.filter((n) => n === null).length).toBe(4);
    expect(await t.client.call(Venus.AllocateSector, { AllowedMiners: [1000], AllowedProofTypes: null })).toBeNull();
  });

  test("specs that match no miner get null", async () => {
    t = await startTestManager();
    expect(await t.client.call(Venus.AllocateSector, { AllowedMiners: [2000], AllowedProofTypes: null })).toBeNull();
    expect(await t.client.call(Venus.AllocateSector, { AllowedMiners: null, AllowedProofTypes: [8] })).toBeNull();
    expect(
      (await t.client.call(Venus.AllocateSector, { AllowedMiners: [1000], AllowedProofTypes: [5] }))?.ID.Number,
    ).toBe(1);
  });
});
