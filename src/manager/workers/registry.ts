import type { WorkerInfo, WorkerPingInfo } from "../../core/sector/index.ts";
import type { Collection, KVStore } from "../../core/store/index.ts";

/** Worker ping records (collection worker, key = worker name), as `util worker list` shows them. */
export class WorkerRegistry {
  private readonly kv: Collection;

  constructor(
    store: KVStore,
    private readonly now: () => number = Date.now,
  ) {
    this.kv = store.collection("worker");
  }

  ping(info: WorkerInfo): void {
    this.kv.putJSON(info.Name, { Info: info, LastPing: Math.floor(this.now() / 1000) } satisfies WorkerPingInfo);
  }

  get(name: string): WorkerPingInfo | null {
    return this.kv.getJSON<WorkerPingInfo>(name) ?? null;
  }

  list(): WorkerPingInfo[] {
    return this.kv.scanJSON<WorkerPingInfo>().map((e) => e.value);
  }

  remove(name: string): void {
    this.kv.del(name);
  }
}
