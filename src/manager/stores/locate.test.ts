import { describe, expect, test } from "bun:test";
import { KVStore } from "../../core/store/index.ts";
import { SectorIndexer } from "../sectors/indexer.ts";
import { jobInput } from "../wdpost/prover.ts";
import { locateReplica } from "./locate.ts";

const sid = { Miner: 1000, Number: 7 };
const commR = Array(32).fill(3);

function setup() {
  const indexer = new SectorIndexer(KVStore.open(":memory:"));
  const locator = { find: async (type: "normal" | "upgrade", s: typeof sid) => indexer.find(type, s) };
  const paths = (name: string) => ({ cc: "/stores/cc", snap: "/stores/snap" })[name];
  return { indexer, locator, paths };
}

describe("locateReplica", () => {
  test("the chain decides the replica: the sealed file until the update lands, the update replica after", async () => {
    const { indexer, locator, paths } = setup();
    indexer.update("normal", sid, { sealed: "cc", cache: "cc" });
    // A snap update submitted but not on chain yet: still proven with the CC replica.
    indexer.update("upgrade", sid, { sealed: "snap", cache: "snap" });
    const before = await locateReplica(locator, paths, 1000, { number: 7, sealProof: 5, commR, upgraded: false });
    expect(before).toMatchObject({
      ok: true,
      replica: { upgrade: false, sealedPath: "/stores/cc/sealed/s-t01000-7", cacheDir: "/stores/cc/cache/s-t01000-7" },
    });
    const after = await locateReplica(locator, paths, 1000, { number: 7, sealProof: 5, commR, upgraded: true });
    expect(after).toMatchObject({
      ok: true,
      replica: {
        upgrade: true,
        accesses: { sealedFile: "snap", cacheDir: "snap" },
        sealedPath: "/stores/snap/update/s-t01000-7",
        cacheDir: "/stores/snap/update-cache/s-t01000-7",
      },
    });
    // The worker-prover's job says so too: Upgrade, and the store names to resolve.
    if (!after.ok) throw new Error(after.reason);
    const input = jobInput({
      minerId: 1000,
      proofType: 10,
      deadline: 0,
      partitions: [0],
      replicas: [after.replica],
      seed: new Uint8Array(32),
    });
    expect(input.Sectors).toEqual([
      { SectorId: 7, CommR: commR, Upgrade: true, Accesses: { SealedFile: "snap", CacheDir: "snap" } },
    ]);
  });

  test("an updated sector without an indexed update replica is not proven from its old sealed file", async () => {
    const { indexer, locator, paths } = setup();
    indexer.update("normal", sid, { sealed: "cc", cache: "cc" });
    const r = await locateReplica(locator, paths, 1000, { number: 7, sealProof: 5, commR, upgraded: true });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain("update replica is not in the sector index");
  });

  test("a chain that does not say (older proxy source): the update replica when one is indexed", async () => {
    const { indexer, locator, paths } = setup();
    indexer.update("normal", sid, { sealed: "cc", cache: "cc" });
    expect(await locateReplica(locator, paths, 1000, { number: 7, sealProof: 5, commR })).toMatchObject({
      replica: { upgrade: false },
    });
    indexer.update("upgrade", sid, { sealed: "snap", cache: "snap" });
    expect(await locateReplica(locator, paths, 1000, { number: 7, sealProof: 5, commR })).toMatchObject({
      replica: { upgrade: true },
    });
  });
});
