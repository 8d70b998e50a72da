/**
 * The unseal plan end to end, over real sockets, a real `damocles worker run` process and real proofs: the
 * shared sealed 2KiB sectors (a CC sector and one holding a 1016-byte data piece) sit in a persist store
 * the worker attaches READ-ONLY, the manager knows them as finalized sectors; unseal tasks are queued
 * over RPC and with `util sealer sectors unseal`.
 * - tasks queued before a manager restart are still there after it, and a worker then delivers them:
 *   the CC sector's data (its CommD CID) to file://, the data piece to http:// (a receiver that checks the
 *   piece token), the whole data sector into an attached store via store://;
 * - a piece CID the sector does not hold is refused by name; a range whose data is not the piece is
 *   unsealed, found wrong by its CommP and never delivered (the task fails, saying so);
 * - the CLI finds the sector holding a piece, queues it, waits, and -o has the bytes.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { bearer } from "../../src/core/auth/index.ts";
import { RpcClient } from "../../src/core/rpc/client.ts";
import { DamoclesUnseal, type SectorUnsealInfo, VenusUnseal } from "../../src/core/sector/api-unseal.ts";
import { commDToCid, commRToCid, pieceCid } from "../../src/core/sector/cid.ts";
import { zeroCommD } from "../../src/core/sector/commd.ts";
import { b64, newSectorState, type SectorState } from "../../src/core/sector/wire.ts";
import { type RunningManager, startManager } from "../../src/manager/daemon.ts";
import { type Sealed2KiB, sealed2KiB } from "../fixtures/sealed-2kib.ts";
import { testAuth } from "../helpers/auth.ts";
import { runCli } from "../helpers/cli.ts";
import { logTail, startWorker, until, type WorkerHandle } from "../helpers/cluster.ts";
import { fakeVerifier, managerConfig, tempDir } from "../manager/helpers.ts";

// The shared fixture seals with two C2 SNARKs on first use (minutes on a 2-core machine).
setDefaultTimeout(20 * 60_000);

const TOKEN = "piece-token-for-tests";
const dir = tempDir("damocles-unseal-e2e-");
const persist = join(dir.path, "persist-1");
const pieces = join(dir.path, "pieces");
const out = join(dir.path, "out");
const home = join(dir.path, "manager");
let f: Sealed2KiB;
let manager: RunningManager;
let worker: WorkerHandle | undefined;
let rpc: RpcClient;
let auth: Awaited<ReturnType<typeof testAuth>>;
let receiver: ReturnType<typeof Bun.serve>;
const received = new Map<string, { auth: string | null; body: Uint8Array }>();

const s1 = { Miner: 1000, Number: 1 };
const s2 = { Miner: 1000, Number: 2 };
let CC_CID: string; // sector 1's CommD: its whole (zero) data
let DATA_CID: string; // the data piece of sector 2 (padded 1024 bytes at offset 0)
let SECTOR2_CID: string; // sector 2's CommD: the piece and the zero piece after it

function finalized(n: number, s: Sealed2KiB["cc"], pieceList: SectorState["Pieces"]): SectorState {
  const st = newSectorState({ Miner: 1000, Number: n }, s.registeredProof);
  const ticket = { Ticket: b64(s.ticket), Epoch: 5 };
  st.Ticket = ticket;
  st.Pre = { CommR: { "/": commRToCid(s.commR) }, CommD: { "/": commDToCid(s.commD) }, Ticket: ticket, Deals: null };
  st.Proof = { Proof: b64(s.proof!) };
  st.Finalized = true;
  st.Pieces = pieceList;
  return st;
}

async function boot(): Promise<void> {
  auth = await testAuth(home);
  manager = await startManager({
    auth,
    home,
    config: managerConfig({
      Common: {
        PersistStores: [
          { Name: "persist-1", Path: persist },
          { Name: "pieces", Path: pieces },
        ],
        Devnet: { BlockTime: "1s", Miners: [{ Actor: 1000, SectorSize: "2KiB" }] },
      },
      Miners: [{ Actor: 1000 }],
    }),
    hostname: "127.0.0.1",
    port: 0,
    verifier: fakeVerifier(),
  });
  rpc = new RpcClient(manager.url, { headers: bearer(auth.tokens.admin) });
}

function api(): string {
  return manager.url.replace("http://", "");
}

function spawnWorker(): WorkerHandle {
  const wdir = join(dir.path, "worker");
  const loc = join(wdir, "thread-0");
  mkdirSync(loc, { recursive: true });
  Bun.write(join(loc, ".holder"), "test\n");
  return startWorker(
    wdir,
    `
[worker]
name = "unsealer"
rpc_server.host = "127.0.0.1"
rpc_server.port = 0
[sector_manager]
rpc_client.addr = "${manager.url}"
token = "${auth.tokens.write}"
piece_token = "${TOKEN}"
[[sealing_thread]]
location = "${loc}"
plan = "unseal"
sealing.allowed_miners = [1000]
sealing.allowed_sizes = ["2KiB"]
sealing.recover_interval = "300ms"
sealing.seal_interval = "100ms"
sealing.max_retries = 2
[[attached]]
name = "persist-1"
location = "${persist}"
readonly = true
[[attached]]
name = "pieces"
location = "${pieces}"
`,
    { DAMOCLES_LOG_LEVEL: "debug" },
  );
}

async function settled(sid: { Miner: number; Number: number }, cid: string): Promise<SectorUnsealInfo> {
  return until(
    `unseal task ${cid} of sector ${sid.Number} to finish or fail`,
    async () => {
      const t = await rpc.call(DamoclesUnseal.UnsealTask, sid, { "/": cid });
      return t && (t.State === "finished" || t.State === "failed") ? t : undefined;
    },
    120_000,
    100,
  ).catch((err) => {
    throw new Error(`${(err as Error).message}\n--- worker log:\n${worker ? logTail(worker.log, 40) : "(none)"}`);
  });
}

beforeAll(async () => {
  f = await sealed2KiB();
  CC_CID = commDToCid(f.cc.commD);
  DATA_CID = pieceCid(f.data.pieces[0]!.commitment);
  SECTOR2_CID = commDToCid(f.data.commD);
  for (const [n, s] of [
    [1, f.cc],
    [2, f.data],
  ] as const) {
    cpSync(s.sealedPath, join(persist, "sealed", `s-t01000-${n}`));
    cpSync(s.cacheDir, join(persist, "cache", `s-t01000-${n}`), { recursive: true });
  }
  mkdirSync(pieces, { recursive: true });
  mkdirSync(out, { recursive: true });
  receiver = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      if (req.method !== "PUT") return new Response("PUT only", { status: 405 });
      const auth = req.headers.get("authorization");
      if (auth !== `Bearer ${TOKEN}`) return new Response("bad token", { status: 401 });
      received.set(new URL(req.url).pathname, { auth, body: new Uint8Array(await req.arrayBuffer()) });
      return new Response("ok");
    },
  });
  await boot();
  const dataPiece = {
    ID: 1,
    PayloadSize: f.data.pieceSize,
    Piece: { Size: 1024, Offset: 0, Cid: { "/": DATA_CID } },
    Proposal: null,
    IsCompatible: false,
  };
  manager.services.states.saveOffline(finalized(1, f.cc, null));
  manager.services.states.saveOffline(finalized(2, f.data, [dataPiece]));
  for (const sid of [s1, s2])
    manager.services.indexer.update("normal", sid, { sealed: "persist-1", cache: "persist-1" });
});

afterAll(async () => {
  worker?.proc.kill("SIGKILL");
  await worker?.proc.exited;
  rpc?.close();
  await manager?.stop();
  receiver?.stop(true);
  dir.remove();
});

test("tasks queued before a manager restart are delivered after it: file://, http:// with the token, store://", async () => {
  const ccFile = join(out, "cc.bin");
  const url = `http://127.0.0.1:${receiver.port}/pieces/data-2`;
  expect(await rpc.call(VenusUnseal.UnsealPiece, s1, { "/": CC_CID }, 0, 0, pathToFileURL(ccFile).toString())).toBe(
    "set_up",
  );
  expect(await rpc.call(VenusUnseal.UnsealPiece, s2, { "/": DATA_CID }, 0, 0, url)).toBe("set_up");
  expect(await rpc.call(VenusUnseal.UnsealPiece, s2, { "/": SECTOR2_CID }, 0, 0, "store://pieces/whole/s-2")).toBe(
    "set_up",
  );
  const cacheBefore = readdirSync(join(persist, "cache", "s-t01000-2")).sort();

  rpc.close();
  await manager.stop();
  await boot();
  const queued = await rpc.call(DamoclesUnseal.UnsealTasks);
  expect(queued.map((t) => [t.Sector.ID.Number, t.PieceCid["/"], t.State, t.Offset, t.Size])).toEqual([
    [1, CC_CID, "set_up", 0, 2032],
    [2, DATA_CID, "set_up", 0, 1016],
    [2, SECTOR2_CID, "set_up", 0, 2032],
  ]);

  worker = spawnWorker();
  for (const [sid, cid] of [
    [s1, CC_CID],
    [s2, DATA_CID],
    [s2, SECTOR2_CID],
  ] as const)
    expect((await settled(sid, cid)).State).toBe("finished");

  expect(readFileSync(ccFile)).toEqual(Buffer.alloc(2032));
  const got = received.get("/pieces/data-2");
  expect(got?.auth).toBe(`Bearer ${TOKEN}`);
  expect(Buffer.from(got!.body).equals(Buffer.from(f.data.payload))).toBe(true);
  const whole = readFileSync(join(pieces, "whole", "s-2"));
  expect(whole.subarray(0, 1016).equals(Buffer.from(f.data.payload))).toBe(true);
  expect(whole.subarray(1016).equals(Buffer.alloc(1016))).toBe(true);
  // The read-only persist store was only read: no SDR layers were written into its cache.
  expect(readdirSync(join(persist, "cache", "s-t01000-2")).sort()).toEqual(cacheBefore);
  expect(readdirSync(out)).toEqual(["cc.bin"]); // no temporary files left behind
  // Nothing is marked Unsealing once the tasks are done.
  expect(manager.services.states.get("offline", s2)?.Unsealing).toBe(false);
});

test("a piece the sector does not hold is refused by name; data that is not the piece is never delivered", async () => {
  const stranger = pieceCid(f.cc.commR.map((b, i) => (i === 31 ? b & 0x3f : b)));
  const refused = await runCli([
    "util",
    "sealer",
    "sectors",
    "unseal",
    stranger,
    "--actor",
    "1000",
    "--sector",
    "1",
    "--api",
    api(),
    "--token",
    auth.tokens.admin,
  ]);
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toContain(`piece ${stranger} is not in sector s-t01000-1`);
  const unknown = await runCli([
    "util",
    "sealer",
    "sectors",
    "unseal",
    stranger,
    "--api",
    api(),
    "--token",
    auth.tokens.admin,
  ]);
  expect(unknown.code).not.toBe(0);
  expect(unknown.stderr).toContain(`no sector found with piece ${stranger}`);

  // The second half of sector 2 holds zeros, not the data piece: unsealed, checked, refused.
  const before = received.size;
  const url = `http://127.0.0.1:${receiver.port}/pieces/wrong`;
  expect(await rpc.call(VenusUnseal.UnsealPiece, s2, { "/": DATA_CID }, 1016, 1016, url)).toBe("set_up");
  const t = await settled(s2, DATA_CID);
  expect(t.State).toBe("failed");
  expect(t.ErrorInfo).toContain(
    `is piece ${commDToCid(zeroCommD(1024))}, not the requested ${DATA_CID}: nothing was delivered`,
  );
  expect(received.size).toBe(before);
  expect(received.has("/pieces/wrong")).toBe(false);
});

test("the CLI finds the sector holding a piece, queues it, waits, and -o has the bytes", async () => {
  const file = join(out, "cli-data.bin");
  const r = await runCli([
    "util",
    "sealer",
    "sectors",
    "unseal",
    DATA_CID,
    "-o",
    file,
    "--timeout",
    "120",
    "--api",
    api(),
    "--token",
    auth.tokens.admin,
  ]);
  if (r.code !== 0)
    throw new Error(`unseal CLI failed (${r.code}): ${r.stderr}\n${r.stdout}\n${logTail(worker!.log, 30)}`);
  expect(r.stdout).toContain(`piece ${DATA_CID} in s-t01000-2, offset 0, size 1024 (padded)`);
  expect(r.stdout).toContain(`${DATA_CID}: 1016 bytes written to ${file}`);
  expect(Buffer.from(readFileSync(file)).equals(Buffer.from(f.data.payload))).toBe(true);
  expect(existsSync(join(dir.path, "worker", "thread-0", "data", "unsealed", DATA_CID))).toBe(false);
});
