/**
 * The built-in add_pieces and transfer processors on the golden tasks, and every way a piece can come in
 * wrong: no token, a refused token, a missing piece, a broken connection, a short body, tampered bytes.
 * Uses the proofs addon (add_piece computes each piece's CommP while writing it).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server, TCPSocketListener } from "bun";
import { Failure } from "../../src/core/errors/index.ts";
import { logger } from "../../src/core/log/index.ts";
import type { AddPiecesInput, TransferInput } from "../../src/core/processor/stages/seal.ts";
import type { DealInfo } from "../../src/core/sector/wire.ts";
import addPieces from "../../src/plugins/add-pieces.ts";
import transfer from "../../src/plugins/transfer.ts";
import { checkAddedPieces } from "../../src/worker/planners/sealer-deals.ts";
import { DEAL_PIECES, golden } from "./golden.ts";

const TOKEN = "piece-token-for-tests";
const tmp = mkdtempSync(join(tmpdir(), "damocles-add-pieces-"));
const store = join(tmp, "store");
const pieces = join(tmp, "pieces");
/** What the test piece store serves, by piece CID. */
const served = new Map<string, Uint8Array>();
const requests: { cid: string; auth: string | null }[] = [];
let server: Server<undefined>;
let manager: string;
let broken: TCPSocketListener;
const ctx = () => ({ log: logger.withTag("test"), signal: new AbortController().signal });
const deals = () => golden("acquire-deals.answer.json") as DealInfo[];

beforeAll(() => {
  mkdirSync(pieces, { recursive: true });
  // The manager's piece store as the manager side serves it: Bearer <piece_token> or 401.
  server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req) {
      const path = new URL(req.url).pathname;
      // A piece store that sends the worker on to the market, as the original manager's proxy may.
      if (path.startsWith("/redirect/")) return Response.redirect(path.replace("/redirect/", "/market/"), 302);
      if (path.startsWith("/market/") && req.headers.get("x-venus-api-namespace") !== "v1.IMarket")
        return new Response("which API?", { status: 400 });
      const cid = decodeURIComponent(path.replace(/^\/(piecestore|market)\//, "").replace(/\.car$/, ""));
      const auth = req.headers.get("authorization");
      requests.push({ cid, auth });
      if (auth !== `Bearer ${TOKEN}`) return new Response("unauthorized", { status: 401 });
      const bytes = served.get(cid);
      return bytes ? new Response(bytes) : new Response("no such piece", { status: 404 });
    },
  });
  manager = `http://127.0.0.1:${server.port}`;
  // A server that promises 500 bytes and hangs up after 100.
  broken = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(socket) {
        socket.write("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 500\r\n\r\n");
        socket.write(Buffer.alloc(100, 1));
        socket.end();
      },
    },
  });
});

afterAll(() => {
  server?.stop(true);
  broken?.stop(true);
  delete process.env.PIECE_FETCHER_TOKEN;
  rmSync(tmp, { recursive: true, force: true });
});

function dealTask(): AddPiecesInput {
  return golden("add_pieces-deals.task.json", { store, pieces, manager }) as AddPiecesInput;
}

/** A one-piece task for deal 12 from `url`. */
function urlTask(url: string): AddPiecesInput {
  const t = dealTask();
  return { ...t, pieces: [{ ...t.pieces[1]!, piece_file: { url } }, ...t.pieces.slice(2)] };
}

async function failure(p: Promise<unknown>): Promise<Failure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof Failure)) throw new Error(`expected a Failure, got ${String(err)}`);
  return err;
}

describe("add_pieces on the golden tasks", () => {
  test("a CC sector: sector-size zeros and the one zero piece", async () => {
    const task = golden("add_pieces-cc.task.json", { store }) as AddPiecesInput;
    expect(await addPieces.run(task, ctx())).toEqual(golden("add_pieces-cc.answer.json") as never);
    const staged = readFileSync(task.staged_filepath);
    expect(staged.length).toBe(2048);
    expect(staged.every((b) => b === 0)).toBe(true);
  });

  test("a deal sector: a local .car and a download with the token, then the zero pieces", async () => {
    process.env.PIECE_FETCHER_TOKEN = TOKEN;
    writeFileSync(join(pieces, `${DEAL_PIECES[0].cid}.car`), DEAL_PIECES[0].bytes);
    served.set(DEAL_PIECES[1].cid, DEAL_PIECES[1].bytes);
    requests.length = 0;
    const task = dealTask();
    const answer = await addPieces.run(task, ctx());
    expect(answer).toEqual(golden("add_pieces-deals.answer.json") as never);
    expect(statSync(task.staged_filepath).size).toBe(2048);
    expect(requests).toEqual([{ cid: DEAL_PIECES[1].cid, auth: `Bearer ${TOKEN}` }]);
    expect(checkAddedPieces(task, answer, deals(), 2048)).toEqual(answer);
    // A retry starts the staged file afresh instead of appending.
    await addPieces.run(task, ctx());
    expect(statSync(task.staged_filepath).size).toBe(2048);
  });
});

test("a redirect is followed with the token and the market's API namespace, as the original does", async () => {
  process.env.PIECE_FETCHER_TOKEN = TOKEN;
  served.set(DEAL_PIECES[1].cid, DEAL_PIECES[1].bytes);
  requests.length = 0;
  const answer = (await addPieces.run(urlTask(`${manager}/redirect/${DEAL_PIECES[1].cid}`), ctx())) as unknown[];
  expect(answer[0]).toEqual((golden("add_pieces-deals.answer.json") as unknown[])[1]);
  expect(requests).toEqual([{ cid: DEAL_PIECES[1].cid, auth: `Bearer ${TOKEN}` }]);
});

