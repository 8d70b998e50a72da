import type { Collection } from "../../core/store/index.ts";
import { epochKey } from "../../core/store/retention.ts";
import type { PoSterRecord } from "./poster.ts";

/**
 * The poster's records in the "prover" collection, one per deadline instance under
 * `poster/<actor>/<open epoch, zero-padded>`: key order is time order, so the newest are read from the end
 * and history is dropped with one range delete.
 */

export function recordsPrefix(actor: number): string {
  return `poster/${actor}/`;
}

export function recordKey(actor: number, open: number): string {
  return `${recordsPrefix(actor)}${epochKey(open)}`;
}

/** The miner's newest `limit` records, oldest first; reads only those. */
export function latestRecords(kv: Collection, actor: number, limit: number): PoSterRecord[] {
  if (limit <= 0) return [];
  return kv
    .page(recordsPrefix(actor), { limit, reverse: true })
    .reverse()
    .map((e) => JSON.parse(e.value) as PoSterRecord);
}

/** Deletes the miner's records of deadline instances that opened before `open`; returns how many. */
export function pruneRecords(kv: Collection, actor: number, open: number): number {
  return kv.deleteBefore(recordsPrefix(actor), recordKey(actor, open));
}
