/**
 * The rebuild plan end to end, with real proofs, a real `damocles worker run` process and a manager whose
 * devnet verifies with the proofs library. The shared sealed 2KiB sectors (tests/fixtures/sealed-2kib.ts: a
 * CC sector and one holding a data piece, which becomes a deal imported into the embedded market) go
 * through the manager's own flow (ticket, AcquireDeals, PreCommit, seed, ProveCommit verified by the
 * devnet, SubmitPersisted, ReportFinalized), so the manager holds the state it keeps for every sealed
 * sector. Then:
 * - its persisted sealed file is deleted; `util sealer sectors rebuild` queues it; a sealing thread is
 *   switched to plan = "rebuild" by its <location>/config.toml under the running worker (an unknown plan
 *   name there first: logged, the thread goes on) and takes it; the worker is killed with -9 while PC2
 *   encodes and restarted with the file switched back to "sealer": the job finishes under its own plan,
 *   the sealed file is restored from the staged copy before PC2 runs again; the replica is back,
 *   byte for byte, indexed, its p_aux derives the chain's CommR, and a WindowPoSt over it verifies;
 * - a rebuild whose recorded ticket is wrong makes another replica: the thread pauses on the CommR
 *   check naming both CommRs, the persisted files are untouched; aborting it puts the sector back
 *   finalized (no abort reason) and fails the rebuild task;
 * - the deal sector's lost replica is rebuilt with its deal piece fetched again from the manager's piece
 *   store (the worker has no local copy), byte for byte, and the deal stays active;
 * - the CC sector, updated on chain by a real SnapDeals proof (tests/fixtures/snapped-2kib.ts, verified by
 *   the devnet) and recorded by the manager as the snap flow leaves it, loses its update file: the rebuild
 *   seals the CC replica again (checked against the chain's sector key CommR), encodes the update again with
 *   the deal piece from the piece store (checked against the update CommR on chain), proves it, and replaces
 *   the lost update byte for byte; the "upgrade" index names the store and a WindowPoSt over it verifies.
 */

import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bearer } from "../../src/core/auth/index.ts";
import { commRFromPAux, generateWindowPost, verifyWindowPost } from "../../src/core/proofs/index.ts";
import { RpcClient } from "../../src/core/rpc/client.ts";
import { Venus } from "../../src/core/sector/api.ts";
import { Market } from "../../src/core/sector/api-market.ts";
import { DamoclesRebuild, type RebuildTask, VenusRebuild } from "../../src/core/sector/api-rebuild.ts";
import { VenusWorker } from "../../src/core/sector/api-worker.ts";
import { commRToCid, pieceCid } from "../../src/core/sector/cid.ts";
import { epochsUntilMutable } from "../../src/core/sector/deadlines.ts";
import { updateProofFor, windowPoStProofFor } from "../../src/core/sector/proof.ts";
import { OnChainState, SubmitResult } from "../../src/core/sector/states.ts";
import { b64 } from "../../src/core/sector/wire.ts";
import { type Beacon, deriveRandomness, loadProofsVerifier, loadUpdateVerifier } from "../../src/devnet/index.ts";
import { type Sealed2KiB, sealed2KiB } from "../fixtures/sealed-2kib.ts";
import { snapped2KiB } from "../fixtures/snapped-2kib.ts";
import { REPO, runCli } from "../helpers/cli.ts";
import { logTail, startWorker, until, type WorkerHandle } from "../helpers/cluster.ts";
import { allocate, report, startTestManager, type TestManager } from "../manager/fixture.ts";
import { tempDir, waitFor } from "../manager/helpers.ts";

// The shared fixture seals with two C2 SNARKs on first use (minutes on a 2-core machine).
setDefaultTimeout(20 * 60_000);

const TICKET_EPOCH = 8; // head 10 − SealRandomnessLookback 2
const SEED_EPOCH = 14; // PreCommit pushed at 10, packed at 11, + PreCommitChallengeDelay 3
const sid = { Miner: 1000, Number: 1 };
const NAME = "s-t01000-1";
const dealSid = { Miner: 1000, Number: 2 };
const DEAL_NAME = "s-t01000-2";

const dir = tempDir("damocles-rebuild-e2e-");
const marks = join(dir.path, "marks");
const workerDir = join(dir.path, "worker");
const location = join(workerDir, "thread-0");
let f: Sealed2KiB;
let t: TestManager;
let worker: WorkerHandle | undefined;
let dealId: number;

