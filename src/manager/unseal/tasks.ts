import * as v from "valibot";
import {
  type SectorUnsealInfo,
  SectorUnsealInfoSchema,
  type UnsealState,
  unsealTaskKey,
} from "../../core/sector/api-unseal.ts";
import { type SectorID, sectorName } from "../../core/sector/id.ts";
import type { Collection, KVStore } from "../../core/store/index.ts";

/**
 * The manager's unseal tasks, durable in its store (collection "unseal", one key per task,
 * `unseal-infos/<actor>-<number>-<pieceCid>`; the original keeps one JSON map under `unseal-infos`).
 * Every change is one sqlite transaction that has reached the disk before the caller answers, so a task
 * queued, handed out or finished survives kill -9 (and power loss) of the manager.
 *
 * Life of a task (gateway.UnsealState): set_up (queued) → unsealing (a worker holds it) → uploading (the
 * worker asked for its destinations; none may be added any more) → finished | failed.
 */

const PREFIX = "unseal-infos/";

const RecordSchema = v.object({
  Info: SectorUnsealInfoSchema,
  /** Unix ms; tasks are handed out oldest first. */
  CreatedAt: v.number(),
  UpdatedAt: v.number(),
});
type TaskRecord = v.InferOutput<typeof RecordSchema>;

/** The task does not exist (never queued, or queued again under another sector). */
export class UnsealTaskNotFoundError extends Error {
  override name = "UnsealTaskNotFoundError";
}

/** A request the task's current state does not allow; the message says why and what to do. */
export class UnsealRequestRefusedError extends Error {
  override name = "UnsealRequestRefusedError";
}

export interface UnsealRequest {
  sid: SectorID;
  proofType: number;
  pieceCid: string;
  /** Unpadded bytes. */
  offset: number;
  size: number;
  dest: string;
}

/** What `allocate` decides for one queued task: hand it out filled in, leave it queued, or fail it. */
export type AllocationChoice = { take: SectorUnsealInfo } | { skip: true } | { fail: string };

export class UnsealTasks {
  private readonly kv: Collection;

  constructor(
    private readonly store: KVStore,
    private readonly now: () => number = Date.now,
  ) {
    this.kv = store.collection("unseal");
  }

  private key(sid: SectorID, pieceCid: string): string {
    return PREFIX + unsealTaskKey(sid, pieceCid);
  }

  private read(key: string): TaskRecord | undefined {
    return this.kv.getParsed(key, RecordSchema);
  }

  private write(key: string, rec: TaskRecord): void {
    rec.UpdatedAt = this.now();
    this.kv.putJSON(key, rec);
  }

  get(sid: SectorID, pieceCid: string): SectorUnsealInfo | undefined {
    return this.read(this.key(sid, pieceCid))?.Info;
  }

  /** Every task, oldest first. */
  list(): SectorUnsealInfo[] {
    return this.records().map((r) => r.Info);
  }

  private records(): TaskRecord[] {
    return this.kv
      .scanParsed(PREFIX, RecordSchema)
      .map((e) => e.value)
      .sort((a, b) => a.CreatedAt - b.CreatedAt);
  }

  /**
   * Queues a task (the original's SetAndCheck). For a task already there: a new destination is added
   * while it is queued or being unsealed, refused once it is uploading; a finished or failed task is
   * queued afresh with only this destination (the original drops a finished one and leaves a failed one
   * failed, so a piece could never be asked for twice). Answers the task's state afterwards.
   */
  async request(req: UnsealRequest): Promise<UnsealState> {
    const name = unsealTaskKey(req.sid, req.pieceCid);
    return this.store.durable(() => {
      const key = this.key(req.sid, req.pieceCid);
      const rec = this.read(key);
      if (!rec || rec.Info.State === "finished" || rec.Info.State === "failed") {
        const now = this.now();
        this.write(key, { Info: queued(req), CreatedAt: now, UpdatedAt: now });
        return "set_up";
      }
      const info = rec.Info;
      if (info.Offset !== req.offset || info.Size !== req.size) {
        throw new UnsealRequestRefusedError(
          `unseal task ${name} is already ${info.State} for offset ${info.Offset} and size ${info.Size} (unpadded), not offset ${req.offset} and size ${req.size}; wait for it to end`,
        );
      }
      const dests = info.Dest ?? [];
      if (dests.includes(req.dest)) return info.State;
      if (info.State === "uploading") {
        throw new UnsealRequestRefusedError(
          `unseal task ${name} is uploading, no destination can be added now; ask again once it has finished`,
        );
      }
      info.Dest = [...dests, req.dest];
      this.write(key, rec);
      return info.State;
    });
  }

