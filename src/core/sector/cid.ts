import { CID } from "multiformats/cid";
import { create as createDigest } from "multiformats/hashes/digest";

/**
 * The CIDs of Filecoin commitments (go-fil-commcid): a piece or unsealed-sector commitment (CommP/CommD)
 * and a sealed-sector commitment (CommR), as CIDv1 in base32 ("baga6ea4sea…", "bagboea4b5a…"), plus the
 * devnet's message ids. Built and parsed with multiformats; parsing checks codec and hash, so a sealed CID
 * given where a piece CID is expected is an error, never a wrong commitment.
 */

const FIL_COMMITMENT_UNSEALED = 0xf101;
const FIL_COMMITMENT_SEALED = 0xf102;
const SHA2_256_TRUNC254_PADDED = 0x1012;
const POSEIDON_BLS12_381_A1_FC1 = 0xb401;
const DAG_CBOR = 0x71;
const BLAKE2B_256 = 0xb220;

type CommitmentKind = "unsealed" | "sealed";
const KINDS: Record<CommitmentKind, { codec: number; hash: number; what: string }> = {
  unsealed: { codec: FIL_COMMITMENT_UNSEALED, hash: SHA2_256_TRUNC254_PADDED, what: "piece/unsealed (CommP/CommD)" },
  sealed: { codec: FIL_COMMITMENT_SEALED, hash: POSEIDON_BLS12_381_A1_FC1, what: "sealed (CommR)" },
};

function check32(name: string, bytes: ArrayLike<number>): Uint8Array {
  if (bytes.length !== 32) throw new RangeError(`${name} must be 32 bytes, got ${bytes.length}`);
  return Uint8Array.from(bytes);
}

function cidString(codec: number, hash: number, digest: Uint8Array): string {
  return CID.createV1(codec, createDigest(hash, digest)).toString();
}

/** CommD (or a piece's CommP) as the unsealed commitment CID ("baga6ea4sea…"). */
export function commDToCid(commD: ArrayLike<number>): string {
  return cidString(FIL_COMMITMENT_UNSEALED, SHA2_256_TRUNC254_PADDED, check32("CommD", commD));
}

/** A piece's CommP as its piece CID: the same CID kind as CommD. */
export const pieceCid = (commP: ArrayLike<number>): string => commDToCid(commP);

/** CommR as the sealed-sector CID ("bagboea4b5a…"). */
export function commRToCid(commR: ArrayLike<number>): string {
  return cidString(FIL_COMMITMENT_SEALED, POSEIDON_BLS12_381_A1_FC1, check32("CommR", commR));
}

/** A message id in the shape of a Filecoin message CID (dag-cbor, blake2b-256 sized digest). */
export function messageCid(digest32: Uint8Array): string {
  return cidString(DAG_CBOR, BLAKE2B_256, check32("message digest", digest32));
}

/** Thrown for a string that is not a commitment CID of the expected kind; the message names both. */
export class CommitmentCidError extends RangeError {
  override name = "CommitmentCidError";
}

/**
 * The 32-byte commitment inside a commitment CID. With `kind`, the CID must be of that kind (a piece CID
 * for "unsealed", a CommR CID for "sealed"); without, either kind is accepted.
 */
export function cidToCommitment(text: string, kind?: CommitmentKind): Uint8Array {
  let cid: CID;
  try {
    cid = CID.parse(text);
  } catch (err) {
    throw new CommitmentCidError(`${JSON.stringify(text)} is not a CID: ${(err as Error).message}`);
  }
  const kinds = kind ? [kind] : (Object.keys(KINDS) as CommitmentKind[]);
  const match = kinds.find((k) => KINDS[k].codec === cid.code && KINDS[k].hash === cid.multihash.code);
  if (!match) {
    const want = kinds.map((k) => KINDS[k].what).join(" or ");
    throw new CommitmentCidError(`${text} is not a ${want} commitment CID (codec 0x${cid.code.toString(16)})`);
  }
  if (cid.multihash.digest.length !== 32) {
    throw new CommitmentCidError(`${text} holds a ${cid.multihash.digest.length}-byte digest; commitments have 32`);
  }
  return Uint8Array.from(cid.multihash.digest);
}

/** The CommP of a piece CID; throws CommitmentCidError naming the CID when it is not one. */
export function pieceCommitment(cid: string): Uint8Array {
  return cidToCommitment(cid, "unsealed");
}
