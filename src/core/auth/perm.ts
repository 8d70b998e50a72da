import * as v from "valibot";

/**
 * Permissions as Lotus and Venus name them. Each includes the ones before it: a `sign` token may also
 * write and read, an `admin` token may do everything. A method needs exactly one; a token holds a set.
 */
export const PERMS = ["read", "write", "sign", "admin"] as const;
export const PermSchema = v.picklist(PERMS, `a permission: ${PERMS.join(", ")}`);
export type Perm = v.InferOutput<typeof PermSchema>;

/** The permissions a token of `perm` holds (Lotus' `Allow` list for it). */
export function permsUpTo(perm: Perm): Perm[] {
  return PERMS.slice(0, PERMS.indexOf(perm) + 1);
}

/** The strongest permission of a set, for messages ("token 'w1' has write"). */
export function strongest(perms: ReadonlySet<Perm>): Perm | undefined {
  return [...PERMS].reverse().find((p) => perms.has(p));
}