  /**
   * Hands out the oldest queued task that `choose` takes, moved to unsealing with what `choose` filled in.
   * A task `choose` fails is marked failed with that reason (it could never be unsealed as it stands).
   */
  async allocate(choose: (info: SectorUnsealInfo) => AllocationChoice): Promise<SectorUnsealInfo | undefined> {
    return this.store.durable(() => {
      for (const rec of this.records()) {
        if (rec.Info.State !== "set_up") continue;
        const key = this.key(rec.Info.Sector.ID, rec.Info.PieceCid["/"]);
        const choice = choose(structuredClone(rec.Info));
        if ("skip" in choice) continue;
        if ("fail" in choice) {
          rec.Info.State = "failed";
          rec.Info.ErrorInfo = choice.fail;
          this.write(key, rec);
          continue;
        }
        rec.Info = { ...choice.take, State: "unsealing", ErrorInfo: "" };
        this.write(key, rec);
        return rec.Info;
      }
      return undefined;
    });
  }

  /** The destinations of a task that a worker is about to deliver; from now on no destination is added. */
  async acquireDest(sid: SectorID, pieceCid: string): Promise<string[] | null> {
    return this.store.durable(() => {
      const key = this.key(sid, pieceCid);
      const rec = this.mustRead(key, sid, pieceCid);
      rec.Info.State = "uploading";
      this.write(key, rec);
      return rec.Info.Dest;
    });
  }

  /** Finished (errInfo "") or failed with errInfo. Answers the task as it now is. */
  async achieve(sid: SectorID, pieceCid: string, errInfo: string): Promise<SectorUnsealInfo> {
    return this.store.durable(() => {
      const key = this.key(sid, pieceCid);
      const rec = this.mustRead(key, sid, pieceCid);
      rec.Info.State = errInfo === "" ? "finished" : "failed";
      rec.Info.ErrorInfo = errInfo;
      this.write(key, rec);
      return rec.Info;
    });
  }

  /** Whether another task of this sector is still being worked on (its Unsealing mark must stay). */
  sectorBusy(sid: SectorID, except: string): boolean {
    return this.records().some(
      (r) =>
        r.Info.Sector.ID.Miner === sid.Miner &&
        r.Info.Sector.ID.Number === sid.Number &&
        r.Info.PieceCid["/"] !== except &&
        (r.Info.State === "unsealing" || r.Info.State === "uploading"),
    );
  }

  private mustRead(key: string, sid: SectorID, pieceCid: string): TaskRecord {
    const rec = this.read(key);
    if (!rec)
      throw new UnsealTaskNotFoundError(
        `unseal task ${unsealTaskKey(sid, pieceCid)} does not exist: no unseal of piece ${pieceCid} from ${sectorName(sid)} was queued on this manager`,
      );
    return rec;
  }
}

/** A new task with Go's zero values where allocation fills in the sector's data. */
function queued(req: UnsealRequest): SectorUnsealInfo {
  return {
    Sector: { ID: { Miner: req.sid.Miner, Number: req.sid.Number }, ProofType: req.proofType },
    PieceCid: { "/": req.pieceCid },
    Offset: req.offset,
    Size: req.size,
    PrivateInfo: { AccessInstance: "" },
    Ticket: { Ticket: null, Epoch: 0 },
    CommD: new Array<number>(32).fill(0),
    Dest: [req.dest],
    State: "set_up",
    ErrorInfo: "",
  };
}
