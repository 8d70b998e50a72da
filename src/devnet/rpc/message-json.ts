import {
  ChainCodecError,
  decodeSignedMessage,
  encodeSignedMessage,
  parseAddress,
  type SignedMessage,
  type UnsignedMessage,
} from "../../core/chain/index.ts";
import type { LotusMessage, LotusSignedMessage, MsgLookup } from "../../core/chain/lotus-api.ts";
import { fromLotusMessage, fromLotusSignedMessage, toLotusSignedMessage } from "../../core/chain/lotus-json.ts";
import type { MessageLookup } from "../../core/sector/chain.ts";
import { MessageRefusedError } from "../intake.ts";

/**
 * The Lotus JSON of messages that reach the devnet from outside (core/chain/lotus-json.ts converts the
 * shapes), checked as the chain reads them: addresses parsed strictly, a signed message round-tripped through
 * its bytes; a bad field is refused naming it. api.MsgLookup answers carry the devnet's outcome.
 */

/** A field of a message from outside, refused naming it. */
function field<T>(name: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ChainCodecError || err instanceof SyntaxError || err instanceof RangeError)
      throw new MessageRefusedError(name, err.message);
    throw err;
  }
}

export function messageFromJson(m: LotusMessage): UnsignedMessage {
  const message = fromLotusMessage(m);
  return {
    ...message,
    to: field("To", () => parseAddress(m.To).string),
    from: field("From", () => parseAddress(m.From).string),
  };
}

/** The codec's signed message; the round trip through its bytes checks every field as the chain reads it. */
export function signedFromJson(s: LotusSignedMessage): SignedMessage {
  const signed: SignedMessage = { ...fromLotusSignedMessage(s), message: messageFromJson(s.Message) };
  return field("Signature", () => decodeSignedMessage(encodeSignedMessage(signed), "testnet"));
}

export const signedToJson = toLotusSignedMessage;

/** api.MsgLookup of an executed message, with the devnet's outcome beside the receipt. */
export function msgLookupJson(look: MessageLookup, gasUsed: number, tipSet: { "/": string }[]): MsgLookup {
  const outcome = {
    ...(look.code ? { Code: look.code } : {}),
    ...(look.error ? { Error: look.error } : {}),
    ...(look.results
      ? {
          Results: look.results.map((r) => ({
            Number: r.number,
            Ok: r.ok,
            ...(r.code ? { Code: r.code } : {}),
            ...(r.error ? { Error: r.error } : {}),
          })),
        }
      : {}),
  };
  return {
    Message: { "/": look.cid },
    Receipt: { ExitCode: look.exitCode ?? 0, Return: null, GasUsed: gasUsed },
    TipSet: tipSet,
    Height: look.packedEpoch ?? look.pushedEpoch,
    DevnetOutcome: outcome,
  };
}
