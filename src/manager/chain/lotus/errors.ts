/**
 * What can go wrong between the manager and a Lotus/Venus node, as codes: callers decide on the code, the
 * message (node, method, fix) is for people.
 */
export const LOTUS_CHAIN_ERROR_CODES = [
  /** The node cannot be reached (connection refused, DNS, timeout). */
  "unreachable",
  /** The node refused the token (HTTP 401/403, or a method needing more permission). */
  "unauthorized",
  /** [Common.API] Chain or Token cannot be read. */
  "bad-config",
  /** The node is on another network than the one expected. */
  "wrong-network",
  /** A configured miner is not an actor on the node's network. */
  "unknown-miner",
  /** The node answered something the client cannot use (a wrong length, a missing block). */
  "bad-answer",
  /** The operation needs the devnet (or a service the node does not offer). */
  "not-supported",
  /** No deadline of the miner opens at the epoch asked about. */
  "wrong-deadline",
] as const;
export type LotusChainErrorCode = (typeof LOTUS_CHAIN_ERROR_CODES)[number];

export class LotusChainError extends Error {
  override name = "LotusChainError";
  constructor(
    readonly code: LotusChainErrorCode,
    message: string,
  ) {
    super(message);
  }
}