/** The devnet answers the fixture's own ticket and seed at the epochs the flow asks for them. */
function fixtureBeacon(actor: number, ticket: Uint8Array, seed: Uint8Array): Beacon {
  return (domain, a, epoch) => {
    if (a === actor && domain === "SealRandomness" && epoch === TICKET_EPOCH) return ticket;
    if (a === actor && domain === "InteractiveSealChallengeSeed" && epoch === SEED_EPOCH) return seed;
    return deriveRandomness("rebuild-e2e", domain, a, epoch);
  };
}

/**
 * pc2 whose first run leaves what a killed PC2 leaves (the start of the sealed file rewritten in place,
 * partial trees in the cache), marks it and hangs until the worker is killed; later runs are the real pc2.
 */
const tornPc2 = `import builtin from "${REPO}/src/plugins/pc2.ts";
import { closeSync, existsSync, openSync, writeFileSync, writeSync } from "node:fs";
export default {
  ...builtin,
  name: "test-torn-pc2",
  async run(task, ctx) {
    const once = "${marks}/pc2-torn";
    if (!existsSync(once)) {
      const fd = openSync(task.sealed_file, "r+");
      writeSync(fd, Buffer.alloc(1024, 0xab), 0, 1024, 0);
      closeSync(fd);
      for (const f of ["sc-02-data-tree-c.dat", "sc-02-data-tree-r-last.dat", "p_aux"]) writeFileSync(task.cache_dir + "/" + f, Buffer.alloc(64, 0x11));
      writeFileSync(once, task.sealed_file);
      await new Promise(() => {});
    }
    return builtin.run(task, ctx);
  },
};
`;

const api = () => t.manager.url.replace("http://", "");
const persisted = (...rel: string[]) => join(t.persistPath, ...rel);
const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

function hotPlan(plan: string): void {
  writeFileSync(join(location, "config.toml"), `plan = "${plan}"\n`);
}

function spawnWorker(): WorkerHandle {
  return startWorker(
    workerDir,
    `
[worker]
name = "rebuilder"
rpc_server.host = "127.0.0.1"
rpc_server.port = 0
[sector_manager]
rpc_client.addr = "${t.manager.url}"
token = "${t.tokens.write}"
[sealing]
allowed_miners = [1000]
allowed_sizes = ["2KiB"]
recover_interval = "300ms"
seal_interval = "100ms"
rpc_polling_interval = "300ms"
request_task_max_retries = 2
max_retries = 3
[[sealing_thread]]
location = "${location}"
[[attached]]
name = "persist-1"
location = "${t.persistPath}"
`,
  );
}

async function task(number = sid.Number): Promise<RebuildTask | undefined> {
  return (await t.client.call(DamoclesRebuild.RebuildTasks)).find((x) => x.Info.Sector.ID.Number === number);
}

async function rebuilt(number: number): Promise<RebuildTask> {
  return withLog(
    until(
      `the rebuild of sector ${number} to finish`,
      async () => {
        const x = await task(number);
        if (x?.State === "failed") throw new Error(`rebuild failed: ${x.ErrorInfo}`);
        return x?.State === "finished" ? x : undefined;
      },
      180_000,
      200,
    ),
  );
}

async function workerRpc(): Promise<RpcClient> {
  const ping = await until("the worker's ping", async () =>
    ((await t.client.call(Venus.WorkerPingInfoList)) ?? []).find((p) => p.Info.Name === "rebuilder"),
  );
  return new RpcClient(`http://${ping.Info.Dest}`, { headers: bearer(t.tokens.admin) });
}

function withLog<T>(p: Promise<T>): Promise<T> {
  return p.catch((err) => {
    throw new Error(`${(err as Error).message}\n--- worker log:\n${worker ? logTail(worker.log, 60) : "(none)"}`);
  });
}

/**
 * Sectors 1 (CC) and 2 (the data piece, as a deal) through the manager's flow together, so both get the
 * fixture's ticket and seed: the fixture's real proofs are verified by the devnet; persisted, finalized.
 */
