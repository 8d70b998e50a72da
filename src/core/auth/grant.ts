import type { Perm } from "./perm.ts";
import { PERMS } from "./perm.ts";

/** Who a request is, once its token was checked: the token's name and what it may do. */
export interface Grant {
  /** The token's `name` claim; "anonymous" when no token was sent, "open" when auth is off. */
  readonly name: string;
  readonly perms: ReadonlySet<Perm>;
}

/** A request that carried no token: it may call nothing that needs a permission. */
export const ANONYMOUS: Grant = Object.freeze({ name: "anonymous", perms: new Set<Perm>() });

/** `--no-auth`: every caller may do everything, as the original's open RPC. */
export const OPEN_ACCESS: Grant = Object.freeze({ name: "open", perms: new Set<Perm>(PERMS) });
