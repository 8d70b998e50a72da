import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { sectorName } from "../../core/sector/id.ts";

/**
 * A sealing thread's durable state: one small sqlite file under `<location>/meta`, written (and fsynced)
 * after every event, so a worker killed at any moment resumes each sector exactly where it was.
 * Besides the current job it keeps a trace of transitions for operators.
 */
export const JobEnvelope = v.object({
  version: v.literal(1),
  plan: v.string(),
  state: v.string(),
  prev_state: v.optional(v.string()),
  /** Temporary failures in a row at the current state. */
  retry: v.number(),
  sector: v.optional(v.object({ miner: v.number(), number: v.number(), proof_type: v.number() })),
  /** Stage outputs and inputs collected so far; each plan validates its own fields. */
  phases: v.record(v.string(), v.unknown()),
  last_error: v.optional(v.object({ level: v.string(), message: v.string(), at: v.number() })),
  paused_at: v.optional(v.number()),
});
export type JobRecord = v.InferOutput<typeof JobEnvelope>;

export interface TraceEntry {
  seq: number;
  sector: string | null;
  prev: string;
  next: string;
  event: string;
  at: number;
  failure: string | null;
}

export class ThreadStateStore {
  private readonly db: Database;

  constructor(readonly location: string) {
    const dir = join(location, "meta");
    mkdirSync(dir, { recursive: true });
    this.db = new Database(join(dir, "thread.db"), { create: true, strict: true });
    this.db.exec("PRAGMA journal_mode = WAL");
    // FULL: the commit is on disk before the thread moves on, which is the whole point of this file.
    this.db.exec("PRAGMA synchronous = FULL");
    this.db.exec(`CREATE TABLE IF NOT EXISTS job (slot INTEGER PRIMARY KEY CHECK (slot = 0), record TEXT NOT NULL, updated_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS trace (seq INTEGER PRIMARY KEY AUTOINCREMENT, sector TEXT, prev TEXT NOT NULL, next TEXT NOT NULL, event TEXT NOT NULL, at INTEGER NOT NULL, failure TEXT)`);
  }

  /** The current job, or undefined when the thread is between sectors. A damaged record is an error. */
  load(): JobRecord | undefined {
    const row = this.db.query<{ record: string }, []>("SELECT record FROM job WHERE slot = 0").get();
    if (!row) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(row.record);
    } catch {
      throw new Error(
        `${join(this.location, "meta/thread.db")}: the saved job is not valid JSON; move the file away to start this thread afresh`,
      );
    }
    const parsed = v.safeParse(JobEnvelope, json);
    if (!parsed.success) {
      throw new Error(
        `${join(this.location, "meta/thread.db")}: the saved job is damaged (${parsed.issues[0]?.message}); move the file away to start this thread afresh`,
      );
    }
    return parsed.output;
  }

  /** Persist the job and (optionally) one trace line in one transaction. */
  save(record: JobRecord, trace?: { prev: string; next: string; event: string; failure?: string }): void {
    const sector = record.sector ? sectorName(record.sector) : null;
    this.db.transaction(() => {
      this.db
        .query(
          "INSERT INTO job (slot, record, updated_at) VALUES (0, ?, ?) ON CONFLICT(slot) DO UPDATE SET record = excluded.record, updated_at = excluded.updated_at",
        )
        .run(JSON.stringify(record), Date.now());
      if (trace) {
        this.db
          .query("INSERT INTO trace (sector, prev, next, event, at, failure) VALUES (?, ?, ?, ?, ?, ?)")
          .run(sector, trace.prev, trace.next, trace.event, Date.now(), trace.failure ?? null);
      }
    })();
  }

  /** The sector is done (finished or aborted): forget the job, keep its trace. */
  clear(): void {
    this.db.query("DELETE FROM job WHERE slot = 0").run();
  }

  trace(limit = 50): TraceEntry[] {
    return this.db.query<TraceEntry, [number]>("SELECT * FROM trace ORDER BY seq DESC LIMIT ?").all(limit).reverse();
  }

  close(): void {
    this.db.close();
  }
}
