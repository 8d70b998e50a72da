/**
 * A real worker daemon (in this process, stages in-process, real add_pieces / tree_d / pc1 / pc2 on 2KiB
 * sectors) against a stub manager that serves the Venus RPC and `/piecestore/<cid>` behind
 * `Authorization: Bearer <piece_token>`, as the manager side does:
 * - two `disable_cc` threads wait for deals, then seal as soon as deals arrive;
 * - deal 11's piece is in `local_pieces_dirs` and is never downloaded; deal 12's is, with the token;
 * - the sealed sector's CommD is the one computeCommD gives for its pieces plus the filling zero pieces;
 * - a tampered piece pauses its thread with a piece data mismatch before tree_d: nothing is sealed;
 * - an `enable_deals = false` thread seals CC exactly as before and never asks for deals.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import { openAuthenticator } from "../../src/core/auth/index.ts";
import { computeCommD, fromWirePieceInfo, generatePieceCommitment } from "../../src/core/proofs/index.ts";
import { mountRpc, RpcRegistry, type RunningServer, serve } from "../../src/core/rpc/server.ts";
import { Venus } from "../../src/core/sector/api.ts";
import { pieceCid } from "../../src/core/sector/cid.ts";
import { zeroCommD } from "../../src/core/sector/commd.ts";
import type { DealInfo, PreCommitOnChainInfo } from "../../src/core/sector/wire.ts";
import { type RunningWorker, startWorker } from "../../src/worker/daemon.ts";
import { initSealingStore } from "../../src/worker/store-init.ts";
import { until } from "../helpers/cluster.ts";
import { DEAL_PIECES, golden, pieceBytes } from "./golden.ts";

const TOKEN = "token-of-this-worker";
const tmp = mkdtempSync(join(tmpdir(), "damocles-deals-thread-"));
const piecesDir = join(tmp, "pieces");
const served = new Map<string, Uint8Array>();
const downloads: { cid: string; auth: string | null }[] = [];
const acquireCalls: number[] = [];
const assigned = new Map<number, DealInfo[]>();
const precommits = new Map<number, PreCommitOnChainInfo>();
const transitions: string[] = [];
let dealsReady = false;
let nextSector = 1;
let manager: RunningServer;
let worker: RunningWorker;
/** A third piece, served with one byte changed. */
const bad = { bytes: pieceBytes(300, 17), cid: "" };

function dealOf(id: number, cid: string, payload: number, size: number): DealInfo {
  return {
    ID: id,
    PayloadSize: payload,
    Piece: { Size: size, Offset: 0, Cid: { "/": cid } },
    Proposal: null,
    IsCompatible: false,
  };
}

function stubManager(): RunningServer {
  const reg = new RpcRegistry();
  reg.implement(Venus.WorkerPing, () => null);
  reg.implement(Venus.AllocateSector, () =>
    nextSector > 3 ? null : { ID: { Miner: 1000, Number: nextSector++ }, ProofType: 5 },
  );
  reg.implement(Venus.AcquireDeals, (sid) => {
    acquireCalls.push(sid.Number);
    const kept = assigned.get(sid.Number);
    if (kept) return kept;
    if (!dealsReady) return null;
    // The first sector to ask gets the golden deals, the next the tampered piece.
    const deals =
      assigned.size === 0 ? (golden("acquire-deals.answer.json") as DealInfo[]) : [dealOf(21, bad.cid, 300, 512)];
    assigned.set(sid.Number, deals);
    return deals;
  });
  reg.implement(Venus.ReportState, (sid, req) => {
    transitions.push(`${sid.Number}:${req.StateChange.Prev}->${req.StateChange.Next}`);
    return { Id: sid, Finalized: false, AbortReason: null };
  });
  reg.implement(Venus.ReportAborted, () => null);
  reg.implement(Venus.AssignTicket, () => ({ Ticket: Buffer.alloc(32, 9).toString("base64"), Epoch: 10 }));
  reg.implement(Venus.SubmitPreCommit, (sector, info) => {
    precommits.set(sector.ID.Number, info);
    return { Res: 1, Desc: null };
  });
  reg.implement(Venus.PollPreCommitState, () => ({ State: 1, Desc: null }));
  const app = new Hono();
  mountRpc(app, reg, openAuthenticator, "/rpc/v0");
  app.get("/piecestore/:cid", (c) => {
    const cid = c.req.param("cid");
    const auth = c.req.header("authorization") ?? null;
    downloads.push({ cid, auth });
    if (auth !== `Bearer ${TOKEN}`) return c.text("unauthorized", 401);
    const bytes = served.get(cid);
    return bytes ? new Response(bytes) : c.text("not found", 404);
  });
  return serve({ auth: openAuthenticator, app, registry: reg, hostname: "127.0.0.1", port: 0 });
}