async function sealOnChain(): Promise<number> {
  const { client, advance } = t;
  await advance(10);
  const deal = await client.call(Market.Import, f.data.payloadPath, { StartEpoch: 5000 });
  expect(deal.PieceCID["/"]).toBe(pieceCid(f.data.pieces[0]!.commitment));
  const sectors = [
    { allocated: await allocate(client), sealed: f.cc, name: NAME },
    { allocated: await allocate(client), sealed: f.data, name: DEAL_NAME },
  ] as const;
  expect(sectors.map((s) => s.allocated.ID)).toEqual([sid, dealSid]);
  const pieces = await client.call(Venus.AcquireDeals, dealSid, { MaxDeals: null, MinUsedSpace: null });
  expect(pieces?.map((p) => p.ID)).toEqual([deal.DealID, 0]);
  for (const { allocated, sealed } of sectors) {
    const ticket = await client.call(Venus.AssignTicket, allocated.ID);
    expect(ticket).toEqual({ Ticket: b64(f.ticket), Epoch: TICKET_EPOCH });
    const pre = { CommR: [...sealed.commR], CommD: [...sealed.commD], Ticket: ticket, Deals: null };
    expect((await client.call(Venus.SubmitPreCommit, allocated, pre, false)).Res).toBe(SubmitResult.Accepted);
  }
  const commit = t.manager.services.commit;
  const pushed = (kind: "pre" | "prove") => () => commit.pendingCount(1000, kind) === 0 && commit.outboxSize() === 0;
  await waitFor(pushed("pre"), "the PreCommits to be pushed");
  await advance(2);
  await advance(3);
  for (const { allocated, sealed } of sectors) {
    expect((await client.call(Venus.PollPreCommitState, allocated.ID)).State).toBe(OnChainState.Landed);
    expect((await client.call(Venus.WaitSeed, allocated.ID, f.registeredProof)).Seed?.Epoch).toBe(SEED_EPOCH);
    const proof = { Proof: b64(sealed.proof!) };
    expect((await client.call(Venus.SubmitProof, allocated.ID, proof, false)).Res).toBe(SubmitResult.Accepted);
  }
  await waitFor(pushed("prove"), "the ProveCommits to be pushed");
  await advance(2);
  for (const { allocated, sealed, name } of sectors) {
    expect((await client.call(Venus.PollProofState, allocated.ID)).State).toBe(OnChainState.Landed);
    cpSync(sealed.sealedPath, persisted("sealed", name));
    cpSync(sealed.cacheDir, persisted("cache", name), { recursive: true });
    expect(await client.call(Venus.SubmitPersisted, allocated.ID, "persist-1")).toBe(true);
    await report(client, allocated.ID, "ProofSubmitted", "Finished", "Finish");
    await client.call(Venus.ReportFinalized, allocated.ID);
  }
  expect((await client.call(Market.Deals, null))[0]).toMatchObject({ State: "active", Sector: dealSid });
  return deal.DealID;
}

beforeAll(async () => {
  f = await sealed2KiB();
  t = await startTestManager({
    verifier: await loadProofsVerifier(),
    updateVerifier: await loadUpdateVerifier(),
    beacon: fixtureBeacon(f.actorId, f.ticket, f.seed),
    // Two sector numbers only: once they are sealed, the thread's sealer plan has nothing to allocate.
    miner: { Sector: { MaxNumber: 2, EnableDeals: true } },
  });
  dealId = await sealOnChain();
  mkdirSync(marks, { recursive: true });
  mkdirSync(join(workerDir, "plugins"), { recursive: true });
  writeFileSync(join(workerDir, "plugins", "torn-pc2.ts"), tornPc2);
  mkdirSync(location, { recursive: true });
  writeFileSync(join(location, ".holder"), "test\n");
});

afterAll(async () => {
  await worker?.stop();
  await t?.close();
  dir.remove();
});

