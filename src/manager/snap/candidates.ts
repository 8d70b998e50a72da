import * as v from "valibot";
import {
  type BitFieldJson,
  BitFieldJsonSchema,
  bitfieldFromNumbers,
  bitfieldNumbers,
} from "../../core/sector/api-snap.ts";
import type { Collection, KVStore } from "../../core/store/index.ts";

/**
 * Snap candidates: per miner, the CC sectors `snap fetch` found fit for an update, grouped by deadline.
 * Stored as the original does (collection snapup, key = the miner actor id, value = a JSON list indexed by
 * deadline of go-bitfield run lengths, null where a deadline has none), so a record survives a restart
 * and reads the same in either implementation. Every change is read-modify-write inside the caller's
 * transaction.
 */

const CandidatesSchema = v.array(v.nullable(BitFieldJsonSchema));
export type CandidateBitfields = (BitFieldJson | null)[];

export class SnapCandidates {
  private readonly kv: Collection;

  constructor(private readonly store: KVStore) {
    this.kv = store.collection("snapup");
  }

  /** The stored bitfields (one per deadline), or null when the miner has none. */
  bitfields(actor: number): CandidateBitfields | null {
    return this.kv.getParsed(String(actor), CandidatesSchema) ?? null;
  }

  /** Candidate numbers per deadline index; deadlines without any are absent. */
  byDeadline(actor: number): Map<number, number[]> {
    const out = new Map<number, number[]>();
    (this.bitfields(actor) ?? []).forEach((bf, dl) => {
      const numbers = bf ? bitfieldNumbers(bf) : [];
      if (numbers.length > 0) out.set(dl, numbers);
    });
    return out;
  }

  has(actor: number, number: number): boolean {
    for (const numbers of this.byDeadline(actor).values()) if (numbers.includes(number)) return true;
    return false;
  }

  /** Merges `numbers` into deadline `deadline` (of `deadlines`); returns how many were new. */
  add(actor: number, deadline: number, deadlines: number, numbers: readonly number[]): number {
    return this.store.transaction(() => {
      const all = this.bitfields(actor) ?? [];
      while (all.length < deadlines) all.push(null);
      const before = all[deadline] ? bitfieldNumbers(all[deadline]) : [];
      const merged = new Set([...before, ...numbers]);
      if (merged.size === before.length) return 0;
      all[deadline] = bitfieldFromNumbers(merged);
      this.kv.putJSON(String(actor), all);
      return merged.size - before.length;
    });
  }

  /** Takes a sector out of the candidates (whatever its deadline); false when it was not one. */
  remove(actor: number, number: number): boolean {
    return this.store.transaction(() => {
      const all = this.bitfields(actor);
      if (!all) return false;
      let removed = false;
      const next = all.map((bf) => {
        if (!bf) return bf;
        const numbers = bitfieldNumbers(bf);
        if (!numbers.includes(number)) return bf;
        removed = true;
        const rest = numbers.filter((n) => n !== number);
        return rest.length > 0 ? bitfieldFromNumbers(rest) : null;
      });
      if (removed) this.kv.putJSON(String(actor), next);
      return removed;
    });
  }
}