beforeAll(async () => {
  const info = await generatePieceCommitment({ registeredProof: 5, path: writeTmp("bad", bad.bytes), pieceSize: 508 });
  bad.cid = pieceCid(info.commitment);
  const tampered = Buffer.from(bad.bytes);
  tampered[7] = tampered[7]! ^ 0x80;
  served.set(bad.cid, tampered);
  served.set(DEAL_PIECES[1].cid, DEAL_PIECES[1].bytes);
  // Deal 11's piece is both local and in the piece store: the local copy must win.
  served.set(DEAL_PIECES[0].cid, DEAL_PIECES[0].bytes);
  mkdirSync(piecesDir, { recursive: true });
  writeFileSync(join(piecesDir, DEAL_PIECES[0].cid), DEAL_PIECES[0].bytes);

  manager = stubManager();
  const stores = [0, 1, 2].map((i) => initSealingStore(join(tmp, `store${i}`)).location);
  const config = join(tmp, "worker.toml");
  writeFileSync(
    config,
    `[worker]
name = "deals-worker"
rpc_server.host = "127.0.0.1"
rpc_server.port = 0
local_pieces_dirs = ["${piecesDir}"]
[sector_manager]
rpc_client.addr = "${manager.url}"
piece_token = "${TOKEN}"
[sealing]
allowed_sizes = ["2KiB"]
enable_deals = true
disable_cc = true
max_deals = 3
min_deal_space = "1KiB"
recover_interval = "200ms"
seal_interval = "1s"
rpc_polling_interval = "60s"
${stores.map((s) => `[[sealing_thread]]\nlocation = "${s}"`).join("\n")}
sealing.enable_deals = false
`,
  );
  worker = await startWorker(config);
}, 60_000);

afterAll(async () => {
  await worker?.stop();
  await manager?.stop();
  delete process.env.PIECE_FETCHER_TOKEN;
  rmSync(tmp, { recursive: true, force: true });
});

function writeTmp(name: string, bytes: Uint8Array): string {
  const path = join(tmp, name);
  writeFileSync(path, bytes);
  return path;
}

/** The sector whose AcquireDeals answer held deal `id`. */
const sectorWithDeal = (id: number) => [...assigned].find(([, deals]) => deals.some((d) => d.ID === id))?.[0];

test("disable_cc waits for deals; an enable_deals = false thread seals CC without asking", async () => {
  const cc = await until("the CC sector's PreCommit", () => [...precommits.keys()][0], 60_000);
  expect(acquireCalls).not.toContain(cc);
  expect(precommits.get(cc)?.CommD).toEqual([...zeroCommD(2048)]);
  await until("the deal threads to ask for deals a few times", () => acquireCalls.length >= 6 || undefined, 30_000);
  // Still waiting: no deal sector has left Allocated.
  expect(transitions.filter((t) => t.endsWith("->DealsAcquired") && !t.startsWith(`${cc}:`))).toEqual([]);
  expect(new Set(acquireCalls).size).toBe(2);
}, 90_000);

test("when deals arrive the sector seals them: local piece preferred, download with the token, CommD of the pieces", async () => {
  dealsReady = true;
  const sector = await until(
    "a deal sector's PreCommit",
    () => {
      const n = sectorWithDeal(11);
      return n !== undefined && precommits.has(n) ? n : undefined;
    },
    120_000,
  );
  expect(transitions).toContain(`${sector}:Allocated->DealsAcquired`);
  // Deal 11 came from local_pieces_dirs; only deal 12 was downloaded, with the worker's token.
  expect(downloads.filter((d) => d.cid !== bad.cid)).toEqual([{ cid: DEAL_PIECES[1].cid, auth: `Bearer ${TOKEN}` }]);
  const pieces = (golden("add_pieces-deals.answer.json") as { commitment: number[]; size: number }[]).map(
    fromWirePieceInfo,
  );
  const expected = await computeCommD({ registeredProof: 5, pieces });
  expect(precommits.get(sector)?.CommD).toEqual([...expected]);
  expect(precommits.get(sector)?.CommD).not.toEqual([...zeroCommD(2048)]);
  const job = worker.threads.map((t) => t.status().job).find((j) => j?.sector?.number === sector);
  expect(job?.phases.pieces).toEqual(golden("add_pieces-deals.answer.json") as never);
  expect(job?.phases.deals).toEqual(golden("acquire-deals.answer.json") as never);
}, 150_000);

test("a tampered piece pauses its thread with a piece data mismatch before anything is sealed", async () => {
  const thread = await until(
    "the thread with the tampered piece to pause",
    () => worker.threads.find((t) => t.status().paused && t.status().job?.phases.deals),
    60_000,
  );
  const st = thread.status();
  expect(st.job?.state).toBe("DealsAcquired");
  expect(st.lastError).toStartWith(
    `permanent: piece data mismatch: deal 21's piece from ${manager.url}/piecestore/${bad.cid}`,
  );
  expect(precommits.has(st.job!.sector!.number)).toBe(false);
  expect(downloads.some((d) => d.cid === bad.cid && d.auth === `Bearer ${TOKEN}`)).toBe(true);
}, 90_000);