describe("a piece that comes in wrong is a named error, never a staged sector", () => {
  const url = () => `${manager}/piecestore/${DEAL_PIECES[1].cid}`;

  test("no token: 401, permanent, naming piece_token", async () => {
    delete process.env.PIECE_FETCHER_TOKEN;
    const f = await failure(addPieces.run(urlTask(url()), ctx()));
    expect(f.level).toBe("permanent");
    expect(f.message).toContain(`piece download unauthorized: ${url()}: HTTP 401`);
    expect(f.message).toContain("no token was sent: set sector_manager.piece_token");
  });

  test("a wrong token: 401, permanent", async () => {
    process.env.PIECE_FETCHER_TOKEN = "not-the-token";
    const f = await failure(addPieces.run(urlTask(url()), ctx()));
    expect(f.level).toBe("permanent");
    expect(f.message).toContain("the piece store does not accept the token");
  });

  test("a piece the store does not have: 404, permanent", async () => {
    process.env.PIECE_FETCHER_TOKEN = TOKEN;
    const missing = `${manager}/piecestore/baga6ea4seaqmissing`;
    const f = await failure(addPieces.run(urlTask(missing), ctx()));
    expect(f.level).toBe("permanent");
    expect(f.message).toContain(`piece not found: ${missing}: HTTP 404`);
  });

  test("an unreachable piece store is temporary (the manager may be restarting)", async () => {
    const closed = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = closed.port;
    closed.stop(true);
    const f = await failure(addPieces.run(urlTask(`http://127.0.0.1:${port}/piecestore/x`), ctx()));
    expect(f.level).toBe("temporary");
    expect(f.message).toContain("piece download failed");
  });

  test("a connection that breaks off mid-body is an error, not a zero-filled piece", async () => {
    const f = await failure(addPieces.run(urlTask(`http://127.0.0.1:${broken.port}/piecestore/x`), ctx()));
    // The network lost it: temporary, the next attempt downloads the whole piece again.
    expect(f.level).toBe("temporary");
    expect(f.message).toContain(`piece download broken off: http://127.0.0.1:${broken.port}/piecestore/x`);
  });

  test("a complete body shorter than the deal's payload: truncated, permanent", async () => {
    served.set("short", DEAL_PIECES[1].bytes.subarray(0, 150));
    const f = await failure(addPieces.run(urlTask(`${manager}/piecestore/short`), ctx()));
    expect(f.level).toBe("permanent");
    expect(f.message).toContain("piece download truncated");
    expect(f.message).toContain("sent 150 bytes, the deal's payload is 200 bytes");
  });

  test("a local piece file shorter than the payload: truncated, permanent", async () => {
    const t = dealTask();
    const short = join(pieces, "short-local");
    writeFileSync(short, DEAL_PIECES[0].bytes.subarray(0, 10));
    const task = { ...t, pieces: [{ ...t.pieces[0]!, piece_file: { local: short } }] };
    const f = await failure(addPieces.run(task, ctx()));
    expect(f.message).toContain(`local piece file truncated: ${short} has 10 bytes, the deal's payload is 500`);
  });

  test("a local file longer than the payload: only the first payload_size bytes are the piece", async () => {
    const t = dealTask();
    const long = join(pieces, "long-local");
    writeFileSync(long, Buffer.concat([DEAL_PIECES[0].bytes, Buffer.alloc(8, 0xee)]));
    const task = { ...t, pieces: [{ ...t.pieces[0]!, piece_file: { local: long } }] };
    const answer = (await addPieces.run(task, ctx())) as { commitment: number[] }[];
    expect(answer[0]).toEqual((golden("add_pieces-deals.answer.json") as never[])[0]!);
  });

  test("tampered bytes (downloaded or local) are refused by their CommP before anything is sealed", async () => {
    process.env.PIECE_FETCHER_TOKEN = TOKEN;
    const tampered = Buffer.from(DEAL_PIECES[1].bytes);
    tampered[42] = tampered[42]! ^ 0xff;
    served.set(DEAL_PIECES[1].cid, tampered);
    const task = dealTask();
    const answer = await addPieces.run(task, ctx());
    expect(() => checkAddedPieces(task, answer, deals(), 2048)).toThrow(
      `piece data mismatch: deal 12's piece from ${url()} should be ${DEAL_PIECES[1].cid}`,
    );
    served.set(DEAL_PIECES[1].cid, DEAL_PIECES[1].bytes);
    const local = Buffer.from(DEAL_PIECES[0].bytes);
    local[0] = local[0]! ^ 1;
    writeFileSync(join(pieces, `${DEAL_PIECES[0].cid}.car`), local);
    const again = await addPieces.run(task, ctx());
    expect(() => checkAddedPieces(task, again, deals(), 2048)).toThrow(
      `piece data mismatch: deal 11's piece from ${pieces}/${DEAL_PIECES[0].cid}.car`,
    );
    writeFileSync(join(pieces, `${DEAL_PIECES[0].cid}.car`), DEAL_PIECES[0].bytes);
  });
});

test("transfer on the golden persist task copies every file to its absolute dest", async () => {
  const persist = join(tmp, "persist-1");
  const task = golden("transfer-persist.task.json", { store, persist }) as TransferInput;
  for (const r of task.routes) {
    mkdirSync(join(r.src.uri, ".."), { recursive: true });
    writeFileSync(r.src.uri, `bytes of ${r.src.uri}`);
  }
  expect(await transfer.run(task as never, ctx())).toBe(true);
  for (const r of task.routes) expect(readFileSync(r.dest.uri, "utf8")).toBe(`bytes of ${r.src.uri}`);
  expect(readFileSync(join(persist, "sealed", "s-t01000-1"), "utf8")).toContain("data/sealed/s-t01000-1");
});
