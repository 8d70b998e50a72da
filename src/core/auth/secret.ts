import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AUTH_SECRET_FILE, TOKEN_FILE } from "../config/manager-home.ts";
import { createToken } from "./token.ts";

/**
 * A node's credentials in its home: `auth-secret` (32 random bytes as hex; every token of this node is
 * signed with it) and `token` (an admin token, like Lotus' `~/.lotus/token`, read by the CLIs on the same
 * machine). Both are mode 0600; whoever reads them must never log them.
 */

const SECRET = /^[0-9a-f]{64}$/;

export function authSecretPath(home: string): string {
  return join(home, AUTH_SECRET_FILE);
}

export function adminTokenPath(home: string): string {
  return join(home, TOKEN_FILE);
}

/** The secret, or undefined when the home has none yet; a damaged file is an error naming the fix. */
export function readAuthSecret(home: string): Uint8Array | undefined {
  const path = authSecretPath(home);
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, "utf8").trim();
  if (!SECRET.test(text)) {
    throw new Error(
      `${path} does not hold an API secret (64 hex characters); delete it and ${adminTokenPath(home)}, start the manager to create new ones, then give every worker and CLI a new token`,
    );
  }
  return Uint8Array.from(Buffer.from(text, "hex"));
}

/**
 * The home's secret and admin token, each created (mode 0600) when missing or left empty by a crash.
 * `created` lists the files written now, for the caller to report.
 */
export async function ensureAuth(home: string): Promise<{ secret: Uint8Array; created: string[] }> {
  mkdirSync(home, { recursive: true });
  const created: string[] = [];
  let secret = readNonEmpty(authSecretPath(home)) === undefined ? undefined : readAuthSecret(home);
  if (!secret) {
    const written = writeSecretFile(authSecretPath(home), randomBytes(32).toString("hex"));
    if (written) created.push(authSecretPath(home));
    secret = readAuthSecret(home)!;
  }
  if (readNonEmpty(adminTokenPath(home)) === undefined) {
    if (writeSecretFile(adminTokenPath(home), await createToken(secret, { name: "admin", perm: "admin" }))) {
      created.push(adminTokenPath(home));
    }
  }
  return { secret, created };
}

/** A file's trimmed text, undefined when it does not exist or is empty. */
export function readNonEmpty(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  return readFileSync(path, "utf8").trim() || undefined;
}

/** Writes a 0600 file; false when another process created it first (theirs wins). */
function writeSecretFile(path: string, text: string): boolean {
  const empty = existsSync(path) && statSync(path).size === 0;
  try {
    writeFileSync(path, `${text}\n`, { flag: empty ? "w" : "wx", mode: 0o600 });
  } catch (err) {
    if ((err as { code?: string }).code === "EEXIST") return false;
    throw err;
  }
  chmodSync(path, 0o600);
  return true;
}
