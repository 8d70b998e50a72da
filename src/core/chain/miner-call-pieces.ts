import { decode as decodeDagCbor, encode as encodeDagCbor } from "@ipld/dag-cbor";
import { ADDRESS_PROTOCOLS, addressId, parseAddress } from "./address.ts";
import { ChainCodecError } from "./errors.ts";
import type { PieceActivationManifest } from "./miner-params.ts";

/**
 * Deals in the DDO (direct data onboarding, FIP-0076) shape builtin-actors takes since nv22: a sector's
 * data is a list of pieces (piece CID, padded size), and a piece that belongs to a storage-market deal
 * carries one notification to the market actor (f05) whose payload is the deal id as CBOR; the market's
 * SectorContentChanged reads exactly that (`deserialize(&piece.payload, "deal id")`) and activates the deal.
 * Verified allocations (verifreg claims) are not used by this project: they are written as null and a
 * manifest that carries one is refused.
 */

/** The storage market actor, the one receiver of deal notifications. */
export const MARKET_ACTOR_ID = 5;
const MARKET_ACTOR = "f05";

/** One piece of a sector's data, in the order the pieces lie in the sector. */
export interface SectorPiece {
  /** The piece CID (CommP as "baga6ea4sea…"). */
  cid: string;
  /** The padded piece size in bytes. */
  size: number;
  /** The market deal this piece belongs to; null for data no market deal covers (no notification). */
  dealId: number | null;
}

/** The builtin manifest of `piece`: the deal, if any, as a notification to the market actor. */
export function pieceManifest(piece: SectorPiece): PieceActivationManifest {
  return {
    cid: piece.cid,
    size: piece.size,
    verifiedAllocationKey: null,
    notify: piece.dealId === null ? [] : [{ address: MARKET_ACTOR, payload: encodeDagCbor(piece.dealId) }],
  };
}

/**
 * The piece a builtin manifest describes. Throws ChainCodecError "unsupported", naming `path`, for what
 * our chain does not model: a verified allocation, a notification to another actor than the market, more
 * than one notification, a payload that is not one deal id.
 */
export function pieceFromManifest(manifest: PieceActivationManifest, path: string): SectorPiece {
  if (manifest.verifiedAllocationKey !== null) {
    throw new ChainCodecError("unsupported", `${path}.verifiedAllocationKey: verified allocations are not supported`);
  }
  if (manifest.notify.length > 1) {
    throw new ChainCodecError(
      "unsupported",
      `${path}.notify: ${manifest.notify.length} notifications; a piece notifies at most the market actor, once`,
    );
  }
  const notification = manifest.notify[0];
  if (!notification) return { cid: manifest.cid, size: manifest.size, dealId: null };
  const receiver = parseAddress(notification.address);
  if (receiver.protocol !== ADDRESS_PROTOCOLS.id || addressId(receiver) !== BigInt(MARKET_ACTOR_ID)) {
    throw new ChainCodecError(
      "unsupported",
      `${path}.notify[0].address: ${notification.address}; only the market actor (f05) is notified of pieces`,
    );
  }
  return { cid: manifest.cid, size: manifest.size, dealId: dealIdFromPayload(notification.payload, path) };
}

function dealIdFromPayload(payload: Uint8Array, path: string): number {
  let value: unknown;
  try {
    value = decodeDagCbor(payload);
  } catch (err) {
    throw new ChainCodecError("cbor", `${path}.notify[0].payload: not canonical dag-cbor: ${(err as Error).message}`);
  }
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new ChainCodecError(
      "params",
      `${path}.notify[0].payload: ${String(value)} is not a deal id (an unsigned integer below 2^53)`,
    );
  }
  return value;
}

/** The deal ids of `pieces`, in piece order (pieces no deal covers add none). */
export function dealIdsOf(pieces: readonly SectorPiece[]): number[] {
  return pieces.flatMap((p) => (p.dealId === null ? [] : [p.dealId]));
}
