import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ExtLocks, ProcessorPool } from "../../src/core/processor/pool.ts";
import { type ChildSpec, ProcessorChild, ProcessorError } from "../../src/core/processor/producer.ts";

const FAKE = join(import.meta.dir, "../fixtures/processors/fake.ts");
const tmp = mkdtempSync(join(tmpdir(), "damocles-producer-"));
const children: ProcessorChild[] = [];
afterAll(async () => {
  await Promise.all(children.map((c) => c.stop()));
  rmSync(tmp, { recursive: true, force: true });
});

function spec(over: Partial<ChildSpec> = {}): ChildSpec {
  return {
    stage: "fake",
    index: 0,
    command: [process.execPath, FAKE, "fake"],
    env: { ...(process.env as Record<string, string>) },
    stableWaitMs: 5000,
    autoRestart: false,
    restartDelayMs: 50,
    ...over,
  };
}

async function started(over: Partial<ChildSpec> = {}): Promise<ProcessorChild> {
  const c = new ProcessorChild(spec(over));
  children.push(c);
  await c.start();
  return c;
}

describe("one child", () => {
  test("answers by id, concurrently and out of order", async () => {
    const c = await started();
    const slow = c.call({ echo: "slow", sleep_ms: 150 });
    const fast = c.call({ echo: "fast" });
    expect(await fast).toBe("fast");
    expect(await slow).toBe("slow");
  });

  test("err_msg becomes a task error carrying the child's message", async () => {
    const c = await started();
    await expect(c.call({ fail: "No cached parameters found for stacked-proof" })).rejects.toThrow(
      "No cached parameters found",
    );
  });

  test("no ready line within stable_wait is a clear start failure", async () => {
    const c = new ProcessorChild(
      spec({ stableWaitMs: 300, env: { ...(process.env as Record<string, string>), FAKE_NOT_READY: "1" } }),
    );
    const err = await c.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProcessorError);
    expect((err as Error).message).toContain('no "fake processor ready" line within 300ms');
  });

  test("a wrong first line is quoted", async () => {
    const c = new ProcessorChild(spec({ env: { ...(process.env as Record<string, string>), FAKE_BAD_READY: "1" } }));
    await expect(c.start()).rejects.toThrow('its first line was "hello there"');
  });

  test("a child that dies fails its in-flight task and, with auto_restart, comes back", async () => {
    const c = await started({ autoRestart: true });
    const firstPid = c.pid;
    await expect(c.call({ die: true })).rejects.toThrow("child process exited: fake");
    await c.whenReady();
    expect(c.pid).not.toBe(firstPid);
    expect(await c.call({ echo: "again" })).toBe("again");
    expect(c.restartCount).toBe(1);
  });

  test("garbage on stdout fails the task with its first bytes, and is dumped when enabled", async () => {
    const c = await started();
    const dumpDir = join(tmp, "dumps");
    process.env[`DUMP_ERR_RESP_${c.pid}`] = dumpDir;
    const garbage = `Warning: using a debug build ${"x".repeat(150)}`;
    const err = await c.call({ garbage }).catch((e: unknown) => e as Error);
    delete process.env[`DUMP_ERR_RESP_${c.pid}`];
    expect(err).toBeInstanceOf(ProcessorError);
    expect((err as Error).message).toContain("not a protocol response");
    expect((err as Error).message).toContain("Warning: using a debug build");
    const files = readdirSync(dumpDir);
    expect(files).toHaveLength(1);
    expect(files[0]).toStartWith(`ext-processor-err-resp-${c.pid}-`);
    expect(readFileSync(join(dumpDir, files[0]!), "utf8")).toBe(garbage);
    expect(await c.call({ echo: "still alive" })).toBe("still alive");
  });
});

