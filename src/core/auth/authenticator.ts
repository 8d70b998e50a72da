import { ANONYMOUS, type Grant, OPEN_ACCESS } from "./grant.ts";
import { TokenError, verifyToken } from "./token.ts";

/**
 * Turns the token a request carried (or none) into a grant. A token that is present but invalid is a
 * TokenError (the server answers 401 and runs nothing); no token is the anonymous grant, which may call
 * only what needs no permission.
 */
export interface Authenticator {
  authenticate(token: string | undefined): Promise<Grant>;
  /** "token" when tokens are checked, "open" when every caller may do everything (`--no-auth`). */
  readonly mode: "token" | "open";
}

/** `--no-auth`: the original's open RPC, for a private network. */
export const openAuthenticator: Authenticator = { mode: "open", authenticate: async () => OPEN_ACCESS };

/**
 * Checks tokens against this node's secret. A token that verified once is remembered (the secret does not
 * change while the node runs), so a busy worker's calls cost one map lookup, not an HMAC.
 */
export function secretAuthenticator(secret: Uint8Array, cacheSize = 4096): Authenticator {
  const verified = new Map<string, Grant>();
  return {
    mode: "token",
    async authenticate(token) {
      if (token === undefined || token === "") return ANONYMOUS;
      const known = verified.get(token);
      if (known) return known;
      const grant = await verifyToken(secret, token);
      if (verified.size >= cacheSize) verified.delete(verified.keys().next().value!);
      verified.set(token, grant);
      return grant;
    },
  };
}

/**
 * The token of a request: `Authorization: Bearer <token>`, else a `token` query parameter (websocket
 * clients). Any other Authorization is refused rather than ignored: the caller meant to authenticate.
 */
export function requestToken(req: Request): string | undefined {
  const header = req.headers.get("authorization");
  if (header) {
    const m = /^bearer\s+(\S+)\s*$/i.exec(header.trim());
    if (!m) throw new TokenError("malformed", 'the Authorization header must be "Bearer <token>"');
    return m[1]!;
  }
  const query = new URL(req.url).searchParams.get("token");
  return query ?? undefined;
}
