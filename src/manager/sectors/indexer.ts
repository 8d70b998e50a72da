import { type SectorID, type SectorIndexLocation, sectorKey } from "../../core/sector/index.ts";
import type { Collection, KVStore } from "../../core/store/index.ts";

/**
 * SectorIndexer: which persist store holds a sector's sealed file and which its cache dir
 * (collection sector-index; normal keys m-<m>-n-<n> and cache/m-<m>-n-<n>, upgrades under sector-upgrade/).
 */
export class SectorIndexer {
  private readonly kv: Collection;

  constructor(store: KVStore) {
    this.kv = store.collection("sector-index");
  }

  private keys(type: "normal" | "upgrade", sid: SectorID): { sealed: string; cache: string } {
    const base = type === "upgrade" ? `sector-upgrade/${sectorKey(sid)}` : sectorKey(sid);
    return { sealed: base, cache: `cache/${base}` };
  }

  update(type: "normal" | "upgrade", sid: SectorID, stores: { sealed: string; cache: string }): void {
    const k = this.keys(type, sid);
    this.kv.put(k.sealed, stores.sealed);
    this.kv.put(k.cache, stores.cache);
  }

  /** Forgets where a sector's files are (a snap update that never landed); inside the caller's transaction. */
  remove(type: "normal" | "upgrade", sid: SectorID): void {
    const k = this.keys(type, sid);
    this.kv.del(k.sealed);
    this.kv.del(k.cache);
  }

  find(type: "normal" | "upgrade", sid: SectorID): SectorIndexLocation {
    const k = this.keys(type, sid);
    const sealed = this.kv.get(k.sealed);
    if (sealed === undefined) return { Found: false, Instance: { SealedFile: "", CacheDir: "" } };
    // Older records have no separate cache entry: the cache lives beside the sealed file.
    return { Found: true, Instance: { SealedFile: sealed, CacheDir: this.kv.get(k.cache) ?? sealed } };
  }
}
