import { createHash } from "node:crypto";

/**
 * CommD of an all-zero (CC) sector: the root of the binary sha256-trunc254 merkle tree over zero nodes.
 * A CC sector's PreCommit must carry exactly this value; the manager checks it before accepting.
 */
const cache = new Map<number, Uint8Array>();

export function zeroCommD(sectorSize: number): Uint8Array {
  const hit = cache.get(sectorSize);
  if (hit) return hit;
  const leaves = sectorSize / 32;
  if (!Number.isInteger(Math.log2(leaves)) || leaves < 1)
    throw new RangeError(`sector size ${sectorSize} is not a power-of-two multiple of 32`);
  let node: Uint8Array = new Uint8Array(32);
  for (let level = 0; level < Math.log2(leaves); level++) {
    const next = new Uint8Array(createHash("sha256").update(node).update(node).digest());
    next[31]! &= 0x3f;
    node = next;
  }
  cache.set(sectorSize, node);
  return node;
}
