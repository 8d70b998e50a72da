/**
 * The snapup plan end to end with real proofs, against a stub manager (the manager side is its own work):
 * a real `damocles worker run` process snaps the shared sealed 2KiB CC sector with one deal piece.
 * - the thread starts as a sealer with nothing to seal; its hot config.toml switches it to snapup;
 * - the worker is killed with SIGKILL in the middle of snap_encode (a stage plugin that tears the update
 *   files and hangs); restarted, it resumes at TreeDBuilt, encodes afresh and finishes;
 * - snap_prove runs in an external processor (`processor snap_prove`, the original's task shape);
 * - the first SubmitSnapUpProof answers FilesMissed: the update is persisted again;
 * - the proof the manager receives verifies with the library, a WindowPoSt over the persisted update/ +
 *   update-cache/ (what proving reads) verifies with the new CommR, and the CC replica in its persist
 *   store is byte for byte what it was.
 */

import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Hono } from "hono";
import { openAuthenticator } from "../../src/core/auth/index.ts";
import {
  computeCommD,
  generateWindowPost,
  updateProofFor,
  verifyEmptySectorUpdateProof,
  verifyWindowPost,
} from "../../src/core/proofs/index.ts";
import { mountRpc, RpcRegistry, type RunningServer, serve } from "../../src/core/rpc/server.ts";
import { Venus } from "../../src/core/sector/api.ts";
import { type SnapUpOnChainInfo, VenusSnap } from "../../src/core/sector/api-snap.ts";
import { pieceCommitment } from "../../src/core/sector/cid.ts";
import { zeroCommD } from "../../src/core/sector/commd.ts";
import { windowPoStProofFor } from "../../src/core/sector/proof.ts";
import { SubmitResult } from "../../src/core/sector/states.ts";
import type { DealInfo } from "../../src/core/sector/wire.ts";
import { initSealingStore } from "../../src/worker/store-init.ts";
import { type Sealed2KiB, sealed2KiB } from "../fixtures/sealed-2kib.ts";
import { REPO } from "../helpers/cli.ts";
import { logTail, startWorker, until, type WorkerHandle } from "../helpers/cluster.ts";
import { tempDir } from "../manager/helpers.ts";
import { DEAL_PIECES } from "./golden.ts";

// The shared fixture seals with two C2 SNARKs on first use (minutes on a 2-core machine).
setDefaultTimeout(20 * 60_000);

const dir = tempDir("damocles-snapup-e2e-");
const ccStore = join(dir.path, "cc-store");
const persist = join(dir.path, "persist-1");
const piecesDir = join(dir.path, "pieces");
const wdir = join(dir.path, "worker");
const location = join(wdir, "thread-0");
const marker = join(dir.path, "snap_encode-started");
const NAME = "s-t01000-1";
const SID = { Miner: 1000, Number: 1 };
const DEAL: DealInfo = {
  ID: DEAL_PIECES[0].id,
  PayloadSize: DEAL_PIECES[0].bytes.length,
  Piece: { Size: 512, Offset: 0, Cid: { "/": DEAL_PIECES[0].cid } },
  Proposal: null,
  IsCompatible: false,
};

let f: Sealed2KiB;
let manager: RunningServer;
let worker: WorkerHandle | undefined;
const transitions: string[] = [];
const submissions: { info: SnapUpOnChainInfo; verified: boolean }[] = [];
let sealerAllocations = 0;
let snapAllocations = 0;
let finalized = 0;
const aborted: string[] = [];

/** Every file of the CC replica in its store, with its hash. */
function ccHashes(): Record<string, string> {
  const files = [join("sealed", NAME), ...readdirSync(join(ccStore, "cache", NAME)).map((n) => join("cache", NAME, n))];
  return Object.fromEntries(
    files.map((rel) => [
      rel,
      createHash("sha256")
        .update(readFileSync(join(ccStore, rel)))
        .digest("hex"),
    ]),
  );
}

