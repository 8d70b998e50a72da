import { describe, expect, test } from "bun:test";
import type { PoStMessage } from "../../../core/sector/chain.ts";
import { KVStore } from "../../../core/store/index.ts";
import { Outbox, type OutboxEntry } from "./outbox.ts";
import { OutboxRetention } from "./outbox-retention.ts";

/** MessageLifetime 1s at 30 s blocks: one epoch, so the floor (finality, 900 epochs) decides. */
const retention = (store: KVStore) => new OutboxRetention({ store, lifetimeMs: 1000, blockTimeMs: 30_000 });

function entry(id: string, nonce: number): OutboxEntry {
  const message: PoStMessage = {
    from: 1000,
    nonce,
    method: "SubmitWindowedPoSt",
    post: { deadline: 0, open: 0, partitions: [], proofs: [] },
  };
  return { id, message, signer: "node", from: "t3sender", pushedEpoch: 10, cid: `bafy-${id}` };
}

describe("outbox retention", () => {
  test("records of messages executed before the lifetime go; pending, newer and re-found ones stay", async () => {
    const store = KVStore.open(":memory:");
    const outbox = new Outbox(store);
    for (const [id, nonce] of [
      ["pending", 0],
      ["old", 1],
      ["new", 2],
      ["moved", 3],
    ] as const)
      await outbox.record(entry(id, nonce), nonce);
    await outbox.update({ ...entry("old", 1), foundAt: 100 });
    await outbox.update({ ...entry("new", 2), foundAt: 5000 });
    // Found at 100, then (after a reorg) at 3000: only the later sighting counts.
    await outbox.update({ ...entry("moved", 3), foundAt: 100 });
    await outbox.update({ ...entry("moved", 3), foundAt: 3000 });

    const r = retention(store);
    expect(r.keepEpochs).toBe(900);
    expect(r.prune(3500)).toBe(1); // executed before 2600: "old" only
    expect(outbox.get("old")).toBeUndefined();
    expect(outbox.get("pending")?.id).toBe("pending");
    expect(outbox.get("moved")?.foundAt).toBe(3000);
    expect(outbox.get("new")?.foundAt).toBe(5000);
    expect(outbox.nextNonce("t3sender")).toBe(4); // the sender's nonce is not history

    expect(r.prune(1_000_000)).toBe(2);
    expect(outbox.get("moved")).toBeUndefined();
    expect(outbox.get("new")).toBeUndefined();
    expect(outbox.get("pending")?.id).toBe("pending"); // never found: never pruned
    expect(store.collection("common").count("chain/outbox-found/")).toBe(0);
  });

  test("a store written before the index is indexed at its first prune; MessageLifetime 0 keeps all", async () => {
    const store = KVStore.open(":memory:");
    // As an older version wrote it: foundAt set, no marker beside it.
    store.collection("common").putJSON("chain/outbox/legacy", { ...entry("legacy", 0), foundAt: 50 });
    store.collection("common").putJSON("chain/outbox/recent", { ...entry("recent", 1), foundAt: 1900 });
    expect(new OutboxRetention({ store, lifetimeMs: 0, blockTimeMs: 30_000 }).prune(10_000)).toBe(0);
    expect(retention(store).prune(2000)).toBe(1);
    const outbox = new Outbox(store);
    expect(outbox.get("legacy")).toBeUndefined();
    expect(outbox.get("recent")?.foundAt).toBe(1900);
  });

  test("the prune runs at most once per interval of heads", async () => {
    const store = KVStore.open(":memory:");
    const outbox = new Outbox(store);
    await outbox.record(entry("a", 0), 0);
    await outbox.update({ ...entry("a", 0), foundAt: 100 });
    const r = retention(store);
    r.onEpoch(1000); // runs: executed at 100 is not before 1000 - 900
    r.onEpoch(1001); // would prune it, but is not due yet
    expect(outbox.get("a")?.foundAt).toBe(100);
    r.onEpoch(1060);
    expect(outbox.get("a")).toBeUndefined();
  });
});
