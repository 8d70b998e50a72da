import { SectorStateNotFoundError } from "../../core/rpc/errors.ts";
import {
  type SectorID,
  type SectorState,
  SectorWorkerJob,
  type SectorWorkerState,
  sectorKey,
  sectorName,
} from "../../core/sector/index.ts";
import type { Collection, KVStore } from "../../core/store/index.ts";
import { pieceCidsOf, SectorPieceIndex } from "./piece-index.ts";

/**
 * Sector states: "online" (collection meta, prefix sector-states/) while a worker seals the sector,
 * "offline" (offline_meta, sector-states-offline/) once it is finalized or aborted. Moving between the two
 * is one transaction, so a sector is always in exactly one place.
 */

const ONLINE_PREFIX = "sector-states/";
const OFFLINE_PREFIX = "sector-states-offline/";

export class SectorStates {
  private readonly online: Collection;
  private readonly offline: Collection;
  /** Which sectors hold a piece: kept in the transaction of every write below. */
  readonly pieces: SectorPieceIndex;

  constructor(private readonly store: KVStore) {
    this.online = store.collection("meta");
    this.offline = store.collection("offline_meta");
    this.pieces = new SectorPieceIndex(store);
  }

  get(where: SectorWorkerState, sid: SectorID): SectorState | undefined {
    return where === "online"
      ? this.online.getJSON<SectorState>(ONLINE_PREFIX + sectorKey(sid))
      : this.offline.getJSON<SectorState>(OFFLINE_PREFIX + sectorKey(sid));
  }

  find(sid: SectorID): { where: SectorWorkerState; state: SectorState } | undefined {
    const online = this.get("online", sid);
    if (online) return { where: "online", state: online };
    const offline = this.get("offline", sid);
    return offline ? { where: "offline", state: offline } : undefined;
  }

  /** The online state, or the 11001 answer workers abort on, saying why the sector is not there. */
  mustOnline(sid: SectorID): SectorState {
    const state = this.get("online", sid);
    if (state) return state;
    throw new SectorStateNotFoundError(this.notOnlineReason(sid));
  }

  notOnlineReason(sid: SectorID): string {
    const name = sectorName(sid);
    const offline = this.get("offline", sid);
    const restore = `damocles util sealer sectors restore ${sid.Miner} ${sid.Number}`;
    if (offline?.AbortReason) {
      return `sector state not found: ${name} is no longer sealing, it was aborted on the manager (${offline.AbortReason}); restore it with '${restore}' if that was a mistake`;
    }
    if (offline)
      return `sector state not found: ${name} is already finalized on the manager; restore it with '${restore}' to seal it again`;
    return `sector state not found: ${name} is unknown to this manager (load state: key not found) — is the worker connected to the right manager, and is the manager running with its usual --home?`;
  }

  create(state: SectorState): void {
    this.store.transaction(() => {
      this.online.putJSON(ONLINE_PREFIX + sectorKey(state.ID), state);
      this.pieces.change(state.ID, undefined, { where: "online", cids: pieceCidsOf(state) });
    });
  }

  /** Read-modify-write of an online state in one transaction; 11001 if the sector is not online. */
  update(sid: SectorID, mutate: (s: SectorState) => void): SectorState {
    return this.store.transaction(() => {
      const state = this.mustOnline(sid);
      const cids = pieceCidsOf(state);
      mutate(state);
      this.online.putJSON(ONLINE_PREFIX + sectorKey(sid), state);
      this.pieces.change(sid, { where: "online", cids }, { where: "online", cids: pieceCidsOf(state) });
      return state;
    });
  }

  /** update, resolved once the change is on disk. */
  async updateDurable(sid: SectorID, mutate: (s: SectorState) => void): Promise<SectorState> {
    return this.store.durable(() => this.update(sid, mutate));
  }

  /** Moves an online sector offline after mutate (finalize/abort), durably. Undefined when not online. */
  moveOffline(
    sid: SectorID,
    mutate: (s: SectorState) => void,
    alsoInTx?: () => void,
  ): Promise<SectorState | undefined> {
    return this.store.durable(() => {
      const state = this.get("online", sid);
      if (!state) return undefined;
      const cids = pieceCidsOf(state);
      mutate(state);
      this.online.del(ONLINE_PREFIX + sectorKey(sid));
      this.offline.putJSON(OFFLINE_PREFIX + sectorKey(sid), state);
      this.pieces.change(sid, { where: "online", cids }, { where: "offline", cids: pieceCidsOf(state) });
      alsoInTx?.();
      return state;
    });
  }

  /** Moves an offline sector back online after mutate, durably. Undefined when not offline. */
  moveOnline(
    sid: SectorID,
    mutate: (s: SectorState) => void,
    alsoInTx?: (s: SectorState) => void,
  ): Promise<SectorState | undefined> {
    return this.store.durable(() => this.bringOnline(sid, mutate, alsoInTx));
  }