describe("a stage pool", () => {
  test("spreads tasks over children with free capacity", async () => {
    const pool = new ProcessorPool(
      "fake",
      [
        { ...spec({ index: 0 }), concurrent: 1 },
        { ...spec({ index: 1 }), concurrent: 1 },
      ],
      new ExtLocks({}),
    );
    await pool.start();
    try {
      const [a, b] = await Promise.all([
        pool.run({ pid: true, sleep_ms: 200 }),
        pool.run({ pid: true, sleep_ms: 200 }),
      ]);
      expect((a.output as { pid: number }).pid).not.toBe((b.output as { pid: number }).pid);
    } finally {
      await pool.stop();
    }
  });

  test("an ext lock of 1 shared by two stages serialises them", async () => {
    const locks = new ExtLocks({ gpu: 1 });
    const pc2 = new ProcessorPool("fake", [{ ...spec({ index: 0 }), locks: ["gpu"] }], locks);
    const c2 = new ProcessorPool("fake", [{ ...spec({ index: 1 }), locks: ["gpu"] }], locks);
    await Promise.all([pc2.start(), c2.start()]);
    try {
      const spans: [number, number][] = [];
      const timed = async (p: ProcessorPool) => {
        const { output } = await p.run({ echo: "x", sleep_ms: 150 });
        return output;
      };
      const t0 = performance.now();
      await Promise.all([
        timed(pc2).then(() => spans.push([t0, performance.now()])),
        timed(c2).then(() => spans.push([t0, performance.now()])),
      ]);
      const finished = spans.map(([, end]) => end - t0).sort((x, y) => x - y);
      // Serialised: the second finishes at least one task-length after the first.
      expect(finished[1]! - finished[0]!).toBeGreaterThanOrEqual(140);
    } finally {
      await Promise.all([pc2.stop(), c2.stop()]);
    }
  });

  test("with one child stopped and the other busy, a task waits for the busy one (without spinning)", async () => {
    const pool = new ProcessorPool(
      "fake",
      [
        { ...spec({ index: 0 }), concurrent: 1 },
        { ...spec({ index: 1 }), concurrent: 1 },
      ],
      new ExtLocks({}),
    );
    await pool.start();
    try {
      await pool.children[1]!.stop();
      const first = pool.run({ pid: true, sleep_ms: 200 });
      const second = pool.run({ pid: true });
      const [a, b] = await Promise.all([first, second]);
      expect((b.output as { pid: number }).pid).toBe((a.output as { pid: number }).pid);
    } finally {
      await pool.stop();
    }
  });

  test("an undefined lock is rejected when the pool is built", () => {
    expect(() => new ProcessorPool("fake", [{ ...spec(), locks: ["gpu9"] }], new ExtLocks({ gpu: 1 }))).toThrow(
      '"gpu9" is not defined in [processors.ext_locks]',
    );
  });
});

test("cgroup.cpuset confines the child to those cores (cgroup where writable, else affinity)", async () => {
  const c = await started({ cpuset: "0", cgroupGroupName: "damocles-test" });
  const status = readFileSync(`/proc/${c.pid}/status`, "utf8");
  expect(/Cpus_allowed_list:\s*(\S+)/.exec(status)?.[1]).toBe("0");
  expect(await c.call({ echo: "pinned" })).toBe("pinned");
});

describe("numa_preferred without numactl", () => {
  // The launcher is damocles itself (processor-exec): from source, the entry script.
  const self = [process.execPath, join(import.meta.dir, "../../bin/damocles.ts")];

  test("the child runs with memory preferring the node, read back before exec and inside the child", async () => {
    const c = await started({ numaPreferred: 0, self });
    const status = c.status();
    expect(status.memoryPolicy).toEqual({ mode: "preferred", nodes: [0] });
    expect(status.placement).toContain("memory prefers NUMA node 0 (set_mempolicy before exec)");
    // The launcher exec'd in place: the ready child is the pid the worker spawned, and its own
    // get_mempolicy sees the policy the launcher set.
    expect(await c.call({ mempolicy: true })).toEqual({ policy: { mode: "preferred", nodes: [0] }, env: "0" });
    expect(await c.call({ pid: true })).toEqual({ pid: c.pid });
  });

  test("with a cpuset too: the cgroup (or affinity) wrapper and the launcher both hold in the one child", async () => {
    const c = await started({ numaPreferred: 0, self, cpuset: "0", cgroupGroupName: "damocles-test" });
    const status = readFileSync(`/proc/${c.pid}/status`, "utf8");
    expect(/Cpus_allowed_list:\s*(\S+)/.exec(status)?.[1]).toBe("0");
    expect(await c.call({ mempolicy: true })).toEqual({ policy: { mode: "preferred", nodes: [0] }, env: "0" });
  });

  test("without numa_preferred the child keeps the default policy and reports none", async () => {
    const c = await started();
    expect(c.status().memoryPolicy).toBeNull();
    expect(await c.call({ mempolicy: true })).toEqual({ policy: { mode: "default", nodes: [] }, env: null });
  });

  test("a node the machine does not have: the child does not start, and the error says why", async () => {
    const c = new ProcessorChild(spec({ numaPreferred: 1000, self }));
    const err = await c.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProcessorError);
    const message = (err as Error).message;
    expect(message).toContain("did not become ready: numa_preferred = 1000: set_mempolicy");
    expect(message).toContain("NUMA node 1000 does not exist");
    expect(message).toContain("Fix: numa_preferred = one of those nodes");
  });
});
