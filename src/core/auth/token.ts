import { sign, verify } from "hono/jwt";
import { JwtTokenSignatureMismatched } from "hono/utils/jwt/types";
import * as v from "valibot";
import type { Grant } from "./grant.ts";
import { type Perm, PermSchema, permsUpTo } from "./perm.ts";

/**
 * API tokens: HS256 JWTs over the node's secret, with the claims both conventions read — Venus'
 * `{"name", "perm"}` and Lotus' `{"Allow": [...]}` — so a token made here also works where either is
 * expected. Hono's JWT code signs and verifies; the secret is used as raw key bytes, as Lotus does.
 *
 * A token is a credential: nothing here puts one into an error message (hono's own errors quote the
 * token, so they are replaced, never passed on).
 */

const NameSchema = v.pipe(v.string(), v.minLength(1), v.maxLength(128), v.regex(/^[\w.@:-]+$/));

const ClaimsSchema = v.union([
  v.object({ name: v.optional(v.string()), perm: PermSchema }),
  v.object({ name: v.optional(v.string()), Allow: v.pipe(v.array(PermSchema), v.minLength(1)) }),
]);

/** Why a token was refused; the message for each is written by whoever tells the caller. */
export type TokenProblem = "malformed" | "signature" | "claims" | "unverified";

export class TokenError extends Error {
  constructor(
    readonly problem: TokenProblem,
    message: string,
  ) {
    super(message);
    this.name = "TokenError";
  }
}

async function hmacKey(secret: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", new Uint8Array(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
    "verify",
  ]);
}

/** A token for `name` holding `perm` and everything below it. */
export async function createToken(secret: Uint8Array, claims: { name: string; perm: Perm }): Promise<string> {
  const name = v.safeParse(NameSchema, claims.name);
  if (!name.success) {
    throw new Error(
      `token name ${JSON.stringify(claims.name)} is not usable: 1-128 letters, digits, '_', '.', '@', ':' or '-'`,
    );
  }
  return sign({ name: name.output, perm: claims.perm, Allow: permsUpTo(claims.perm) }, await hmacKey(secret), "HS256");
}

/** Checks a token's signature and claims; the grant it carries, or a TokenError naming the problem. */
export async function verifyToken(secret: Uint8Array, token: string): Promise<Grant> {
  if (!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(token)) {
    throw new TokenError("malformed", "the token is not a JWT (three base64url parts separated by dots)");
  }
  let payload: unknown;
  try {
    payload = await verify(token, await hmacKey(secret), "HS256");
  } catch (err) {
    if (err instanceof JwtTokenSignatureMismatched) {
      throw new TokenError("signature", "the token's signature does not match this node's secret");
    }
    throw new TokenError("malformed", `the token was refused (${(err as Error).name})`);
  }
  const claims = v.safeParse(ClaimsSchema, payload);
  if (!claims.success) {
    throw new TokenError(
      "claims",
      `the token carries no usable permission ("perm" or "Allow" of ${PermSchema.options.join(", ")})`,
    );
  }
  const c = claims.output;
  const perms = "perm" in c ? permsUpTo(c.perm) : c.Allow;
  return { name: c.name ?? "unnamed", perms: new Set(perms) };
}