function stubManager(): RunningServer {
  const reg = new RpcRegistry();
  const store = (name: string) => ({
    Name: name,
    Path: "",
    Strict: false,
    ReadOnly: name === "cc-store",
    Weight: 1,
    Meta: null,
  });
  reg.implement(Venus.WorkerPing, () => null);
  reg.implement(Venus.StoreBasicInfo, (name) => (name === "cc-store" || name === "persist-1" ? store(name) : null));
  reg.implement(Venus.AllocateSector, () => {
    sealerAllocations++;
    return null;
  });
  reg.implement(VenusSnap.AllocateSanpUpSector, () => {
    if (snapAllocations++ > 0) return null;
    return {
      Sector: { ID: SID, ProofType: f.registeredProof },
      Pieces: [DEAL],
      Public: { CommR: [...f.cc.commR], SealedCID: { "/": "bagboea4b5abc" }, Activation: 100, Expiration: 100_000 },
      Private: { AccessInstance: "cc-store" },
    };
  });
  reg.implement(Venus.ReportState, (sid, req) => {
    transitions.push(`${req.StateChange.Prev}->${req.StateChange.Next}@${req.StateChange.Event}`);
    return { Id: sid, Finalized: false, AbortReason: null };
  });
  reg.implement(Venus.ReportAborted, (_sid, reason) => {
    aborted.push(reason);
    return null;
  });
  reg.implement(Venus.ReportFinalized, () => {
    finalized++;
    return null;
  });
  reg.implement(Venus.StoreReserveSpace, (_sid, _size, candidates) =>
    candidates?.includes("persist-1") ? store("persist-1") : null,
  );
  reg.implement(VenusSnap.SubmitSnapUpProof, async (_sid, info) => {
    const verified = await verifyEmptySectorUpdateProof({
      updateProof: updateProofFor(f.registeredProof),
      commROld: f.cc.commR,
      commRNew: Uint8Array.from(info.CommR),
      commDNew: Uint8Array.from(info.CommD),
      proof: new Uint8Array(Buffer.from(info.Proof, "base64")),
    });
    submissions.push({ info, verified });
    if (!verified) return { Res: SubmitResult.Rejected, Desc: "the update proof does not verify" };
    // The first time, pretend the files went missing: the worker must persist them again.
    if (submissions.length === 1) return { Res: SubmitResult.FilesMissed, Desc: "update/ not found" };
    return { Res: SubmitResult.Accepted, Desc: null };
  });
  const app = new Hono();
  mountRpc(app, reg, openAuthenticator, "/rpc/v0");
  return serve({ auth: openAuthenticator, app, registry: reg, hostname: "127.0.0.1", port: 0 });
}

/** Replaces snap_encode: on its first task it tears the update files and hangs until the worker is killed. */
const STALLING_ENCODE = `
import { existsSync, writeFileSync } from "node:fs";
import real from "${join(REPO, "src/plugins/snap-encode.ts")}";
export default {
  ...real,
  name: "snap-encode-killed-once",
  async run(task, ctx) {
    if (!existsSync(${JSON.stringify(marker)})) {
      writeFileSync(task.new_replica_path, "torn replica");
      writeFileSync(task.new_cache_path + "/p_aux", "torn p_aux");
      writeFileSync(${JSON.stringify(marker)}, String(process.pid));
      await new Promise(() => {});
    }
    return real.run(task, ctx);
  },
};
`;

function spawnWorker(): WorkerHandle {
  return startWorker(
    wdir,
    `
[worker]
name = "snapper"
rpc_server.host = "127.0.0.1"
rpc_server.port = 0
local_pieces_dirs = ["${piecesDir}"]
[sector_manager]
rpc_client.addr = "${manager.url}"
[[sealing_thread]]
location = "${location}"
plan = "sealer"
sealing.allowed_miners = [1000]
sealing.allowed_sizes = ["2KiB"]
sealing.recover_interval = "200ms"
sealing.seal_interval = "100ms"
sealing.rpc_polling_interval = "200ms"
sealing.request_task_max_retries = 2
[[processors.snap_prove]]
[[attached]]
name = "cc-store"
location = "${ccStore}"
readonly = true
[[attached]]
name = "persist-1"
location = "${persist}"
`,
    { DAMOCLES_LOG_LEVEL: "debug" },
  );
}

const withLog = (err: unknown) => {
  throw new Error(`${(err as Error).message}\n--- worker log:\n${worker ? logTail(worker.log, 60) : "(none)"}`);
};

beforeAll(async () => {
  f = await sealed2KiB();
  cpSync(f.cc.sealedPath, join(ccStore, "sealed", NAME));
  cpSync(f.cc.cacheDir, join(ccStore, "cache", NAME), { recursive: true });
  mkdirSync(persist, { recursive: true });
  mkdirSync(piecesDir, { recursive: true });
  writeFileSync(join(piecesDir, DEAL_PIECES[0].cid), DEAL_PIECES[0].bytes);
  initSealingStore(location);
  mkdirSync(join(wdir, "plugins"), { recursive: true });
  writeFileSync(join(wdir, "plugins", "snap-encode.ts"), STALLING_ENCODE);
  manager = stubManager();
});

