import type { SignedMessage, UnsignedMessage } from "../../../core/chain/index.ts";
import type { LotusMessage, LotusSignedMessage } from "../../../core/chain/lotus-api.ts";

/**
 * Our message types (core/chain: bigint amounts, Uint8Array params and signatures) to and from the Lotus
 * JSON the node API speaks (decimal strings, base64). Params travel as base64 even when empty ("" rather
 * than Lotus's null), which Lotus reads as the same empty byte string.
 */

const base64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64");
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
