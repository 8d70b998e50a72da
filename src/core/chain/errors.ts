/**
 * The one error the chain codecs throw. `code` says what kind of input was refused (callers branch on it,
 * never on the text); the message names the field, the value and what was expected.
 */

export type ChainCodecErrorCode =
  | "address"
  | "bitfield-version"
  | "bitfield-not-minimal"
  | "bitfield-invalid-varint"
  | "bitfield-overflow"
  | "bitfield-too-large"
  | "bitfield-too-many-bits"
  | "bitfield-unsafe-number"
  | "token"
  | "cbor"
  | "params"
  /** A miner method number that is not one of the calls a ChainMessage stands for. */
  | "method"
  /** Valid builtin params using what our chain does not model (aggregate proofs, verified allocations). */
  | "unsupported"
  /** A translation context (MinerCallContext) that lacks a field the call needs, or contradicts it. */
  | "context"
  | "message"
  | "signature"
  | "key";

export class ChainCodecError extends Error {
  override name = "ChainCodecError";
  constructor(
    readonly code: ChainCodecErrorCode,
    message: string,
  ) {
    super(message);
  }
}