  /** moveOnline inside the caller's transaction (it makes it durable). Undefined when not offline. */
  bringOnline(
    sid: SectorID,
    mutate: (s: SectorState) => void,
    alsoInTx?: (s: SectorState) => void,
  ): SectorState | undefined {
    return this.store.transaction(() => {
      const state = this.get("offline", sid);
      if (!state) return undefined;
      const cids = pieceCidsOf(state);
      mutate(state);
      this.offline.del(OFFLINE_PREFIX + sectorKey(sid));
      this.online.putJSON(ONLINE_PREFIX + sectorKey(sid), state);
      this.pieces.change(sid, { where: "offline", cids }, { where: "online", cids: pieceCidsOf(state) });
      alsoInTx?.(state);
      return state;
    });
  }

  saveOffline(state: SectorState): void {
    this.store.transaction(() => {
      const before = this.get("offline", state.ID);
      this.offline.putJSON(OFFLINE_PREFIX + sectorKey(state.ID), state);
      this.pieces.change(state.ID, before && { where: "offline", cids: pieceCidsOf(before) }, {
        where: "offline",
        cids: pieceCidsOf(state),
      });
    });
  }

  /**
   * The first sector (by miner, then number) holding the piece where asked, as `list(where).find` found
   * it: from the piece index, each candidate confirmed by `holds`; by reading every state only while the
   * index of an older store is still being built.
   */
  findWithPiece(where: SectorWorkerState, cid: string, holds: (s: SectorState) => boolean): SectorState | undefined {
    if (!this.pieces.built()) return this.list(where).find(holds);
    for (const sid of this.pieces.holders(where, cid)) {
      const state = this.get(where, sid);
      if (state && holds(state)) return state;
    }
    return undefined;
  }

  /**
   * Makes the piece index complete for a store written before it existed (in the background: pages with
   * the event loop free between them). A store without states is complete at once.
   */
  async indexPieces(signal?: AbortSignal): Promise<number> {
    if (this.pieces.built()) return 0;
    if (
      this.online.page(ONLINE_PREFIX, { limit: 1 }).length === 0 &&
      this.offline.page(OFFLINE_PREFIX, { limit: 1 }).length === 0
    ) {
      this.pieces.markBuilt();
      return 0;
    }
    return this.pieces.backfill((where, after, limit) => this.page(where, { after, limit }), { signal });
  }

  list(where: SectorWorkerState, job: number = SectorWorkerJob.All): SectorState[] {
    const coll = where === "online" ? this.online : this.offline;
    const prefix = where === "online" ? ONLINE_PREFIX : OFFLINE_PREFIX;
    return coll
      .scan(prefix)
      .map((e) => JSON.parse(e.value) as SectorState)
      .filter((s) => matchesJob(s, job))
      .sort((a, b) => a.ID.Miner - b.ID.Miner || a.ID.Number - b.ID.Number);
  }

  /**
   * Up to `limit` states matching `job`, in store key order (m-<miner>-n-<number> compared as text), after
   * the sector `after` (exclusive). One page costs the same wherever it starts: a walk of the key index
   * from the cursor, never a read of the whole collection. Fewer than `limit` states means the end.
   */
  page(where: SectorWorkerState, opts: { limit: number; after?: SectorID; job?: number }): SectorState[] {
    const { coll, prefix } = this.place(where);
    const job = opts.job ?? SectorWorkerJob.All;
    const out: SectorState[] = [];
    let after = opts.after === undefined ? undefined : prefix + sectorKey(opts.after);
    for (;;) {
      const rows = coll.page(prefix, { limit: opts.limit, after });
      for (const row of rows) {
        const state = JSON.parse(row.value) as SectorState;
        if (matchesJob(state, job)) out.push(state);
        if (out.length === opts.limit) return out;
      }
      if (rows.length < opts.limit) return out;
      after = rows[rows.length - 1]!.key;
    }
  }

  /** Every state matching `job`, read a page at a time (memory bounded by one page), in store key order. */
  *each(where: SectorWorkerState, job: number = SectorWorkerJob.All): Generator<SectorState> {
    const { coll, prefix } = this.place(where);
    for (const row of coll.entries(prefix)) {
      const state = JSON.parse(row.value) as SectorState;
      if (matchesJob(state, job)) yield state;
    }
  }

  private place(where: SectorWorkerState): { coll: Collection; prefix: string } {
    return where === "online"
      ? { coll: this.online, prefix: ONLINE_PREFIX }
      : { coll: this.offline, prefix: OFFLINE_PREFIX };
  }

  countOnline(): number {
    return this.online.count(ONLINE_PREFIX);
  }
}

function matchesJob(s: SectorState, job: number): boolean {
  switch (job) {
    case SectorWorkerJob.All:
      return true;
    case SectorWorkerJob.Sealing:
      return !s.Upgraded && !s.NeedRebuild && !s.Unsealing;
    case SectorWorkerJob.SnapUp:
      return s.Upgraded && !s.NeedRebuild && !s.Unsealing;
    case SectorWorkerJob.Rebuild:
      return s.NeedRebuild;
    case SectorWorkerJob.Unseal:
      return s.Unsealing;
    default:
      return false;
  }
}
