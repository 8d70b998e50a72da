import { Signature as IsoSignature } from "iso-filecoin/signature";
import * as wallet from "iso-filecoin/wallet";
import * as v from "valibot";
import { type Address, addressFromPublicKey, type Network } from "./address.ts";
import { ChainCodecError } from "./errors.ts";
import type { KeyType, Signature } from "./signature.ts";

/**
 * Private keys and signing over iso-filecoin's wallet (@noble/curves): secp256k1 signs blake2b-256 of the
 * data, deterministically (RFC 6979, low S), as a 65-byte recoverable signature; BLS signs the data itself
 * in G2 (BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_). Both match Lotus (go-crypto and filecoin-ffi);
 * the Go vectors check it. Keys are never logged: nothing here puts key bytes into a message.
 */

export interface PrivateKey {
  type: KeyType;
  /** 32 bytes; for BLS the big-endian scalar (Lotus keystores hold it little-endian, see fromLotusKeyInfo). */
  bytes: Uint8Array;
}

const ISO_TYPE = { secp256k1: "SECP256K1", bls: "BLS" } as const;

function keyCall<T>(key: PrivateKey, fn: () => T): T {
  if (!(key.bytes instanceof Uint8Array) || key.bytes.length !== 32) {
    throw new ChainCodecError("key", `a ${key.type} private key is 32 bytes`);
  }
  try {
    return fn();
  } catch {
    throw new ChainCodecError("key", `not a valid ${key.type} private key (out of the curve's range)`);
  }
}

/**
 * A new random private key: the secret comes from the platform's CSPRNG through @noble/curves, which
 * draws it within the curve's range (secp256k1: below n; BLS: a scalar below r), big-endian as here.
 */
export function generatePrivateKey(type: KeyType): PrivateKey {
  return { type, bytes: wallet.create(ISO_TYPE[type], "mainnet").privateKey };
}

/** The public key: 65-byte uncompressed secp256k1, or 48-byte compressed BLS G1. */
export function publicKeyOf(key: PrivateKey): Uint8Array {
  return keyCall(key, () => wallet.getPublicKey(key.bytes, "mainnet", ISO_TYPE[key.type]).publicKey);
}

/** The f1/f3 address of the key. */
export function keyAddress(key: PrivateKey, network: Network): Address {
  return addressFromPublicKey(publicKeyOf(key), key.type, network);
}

/** Signs `data` (for messages: the message CID's bytes). */
export function signBytes(key: PrivateKey, data: Uint8Array): Signature {
  const signature = keyCall(key, () => wallet.sign(key.bytes, ISO_TYPE[key.type], data));
  return { type: key.type, data: signature.data };
}

/**
 * Whether `signature` over `data` was made by `signer` (an f1 or f3 address), as Lotus checks it: for
 * secp256k1 the public key recovered from the signature must hash to the address; for BLS the address
 * holds the public key. Malformed signatures are simply invalid.
 */
export function verifyBytes(signature: Signature, data: Uint8Array, signer: Address): boolean {
  const wantProtocol = signature.type === "bls" ? 3 : 1;
  if (signer.protocol !== wantProtocol) return false;
  const iso = new IsoSignature({ type: ISO_TYPE[signature.type], data: signature.data });
  try {
    if (signature.type === "bls") return wallet.verify(iso, data, signer.bytes.subarray(1));
    const recovered = wallet.recoverPublicKey(iso, data);
    const address = addressFromPublicKey(recovered, "secp256k1", signer.network);
    return address.string === signer.string;
  } catch {
    return false;
  }
}

/** A Lotus keystore entry / `lotus wallet export` JSON: { Type, PrivateKey (base64) }. */
export const LotusKeyInfoSchema = v.object({
  Type: v.picklist(["secp256k1", "bls"], 'Type is "secp256k1" or "bls"'),
  PrivateKey: v.pipe(v.string("PrivateKey is base64"), v.base64("PrivateKey is base64")),
});

/** The private key of a Lotus key info (BLS scalars are stored little-endian there). */
export function fromLotusKeyInfo(info: v.InferOutput<typeof LotusKeyInfoSchema>): PrivateKey {
  const raw = Uint8Array.from(Buffer.from(info.PrivateKey, "base64"));
  return { type: info.Type, bytes: info.Type === "bls" ? raw.reverse() : raw };
}

/** The Lotus key info of a private key (what `lotus wallet import` reads, hex-encoded JSON). */
export function toLotusKeyInfo(key: PrivateKey): v.InferOutput<typeof LotusKeyInfoSchema> {
  const bytes = key.type === "bls" ? Uint8Array.from(key.bytes).reverse() : key.bytes;
  return { Type: key.type, PrivateKey: Buffer.from(bytes).toString("base64") };
}
