import type { Hono } from "hono";
import { type Authenticator, requestToken, TokenError } from "../../core/auth/index.ts";
import { childLogger } from "../../core/log/index.ts";
import { CommitmentCidError, pieceCommitment } from "../../core/sector/index.ts";
import { type PieceFiles, parsePieceName } from "./piece-files.ts";

const log = childLogger("piecestore");

/**
 * GET /piecestore/<piece-cid> and /piecestore/<piece-cid>.car: a piece file from the piece stores, for
 * workers' add_pieces. Only with `Authorization: Bearer <token>` holding read permission, signed with the
 * manager's secret (401 otherwise, checked first, so an unauthenticated client learns nothing); 400 for a
 * name that is not a piece CID, 404 for a piece no store holds. The token is never logged: log lines name
 * the piece and the outcome only.
 */
export function mountPieceStore(app: Hono, opts: { pieces: PieceFiles; auth: Authenticator }): void {
  app.get("/piecestore/:name", async (c) => {
    const name = c.req.param("name");
    const refused = await refusal(opts.auth, c.req.raw);
    if (refused) {
      log.warn(`piece ${name}: refused, ${refused}`);
      return c.text(
        `unauthorized (${refused}): send Authorization: Bearer <a token of this manager with read permission: 'damocles util market token'>\n`,
        401,
        { "www-authenticate": 'Bearer realm="piecestore"' },
      );
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

/** Why a request may not read pieces, or undefined when it may. */
async function refusal(auth: Authenticator, req: Request): Promise<string | undefined> {
  try {
    const grant = await auth.authenticate(requestToken(req));
    if (grant.perms.has("read")) return undefined;
    return grant.perms.size === 0 ? "no bearer token" : `token '${grant.name}' lacks read permission`;
  } catch (err) {
    if (err instanceof TokenError) return `invalid token (${err.problem})`;
    throw err;
  }
}
