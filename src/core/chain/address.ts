import * as iso from "iso-filecoin/address";
import * as v from "valibot";
import { ChainCodecError } from "./errors.ts";

/**
 * Filecoin addresses of every protocol (f0 id, f1 secp256k1, f2 actor, f3 BLS, f4 delegated) as strings
 * with a network prefix (f mainnet, t testnets) and as bytes (protocol byte + payload), on iso-filecoin's
 * address classes. iso-filecoin is more lenient than go-address in places (it trims an ID's spaces, takes
 * IDs past 2^63-1, reads upper-case base32), so every string and byte form is checked here first, the
 * way go-address checks it, and must come back out unchanged. f4 addresses are taken in namespace 10
 * only (the Ethereum address manager, f410…), the only delegated namespace on chain.
 */

export type Network = "mainnet" | "testnet";

export const ADDRESS_PROTOCOLS = { id: 0, secp256k1: 1, actor: 2, bls: 3, delegated: 4 } as const;
export type AddressProtocol = (typeof ADDRESS_PROTOCOLS)[keyof typeof ADDRESS_PROTOCOLS];

export interface Address {
  readonly protocol: AddressProtocol;
  readonly network: Network;
  /** Protocol byte + payload: the form inside messages and params. */
  readonly bytes: Uint8Array;
  /** "f01000", "t1…": the canonical string for `network`. */
  readonly string: string;
}

const MAX_ID = (1n << 63n) - 1n;
const MAX_STRING_LENGTH = 2 + 19 + 1 + 93; // go-address MaxAddressStringLength
const EAM_NAMESPACE = 10;
const MAX_SUBADDRESS_BYTES = 54;
const PAYLOAD_BYTES: Partial<Record<AddressProtocol, number>> = { 1: 20, 2: 20, 3: 48 };

const refuse = (input: string, why: string): never => {
  throw new ChainCodecError("address", `${JSON.stringify(input)} is not a Filecoin address: ${why}`);
};

function fromIso(address: iso.IAddress, network: Network): Address {
  const bytes = address.toBytes();
  const again = iso.fromBytes(bytes, network);
  return { protocol: bytes[0] as AddressProtocol, network, bytes, string: again.toString() };
}

function isoCall<T>(input: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    return refuse(input, (err as Error).message);
  }
}

/** Parses an address string as go-address does (network, protocol, payload length, checksum, encoding). */
export function parseAddress(text: string): Address {
  if (typeof text !== "string") return refuse(String(text), "not a string");
  if (text.length < 3 || text.length > MAX_STRING_LENGTH) return refuse(text, "wrong length");
  const prefix = text[0];
  if (prefix !== "f" && prefix !== "t") return refuse(text, "the network prefix is f (mainnet) or t (testnets)");
  const network: Network = prefix === "f" ? "mainnet" : "testnet";
  const protocol = Number(text[1]);
  const raw = text.slice(2);
  if (text[1] === "0") {
    if (!/^[0-9]{1,19}$/.test(raw) || BigInt(raw) > MAX_ID) return refuse(text, "an ID is a decimal number below 2^63");
    return idAddress(BigInt(raw), network);
  }
  if (!/^[1-4]$/.test(text[1] ?? "")) return refuse(text, "the protocol digit is 0, 1, 2, 3 or 4");
  if (protocol === ADDRESS_PROTOCOLS.delegated) {
    const match = /^([0-9]{1,19})f([a-z2-7]+)$/.exec(raw);
    if (!match) return refuse(text, "a delegated address is f4<namespace>f<base32>");
    if (Number(match[1]) !== EAM_NAMESPACE) return refuse(text, `only namespace ${EAM_NAMESPACE} (f410…) is supported`);
  } else if (!/^[a-z2-7]+$/.test(raw)) {
    return refuse(text, "the payload is lower-case base32 (a-z, 2-7)");
  }
  const address = fromIso(
    isoCall(text, () => iso.fromString(text)),
    network,
  );
  checkPayload(text, address.bytes);
  // go-address re-encodes and compares: base32 with stray trailing bits is not the same address string.
  if (address.string !== text) return refuse(text, `not canonical (it reads as ${address.string})`);
  return address;
}

