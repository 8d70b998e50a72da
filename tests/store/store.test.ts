import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { KeyNotFoundError, KVStore, MalformedRecordError } from "../../src/core/store/index.ts";

const dirs: string[] = [];
async function waitUntil(ok: () => boolean, ms = 2_000): Promise<void> {
  for (const end = Date.now() + ms; !ok() && Date.now() < end; ) await Bun.sleep(5);
}
function tempDb(): string {
  const d = mkdtempSync(join(tmpdir(), "damocles-store-"));
  dirs.push(d);
  return join(d, "manager.db");
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("KVStore", () => {
  test("collections are separate namespaces and values persist across reopen", () => {
    const path = tempDb();
    const s = KVStore.open(path);
    s.collection("meta").putJSON("m-1000-n-1", { a: 1 });
    s.collection("offline_meta").put("m-1000-n-1", "other");
    s.close();
    const again = KVStore.open(path);
    expect(again.collection("meta").getJSON("m-1000-n-1")).toEqual({ a: 1 });
    expect(again.collection("offline_meta").get("m-1000-n-1")).toBe("other");
    expect(again.collection("common").get("m-1000-n-1")).toBeUndefined();
    again.close();
  });

  test("close() while a durable flush is in flight: the flush settles and the WAL handle is closed after it", async () => {
    const path = tempDb();
    for (let round = 0; round < 20; round++) {
      const s = KVStore.open(path);
      s.collection("meta").put(`k${round}`, "v");
      const flushing = s.sync(); // opens the WAL handle and fdatasyncs off the JS thread
      s.close(); // a daemon stopping mid-flush
      await flushing;
      expect(await s.sync()).toBeUndefined(); // after close: nothing to flush, no throw
    }
    // No descriptor of the WAL may outlive its store (the leak Bun reports at garbage collection).
    const walFds = () =>
      readdirSync("/proc/self/fd").filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`).startsWith(`${path}-wal`);
        } catch {
          return false;
        }
      });
    if (existsSync("/proc/self/fd")) await waitUntil(() => walFds().length === 0);
    if (existsSync("/proc/self/fd")) expect(walFds()).toEqual([]);
    const again = KVStore.open(path);
    expect(again.collection("meta").count("k")).toBe(20);
    again.close();
  });

  test("prefix scan is ordered and bounded", () => {
    const s = KVStore.open(":memory:");
    const c = s.collection("chain");
    for (const k of ["msg/b", "msg/a", "msh/x", "ms", "msg/c"]) c.put(k, k);
    expect(c.scan("msg/").map((e) => e.key)).toEqual(["msg/a", "msg/b", "msg/c"]);
    expect(c.count("msg/")).toBe(3);
    expect(c.scan().length).toBe(5);
  });

  test("pages continue from a cursor in either direction; entries() walks everything in pages; deleteBefore is bounded by its prefix", () => {
    const s = KVStore.open(":memory:");
    const c = s.collection("prover");
    for (let i = 0; i < 25; i++) c.put(`rec/${String(i).padStart(3, "0")}`, String(i));
    c.put("rec", "the prefix itself is not under rec/");
    c.put("rex/000", "outside");
    const first = c.page("rec/", { limit: 10 });
    expect(first.map((e) => e.value)).toEqual(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    const next = c.page("rec/", { limit: 10, after: first.at(-1)!.key });
    expect(next[0]!.value).toBe("10");
    expect(c.page("rec/", { limit: 10, after: "rec/020" }).map((e) => e.value)).toEqual(["21", "22", "23", "24"]);
    expect(c.page("rec/", { limit: 3, reverse: true }).map((e) => e.value)).toEqual(["24", "23", "22"]);
    expect(c.page("rec/", { limit: 3, reverse: true, before: "rec/022" }).map((e) => e.value)).toEqual([
      "21",
      "20",
      "19",
    ]);
    expect([...c.entries("rec/", 4)].map((e) => Number(e.value))).toEqual([...Array(25).keys()]);
    expect(c.deleteBefore("rec/", "rec/010")).toBe(10);
    expect(c.count("rec/")).toBe(15);
    expect(c.get("rec")).toBeDefined();
    expect(c.deleteBefore("rec/", "zzz")).toBe(15);
    expect(c.get("rex/000")).toBe("outside");
  });

  test("a throwing transaction writes nothing; nested transactions join the outer one", () => {
    const s = KVStore.open(":memory:");
    const c = s.collection("common");
    expect(() =>
      s.transaction(() => {
        c.put("a", "1");
        s.transaction(() => c.put("b", "2"));
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(c.get("a")).toBeUndefined();
    expect(c.get("b")).toBeUndefined();
    s.transaction(() => {
      c.put("a", "1");
      s.transaction(() => c.put("b", "2"));
    });
    expect(c.get("b")).toBe("2");
  });

  test("durable waits for a flush; concurrent callers share flushes", async () => {
    const s = KVStore.open(tempDb());
    const c = s.collection("meta");
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        s.durable(() => {
          c.put(`k${i}`, "v");
          return i;
        }),
      ),
    );
    expect(results).toEqual(Array.from({ length: 50 }, (_, i) => i));
    await s.sync();
    expect(c.count("k")).toBe(50);
    s.close();
  });

  test("mustGet names collection and key", () => {
    const s = KVStore.open(":memory:");
    expect(() => s.collection("meta").mustGet("m-1-n-2")).toThrow(KeyNotFoundError);
    expect(() => s.collection("meta").mustGet("m-1-n-2")).toThrow("key not found: meta/m-1-n-2");
  });

  test("getParsed/scanParsed check records against a schema and name the key and field of a malformed one", () => {
    const s = KVStore.open(":memory:");
    const c = s.collection("chain");
    const Schema = v.object({ actor: v.number(), size: v.number() });
    c.putJSON("miner/1", { actor: 1, size: 2048, extra: true });
    expect(c.getParsed("miner/1", Schema)).toEqual({ actor: 1, size: 2048 });
    expect(c.getParsed("miner/2", Schema)).toBeUndefined();
    c.putJSON("miner/2", { actor: 2, size: "big" });
    expect(() => c.getParsed("miner/2", Schema)).toThrow(MalformedRecordError);
    expect(() => c.getParsed("miner/2", Schema)).toThrow(/^stored record chain\/miner\/2 is malformed: size: /);
    expect(() => c.scanParsed("miner/", Schema)).toThrow("chain/miner/2");
    c.put("miner/3", "{not json");
    expect(() => c.getParsed("miner/3", Schema)).toThrow("stored record chain/miner/3 is malformed: not valid JSON");
  });

  test("a committed write survives kill -9 of the writing process", async () => {
    const path = tempDb();
    const script = `
      import { KVStore } from ${JSON.stringify(join(import.meta.dir, "../../src/core/store/index.ts"))};
      const s = KVStore.open(${JSON.stringify(path)});
      await s.durable(() => { s.collection("meta").put("k", "committed"); });
      process.stdout.write("written\\n");
      setInterval(() => {}, 1000);
    `;
    const child = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "inherit" });
    const reader = child.stdout.getReader();
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toContain("written");
    child.kill("SIGKILL");
    await child.exited;
    const s = KVStore.open(path);
    expect(s.collection("meta").get("k")).toBe("committed");
    s.close();
  });
});
