import { blake2b } from "@noble/hashes/blake2.js";
import { CID } from "multiformats/cid";
import { create as createDigest } from "multiformats/hashes/digest";
import * as v from "valibot";
import type { Network } from "./address.ts";
import {
  address,
  bytes,
  type CodecValue,
  decodeWith,
  encodeWith,
  type FieldCodec,
  int,
  token,
  tuple,
  uint,
} from "./cbor.ts";
import { ChainCodecError } from "./errors.ts";

/**
 * The unsigned Filecoin message (Lotus chain/types.Message, version 0) as its 10-field dag-cbor tuple, and
 * its CID: CIDv1, dag-cbor, blake2b-256 of those bytes. Checked byte for byte against the Go vectors.
 */

const DAG_CBOR = 0x71;
const BLAKE2B_256 = 0xb220;
/** Lotus's message pool refuses messages over 64 KiB; so do we, before decoding. */
export const MAX_MESSAGE_BYTES = 64 << 10;

function messageTuple(network: Network) {
  return tuple({
    version: uint,
    to: address(network),
    from: address(network),
    nonce: uint,
    value: token,
    gasLimit: int,
    gasFeeCap: token,
    gasPremium: token,
    method: uint,
    params: bytes(MAX_MESSAGE_BYTES),
  });
}

/**
 * A message: addresses as strings (either network prefix; the bytes are the same), token amounts in
 * attoFIL, params as the CBOR bytes of the method's params.
 */
export type UnsignedMessage = CodecValue<ReturnType<typeof messageTuple>>;

/** The message tuple with its version checked both ways (only version 0 exists). */
export function messageField(network: Network): FieldCodec<UnsignedMessage> {
  const inner = messageTuple(network);
  return {
    schema: v.pipe(
      inner.schema,
      v.check((m) => m.version === 0, "only message version 0 exists"),
    ),
    encode: (value, path) => {
      if (value.version !== 0) {
        throw new ChainCodecError("message", `${path || "message"}: version is ${value.version}; only 0 exists`);
      }
      return inner.encode(value, path);
    },
  };
}

const CODECS = { mainnet: messageField("mainnet"), testnet: messageField("testnet") };

/** The dag-cbor bytes of a message. Throws ChainCodecError "message" naming the field it cannot write. */
export function encodeMessage(message: UnsignedMessage): Uint8Array {
  const bytes = encodeWith(CODECS.mainnet, message, "message", "message");
  if (bytes.length > MAX_MESSAGE_BYTES) {
    throw new ChainCodecError("message", `message is ${bytes.length} bytes; Lotus takes at most ${MAX_MESSAGE_BYTES}`);
  }
  return bytes;
}

/** The message in dag-cbor `bytes`, addresses rendered for `network`. */
export function decodeMessage(bytes: Uint8Array, network: Network = "mainnet"): UnsignedMessage {
  if (bytes.length > MAX_MESSAGE_BYTES) {
    throw new ChainCodecError("message", `message is ${bytes.length} bytes; Lotus takes at most ${MAX_MESSAGE_BYTES}`);
  }
  return decodeWith(CODECS[network], bytes, "message", "message");
}

/** The CID Filecoin gives a block of dag-cbor bytes: CIDv1, dag-cbor, blake2b-256. */
export function dagCborCid(bytes: Uint8Array): CID {
  return CID.createV1(DAG_CBOR, createDigest(BLAKE2B_256, blake2b(bytes, { dkLen: 32 })));
}

/** A message's CID (what a secp256k1 or BLS key signs, as CID bytes). */
export function messageCid(message: UnsignedMessage): CID {
  return dagCborCid(encodeMessage(message));
}
