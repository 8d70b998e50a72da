import { adminTokenPath, readNonEmpty } from "./secret.ts";

/**
 * The token a command-line tool sends: `--token`, else `$DAMOCLES_TOKEN`, else the admin token in the
 * manager home (readable only by the manager's user, which is the point). Undefined when there is none:
 * the call then goes out without one and the node says which permission it needed.
 */
export function cliToken(opts: { token?: string; home?: string }): string | undefined {
  if (opts.token) return opts.token.trim();
  const env = process.env.DAMOCLES_TOKEN?.trim();
  if (env) return env;
  if (!opts.home) return undefined;
  try {
    return readNonEmpty(adminTokenPath(opts.home));
  } catch {
    return undefined; // unreadable (another user's home): the node's answer says what is missing
  }
}

/** The header that carries a token, or none. */
export function bearer(token: string | undefined): Record<string, string> {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/** The `token` CLI flag, shared by every command that talks to a node. */
export const tokenArg = {
  token: {
    type: "string",
    description: "API token to send (default: $DAMOCLES_TOKEN, else the admin token in the manager home)",
  },
} as const;
