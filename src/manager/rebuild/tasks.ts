import {
  type RebuildTask,
  RebuildTaskSchema,
  type RebuildTaskState,
  type SectorRebuildInfo,
} from "../../core/sector/api-rebuild.ts";
import { type SectorID, sectorKey } from "../../core/sector/id.ts";
import type { Collection, KVStore } from "../../core/store/index.ts";

/**
 * The manager's rebuild queue, in its store (collection "rebuild", one key per sector,
 * `rebuild-infos/m-<miner>-n-<number>`; the original keeps one JSON map under `rebuild-infos`). Every
 * method writes synchronously and is meant to run inside the caller's transaction, so a task and the
 * sector state it goes with always change together (the callers make that transaction durable).
 *
 * Life of a task: queued (SectorSetForRebuild) → rebuilding (AllocateRebuildSector) → finished
 * (ReportFinalized) | failed (ReportAborted, or the sector stopped waiting for a rebuild). Queuing the
 * sector again replaces a finished or failed task.
 */

const PREFIX = "rebuild-infos/";

export class RebuildTasks {
  private readonly kv: Collection;

  constructor(
    store: KVStore,
    private readonly now: () => number = Date.now,
  ) {
    this.kv = store.collection("rebuild");
  }

  private key(sid: SectorID): string {
    return PREFIX + sectorKey(sid);
  }

  get(sid: SectorID): RebuildTask | undefined {
    return this.kv.getParsed(this.key(sid), RebuildTaskSchema);
  }

  /** Every task, oldest first. */
  list(): RebuildTask[] {
    return this.kv
      .scanParsed(PREFIX, RebuildTaskSchema)
      .map((e) => e.value)
      .sort((a, b) => a.CreatedAt - b.CreatedAt);
  }

  queue(info: SectorRebuildInfo): void {
    const now = this.now();
    this.kv.putJSON(this.key(info.Sector.ID), {
      Info: info,
      State: "queued",
      ErrorInfo: "",
      CreatedAt: now,
      UpdatedAt: now,
    } satisfies RebuildTask);
  }

  /** The oldest queued task `take` accepts, now rebuilding; `take` answers false to leave a task queued. */
  takeOldest(take: (task: RebuildTask) => boolean): RebuildTask | undefined {
    for (const task of this.list()) {
      if (task.State !== "queued" || !take(task)) continue;
      return this.set(task, "rebuilding", "");
    }
    return undefined;
  }

  /**
   * Moves a queued or rebuilding task to `state`; true when it did. A task already finished or failed stays
   * as it ended.
   */
  end(sid: SectorID, state: Extract<RebuildTaskState, "finished" | "failed">, errorInfo = ""): boolean {
    const task = this.get(sid);
    if (!task || task.State === "finished" || task.State === "failed") return false;
    this.set(task, state, errorInfo);
    return true;
  }

  private set(task: RebuildTask, state: RebuildTaskState, errorInfo: string): RebuildTask {
    const next = { ...task, State: state, ErrorInfo: errorInfo, UpdatedAt: this.now() };
    this.kv.putJSON(this.key(task.Info.Sector.ID), next);
    return next;
  }
}