function checkPayload(input: string, bytes: Uint8Array): void {
  const protocol = bytes[0] as AddressProtocol;
  const want = PAYLOAD_BYTES[protocol];
  if (want !== undefined && bytes.length - 1 !== want) {
    refuse(input, `a protocol ${protocol} payload is ${want} bytes, not ${bytes.length - 1}`);
  }
  if (protocol === ADDRESS_PROTOCOLS.delegated) {
    if (bytes[1] !== EAM_NAMESPACE) refuse(input, `only namespace ${EAM_NAMESPACE} (f410…) is supported`);
    const sub = bytes.length - 2;
    if (sub < 1 || sub > MAX_SUBADDRESS_BYTES)
      refuse(input, `a sub-address is 1..${MAX_SUBADDRESS_BYTES} bytes, not ${sub}`);
  }
}

/** The address in `bytes` (protocol byte + payload), rendered for `network`. */
export function addressFromBytes(bytes: Uint8Array, network: Network): Address {
  const hex = `0x${Buffer.from(bytes).toString("hex")}`;
  const protocol = bytes[0];
  if (protocol === undefined || protocol > 4) return refuse(hex, "the first byte is the protocol, 0..4");
  if (protocol === ADDRESS_PROTOCOLS.id) {
    const id = readUvarint(hex, bytes, 1);
    const canonical = idAddress(id, network);
    if (!bytesEqual(canonical.bytes, bytes)) return refuse(hex, "the ID varint is not minimal or has trailing bytes");
    return canonical;
  }
  checkPayload(hex, bytes);
  return fromIso(
    isoCall(hex, () => iso.fromBytes(bytes, network)),
    network,
  );
}

function readUvarint(input: string, bytes: Uint8Array, offset: number): bigint {
  let value = 0n;
  for (let i = offset, shift = 0n; i < bytes.length && i < offset + 10; i++, shift += 7n) {
    value |= BigInt(bytes[i]! & 0x7f) << shift;
    if ((bytes[i]! & 0x80) === 0) {
      if (value > MAX_ID) refuse(input, "an ID is below 2^63");
      return value;
    }
  }
  return refuse(input, "the ID varint is cut short");
}

const bytesEqual = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** The ID address f0<id>. */
export function idAddress(id: number | bigint, network: Network = "mainnet"): Address {
  const value = BigInt(id);
  if (value < 0n || value > MAX_ID) throw new ChainCodecError("address", `actor ID ${id} is not in 0..2^63-1`);
  return fromIso(new iso.AddressId(encodeUvarint(value), network), network);
}

function encodeUvarint(value: bigint): Uint8Array {
  const out: number[] = [];
  let rest = value;
  while (rest >= 0x80n) {
    out.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  out.push(Number(rest));
  return Uint8Array.from(out);
}

/** The actor ID of an f0 address. */
export function addressId(address: Address): bigint {
  if (address.protocol !== ADDRESS_PROTOCOLS.id) {
    throw new ChainCodecError("address", `${address.string} is not an ID (f0) address`);
  }
  return readUvarint(address.string, address.bytes, 1);
}

/** The same address rendered for another network. */
export function withNetwork(address: Address, network: Network): Address {
  return address.network === network ? address : addressFromBytes(address.bytes, network);
}

/** The f1 or f3 address of a public key (65-byte uncompressed secp256k1, or 48-byte BLS G1). */
export function addressFromPublicKey(publicKey: Uint8Array, type: "secp256k1" | "bls", network: Network): Address {
  const kind = type === "bls" ? "BLS" : "SECP256K1";
  return fromIso(
    isoCall(`${type} public key`, () => iso.fromPublicKey(publicKey, network, kind)),
    network,
  );
}

/** A valibot schema for an address string from outside (config, RPC): yields the parsed Address. */
export const AddressStringSchema = v.pipe(
  v.string("an address is a string like f01000 or t1…"),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    try {
      return parseAddress(dataset.value);
    } catch (err) {
      addIssue({ message: (err as Error).message });
      return NEVER;
    }
  }),
);