test("a lost replica is rebuilt by a thread switched to plan rebuild, through a kill -9 in pc2, and proves again", async () => {
  const original = sha(f.cc.sealedPath);
  rmSync(persisted("sealed", NAME));

  worker = spawnWorker();
  const wrpc = await workerRpc();
  expect((await wrpc.call(VenusWorker.WorkerList))[0]?.plan).toBe("sealer");

  const queued = await runCli([
    "util",
    "sealer",
    "sectors",
    "rebuild",
    "1000",
    "1",
    "--api",
    api(),
    "--token",
    t.tokens.admin,
  ]);
  expect(queued.code).toBe(0);
  expect(queued.stdout).toContain(`${NAME} queued for rebuild (CC)`);
  const again = await runCli([
    "util",
    "sealer",
    "sectors",
    "rebuild",
    "1000",
    "1",
    "--api",
    api(),
    "--token",
    t.tokens.admin,
  ]);
  expect(again.stdout).toContain("already waiting for a rebuild (task queued)");
  expect((await t.client.call(Venus.FindSector, "online", sid))?.NeedRebuild).toBe(true);

  // A plan no worker knows is logged and ignored (the thread goes on); then the seed's own example: rebuild.
  hotPlan("frobnicate");
  await withLog(
    until("the unknown plan to be logged", () =>
      readFileSync(worker!.log, "utf8").includes(`${join(location, "config.toml")} ignored`),
    ),
  );
  hotPlan("rebuild");
  await withLog(
    until("pc2 of the rebuild to be torn", () => existsSync(join(marks, "pc2-torn")) || undefined, 120_000),
  );
  expect((await task())?.State).toBe("rebuilding");
  expect(readFileSync(worker.log, "utf8")).toContain("plan sealer -> rebuild (hot config)");
  wrpc.close();

  worker.proc.kill("SIGKILL");
  await worker.proc.exited;
  // The file now says sealer again: the saved job must still finish as a rebuild.
  hotPlan("sealer");
  worker = spawnWorker();
  const done = await rebuilt(sid.Number);
  expect(done.Info.CommR).toEqual([...f.cc.commR]);
  const log = readFileSync(worker.log, "utf8");
  expect(log).toContain("PC2 was interrupted; restoring the sealed file from the staged copy");

  // The manager: the sector is finalized again, NeedRebuild cleared, the index names the store.
  const st = await t.client.call(Venus.FindSector, "offline", sid);
  expect(st).toMatchObject({ Finalized: true, NeedRebuild: false, AbortReason: "" });
  expect(st?.LatestState?.StateChange).toMatchObject({ Prev: "Persisted", Next: "Finished" });
  expect(await t.client.call(Venus.SectorIndexerFind, "normal", sid)).toEqual({
    Found: true,
    Instance: { SealedFile: "persist-1", CacheDir: "persist-1" },
  });
  // The replica: the same bytes as sealed the first time; its p_aux derives the chain's CommR.
  expect(sha(persisted("sealed", NAME))).toBe(original);
  expect(Buffer.from(commRFromPAux(readFileSync(persisted("cache", NAME, "p_aux"))))).toEqual(Buffer.from(f.cc.commR));
  // The worker cleaned up and went back to its configured plan.
  expect(readdirSync(join(location, "data", "sealed"))).toEqual([]);
  const wrpc2 = await workerRpc();
  await until("the thread to be back on plan sealer", async () =>
    (await wrpc2.call(VenusWorker.WorkerList))[0]?.plan === "sealer" ? true : undefined,
  );
  wrpc2.close();

  // A WindowPoSt over the rebuilt replica, as the poster would prove it, verifies.
  const randomness = new Uint8Array(createHash("sha256").update("rebuild e2e window post").digest());
  const postProof = windowPoStProofFor(f.registeredProof);
  const replica = { sectorId: 1, commR: f.cc.commR };
  const out = await generateWindowPost({
    postProof,
    randomness,
    proverId: f.proverId,
    replicas: [{ ...replica, sealedPath: persisted("sealed", NAME), cacheDir: persisted("cache", NAME) }],
  });
  expect(out.faults).toEqual([]);
  expect(await verifyWindowPost({ randomness, proverId: f.proverId, proofs: out.proofs, replicas: [replica] })).toBe(
    true,
  );
});

