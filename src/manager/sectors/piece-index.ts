import type { SectorID, SectorState } from "../../core/sector/index.ts";
import type { SectorWorkerState } from "../../core/sector/states.ts";
import type { Collection, KVStore } from "../../core/store/index.ts";
import { sectorPieces } from "../unseal/pieces.ts";

/**
 * Which sectors hold a piece: a secondary index of the sector states (collection meta, keys
 * sector-pieces/<online|offline>/<piece CID>/<miner, 20 digits>/<number, 20 digits>), so
 * FindSectorWithPiece reads a few keys instead of every state of a million-sector store. A sector holds
 * its deal pieces and its whole data, whose CID is its CommD (shared by every CC sector of a size).
 * Numbers are zero-padded so the first key under a CID is the sector the unindexed search found first
 * (the lowest miner, then the lowest number). SectorStates writes the keys in the transaction that writes
 * the state; stores written before the index existed are indexed once by `backfill`, and until that
 * has finished (the marker key) lookups fall back to reading every state.
 */

const PREFIX = "sector-pieces/";
const BUILT = "sector-pieces-index/built";
const pad = (n: number) => String(n).padStart(20, "0");

/** The piece CIDs a state holds. */
export function pieceCidsOf(state: SectorState): string[] {
  const cids = new Set(sectorPieces(state).map((p) => p.cid));
  const commD = state.Pre?.CommD["/"];
  if (commD) cids.add(commD);
  return [...cids];
}

export class SectorPieceIndex {
  private readonly kv: Collection;

  constructor(private readonly store: KVStore) {
    this.kv = store.collection("meta");
  }

  private key(where: SectorWorkerState, cid: string, sid: SectorID): string {
    return `${PREFIX}${where}/${cid}/${pad(sid.Miner)}/${pad(sid.Number)}`;
  }

  /**
   * Brings one sector's keys from what it held (`before`: where it was and its piece CIDs, from
   * pieceCidsOf) to what it holds now; either side may be absent. Inside the caller's transaction.
   */
  change(
    sid: SectorID,
    before: { where: SectorWorkerState; cids: string[] } | undefined,
    after: { where: SectorWorkerState; cids: string[] } | undefined,
  ): void {
    const old = before ? before.cids.map((c) => this.key(before.where, c, sid)) : [];
    const now = after ? after.cids.map((c) => this.key(after.where, c, sid)) : [];
    if (old.length === 0 && now.length === 0) return;
    const keep = new Set(now);
    for (const k of old) if (!keep.has(k)) this.kv.del(k);
    const had = new Set(old);
    for (const k of now) if (!had.has(k)) this.kv.put(k, "");
  }

  /** Whether every state written before the index existed has been indexed. */
  built(): boolean {
    return this.kv.has(BUILT);
  }

  /**
   * The sectors that hold the piece where asked, in (miner, number) order, a page at a time; the caller
   * stops at the first it accepts.
   */
  *holders(where: SectorWorkerState, cid: string): Generator<SectorID> {
    for (const e of this.kv.entries(`${PREFIX}${where}/${cid}/`, 100)) {
      const [miner, number] = e.key.slice(e.key.length - 41).split("/");
      yield { Miner: Number(miner), Number: Number(number) };
    }
  }

  /**
   * Indexes every state of a store written before the index existed, `pageSize` states per transaction (a few ms each),
   * yielding to the event loop between pages so a daemon keeps answering while a million are read.
   * Writes that happen meanwhile keep their own keys right (change() is idempotent), so the marker is set
   * once both collections have been walked.
   */
  async backfill(
    pages: (where: SectorWorkerState, after: SectorID | undefined, limit: number) => SectorState[],
    opts: { pageSize?: number; signal?: AbortSignal } = {},
  ): Promise<number> {
    if (this.built()) return 0;
    const pageSize = opts.pageSize ?? 250;
    let indexed = 0;
    for (const where of ["online", "offline"] as const) {
      let after: SectorID | undefined;
      for (;;) {
        const done = this.store.transaction(() => {
          const page = pages(where, after, pageSize);
          for (const state of page) this.change(state.ID, undefined, { where, cids: pieceCidsOf(state) });
          indexed += page.length;
          after = page[page.length - 1]?.ID;
          return page.length < pageSize;
        });
        if (done) break;
        await new Promise((resolve) => setImmediate(resolve));
        opts.signal?.throwIfAborted();
      }
    }
    this.kv.put(BUILT, "1");
    return indexed;
  }

  /** A fresh store (no states yet) needs no backfill. */
  markBuilt(): void {
    this.kv.put(BUILT, "1");
  }
}
