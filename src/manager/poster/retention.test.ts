import { describe, expect, test } from "bun:test";
import type { ChainPolicy } from "../../core/sector/chain.ts";
import { KVStore } from "../../core/store/index.ts";
import type { PoSterRecord } from "./poster.ts";
import { latestRecords, recordKey } from "./records.ts";
import { PoSterRetention } from "./retention.ts";

const WINDOW = 60;
/** Mainnet's shape: 48 deadlines of 60 epochs (a 2,880-epoch proving period), 30 s blocks. */
const policy: ChainPolicy = {
  blockTimeMs: 30_000,
  preCommitChallengeDelay: 150,
  sealRandomnessLookback: 900,
  maxTicketAge: 1050,
  maxProveCommitDuration: 86_400,
  interactivePoRepConfidence: 0,
  wpostPeriodDeadlines: 48,
  wpostChallengeWindow: WINDOW,
  wpostChallengeLookback: 20,
  messageConfidence: 10,
};

function record(actor: number, open: number): PoSterRecord {
  return {
    actor,
    deadline: (open / WINDOW) % 48,
    open,
    close: open + WINDOW,
    challenge: open - 20,
    status: "proven",
    attempts: 1,
    startedAt: open * 30_000,
    prover: "local",
    submissions: [],
    bad: [],
  };
}

/** Seeds `count` consecutive deadline instances for each actor, from epoch 0. */
function seeded(count: number, actors = [1000, 1001]) {
  const store = KVStore.open(":memory:");
  const kv = store.collection("prover");
  for (const actor of actors)
    for (let i = 0; i < count; i++) kv.putJSON(recordKey(actor, i * WINDOW), record(actor, i * WINDOW));
  // A wdpost job shares the collection: retention must not touch it.
  kv.putJSON("finished:job-1", { Id: "job-1" });
  return { store, kv };
}

describe("poster records", () => {
  test("records(actor, limit) reads the newest `limit`, oldest first, and only that miner's", () => {
    const { kv } = seeded(500);
    const latest = latestRecords(kv, 1000, 3);
    expect(latest.map((r) => r.open)).toEqual([497, 498, 499].map((i) => i * WINDOW));
    expect(latest.every((r) => r.actor === 1000)).toBe(true);
    expect(latestRecords(kv, 1000, 10_000)).toHaveLength(500);
    expect(latestRecords(kv, 1002, 5)).toEqual([]);
    expect(latestRecords(kv, 1000, 0)).toEqual([]);
  });

  test("RecordLifetime: instances opened before head - lifetime go, for every miner; newer ones and other records stay", () => {
    const { store, kv } = seeded(500);
    const head = 500 * WINDOW; // 30,000
    // 24 h of 30 s blocks = 2,880 epochs, under the floor of two proving periods (5,760 epochs).
    const day = new PoSterRetention({ store, actors: [1000, 1001], lifetimeMs: 24 * 3600_000, policy });
    expect(day.keepEpochs).toBe(2 * 48 * WINDOW);
    const removed = day.prune(head);
    const keptFrom = head - 2 * 48 * WINDOW; // 24,240: the instance opening there is kept
    expect(removed).toBe(2 * (keptFrom / WINDOW));
    for (const actor of [1000, 1001]) {
      const left = latestRecords(kv, actor, 10_000);
      expect(left[0]!.open).toBe(keptFrom);
      expect(left.at(-1)!.open).toBe(499 * WINDOW); // the current deadline's record
    }
    expect(kv.has("finished:job-1")).toBe(true);
    expect(day.prune(head)).toBe(0);

    const week = new PoSterRetention({ store, actors: [1000], lifetimeMs: 7 * 24 * 3600_000, policy });
    expect(week.keepEpochs).toBe(7 * 2880);
    const forever = new PoSterRetention({ store, actors: [1000, 1001], lifetimeMs: 0, policy });
    expect(forever.keepEpochs).toBeUndefined();
    expect(forever.prune(10 * head)).toBe(0);
    expect(latestRecords(kv, 1000, 10_000)).toHaveLength(500 - keptFrom / WINDOW);
  });

  test("the prune runs once per challenge window, not at every head", () => {
    const { store, kv } = seeded(200, [1000]);
    const r = new PoSterRetention({ store, actors: [1000], lifetimeMs: 1, policy });
    const keep = r.keepEpochs!;
    r.onEpoch(keep + 10 * WINDOW); // runs: the 10 oldest go
    expect(latestRecords(kv, 1000, 1)[0]!.open).toBe(199 * WINDOW);
    expect(kv.count("poster/1000/")).toBe(190);
    r.onEpoch(keep + 11 * WINDOW - 1); // not due yet
    expect(kv.count("poster/1000/")).toBe(190);
    r.onEpoch(keep + 11 * WINDOW);
    expect(kv.count("poster/1000/")).toBe(189);
  });
});
