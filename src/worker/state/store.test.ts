import { Database } from "bun:sqlite";
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type JobRecord, ThreadStateStore } from "./store.ts";

const tmp = mkdtempSync(join(tmpdir(), "damocles-thread-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const record: JobRecord = {
  version: 1,
  plan: "sealer",
  state: "PC1Done",
  prev_state: "TicketAssigned",
  retry: 0,
  sector: { miner: 1000, number: 7, proof_type: 5 },
  phases: { ticket: { ticket: "AAAA", epoch: 3 } },
};

test("a saved job survives reopening, with its trace", () => {
  const store = new ThreadStateStore(join(tmp, "a"));
  expect(store.load()).toBeUndefined();
  store.save(record, { prev: "TicketAssigned", next: "PC1Done", event: "PC1" });
  store.close();
  const again = new ThreadStateStore(join(tmp, "a"));
  expect(again.load()).toEqual(record);
  expect(again.trace()).toEqual([
    expect.objectContaining({ sector: "s-t01000-7", prev: "TicketAssigned", next: "PC1Done", event: "PC1" }),
  ]);
  again.clear();
  expect(again.load()).toBeUndefined();
  again.close();
});

test("a damaged record is reported with the file and the way out", () => {
  const loc = join(tmp, "b");
  const store = new ThreadStateStore(loc);
  store.close();
  const db = new Database(join(loc, "meta/thread.db"));
  db.query("INSERT INTO job (slot, record, updated_at) VALUES (0, ?, 0)").run('{"version":1,"plan":"sealer"}');
  db.close();
  const reopened = new ThreadStateStore(loc);
  expect(() => reopened.load()).toThrow("the saved job is damaged");
  reopened.close();
});
