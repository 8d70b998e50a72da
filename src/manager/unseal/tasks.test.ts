import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KVStore } from "../../core/store/index.ts";
import { type UnsealRequest, UnsealRequestRefusedError, UnsealTaskNotFoundError, UnsealTasks } from "./tasks.ts";

const tmp = mkdtempSync(join(tmpdir(), "damocles-unseal-tasks-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const CID = "baga6ea4seaqao7s73y24kcutaosvacpdjgfe5pw76ooefnyqw4ynr3d2y6x2mpq";
const sid = { Miner: 1000, Number: 7 };

function req(over: Partial<UnsealRequest> = {}): UnsealRequest {
  return { sid, proofType: 5, pieceCid: CID, offset: 0, size: 2032, dest: "file:///tmp/a", ...over };
}

function fresh(): { tasks: UnsealTasks; clock: { ms: number } } {
  const clock = { ms: 1_000 };
  const tasks = new UnsealTasks(KVStore.open(":memory:"), () => clock.ms++);
  return { tasks, clock };
}

describe("unseal tasks", () => {
  test("a request queues a task with Go's zero values; more destinations join it, once each", async () => {
    const { tasks } = fresh();
    expect(await tasks.request(req())).toBe("set_up");
    expect(await tasks.request(req({ dest: "http://h/x" }))).toBe("set_up");
    expect(await tasks.request(req({ dest: "http://h/x" }))).toBe("set_up");
    const t = tasks.get(sid, CID)!;
    expect(t.Dest).toEqual(["file:///tmp/a", "http://h/x"]);
    expect(t).toMatchObject({
      Sector: { ID: sid, ProofType: 5 },
      PieceCid: { "/": CID },
      Offset: 0,
      Size: 2032,
      PrivateInfo: { AccessInstance: "" },
      Ticket: { Ticket: null, Epoch: 0 },
      State: "set_up",
      ErrorInfo: "",
    });
    expect(t.CommD).toEqual(new Array(32).fill(0));
  });

  test("a request for the same piece at another range is refused while the task runs", async () => {
    const { tasks } = fresh();
    await tasks.request(req());
    await expect(tasks.request(req({ offset: 1016, size: 1016, dest: "file:///b" }))).rejects.toThrow(
      /already set_up for offset 0 and size 2032/,
    );
  });

  test("allocation hands out the oldest queued task it accepts, filled in, and fails the hopeless ones", async () => {
    const { tasks } = fresh();
    await tasks.request(req({ sid: { Miner: 1000, Number: 1 } }));
    await tasks.request(req({ sid: { Miner: 2000, Number: 2 } }));
    await tasks.request(req({ sid: { Miner: 1000, Number: 3 } }));
    const seen: number[] = [];
    const got = await tasks.allocate((info) => {
      seen.push(info.Sector.ID.Number);
      if (info.Sector.ID.Number === 1) return { fail: "not in the sector index" };
      if (info.Sector.ID.Miner === 2000) return { skip: true };
      return { take: { ...info, PrivateInfo: { AccessInstance: "persist-1" } } };
    });
    expect(seen).toEqual([1, 2, 3]);
    expect(got).toMatchObject({
      Sector: { ID: { Number: 3 } },
      State: "unsealing",
      PrivateInfo: { AccessInstance: "persist-1" },
    });
    expect(tasks.get({ Miner: 1000, Number: 1 }, CID)).toMatchObject({
      State: "failed",
      ErrorInfo: "not in the sector index",
    });
    expect(tasks.get({ Miner: 2000, Number: 2 }, CID)?.State).toBe("set_up");
    // Nothing else is queued for miner 1000.
    expect(
      await tasks.allocate((info) => (info.Sector.ID.Miner === 1000 ? { take: info } : { skip: true })),
    ).toBeUndefined();
  });

  test("uploading closes the destination list; finished and failed tasks are queued afresh on request", async () => {
    const { tasks } = fresh();
    await tasks.request(req());
    await tasks.allocate((info) => ({ take: info }));
    expect(await tasks.request(req({ dest: "http://h/1" }))).toBe("unsealing");
    expect(await tasks.acquireDest(sid, CID)).toEqual(["file:///tmp/a", "http://h/1"]);
    await expect(tasks.request(req({ dest: "http://h/2" }))).rejects.toBeInstanceOf(UnsealRequestRefusedError);
    expect(await tasks.request(req({ dest: "http://h/1" }))).toBe("uploading");

    expect((await tasks.achieve(sid, CID, "")).State).toBe("finished");
    expect(await tasks.request(req({ dest: "http://h/2" }))).toBe("set_up");
    expect(tasks.get(sid, CID)!.Dest).toEqual(["http://h/2"]);

    await tasks.allocate((info) => ({ take: info }));
    const failed = await tasks.achieve(sid, CID, "piece commitment mismatch");
    expect(failed).toMatchObject({ State: "failed", ErrorInfo: "piece commitment mismatch" });
    expect(await tasks.request(req({ dest: "http://h/3" }))).toBe("set_up");
    expect(tasks.get(sid, CID)).toMatchObject({ State: "set_up", ErrorInfo: "", Dest: ["http://h/3"] });
  });

  test("an unknown task is named in the error", async () => {
    const { tasks } = fresh();
    await expect(tasks.acquireDest(sid, CID)).rejects.toThrow(
      new UnsealTaskNotFoundError(
        `unseal task 1000-7-${CID} does not exist: no unseal of piece ${CID} from s-t01000-7 was queued on this manager`,
      ),
    );
    await expect(tasks.achieve(sid, CID, "")).rejects.toBeInstanceOf(UnsealTaskNotFoundError);
  });

  test("sectorBusy sees the other tasks of a sector that workers hold", async () => {
    const { tasks } = fresh();
    const other = "baga6ea4seaqhbbj4uc2wjzyjpuetbffsfzf3ipoxr6lfbwdxbbwuu5jykbaqkhq";
    await tasks.request(req());
    await tasks.request(req({ pieceCid: other }));
    expect(tasks.sectorBusy(sid, CID)).toBe(false);
    await tasks.allocate((info) => (info.PieceCid["/"] === other ? { take: info } : { skip: true }));
    expect(tasks.sectorBusy(sid, CID)).toBe(true);
    expect(tasks.sectorBusy(sid, other)).toBe(false);
  });

  test("a queued task survives kill -9 of the process that queued it", async () => {
    const db = join(tmp, "killed.db");
    const script = join(tmp, "queue-and-die.ts");
    writeFileSync(
      script,
      `import { KVStore } from ${JSON.stringify(join(import.meta.dir, "../../core/store/index.ts"))};
import { UnsealTasks } from ${JSON.stringify(join(import.meta.dir, "tasks.ts"))};
const tasks = new UnsealTasks(KVStore.open(${JSON.stringify(db)}));
await tasks.request(${JSON.stringify(req())});
await tasks.allocate((info) => ({ take: info }));
await tasks.request(${JSON.stringify(req({ sid: { Miner: 1000, Number: 8 } }))});
console.log("queued");
process.kill(process.pid, "SIGKILL");
`,
    );
    const proc = Bun.spawn([process.execPath, script], { stdout: "pipe", stderr: "inherit" });
    const out = await new Response(proc.stdout).text();
    expect(await proc.exited).not.toBe(0);
    expect(out.trim()).toBe("queued");
    const store = KVStore.open(db);
    try {
      const tasks = new UnsealTasks(store);
      expect(tasks.list().map((t) => [t.Sector.ID.Number, t.State])).toEqual([
        [7, "unsealing"],
        [8, "set_up"],
      ]);
    } finally {
      store.close();
    }
  });
});
