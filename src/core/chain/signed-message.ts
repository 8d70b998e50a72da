import type { CID } from "multiformats/cid";
import { type Address, type Network, parseAddress } from "./address.ts";
import { decodeWith, encodeWith, tuple } from "./cbor.ts";
import { ChainCodecError } from "./errors.ts";
import { type PrivateKey, signBytes, verifyBytes } from "./keys.ts";
import { dagCborCid, MAX_MESSAGE_BYTES, messageCid, messageField, type UnsignedMessage } from "./message.ts";
import { type Signature, signatureField } from "./signature.ts";

/**
 * Signed messages (Lotus chain/types.SignedMessage): the tuple [message, signature], the signature over
 * the message CID's bytes. The CID follows Lotus: a BLS-signed message is known by its unsigned CID (BLS
 * signatures are aggregated per block, so blocks store the message without one); any other by the CID of
 * the signed bytes.
 */

export interface SignedMessage {
  message: UnsignedMessage;
  signature: Signature;
}

const signedTuple = (network: Network) => tuple({ message: messageField(network), signature: signatureField });
const CODECS = { mainnet: signedTuple("mainnet"), testnet: signedTuple("testnet") };

/** Signs a message with `key` (whose address should be the message's `from`). */
export function signMessage(message: UnsignedMessage, key: PrivateKey): SignedMessage {
  return { message, signature: signBytes(key, messageCid(message).bytes) };
}

/** The dag-cbor bytes of a signed message (what MpoolPush carries). */
export function encodeSignedMessage(signed: SignedMessage): Uint8Array {
  return encodeWith(CODECS.mainnet, signed, "signed message", "message");
}

/** The signed message in dag-cbor `bytes`, addresses rendered for `network`. */
export function decodeSignedMessage(bytes: Uint8Array, network: Network = "mainnet"): SignedMessage {
  if (bytes.length > MAX_MESSAGE_BYTES + 128) {
    throw new ChainCodecError("message", `signed message is ${bytes.length} bytes; too large for Lotus's pool`);
  }
  return decodeWith(CODECS[network], bytes, "signed message", "message");
}

/** The CID the chain knows the signed message by. */
export function signedMessageCid(signed: SignedMessage): CID {
  return signed.signature.type === "bls" ? messageCid(signed.message) : dagCborCid(encodeSignedMessage(signed));
}

/**
 * Whether the signature is the sender's. `signer` is the key address (f1/f3) when the message's `from`
 * is an ID address (the node's StateAccountKey resolves it); otherwise `from` itself is the signer.
 */
export function verifySignedMessage(signed: SignedMessage, signer?: Address): boolean {
  const from = signer ?? parseAddress(signed.message.from);
  if (from.protocol !== 1 && from.protocol !== 3) {
    throw new ChainCodecError("signature", `${from.string} is not a key address: pass the f1/f3 address it stands for`);
  }
  return verifyBytes(signed.signature, messageCid(signed.message).bytes, from);
}