test("a rebuild whose recorded ticket is wrong pauses on the CommR check and overwrites nothing; aborting it keeps the sector", async () => {
  // The manager's record of the ticket is damaged: sealing with it makes another replica.
  const states = t.manager.services.states;
  const st = states.get("offline", sid)!;
  const wrong = { Ticket: b64(new Uint8Array(32).fill(9)), Epoch: st.Ticket!.Epoch };
  states.saveOffline({ ...st, Ticket: wrong, Pre: { ...st.Pre!, Ticket: wrong } });
  // What the store holds now (a corrupt sealed file, say): it must survive the failed rebuild untouched.
  writeFileSync(persisted("sealed", NAME), Buffer.alloc(2048, 0x5a));
  const files = [
    persisted("sealed", NAME),
    ...readdirSync(persisted("cache", NAME)).map((n) => persisted("cache", NAME, n)),
  ];
  const before = files.map(sha);

  expect(await t.client.call(VenusRebuild.SectorSetForRebuild, sid, { PiecesAvailable: false })).toBe(true);
  hotPlan("rebuild");
  const wrpc = await workerRpc();
  const paused = await withLog(
    until(
      "the thread to pause on the CommR check",
      async () => {
        const th = (await wrpc.call(VenusWorker.WorkerList))[0];
        return th?.thread_state.state === "Paused" && th.last_error ? th : undefined;
      },
      120_000,
      200,
    ),
  );
  expect(paused.job_state).toBe("PC2Done");
  expect(paused.last_error).toContain(`the sector's CommR on chain is ${commRToCid(f.cc.commR)}`);
  expect(paused.last_error).toMatch(/the rebuilt replica of s-t01000-1 has CommR bagboea4b5abc\w+, but/);
  expect(paused.last_error).toStartWith("permanent:");
  expect(files.map(sha)).toEqual(before);

  // Dropping the rebuild: the sector goes back to what it was, the task says why it failed.
  expect(await wrpc.call(VenusWorker.WorkerResume, 0, "Aborted")).toBe(true);
  const failed = await withLog(
    until("the rebuild task to fail", async () => ((await task())?.State === "failed" ? await task() : undefined)),
  );
  expect(failed?.ErrorInfo).toContain("CommR");
  expect(await t.client.call(Venus.FindSector, "offline", sid)).toMatchObject({
    Finalized: true,
    NeedRebuild: false,
    AbortReason: "",
  });
  expect(files.map(sha)).toEqual(before);
  wrpc.close();
});

test("a deal sector's lost replica is rebuilt with its piece fetched again from the manager's piece store", async () => {
  const original = sha(f.data.sealedPath);
  rmSync(persisted("sealed", DEAL_NAME));
  expect(await t.client.call(VenusRebuild.SectorSetForRebuild, dealSid, { PiecesAvailable: false })).toBe(true);
  hotPlan("rebuild");
  const done = await rebuilt(dealSid.Number);
  expect(done.Info.PiecesV2?.map((p) => p.ID)).toEqual([dealId, 0]);
  expect(sha(persisted("sealed", DEAL_NAME))).toBe(original);
  expect(Buffer.from(commRFromPAux(readFileSync(persisted("cache", DEAL_NAME, "p_aux"))))).toEqual(
    Buffer.from(f.data.commR),
  );
  expect(await t.client.call(Venus.FindSector, "offline", dealSid)).toMatchObject({
    Finalized: true,
    NeedRebuild: false,
    AbortReason: "",
  });
  expect((await t.client.call(Market.Deals, null))[0]).toMatchObject({ State: "active", Sector: dealSid });
});

