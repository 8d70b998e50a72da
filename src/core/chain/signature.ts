import * as v from "valibot";
import type { FieldCodec } from "./cbor.ts";
import { ChainCodecError } from "./errors.ts";

/**
 * Signatures as Filecoin carries them: a type byte (1 secp256k1, 2 BLS) followed by the signature, which
 * is 65 bytes [R | S | V] for secp256k1 (V the recovery id) and a 96-byte compressed G2 point for BLS.
 */

export type KeyType = "secp256k1" | "bls";

export interface Signature {
  type: KeyType;
  data: Uint8Array;
}

const TYPE_BYTE: Record<KeyType, number> = { secp256k1: 1, bls: 2 };
const LENGTH: Record<KeyType, number> = { secp256k1: 65, bls: 96 };

/** The signature's bytes on chain: type byte + data (go-state-types crypto.Signature). */
export function signatureToBytes(signature: Signature): Uint8Array {
  checkLength(signature);
  return Uint8Array.from([TYPE_BYTE[signature.type], ...signature.data]);
}

/** The signature in `bytes`; refuses unknown types and wrong lengths. */
export function signatureFromBytes(bytes: Uint8Array): Signature {
  const type = bytes[0] === 1 ? "secp256k1" : bytes[0] === 2 ? "bls" : undefined;
  if (!type) throw new ChainCodecError("signature", `signature type byte is ${bytes[0]}; 1 (secp256k1) or 2 (BLS)`);
  const signature = { type, data: bytes.slice(1) } satisfies Signature;
  checkLength(signature);
  return signature;
}

function checkLength(signature: Signature): void {
  if (signature.data.length !== LENGTH[signature.type]) {
    throw new ChainCodecError(
      "signature",
      `a ${signature.type} signature is ${LENGTH[signature.type]} bytes, not ${signature.data.length}`,
    );
  }
}

/** The field codec of a signature inside a signed message. */
export const signatureField: FieldCodec<Signature> = {
  schema: v.pipe(
    v.instance(Uint8Array, "a signature (byte string)"),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      try {
        return signatureFromBytes(dataset.value);
      } catch (err) {
        addIssue({ message: (err as Error).message });
        return NEVER;
      }
    }),
  ) as v.GenericSchema<unknown, Signature>,
  encode: (value) => signatureToBytes(value),
};
