import type { LotusMessage, LotusSignedMessage } from "./lotus-api.ts";
import type { UnsignedMessage } from "./message.ts";
import type { SignedMessage } from "./signed-message.ts";

/**
 * Our message types (bigint amounts, Uint8Array params and signatures) to and from the Lotus JSON the node
 * API speaks (decimal strings, base64), for both ends of it: the manager's client and the devnet node.
 * Empty bytes are written as Lotus writes an empty []byte, null. Reading checks shapes only: a side that
 * takes messages from outside (the devnet's intake) parses addresses and signatures itself.
 */

const base64 = (bytes: Uint8Array): string | null => (bytes.length > 0 ? Buffer.from(bytes).toString("base64") : null);
const fromBase64 = (text: string | null): Uint8Array => new Uint8Array(Buffer.from(text ?? "", "base64"));

export function toLotusMessage(m: UnsignedMessage): LotusMessage {
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

export function fromLotusMessage(m: LotusMessage): UnsignedMessage {
  return {
    version: m.Version,
    to: m.To,
    from: m.From,
    nonce: m.Nonce,
    value: BigInt(m.Value),
    gasLimit: m.GasLimit,
    gasFeeCap: BigInt(m.GasFeeCap),
    gasPremium: BigInt(m.GasPremium),
    method: m.Method,
    params: fromBase64(m.Params),
  };
}

/** crypto.SigType numbers. */
const SIGNATURE_TYPE = { secp256k1: 1, bls: 2 } as const;

export function toLotusSignedMessage(s: SignedMessage): LotusSignedMessage {
  return {
    Message: toLotusMessage(s.message),
    Signature: { Type: SIGNATURE_TYPE[s.signature.type], Data: base64(s.signature.data) },
  };
}

export function fromLotusSignedMessage(s: LotusSignedMessage): SignedMessage {
  return {
    message: fromLotusMessage(s.Message),
    signature: { type: s.Signature.Type === 1 ? "secp256k1" : "bls", data: fromBase64(s.Signature.Data) },
  };
}