test("a snapped sector's lost update is rebuilt: the CC replica sealed again, the update encoded and proven again", async () => {
  const fx = await snapped2KiB();
  const chain = t.manager.services.chain;
  // The update on chain, verified by the devnet with the library: the deal's piece imported into the market
  // (and so into the manager's piece store), the fixture's real update proof in a ProveReplicaUpdates.
  const deal = await t.client.call(Market.Import, fx.payloadPath, { StartEpoch: 5000, Duration: 1000 });
  expect(deal.PieceCID["/"]).toBe(fx.pieceCid);
  const before = (await chain.sectorInfo(1000, sid.Number))!;
  const wait = epochsUntilMutable(await chain.provingDeadline(1000), before.deadline, chain.policy());
  if (wait > 0) await t.advance(wait);
  const msg = await chain.pushMessage({
    from: 1000,
    nonce: 9000,
    method: "ProveReplicaUpdates",
    updates: [
      {
        number: sid.Number,
        deadline: before.deadline,
        partition: before.partition,
        newCommR: [...fx.commRNew],
        dealIds: [deal.DealID],
        updateProof: updateProofFor(f.registeredProof),
        proof: b64(fx.proof),
      },
    ],
  });
  await t.advance(2);
  expect((await chain.messageLookup(msg))?.status).toBe("landed");
  expect(await chain.sectorInfo(1000, sid.Number)).toMatchObject({
    commR: [...fx.commRNew],
    sectorKeyCommR: [...f.cc.commR],
  });

  // The manager's record as the snap flow leaves it (finalized with its update), with the real ticket again
  // (the test before damaged it); the update persisted in persist-1 and indexed as the "upgrade" replica.
  const states = t.manager.services.states;
  const st = states.get("offline", sid)!;
  const ticket = { Ticket: b64(f.ticket), Epoch: TICKET_EPOCH };
  const piece = { Size: fx.pieceSize, Offset: 0, Cid: { "/": fx.pieceCid } };
  states.saveOffline({
    ...st,
    Ticket: ticket,
    Pre: { ...st.Pre!, Ticket: ticket },
    Upgraded: true,
    UpgradePublic: {
      CommR: [...f.cc.commR],
      SealedCID: { "/": commRToCid(f.cc.commR) },
      Activation: before.activation,
      Expiration: before.expiration,
    },
    UpgradedInfo: {
      AccessInstance: "persist-1",
      SealedCID: { "/": commRToCid(fx.commRNew) },
      UnsealedCID: { "/": pieceCid(fx.commDNew) },
      Proof: b64(fx.proof),
    },
    Pieces: [{ ID: deal.DealID, PayloadSize: 2032, Piece: piece, Proposal: null, IsCompatible: false }],
  });
  mkdirSync(persisted("update"), { recursive: true });
  cpSync(fx.updatePath, persisted("update", NAME));
  cpSync(fx.updateCacheDir, persisted("update-cache", NAME), { recursive: true, dereference: true });
  t.manager.services.indexer.update("upgrade", sid, { sealed: "persist-1", cache: "persist-1" });
  // Lost: the update file; its cache (whose p_aux names the update's CommR) is replaced along with it.
  const original = sha(fx.updatePath);
  rmSync(persisted("update", NAME));

  expect(await t.client.call(VenusRebuild.SectorSetForRebuild, sid, { PiecesAvailable: false })).toBe(true);
  hotPlan("rebuild");
  if (!worker) {
    // Run alone (-t): the first test did not start the worker nor tear its pc2 once (the plugin's mark).
    writeFileSync(join(marks, "pc2-torn"), "skipped\n");
    worker = spawnWorker();
  }
  const done = await rebuilt(sid.Number);
  expect(done.Info).toMatchObject({
    IsSnapUp: true,
    CommR: [...f.cc.commR],
    UpdateCommR: [...fx.commRNew],
    PiecesV2: [{ ID: deal.DealID }],
  });
  const log = readFileSync(worker!.log, "utf8");
  expect(log).toContain("encoded into an upgrade");

  // The update is back, byte for byte; its p_aux derives the chain's CommR; the index and state say so.
  expect(sha(persisted("update", NAME))).toBe(original);
  expect(Buffer.from(commRFromPAux(readFileSync(persisted("update-cache", NAME, "p_aux"))))).toEqual(
    Buffer.from(fx.commRNew),
  );
  expect(await t.client.call(Venus.SectorIndexerFind, "upgrade", sid)).toEqual({
    Found: true,
    Instance: { SealedFile: "persist-1", CacheDir: "persist-1" },
  });
  expect(await t.client.call(Venus.FindSector, "offline", sid)).toMatchObject({
    Finalized: true,
    NeedRebuild: false,
    Upgraded: true,
    AbortReason: "",
  });
  expect(readdirSync(join(location, "data", "update"))).toEqual([]);

  // A WindowPoSt over the rebuilt update, with the sector's CommR on chain, verifies.
  const randomness = new Uint8Array(createHash("sha256").update("rebuild e2e snapped window post").digest());
  const replica = { sectorId: 1, commR: fx.commRNew };
  const out = await generateWindowPost({
    postProof: windowPoStProofFor(f.registeredProof),
    randomness,
    proverId: f.proverId,
    replicas: [{ ...replica, sealedPath: persisted("update", NAME), cacheDir: persisted("update-cache", NAME) }],
  });
  expect(out.faults).toEqual([]);
  expect(await verifyWindowPost({ randomness, proverId: f.proverId, proofs: out.proofs, replicas: [replica] })).toBe(
    true,
  );
});
