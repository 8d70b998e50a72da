import { randomBytes, timingSafeEqual } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PIECE_TOKEN_FILE } from "./manager-home.ts";

/**
 * The manager's piece token: a random secret in `<home>/piece-token` (mode 0600), the only credential of
 * GET /piecestore/. The operator copies it into each worker's `sector_manager.piece_token`
 * (`damocles util market token` prints it). Whoever handles it must never log it.
 */

const TOKEN = /^[0-9a-f]{64}$/;

export function pieceTokenPath(home: string): string {
  return join(home, PIECE_TOKEN_FILE);
}

/** The token, or undefined when the home has none yet; a damaged file is an error naming the fix. */
export function readPieceToken(home: string): string | undefined {
  const path = pieceTokenPath(home);
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, "utf8").trim();
  if (!TOKEN.test(text)) {
    throw new Error(
      `${path} does not hold a piece token (64 hex characters); delete it and start the manager to create a new one (then update every worker's sector_manager.piece_token)`,
    );
  }
  return text;
}

/** The home's token; created (mode 0600) when the home has none, or an empty file left by a crash. */
export function ensurePieceToken(home: string): string {
  const path = pieceTokenPath(home);
  const current = existsSync(path) ? readFileSync(path, "utf8").trim() : undefined;
  if (current) return readPieceToken(home) ?? current;
  mkdirSync(home, { recursive: true });
  const token = randomBytes(32).toString("hex");
  try {
    writeFileSync(path, `${token}\n`, { flag: current === undefined ? "wx" : "w", mode: 0o600 });
    chmodSync(path, 0o600);
  } catch (err) {
    // Another process created it first: theirs is the token.
    if ((err as { code?: string }).code === "EEXIST") return readPieceToken(home) ?? token;
    throw err;
  }
  return token;
}

/** Compares a presented token with the expected one in constant time. */
export function pieceTokenMatches(presented: string, expected: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
