import { existsSync, statSync } from "node:fs";
import { statfs } from "node:fs/promises";
import { join } from "node:path";
import type { PersistStoreConfig } from "../../core/config/index.ts";
import { childLogger } from "../../core/log/index.ts";
import {
  type SectorID,
  type StoreBasicInfo,
  type StoreDetailedInfo,
  sectorKey,
  sectorName,
} from "../../core/sector/index.ts";
import type { Collection, KVStore } from "../../core/store/index.ts";

const log = childLogger("persist-stores");

/**
 * Persist stores (`[[Common.PersistStores]]`) with space reservation. A reservation is one record per
 * sector (collection common, prefix objstore/reserved/) written durably before the worker is told where
 * to copy its files; it lives until the sector is finalized, aborted or released by the operator.
 */

interface Reservation {
  Store: string;
  Size: number;
  /** unix seconds */
  At: number;
}

interface Capacity {
  total: number;
  free: number;
  used: number;
}

const RESERVED_PREFIX = "objstore/reserved/";

export class PersistStores {
  private readonly kv: Collection;
  private readonly stores: Map<string, PersistStoreConfig & { Name: string }>;

  constructor(
    private readonly store: KVStore,
    configs: PersistStoreConfig[],
    private readonly random: () => number = Math.random,
  ) {
    this.kv = store.collection("common");
    this.stores = new Map(configs.map((c) => [c.Name ?? c.Path, { ...c, Name: c.Name ?? c.Path }]));
  }

  names(): string[] {
    return [...this.stores.keys()];
  }

  /** The directory of a configured store (how PoSt turns an index entry into file paths). */
  pathOf(name: string): string | undefined {
    return this.stores.get(name)?.Path;
  }

  basicInfo(name: string): StoreBasicInfo | null {
    const s = this.stores.get(name);
    if (!s) return null;
    return {
      Name: s.Name,
      Path: s.Path,
      Strict: s.Strict,
      ReadOnly: s.ReadOnly,
      Weight: s.Weight,
      Meta: { ...s.Meta },
    };
  }

  private async capacity(path: string): Promise<Capacity | undefined> {
    try {
      const st = await statfs(path);
      const total = Number(st.blocks) * Number(st.bsize);
      const free = Number(st.bavail) * Number(st.bsize);
      return { total, free, used: total - Number(st.bfree) * Number(st.bsize) };
    } catch (err) {
      log.warn(`persist store path ${path} is not usable: ${(err as Error).message}`);
      return undefined;
    }
  }

  private reservations(): { sector: string; r: Reservation }[] {
    return this.kv
      .scanJSON<Reservation>(RESERVED_PREFIX)
      .map((e) => ({ sector: e.key.slice(RESERVED_PREFIX.length), r: e.value }));
  }

  /** Reserved bytes per store, summed once from the records and then kept in step with them. */
  private reservedCache: Map<string, number> | undefined;

  private reservedBytes(store: string): number {
    if (!this.reservedCache) {
      this.reservedCache = new Map();
      for (const { r } of this.reservations())
        this.reservedCache.set(r.Store, (this.reservedCache.get(r.Store) ?? 0) + r.Size);
    }
    return this.reservedCache.get(store) ?? 0;
  }

  private adjustReserved(store: string, delta: number): void {
    if (this.reservedCache) this.reservedCache.set(store, (this.reservedCache.get(store) ?? 0) + delta);
  }

  async list(): Promise<StoreDetailedInfo[]> {
    const all = this.reservations();
    const out: StoreDetailedInfo[] = [];
    for (const s of this.stores.values()) {
      const cap = (await this.capacity(s.Path)) ?? { total: 0, free: 0, used: 0 };
      const mine = all.filter((x) => x.r.Store === s.Name);
      out.push({
        ...this.basicInfo(s.Name)!,
        Type: "filestore",
        Total: cap.total,
        Free: cap.free,
        Used: cap.used,
        UsedPercent: cap.total > 0 ? (cap.used / cap.total) * 100 : 0,
        Reserved: mine.reduce((n, x) => n + x.r.Size, 0),
        ReservedBy: mine.map((x) => ({ By: x.sector, Size: x.r.Size, At: x.r.At })),
      });
    }
    return out;
  }

  private allows(s: PersistStoreConfig, miner: number): boolean {
    if (s.AllowMiners.length > 0 && !s.AllowMiners.includes(miner)) return false;
    return !s.DenyMiners.includes(miner);
  }

