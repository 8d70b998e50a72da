/** Durable key-value collections on bun:sqlite: the manager's store and the devnet's chain state. */

import { Database, type Statement } from "bun:sqlite";
import { existsSync, mkdirSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { dirname } from "node:path";
import * as v from "valibot";

/**
 * Key-value collections on one bun:sqlite file in WAL mode (reference §6.4 names the collections).
 *
 * Every write is its own transaction unless it runs inside `store.transaction(fn)`; a transaction commits
 * before the function returns, so a caller that answers an RPC after a write has made it durable first.
 *
 * Two strengths: a plain commit (WAL, synchronous=NORMAL) survives kill -9 of the process, because the WAL
 * write has reached the OS before commit returns. `await store.durable(fn)` (or a commit followed by
 * `await store.sync()`) also survives power loss: it resolves once the WAL is fsynced. The fsync runs off
 * the JS thread and is shared by every caller waiting at the same time (group commit), so a busy manager
 * pays one disk flush per burst instead of one per request, and never blocks its event loop on the disk.
 * Sector numbers, submissions and message records use the durable form; informational writes (worker
 * pings, reported states) the plain one.
 */

/** The collections of the original manager, plus ours (chain: the devnet's state; market: the embedded market). */
export const COLLECTIONS = [
  "common",
  "meta",
  "offline_meta",
  "sector-index",
  "snapup",
  "rebuild",
  "unseal",
  "worker",
  "prover",
  "chain",
  "market",
] as const;
export type CollectionName = (typeof COLLECTIONS)[number];

export class KeyNotFoundError extends Error {
  constructor(
    readonly collection: string,
    readonly key: string,
  ) {
    super(`key not found: ${collection}/${key}`);
    this.name = "KeyNotFoundError";
  }
}

/** A stored value that is not valid JSON or does not match the schema its reader expects. */
export class MalformedRecordError extends Error {
  constructor(
    readonly collection: string,
    readonly key: string,
    readonly problem: string,
  ) {
    super(`stored record ${collection}/${key} is malformed: ${problem}`);
    this.name = "MalformedRecordError";
  }
}

export interface KVEntry {
  key: string;
  value: string;
}

export interface OpenOptions {
  /** "off" only for throwaway stores (benchmarks of the store itself): nothing survives a crash. */
  sync?: "normal" | "off";
}

interface Stmts {
  get: Statement<{ value: string }, [string, string]>;
  put: Statement<unknown, [string, string, string]>;
  del: Statement<unknown, [string, string]>;
  scan: Statement<KVEntry, [string, string, string]>;
  count: Statement<{ n: number }, [string, string, string]>;
  pageAsc: Statement<KVEntry, [string, string, string, number]>;
  pageAfter: Statement<KVEntry, [string, string, string, number]>;
  pageDesc: Statement<KVEntry, [string, string, string, number]>;
  delRange: Statement<unknown, [string, string, string]>;
}

export class KVStore {
  private readonly db: Database;
  private readonly stmts: Stmts;
  private readonly collections = new Map<string, Collection>();

  private readonly baseSync: string;
  private wal: FileHandle | undefined;
  private syncRunning: Promise<void> | undefined;
  private closed = false;
  private syncQueued: Promise<void> | undefined;

  private constructor(
    db: Database,
    readonly path: string,
    baseSync: string,
  ) {
    this.baseSync = baseSync;
    this.db = db;
    this.stmts = {
      get: db.query("SELECT value FROM kv WHERE coll = ?1 AND key = ?2"),
      put: db.query(
        "INSERT INTO kv (coll, key, value) VALUES (?1, ?2, ?3) ON CONFLICT(coll, key) DO UPDATE SET value = excluded.value",
      ),
      del: db.query("DELETE FROM kv WHERE coll = ?1 AND key = ?2"),
      // Prefix scan as a key range: [prefix, prefix + U+FFFF) keeps it on the primary-key index.
      scan: db.query("SELECT key, value FROM kv WHERE coll = ?1 AND key >= ?2 AND key < ?3 ORDER BY key"),
      count: db.query("SELECT count(*) AS n FROM kv WHERE coll = ?1 AND key >= ?2 AND key < ?3"),
      // Pages walk the primary key from a bound, so page N costs the same as page 1 (no OFFSET).
      pageAsc: db.query("SELECT key, value FROM kv WHERE coll = ?1 AND key >= ?2 AND key < ?3 ORDER BY key LIMIT ?4"),
      pageAfter: db.query("SELECT key, value FROM kv WHERE coll = ?1 AND key > ?2 AND key < ?3 ORDER BY key LIMIT ?4"),
      pageDesc: db.query(
        "SELECT key, value FROM kv WHERE coll = ?1 AND key >= ?2 AND key < ?3 ORDER BY key DESC LIMIT ?4",
      ),
      delRange: db.query("DELETE FROM kv WHERE coll = ?1 AND key >= ?2 AND key < ?3"),
    };
  }

  /** Opens (creating if needed) the store file; ":memory:" gives a private in-memory store for tests. */
  static open(path: string, opts: OpenOptions = {}): KVStore {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path, { create: true, strict: true });
    db.exec("PRAGMA journal_mode = WAL");
    const baseSync = opts.sync === "off" ? "OFF" : "NORMAL";
    db.exec(`PRAGMA synchronous = ${baseSync}`);
    db.exec("PRAGMA busy_timeout = 5000");
    db.exec(
      "CREATE TABLE IF NOT EXISTS kv (coll TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (coll, key)) WITHOUT ROWID",
    );
    return new KVStore(db, path, baseSync);
  }

  collection(name: CollectionName): Collection {
    let c = this.collections.get(name);
    if (!c) {
      c = new Collection(name, this.stmts);
      this.collections.set(name, c);
    }
    return c;
  }

  /**
   * Runs fn atomically: all its writes commit together when it returns, none if it throws.
   * Nested calls join the outer transaction. fn must be synchronous (no await inside).
   */
  transaction<T>(fn: () => T): T {
    if (this.db.inTransaction) return fn();
    return this.db.transaction(fn).immediate();
  }

  /** A transaction that has reached the disk when the promise resolves (see the module comment). */
  async durable<T>(fn: () => T): Promise<T> {
    const result = this.transaction(fn);
    await this.sync();
    return result;
  }

  /**
   * Resolves when everything committed before the call is on disk. Callers arriving while a flush runs
   * share the next one (it must start after their commits); callers arriving while one is queued join it.
   */
  sync(): Promise<void> {
    if (this.path === ":memory:" || this.baseSync === "OFF") return Promise.resolve();
    if (this.syncQueued) return this.syncQueued;
    const start = () => {
      this.syncQueued = undefined;
      const run = this.flushWal().finally(() => {
        if (this.syncRunning === run) this.syncRunning = undefined;
      });
      this.syncRunning = run;
      return run;
    };
    if (!this.syncRunning) return start();
    this.syncQueued = this.syncRunning.then(start, start);
    return this.syncQueued;
  }

  private async flushWal(): Promise<void> {
    if (this.closed) return;
    const walPath = `${this.path}-wal`;
    if (!this.wal) {
      if (!existsSync(walPath)) return; // nothing written since the last checkpoint removed it
      let handle: FileHandle;
      try {
        handle = await open(walPath, "r");
      } catch (err) {
        // Removed between the check and the open (a close's checkpoint): nothing is left to flush.
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
        throw err;
      }
      // Closed while opening: nobody else would ever close this handle.
      if (this.closed) return void (await handle.close());
      this.wal = handle;
    }
    // fdatasync on any descriptor of the WAL flushes the inode: every commit written so far is durable.
    await this.wal.datasync();
  }

  close(): void {
    this.closed = true;
    const wal = this.wal;
    this.wal = undefined;
    // A flush in flight still uses the handle: close it once that flush has settled, never under it.
    void (this.syncRunning ?? Promise.resolve())
      .catch(() => {})
      .then(() => wal?.close())
      .catch(() => {});
    this.db.close();
  }
}

