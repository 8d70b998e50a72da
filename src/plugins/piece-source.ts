import { createReadStream, rmSync, statSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { permanent, temporary } from "../core/errors/index.ts";
import { type AddPiecesPiece, PIECE_TOKEN_ENV } from "../core/processor/stages/seal.ts";

/**
 * The bytes of one add_pieces piece as a file the proofs library can read: exactly `payload_size` bytes
 * (the library zero-fills up to the piece size), as the original's inflator reads them. Downloads carry
 * `Authorization: Bearer $PIECE_FETCHER_TOKEN` (the worker's sector_manager.piece_token).
 *
 * Failure levels, for the in-process stage (an external processor's errors are all permanent, as in the
 * original): a connection that fails or breaks off, or a 5xx, is temporary, since the manager may be
 * restarting and the same request can succeed later; a refused token, a missing piece, other 4xx and data
 * shorter than the deal's payload are permanent, since asking again gets the same answer and an operator
 * must fix the token or the piece store first.
 */
export interface PieceBytes {
  source: { path: string } | "pledge";
  /** Removes the temporary copy, if one was made. */
  dispose(): void;
}

function tempPath(dir: string): string {
  return join(dir, `.piece-${crypto.randomUUID()}`);
}

export async function openPiece(piece: AddPiecesPiece, tmpDir: string, signal: AbortSignal): Promise<PieceBytes> {
  const file = piece.piece_file;
  if (file === "pledge") return { source: "pledge", dispose() {} };
  if ("local" in file) return localPiece(file.local, piece.payload_size, tmpDir);
  return downloadPiece(file.url, piece.payload_size, tmpDir, signal);
}

async function localPiece(path: string, payload: number, tmpDir: string): Promise<PieceBytes> {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st?.isFile()) throw permanent(new Error(`local piece file ${path} does not exist or is not a file`));
  if (st.size < payload)
    throw permanent(
      new Error(`local piece file truncated: ${path} has ${st.size} bytes, the deal's payload is ${payload} bytes`),
    );
  if (st.size === payload) return { source: { path }, dispose() {} };
  // Longer than the payload (e.g. a padded CAR): the piece is only the first payload_size bytes.
  const copy = tempPath(tmpDir);
  if (payload === 0) writeFileSync(copy, "");
  else await writeStream(createReadStream(path, { start: 0, end: payload - 1 }), copy, payload);
  return { source: { path: copy }, dispose: () => rmSync(copy, { force: true }) };
}

async function writeStream(chunks: AsyncIterable<Uint8Array>, to: string, limit: number): Promise<number> {
  const fh = await open(to, "w");
  let written = 0;
  try {
    for await (const chunk of chunks) {
      const part = chunk.subarray(0, Math.max(0, limit - written));
      if (part.length > 0) await fh.write(part);
      written += part.length;
      if (written >= limit) break;
    }
  } finally {
    await fh.close();
  }
  return written;
}

async function downloadPiece(url: string, payload: number, tmpDir: string, signal: AbortSignal): Promise<PieceBytes> {
  const token = process.env[PIECE_TOKEN_ENV];
  const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  let res: Response;
  try {
    res = await fetch(url, { signal, headers: auth, redirect: "manual" });
    const location = res.headers.get("location");
    if (res.status >= 300 && res.status < 400 && location) {
      // As the original: the piece store may redirect to the market, which wants the token and its namespace.
      await res.body?.cancel().catch(() => {});
      res = await fetch(new URL(location, url), {
        signal,
        headers: token ? { ...auth, "X-VENUS-API-NAMESPACE": "v1.IMarket" } : {},
      });
    }
  } catch (err) {
    if (signal.aborted) throw err;
    throw temporary(new Error(`piece download failed: ${url}: ${(err as Error).message}`));
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => {});
    throw refused(url, res.status, res.statusText, token !== undefined && token !== "");
  }
  const path = tempPath(tmpDir);
  let received: number;
  try {
    received = await writeStream(res.body ?? emptyBody(), path, payload);
  } catch (err) {
    rmSync(path, { force: true });
    if (signal.aborted) throw err;
    throw temporary(new Error(`piece download broken off: ${url}: ${(err as Error).message}`));
  }
  if (received < payload) {
    rmSync(path, { force: true });
    throw permanent(
      new Error(`piece download truncated: ${url} sent ${received} bytes, the deal's payload is ${payload} bytes`),
    );
  }
  return { source: { path }, dispose: () => rmSync(path, { force: true }) };
}

async function* emptyBody(): AsyncIterable<Uint8Array> {}

function refused(url: string, status: number, text: string, withToken: boolean): Error {
  const http = `HTTP ${status}${text ? ` ${text}` : ""}`;
  if (status === 401 || status === 403) {
    const why = withToken
      ? "the piece store does not accept the token (sector_manager.piece_token)"
      : `no token was sent: set sector_manager.piece_token (exported to add_pieces as ${PIECE_TOKEN_ENV})`;
    return permanent(new Error(`piece download unauthorized: ${url}: ${http}: ${why}`));
  }
  if (status === 404)
    return permanent(new Error(`piece not found: ${url}: ${http}: the piece store does not hold this piece`));
  const level = status >= 500 ? temporary : permanent;
  return level(new Error(`piece download failed: ${url}: ${http}`));
}
