/**
 * Data in, without proofs: the piece layout, where the worker looks for a piece, the AcquireDeals checks,
 * and the golden add_pieces / transfer tasks the worker builds and the built-in processors accept.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validateInput } from "../../src/core/plugin/api.ts";
import { commRToCid } from "../../src/core/sector/cid.ts";
import { fillerPieceSizes, layoutPieces, PieceLayoutError } from "../../src/core/sector/piece-layout.ts";
import { sealProofInfo } from "../../src/core/sector/proof.ts";
import type { DealInfo } from "../../src/core/sector/wire.ts";
import addPieces from "../../src/plugins/add-pieces.ts";
import transfer from "../../src/plugins/transfer.ts";
import {
  addPiecesTask,
  checkAddedPieces,
  checkDeals,
  locatePiece,
  pieceStoreUrl,
} from "../../src/worker/planners/sealer-deals.ts";
import { sectorPaths } from "../../src/worker/planners/sealer-job.ts";
import { persistTransferTask } from "../../src/worker/planners/sealer-persist.ts";
import type { JobRecord } from "../../src/worker/state/store.ts";
import { DEAL_PIECES, golden } from "./golden.ts";

const tmp = mkdtempSync(join(tmpdir(), "damocles-deal-pieces-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const proof2k = sealProofInfo(5);
const job = (number: number): JobRecord => ({
  version: 1,
  plan: "sealer",
  state: "DealsAcquired",
  retry: 0,
  sector: { miner: 1000, number, proof_type: 5 },
  phases: {},
});
const deals = () => golden("acquire-deals.answer.json") as DealInfo[];

describe("piece layout", () => {
  test("pieces start at a multiple of their size; the rest is zero pieces, smallest first", () => {
    expect(layoutPieces([512, 256], 2048)).toEqual({ offsets: [0, 512], end: 768 });
    expect(layoutPieces([256, 1024], 2048)).toEqual({ offsets: [0, 1024], end: 2048 });
    expect(fillerPieceSizes(768, 2048)).toEqual([256, 1024]);
    expect(fillerPieceSizes(0, 2048)).toEqual([2048]);
    expect(fillerPieceSizes(2048, 2048)).toEqual([]);
    // 32GiB is past 32-bit integers: the arithmetic must not use bitwise operators.
    const g32 = 32 * 2 ** 30;
    expect(fillerPieceSizes(g32 / 2 + 128, g32).reduce((a, b) => a + b, 0)).toBe(g32 / 2 - 128);
  });

  test("a size that is not a piece size, or pieces that overflow the sector, are refused", () => {
    expect(() => layoutPieces([300], 2048)).toThrow(PieceLayoutError);
    expect(() => layoutPieces([256, 2048], 2048)).toThrow("need 4096 bytes with alignment; the sector has 2048");
  });
});

describe("where a piece comes from", () => {
  const cid = DEAL_PIECES[0].cid;
  const base = "http://10.0.0.5:1789/piecestore";

  test("the piece store is the manager's origin + /piecestore", () => {
    expect(pieceStoreUrl("http://10.0.0.5:1789/rpc/v0")).toBe(base);
    expect(pieceStoreUrl("https://manager.example:443/rpc/v0")).toBe("https://manager.example/piecestore");
  });

  test("local_pieces_dirs first, `<cid>` before `<cid>.car`, in dir order; else the piece store URL", () => {
    const [a, b] = [join(tmp, "pieces-a"), join(tmp, "pieces-b")];
    mkdirSync(a, { recursive: true });
    mkdirSync(b, { recursive: true });
    const sources = { localDirs: [a, b], storeUrl: base };
    expect(locatePiece(cid, sources)).toEqual({ url: `${base}/${cid}` });
    writeFileSync(join(b, cid), "x");
    expect(locatePiece(cid, sources)).toEqual({ local: join(b, cid) });
    writeFileSync(join(a, `${cid}.car`), "x");
    expect(locatePiece(cid, sources)).toEqual({ local: join(a, `${cid}.car`) });
    writeFileSync(join(a, cid), "x");
    expect(locatePiece(cid, sources)).toEqual({ local: join(a, cid) });
    mkdirSync(join(tmp, "pieces-c", DEAL_PIECES[1].cid), { recursive: true }); // a directory is not a piece
    expect(locatePiece(DEAL_PIECES[1].cid, { localDirs: [join(tmp, "pieces-c")], storeUrl: base })).toEqual({
      url: `${base}/${DEAL_PIECES[1].cid}`,
    });
  });
});

describe("AcquireDeals answers", () => {
  test("the golden deals fit a 2KiB sector", () => {
    expect(() => checkDeals(deals(), 2048)).not.toThrow();
  });

  test("a CID that is not a piece CID, a payload larger than its piece, a fake pledge, or too many are refused", () => {
    const [d] = deals();
    const sealed = { ...d!, Piece: { ...d!.Piece, Cid: { "/": commRToCid(new Uint8Array(32)) } } };
    expect(() => checkDeals([sealed], 2048)).toThrow(/deal 11 .* has no piece CID/);
    expect(() => checkDeals([{ ...d!, PayloadSize: 600 }], 2048)).toThrow("a payload of 600 bytes");
    expect(() => checkDeals([{ ...d!, ID: 0 }], 2048)).toThrow("not the zero piece of its size");
    expect(() => checkDeals([d!, d!, d!, d!, d!], 2048)).toThrow("do not fit the sector");
  });
});

describe("golden add_pieces tasks", () => {
  const store = "/srv/sealing/store0";

  test("a CC sector sends `pieces: []`", async () => {
    const p = sectorPaths(store, job(1));
    const task = addPiecesTask(proof2k, p.staged, null, { localDirs: [], storeUrl: "http://m:1789/piecestore" });
    expect(task).toEqual(golden("add_pieces-cc.task.json", { store }) as never);
    expect((await validateInput(addPieces, task)).ok).toBe(true);
  });

  test("a deal sector: unpadded sizes, a local .car, a piece store URL, then the zero pieces", async () => {
    const pieces = join(tmp, "golden-pieces");
    mkdirSync(pieces, { recursive: true });
    writeFileSync(join(pieces, `${DEAL_PIECES[0].cid}.car`), DEAL_PIECES[0].bytes);
    const manager = "http://127.0.0.1:1789";
    const p = sectorPaths(store, job(2));
    const task = addPiecesTask(proof2k, p.staged, deals(), { localDirs: [pieces], storeUrl: `${manager}/piecestore` });
    expect(task).toEqual(golden("add_pieces-deals.task.json", { store, pieces, manager }) as never);
    expect((await validateInput(addPieces, task)).ok).toBe(true);
  });

  test("the processor refuses a padded piece_size and a payload larger than the piece", async () => {
    const bad = (piece: object) =>
      validateInput(addPieces, { seal_proof_type: "StackedDrg2KiBV1_1", pieces: [piece], staged_filepath: "/x" });
    // Our earlier form (a "pledge" piece with the padded sector size) is not the original's wire.
    expect(await bad({ piece_file: "pledge", payload_size: 0, piece_size: 2048 })).toMatchObject({
      ok: false,
      error: expect.stringContaining("unpadded piece size"),
    });
    expect(await bad({ piece_file: "pledge", payload_size: 509, piece_size: 508 })).toMatchObject({
      ok: false,
      error: expect.stringContaining("payload_size must not be larger"),
    });
  });

  test("the answer must be what the sector holds: count, sizes and commitments are checked", () => {
    const task = golden("add_pieces-deals.task.json", { store, pieces: "/p", manager: "http://m" }) as never;
    const answer = golden("add_pieces-deals.answer.json") as { commitment: number[]; size: number }[];
    expect(checkAddedPieces(task, answer, deals(), 2048)).toEqual(answer);
    expect(() => checkAddedPieces(task, answer.slice(0, 2), deals(), 2048)).toThrow("answered 2 piece(s)");
    const swapped = [answer[1]!, answer[0]!, answer[2]!, answer[3]!];
    expect(() => checkAddedPieces(task, swapped, deals(), 2048)).toThrow(
      `piece data mismatch: deal 11's piece from /p/${DEAL_PIECES[0].cid}.car should be ${DEAL_PIECES[0].cid}`,
    );
    const cc = golden("add_pieces-cc.task.json", { store }) as never;
    const ccAnswer = golden("add_pieces-cc.answer.json");
    expect(checkAddedPieces(cc, ccAnswer, [], 2048)).toEqual(ccAnswer as never);
    expect(() => checkAddedPieces(cc, [answer[3]], [], 2048)).toThrow("the CC sector's zero piece should be");
  });
});

describe("golden transfer task", () => {
  test("persisting: absolute uris, the persist store as dest store_name, sealed file then cache files", async () => {
    const store = "/srv/sealing/store0";
    const persist = "/srv/persist-1";
    const p = sectorPaths(store, job(1));
    const task = persistTransferTask(p, 2048, { name: "persist-1", location: persist, readonly: false }, null);
    expect(task).toEqual(golden("transfer-persist.task.json", { store, persist }) as never);
    expect((await validateInput(transfer, task)).ok).toBe(true);
  });

  test("the processor refuses relative uris (stores are not used to resolve them)", async () => {
    const r = await validateInput(transfer, {
      stores: { local: { name: "local", meta: { location: "/srv" } } },
      routes: [{ src: { store_name: "local", uri: "sealed/s" }, dest: { uri: "/x" } }],
    });
    expect(r).toMatchObject({ ok: false, error: expect.stringContaining("expected an absolute path") });
  });

  test("32GiB sectors persist eight tree-r-last files, as the original lists them", () => {
    const task = persistTransferTask(
      sectorPaths("/s", job(1)),
      32 * 2 ** 30,
      { name: "p", location: "/p", readonly: false },
      { k: "v" },
    );
    expect(task.routes.map((r) => r.dest.uri.split("/").pop())).toEqual([
      "s-t01000-1",
      ...Array.from({ length: 8 }, (_, i) => `sc-02-data-tree-r-last-${i}.dat`),
      "p_aux",
      "t_aux",
    ]);
    expect(task.stores).toEqual({ p: { name: "p", meta: { k: "v" } } });
  });
});
