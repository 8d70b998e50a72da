import * as v from "valibot";
import { defineMethod } from "../rpc/method.ts";
import { PermSchema } from "./perm.ts";

/**
 * Token methods every node serves, named as Lotus and Venus name them: a worker checks the tokens sent
 * to its own RPC by asking its manager (AuthVerify), an operator's tool may mint tokens remotely (AuthNew).
 */

export const Auth = {
  /**
   * The permissions a token holds; an error (401) when it does not verify. The empty token asks what an
   * anonymous caller may do: nothing, or everything on a node run with --no-auth.
   */
  AuthVerify: defineMethod(
    "Venus.AuthVerify",
    [["token", v.pipe(v.string(), v.maxLength(8192))]] as const,
    v.array(PermSchema),
    "read",
  ),
  /** A new token signed with the node's secret. */
  AuthNew: defineMethod(
    "Venus.AuthNew",
    [
      ["name", v.pipe(v.string(), v.minLength(1), v.maxLength(128))],
      ["perm", PermSchema],
    ] as const,
    v.string(),
    "admin",
  ),
} as const;
