import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { PersistStoreSchema } from "../../src/core/config/manager.ts";
import { KVStore } from "../../src/core/store/index.ts";
import { PersistStores } from "../../src/manager/stores/persist.ts";
import { tempDir } from "./helpers.ts";

const dirs: { remove(): void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

function setup(entries: Record<string, unknown>[]) {
  const dir = tempDir("damocles-persist-");
  dirs.push(dir);
  const configs = entries.map((e) => {
    const path = join(dir.path, String(e.Name));
    mkdirSync(path, { recursive: true });
    return v.parse(PersistStoreSchema, { Path: path, ...e });
  });
  const store = KVStore.open(":memory:");
  return { store, configs, stores: new PersistStores(store, configs, () => 0.99) };
}

describe("persist stores", () => {
  test("reservation honours ReadOnly, AllowMiners, DenyMiners, candidates and weights; it is sticky and releasable", async () => {
    const { stores, store, configs } = setup([
      { Name: "ro", ReadOnly: true },
      { Name: "only-2000", AllowMiners: [2000] },
      { Name: "deny-1000", DenyMiners: [1000] },
      { Name: "a", Weight: 1 },
      { Name: "b", Weight: 3 },
    ]);
    const s1 = { Miner: 1000, Number: 1 };
    // random() = 0.99 picks the last of the weighted choices among a and b
    expect((await stores.reserve(s1, 1024, null))?.Name).toBe("b");
    expect((await stores.reserve(s1, 1024, ["a"]))?.Name).toBe("b"); // same sector, same store
    expect((await stores.reserve({ Miner: 1000, Number: 2 }, 1024, ["a"]))?.Name).toBe("a");
    expect(await stores.reserve({ Miner: 1000, Number: 3 }, 1024, ["ro", "only-2000", "deny-1000"])).toBeNull();
    expect((await stores.reserve({ Miner: 2000, Number: 1 }, 1024, ["only-2000"]))?.Name).toBe("only-2000");
    const list = await stores.list();
    expect(list.find((s) => s.Name === "b")!.ReservedBy!.map((r) => r.By)).toEqual(["m-1000-n-1"]);
    expect(list.find((s) => s.Name === "b")!.Total).toBeGreaterThan(0);
    // Reservations are records in the store: a restarted manager sees them.
    const restarted = new PersistStores(store, configs, () => 0);
    expect((await restarted.list()).find((s) => s.Name === "b")!.Reserved).toBe(1024);
    expect(stores.release(s1)).toBe(true);
    expect(stores.release(s1)).toBe(false);
    expect((await stores.list()).find((s) => s.Name === "b")!.Reserved).toBe(0);
  });

  test("space: a sector that does not fit is refused", async () => {
    const { stores } = setup([{ Name: "a" }]);
    const free = (await stores.list())[0]!.Free;
    expect(await stores.reserve({ Miner: 1, Number: 1 }, free + 1, null)).toBeNull();
    expect(await stores.reserve({ Miner: 1, Number: 2 }, Math.floor(free / 2), null)).not.toBeNull();
    expect(await stores.reserve({ Miner: 1, Number: 3 }, Math.floor(free / 2) + 4096, null)).toBeNull();
  });

  test("SubmitPersisted checks: files present; in strict mode sizes and p_aux", () => {
    const { stores, configs } = setup([{ Name: "lax" }, { Name: "strict", Strict: true }]);
    const sid = { Miner: 1000, Number: 7 };
    for (const c of configs) {
      mkdirSync(join(c.Path, "sealed"), { recursive: true });
      mkdirSync(join(c.Path, "cache", "s-t01000-7"), { recursive: true });
      writeFileSync(join(c.Path, "sealed", "s-t01000-7"), Buffer.alloc(100));
    }
    expect(stores.checkPersisted("lax", sid, 2048)).toBeUndefined();
    expect(stores.checkPersisted("strict", sid, 2048)).toContain("has 100 bytes, expected 2048");
    writeFileSync(join(configs[1]!.Path, "sealed", "s-t01000-7"), Buffer.alloc(2048));
    expect(stores.checkPersisted("strict", sid, 2048)).toContain("no p_aux");
    writeFileSync(join(configs[1]!.Path, "cache", "s-t01000-7", "p_aux"), "x");
    expect(stores.checkPersisted("strict", sid, 2048)).toBeUndefined();
    expect(stores.checkPersisted("nope", sid, 2048)).toContain('"nope" is not configured');
    expect(stores.checkPersisted("lax", { Miner: 1000, Number: 8 }, 2048)).toContain("does not exist");
  });
});
