import type { Hono } from "hono";
import { pieceTokenMatches } from "../../core/config/piece-token.ts";
import { childLogger } from "../../core/log/index.ts";
import { CommitmentCidError, pieceCommitment } from "../../core/sector/index.ts";
import { type PieceFiles, parsePieceName } from "./piece-files.ts";

const log = childLogger("piecestore");

/**
 * GET /piecestore/<piece-cid> and /piecestore/<piece-cid>.car: a piece file from the piece stores, for
 * workers' add_pieces. Only with `Authorization: Bearer <piece token>` (401 otherwise, checked first, so an
 * unauthenticated client learns nothing); 400 for a name that is not a piece CID, 404 for a piece no store
 * holds. The token is never logged: log lines name the piece and the outcome only.
 */
export function mountPieceStore(app: Hono, opts: { pieces: PieceFiles; token: string }): void {
  app.get("/piecestore/:name", (c) => {
    const name = c.req.param("name");
    const presented = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization") ?? "")?.[1];
    if (!presented || !pieceTokenMatches(presented, opts.token)) {
      log.warn(`piece ${name}: refused, ${presented ? "wrong" : "no"} bearer token`);
      return c.text("unauthorized: send Authorization: Bearer <the manager's piece token>\n", 401, {
        "www-authenticate": 'Bearer realm="piecestore"',
      });
    }
    const { cid } = parsePieceName(name);
    try {
      pieceCommitment(cid);
    } catch (err) {
      if (!(err instanceof CommitmentCidError)) throw err;
      return c.text(`bad request: ${err.message}\n`, 400);
    }
    const file = opts.pieces.find(cid);
    if (!file) {
      log.info(`piece ${cid}: not in any piece store`);
      return c.text(`piece ${cid} is not in any piece store of this manager\n`, 404);
    }
    log.debug(`piece ${cid}: serving ${file.size} bytes from ${file.store}`);
    return new Response(Bun.file(file.path), {
      headers: { "content-type": "application/octet-stream", "content-length": String(file.size) },
    });
  });
}
