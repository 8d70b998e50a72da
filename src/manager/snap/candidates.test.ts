import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deadlineIsMutable } from "../../core/sector/deadlines.ts";
import { newSectorState } from "../../core/sector/index.ts";
import { KVStore } from "../../core/store/index.ts";
import { SnapCandidates } from "./candidates.ts";
import { ACTOR, type Harness, SETTINGS, snapHarness } from "./testing.ts";

const open: Harness[] = [];
afterEach(() => {
  for (const h of open.splice(0)) h.close();
});

async function harness(...args: Parameters<typeof snapHarness>) {
  const h = await snapHarness(...args);
  open.push(h);
  return h;
}

const shape = {
  wpostChallengeWindow: SETTINGS.WPoStChallengeWindow,
  wpostPeriodDeadlines: SETTINGS.WPoStPeriodDeadlines,
};

describe("snap candidates store", () => {
  test("merges per deadline as go-bitfield run lengths, counts what is new, and survives a reopen", async () => {
    const dir = mkdtempSync(join(tmpdir(), "damocles-snap-cand-"));
    try {
      const path = join(dir, "db");
      const store = KVStore.open(path);
      const c = new SnapCandidates(store);
      expect(c.bitfields(ACTOR)).toBeNull();
      expect(await store.durable(() => c.add(ACTOR, 2, 4, [3, 1, 2, 8]))).toBe(4);
      expect(c.add(ACTOR, 2, 4, [2, 9])).toBe(1);
      expect(c.add(ACTOR, 2, 4, [9])).toBe(0);
      // {1,2,3,8,9}: 1 absent, 3 present, 4 absent, 2 present — the original's JSON, null for empty deadlines.
      expect(c.bitfields(ACTOR)).toEqual([null, null, [1, 3, 4, 2], null]);
      expect(c.remove(ACTOR, 2)).toBe(true);
      expect(c.remove(ACTOR, 2)).toBe(false);
      await store.sync();
      store.close();

      const again = new SnapCandidates(KVStore.open(path));
      expect(again.byDeadline(ACTOR)).toEqual(new Map([[2, [1, 3, 8, 9]]]));
      expect(again.has(ACTOR, 8)).toBe(true);
      expect(again.has(ACTOR, 2)).toBe(false);
      for (const n of [1, 3, 8, 9]) again.remove(ACTOR, n);
      expect(again.bitfields(ACTOR)).toEqual([null, null, null, null]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("SnapUpPreFetch", () => {
  test("marks the CC sectors of every mutable deadline, never the one proven now or next", async () => {
    const h = await harness();
    const dl = await h.chain.provingDeadline(ACTOR);
    const byDeadline = new Map<number, number[]>();
    for (const n of [1, 2, 3, 4]) {
      const info = (await h.chain.sectorInfo(ACTOR, n))!;
      byDeadline.set(info.deadline, [...(byDeadline.get(info.deadline) ?? []), n]);
    }
    const r = await h.snap.preFetch(ACTOR, undefined);
    const expected = [...byDeadline].filter(([d]) => deadlineIsMutable(dl, d, shape)).flatMap(([, ns]) => ns);
    expect(expected.length).toBeGreaterThan(0);
    expect(r).toEqual({ Total: expected.length, Diff: expected.length });
    const marked = [...h.deps.candidates.byDeadline(ACTOR).values()].flat().sort();
    expect(marked).toEqual(expected.sort());
    // Again: nothing new.
    expect((await h.snap.preFetch(ACTOR, undefined)).Diff).toBe(0);
  });

  test("a frozen deadline is refused with the epoch it thaws; an index past the miner's deadlines too", async () => {
    const h = await harness();
    const dl = await h.chain.provingDeadline(ACTOR);
    await expect(h.snap.preFetch(ACTOR, dl.index)).rejects.toThrow(/being proven now or next.*until epoch \d+/);
    await expect(h.snap.preFetch(ACTOR, (dl.index + 1) % 4)).rejects.toThrow(/being proven now or next/);
    await expect(h.snap.preFetch(ACTOR, 7)).rejects.toThrow("has deadlines 0..3");
    await expect(h.snap.preFetch(4242, undefined)).rejects.toThrow("not a miner on this chain");
  });

  test("skips sectors that are online, not indexed here or faulty", async () => {
    const h = await harness({ sectors: [1, 2, 3, 4, 5, 6, 7, 8], prove: false });
    const dl = await h.chain.provingDeadline(ACTOR);
    const mutable: number[] = [];
    for (let n = 1; n <= 8; n++)
      if (deadlineIsMutable(dl, (await h.chain.sectorInfo(ACTOR, n))!.deadline, shape)) mutable.push(n);
    expect(mutable.length).toBeGreaterThanOrEqual(2);
    const [a, b] = mutable as [number, number];
    h.indexer.remove("normal", { Miner: ACTOR, Number: a });
    h.states.create(newSectorState({ Miner: ACTOR, Number: b }, 5));
    expect(await h.snap.preFetch(ACTOR, undefined)).toEqual({ Total: mutable.length - 2, Diff: mutable.length - 2 });
    expect(h.deps.candidates.has(ACTOR, a)).toBe(false);
    expect(h.deps.candidates.has(ACTOR, b)).toBe(false);

    // A whole proving period without WindowPoSt: every sector is detected faulty, none is a candidate.
    await h.advance(SETTINGS.WPoStPeriodDeadlines * SETTINGS.WPoStChallengeWindow + 1);
    expect((await h.chain.faults(ACTOR)).length).toBe(8);
    expect((await h.snap.preFetch(ACTOR, undefined)).Total).toBe(0);
  });
});
