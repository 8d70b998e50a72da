import { createToken, ensureAuth, secretAuthenticator } from "../../src/core/auth/index.ts";
import type { NodeAuth } from "../../src/manager/shell.ts";

/** A node's auth as `manager run` builds it (secret in `home`), with tokens of each permission for clients. */
export async function testAuth(
  home: string,
): Promise<NodeAuth & { tokens: Record<"read" | "write" | "admin", string> }> {
  const { secret } = await ensureAuth(home);
  return {
    authenticator: secretAuthenticator(secret),
    secret,
    tokens: {
      read: await createToken(secret, { name: "test-read", perm: "read" }),
      write: await createToken(secret, { name: "test-worker", perm: "write" }),
      admin: await createToken(secret, { name: "test-admin", perm: "admin" }),
    },
  };
}