afterAll(async () => {
  worker?.proc.kill("SIGKILL");
  await worker?.proc.exited;
  await manager?.stop();
  dir.remove();
});

test("a sealer thread switched to snapup by its hot config snaps a CC sector; kill -9 in snap_encode resumes cleanly", async () => {
  const before = ccHashes();
  worker = spawnWorker();
  await until("the sealer thread to ask for sectors", () => sealerAllocations >= 1 || undefined, 60_000).catch(withLog);
  writeFileSync(join(location, "config.toml"), 'plan = "snapup"\n');
  await until("snap_encode to start", () => existsSync(marker) || undefined, 120_000).catch(withLog);
  expect(transitions).toEqual([
    "Empty->Allocated@AllocatedSnapUpSector",
    "Allocated->PieceAdded@AddPiece",
    "PieceAdded->TreeDBuilt@BuildTreeD",
  ]);
  worker.proc.kill("SIGKILL");
  await worker.proc.exited;
  expect(ccHashes()).toEqual(before);

  worker = spawnWorker();
  await until("the accepted snap proof and the finalized sector", () => finalized || undefined, 180_000).catch(withLog);
  expect(transitions.slice(3)).toEqual([
    "TreeDBuilt->SnapEncoded@SnapEncode",
    "SnapEncoded->SnapProved@SnapProve",
    "SnapProved->Persisted@Persist",
    "Persisted->SnapProved@RePersist",
    "SnapProved->Persisted@Persist",
    "Persisted->Finished@Finish",
  ]);
  // The proof came from the external snap_prove processor the worker started.
  expect(readFileSync(worker.log, "utf8")).toMatch(/processor:snap_prove#0.*ready \(pid \d+/);
  expect(snapAllocations).toBeGreaterThanOrEqual(1);
  expect(aborted).toEqual([]);

  // What the manager got: two submissions of the same verified proof, the new CommD that of the deal
  // piece followed by the zero pieces that fill the sector, and the deal's piece CID.
  expect(submissions.map((s) => [s.verified, s.info.AccessInstance])).toEqual([
    [true, "persist-1"],
    [true, "persist-1"],
  ]);
  const info = submissions[1]!.info;
  expect(info.Pieces).toEqual([DEAL.Piece.Cid]);
  const commD = await computeCommD({
    registeredProof: f.registeredProof,
    pieces: [
      { commitment: pieceCommitment(DEAL_PIECES[0].cid), size: 508 },
      { commitment: zeroCommD(512), size: 508 },
      { commitment: zeroCommD(1024), size: 1016 },
    ],
  });
  expect(info.CommD).toEqual([...commD]);
  expect(info.CommR).not.toEqual([...f.cc.commR]);

  // The persisted update is what proving will read: a WindowPoSt over update/ + update-cache/ with the
  // new CommR has no fault and verifies.
  expect(readdirSync(join(persist, "update-cache", NAME)).sort()).toEqual([
    "p_aux",
    "sc-02-data-tree-r-last.dat",
    "t_aux",
  ]);
  const commRNew = Uint8Array.from(info.CommR);
  const post = {
    postProof: windowPoStProofFor(f.registeredProof),
    randomness: new Uint8Array(32).fill(5),
    proverId: f.proverId,
  };
  const replica = { sectorId: 1, commR: commRNew };
  const wdpost = await generateWindowPost({
    ...post,
    replicas: [
      { ...replica, sealedPath: join(persist, "update", NAME), cacheDir: join(persist, "update-cache", NAME) },
    ],
  });
  expect(wdpost.faults).toEqual([]);
  expect(
    await verifyWindowPost({
      randomness: post.randomness,
      proverId: f.proverId,
      proofs: wdpost.proofs,
      replicas: [replica],
    }),
  ).toBe(true);

  // Nothing was written into the CC replica; the worker kept nothing of the sector.
  expect(ccHashes()).toEqual(before);
  const data = join(location, "data");
  for (const sub of ["unsealed", "sealed", "cache", "prepared", "update", "update-cache"])
    expect(existsSync(join(data, sub)) ? readdirSync(join(data, sub)) : []).toEqual([]);
}, 600_000);
