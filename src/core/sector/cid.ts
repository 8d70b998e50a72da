/**
 * Minimal CIDv1 construction for the few CIDs the manager shows on the wire: piece/sector commitments
 * (commcid) and devnet message ids. Binary layout: <version=1><codec><multihash code><digest length><digest>,
 * all varints, rendered as multibase base32 lower-case ("b" prefix), the default for CIDv1 strings.
 */

const FIL_COMMITMENT_UNSEALED = 0xf101;
const FIL_COMMITMENT_SEALED = 0xf102;
const SHA2_256_TRUNC254_PADDED = 0x1012;
const POSEIDON_BLS12_381_A1_FC1 = 0xb401;
const DAG_CBOR = 0x71;
const BLAKE2B_256 = 0xb220;

function varint(n: number): number[] {
  const out: number[] = [];
  let x = n;
  while (x >= 0x80) {
    out.push((x & 0x7f) | 0x80);
    x = Math.floor(x / 128);
  }
  out.push(x);
  return out;
}

const B32 = "abcdefghijklmnopqrstuvwxyz234567";

function base32(bytes: Uint8Array): string {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  return out;
}

function cidString(codec: number, mhCode: number, digest: Uint8Array): string {
  const head = [1, ...varint(codec), ...varint(mhCode), ...varint(digest.length)];
  const bytes = new Uint8Array(head.length + digest.length);
  bytes.set(head, 0);
  bytes.set(digest, head.length);
  return `b${base32(bytes)}`;
}

function check32(name: string, bytes: ArrayLike<number>): Uint8Array {
  if (bytes.length !== 32) throw new RangeError(`${name} must be 32 bytes, got ${bytes.length}`);
  return Uint8Array.from(bytes);
}

/** CommD as the unsealed-sector CID ("baga6ea4sea…"). */
export function commDToCid(commD: ArrayLike<number>): string {
  return cidString(FIL_COMMITMENT_UNSEALED, SHA2_256_TRUNC254_PADDED, check32("CommD", commD));
}

/** CommR as the sealed-sector CID ("bagboea4b5a…"). */
export function commRToCid(commR: ArrayLike<number>): string {
  return cidString(FIL_COMMITMENT_SEALED, POSEIDON_BLS12_381_A1_FC1, check32("CommR", commR));
}

/** A message id in the shape of a Filecoin message CID (dag-cbor, blake2b-256 sized digest). */
export function messageCid(digest32: Uint8Array): string {
  return cidString(DAG_CBOR, BLAKE2B_256, check32("message digest", digest32));
}

function unbase32(text: string): Uint8Array {
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of text) {
    const idx = B32.indexOf(ch);
    if (idx < 0) throw new RangeError(`invalid base32 character ${JSON.stringify(ch)}`);
    value = ((value << 5) | idx) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Uint8Array.from(out);
}

/** The 32-byte commitment inside a CommR/CommD CID (the digest is the last 32 bytes). */
export function cidToCommitment(cid: string): Uint8Array {
  if (!cid.startsWith("b")) throw new RangeError(`expected a base32 CIDv1 ("b…"), got ${JSON.stringify(cid)}`);
  const bytes = unbase32(cid.slice(1));
  if (bytes.length < 36) throw new RangeError(`CID ${cid} is too short to hold a 32-byte commitment`);
  return bytes.slice(bytes.length - 32);
}