const PREFIX_END = "\uffff";

/** One named collection. Values are text; JSON helpers cover the common case. */
export class Collection {
  constructor(
    readonly name: string,
    private readonly stmts: Stmts,
  ) {}

  get(key: string): string | undefined {
    return this.stmts.get.get(this.name, key)?.value;
  }

  /** Like get, but a missing key is an error that names the collection and key. */
  mustGet(key: string): string {
    const value = this.get(key);
    if (value === undefined) throw new KeyNotFoundError(this.name, key);
    return value;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  put(key: string, value: string): void {
    this.stmts.put.run(this.name, key, value);
  }

  del(key: string): void {
    this.stmts.del.run(this.name, key);
  }

  getJSON<T>(key: string): T | undefined {
    const raw = this.get(key);
    return raw === undefined ? undefined : (JSON.parse(raw) as T);
  }

  /**
   * Like getJSON, but the value must match `schema` (its output is returned): a damaged or foreign record
   * is a MalformedRecordError naming the collection, key and field, instead of a wrongly typed object.
   */
  getParsed<S extends v.GenericSchema>(key: string, schema: S): v.InferOutput<S> | undefined {
    const raw = this.get(key);
    return raw === undefined ? undefined : this.parse(key, raw, schema);
  }

  putJSON(key: string, value: unknown): void {
    this.put(key, JSON.stringify(value));
  }

  /** Entries whose key starts with prefix, in key order. */
  scan(prefix = ""): KVEntry[] {
    return this.stmts.scan.all(this.name, prefix, prefix + PREFIX_END);
  }

  /**
   * Up to `limit` entries under prefix, in key order after the key `after` (exclusive), or with
   * `reverse` in descending order before the key `before` (exclusive). For collections too large to read
   * whole: callers pass the last key they got to continue.
   */
  page(prefix: string, opts: { limit: number; after?: string; before?: string; reverse?: boolean }): KVEntry[] {
    const end = prefix + PREFIX_END;
    if (opts.reverse) {
      const upper = opts.before !== undefined && opts.before < end ? opts.before : end;
      return this.stmts.pageDesc.all(this.name, prefix, upper, opts.limit);
    }
    if (opts.after !== undefined && opts.after >= prefix)
      return this.stmts.pageAfter.all(this.name, opts.after, end, opts.limit);
    return this.stmts.pageAsc.all(this.name, prefix, end, opts.limit);
  }

  /** Every entry under prefix, read in pages of `pageSize`, so memory stays bounded by one page. */
  *entries(prefix = "", pageSize = 1000): Generator<KVEntry> {
    let after: string | undefined;
    for (;;) {
      const rows = this.page(prefix, { limit: pageSize, after });
      yield* rows;
      if (rows.length < pageSize) return;
      after = rows[rows.length - 1]!.key;
    }
  }

  /** Deletes the keys under prefix that sort before `bound` (retention of time-ordered records). */
  deleteBefore(prefix: string, bound: string): number {
    const upper = bound < prefix + PREFIX_END ? bound : prefix + PREFIX_END;
    return this.stmts.delRange.run(this.name, prefix, upper).changes;
  }

  scanJSON<T>(prefix = ""): { key: string; value: T }[] {
    return this.scan(prefix).map((e) => ({ key: e.key, value: JSON.parse(e.value) as T }));
  }

  /** Like scanJSON, with every value checked as getParsed checks it. */
  scanParsed<S extends v.GenericSchema>(prefix: string, schema: S): { key: string; value: v.InferOutput<S> }[] {
    return this.scan(prefix).map((e) => ({ key: e.key, value: this.parse(e.key, e.value, schema) }));
  }

  private parse<S extends v.GenericSchema>(key: string, raw: string, schema: S): v.InferOutput<S> {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (err) {
      throw new MalformedRecordError(this.name, key, `not valid JSON (${(err as Error).message})`);
    }
    const parsed = v.safeParse(schema, json);
    if (parsed.success) return parsed.output;
    const issue = parsed.issues[0];
    const where = v.getDotPath(issue);
    throw new MalformedRecordError(this.name, key, where ? `${where}: ${issue.message}` : issue.message);
  }

  count(prefix = ""): number {
    return this.stmts.count.get(this.name, prefix, prefix + PREFIX_END)?.n ?? 0;
  }
}