  /**
   * Picks a store for a sector's files: writable, allowed for the miner, among the worker's candidates
   * (empty = any), with free − reserved ≥ size; weighted random. The same sector asking again gets the
   * same store back.
   */
  async reserve(
    sid: SectorID,
    size: number,
    candidates: readonly string[] | null | undefined,
  ): Promise<StoreBasicInfo | null> {
    const key = RESERVED_PREFIX + sectorKey(sid);
    const existing = this.kv.getJSON<Reservation>(key);
    if (existing && this.stores.has(existing.Store)) return this.basicInfo(existing.Store);

    const wanted = candidates && candidates.length > 0 ? new Set(candidates) : undefined;
    const eligible: { name: string; weight: number; free: number }[] = [];
    for (const s of this.stores.values()) {
      if (s.ReadOnly || s.Weight <= 0 || (wanted && !wanted.has(s.Name)) || !this.allows(s, sid.Miner)) continue;
      const cap = await this.capacity(s.Path);
      if (!cap) continue;
      eligible.push({ name: s.Name, weight: s.Weight, free: cap.free });
    }
    // Free space and reservations are compared inside the transaction, so two concurrent reservations
    // cannot both count the same free bytes.
    return this.store.durable(() => {
      const again = this.kv.getJSON<Reservation>(key);
      if (again && this.stores.has(again.Store)) return this.basicInfo(again.Store);
      const fits = eligible.filter((e) => e.free - this.reservedBytes(e.name) >= size);
      if (fits.length === 0) {
        log.warn(
          `no persist store can take ${size} bytes for ${sectorName(sid)} (candidates: ${candidates?.join(", ") || "any"})`,
        );
        return null;
      }
      const total = fits.reduce((n, e) => n + e.weight, 0);
      let pick = this.random() * total;
      const chosen =
        fits.find((e) => {
          pick -= e.weight;
          return pick < 0;
        }) ?? fits[fits.length - 1]!;
      this.kv.putJSON(key, { Store: chosen.name, Size: size, At: Math.floor(Date.now() / 1000) } satisfies Reservation);
      this.adjustReserved(chosen.name, size);
      return this.basicInfo(chosen.name);
    });
  }

  /** Drops a sector's reservation; true if there was one. */
  release(sid: SectorID): boolean {
    const key = RESERVED_PREFIX + sectorKey(sid);
    const r = this.kv.getJSON<Reservation>(key);
    if (!r) return false;
    this.kv.del(key);
    this.adjustReserved(r.Store, -r.Size);
    return true;
  }

  /**
   * Where a sector's replica lives in a store: sealed/<name> + cache/<name>/, or for a snap update
   * update/<name> + update-cache/<name>/. Undefined when the store is not configured here.
   */
  sectorPaths(storeName: string, sid: SectorID, upgrade = false): { file: string; cache: string } | undefined {
    const s = this.stores.get(storeName);
    if (!s) return undefined;
    const name = sectorName(sid);
    return {
      file: join(s.Path, upgrade ? "update" : "sealed", name),
      cache: join(s.Path, upgrade ? "update-cache" : "cache", name),
    };
  }

  /**
   * Whether a sector's files are in a store: sealed/<name> (exactly sectorSize bytes in strict mode) and
   * cache/<name>/ (in strict mode with p_aux and at least one tree-r-last file), or with `upgrade` the
   * update/ and update-cache/ of a snap update. Returns a reason if not.
   */
  checkPersisted(storeName: string, sid: SectorID, sectorSize: number, upgrade = false): string | undefined {
    const s = this.stores.get(storeName);
    const paths = this.sectorPaths(storeName, sid, upgrade);
    if (!s || !paths)
      return `persist store "${storeName}" is not configured on this manager (known: ${this.names().join(", ") || "none"})`;
    const { file, cache } = paths;
    const what = upgrade ? "update file" : "sealed file";
    if (!existsSync(file)) return `${what} ${file} does not exist`;
    if (!existsSync(cache) || !statSync(cache).isDirectory()) return `cache dir ${cache} does not exist`;
    if (s.Strict) {
      const size = statSync(file).size;
      if (size !== sectorSize) return `${what} ${file} has ${size} bytes, expected ${sectorSize}`;
      if (!existsSync(join(cache, "p_aux"))) return `cache dir ${cache} has no p_aux`;
    }
    return undefined;
  }
}
