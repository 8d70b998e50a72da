import {
  ChainCodecError,
  decodeSignedMessage,
  encodeSignedMessage,
  parseAddress,
  type SignedMessage,
  type UnsignedMessage,
} from "../../core/chain/index.ts";
import type { LotusMessage, LotusSignedMessage, MsgLookup } from "../../core/chain/lotus-api.ts";
import type { MessageLookup } from "../../core/sector/chain.ts";
import { MessageRefusedError } from "../intake.ts";

/**
 * Lotus's JSON forms of messages (chain/types.Message, SignedMessage, api.MsgLookup) to and from the
 * codec's: token amounts as decimal strings, Params and signature bytes as base64.
 */

const base64 = (bytes: Uint8Array): string | null => (bytes.length ? Buffer.from(bytes).toString("base64") : null);
const bytesOf = (text: string | null): Uint8Array => new Uint8Array(Buffer.from(text ?? "", "base64"));

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
  return {
    version: m.Version,
    to: field("To", () => parseAddress(m.To).string),
    from: field("From", () => parseAddress(m.From).string),
    nonce: m.Nonce,
    value: BigInt(m.Value),
    gasLimit: m.GasLimit,
    gasFeeCap: BigInt(m.GasFeeCap),
    gasPremium: BigInt(m.GasPremium),
    method: m.Method,
    params: bytesOf(m.Params),
  };
}

export function messageToJson(m: UnsignedMessage): LotusMessage {
  return {
    Version: m.version,
    To: m.to,
    From: m.from,
    Nonce: m.nonce,
    Value: m.value.toString(),
    GasLimit: m.gasLimit,
    GasFeeCap: m.gasFeeCap.toString(),
    GasPremium: m.gasPremium.toString(),
    Method: m.method,
    Params: base64(m.params),
  };
}

/** The codec's signed message; the round trip through its bytes checks every field as the chain reads it. */
export function signedFromJson(s: LotusSignedMessage): SignedMessage {
  const signed: SignedMessage = {
    message: messageFromJson(s.Message),
    signature: { type: s.Signature.Type === 2 ? "bls" : "secp256k1", data: bytesOf(s.Signature.Data) },
  };
  return field("Signature", () => decodeSignedMessage(encodeSignedMessage(signed), "testnet"));
}

export function signedToJson(s: SignedMessage): LotusSignedMessage {
  return {
    Message: messageToJson(s.message),
    Signature: { Type: s.signature.type === "bls" ? 2 : 1, Data: base64(s.signature.data) },
  };
}

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
