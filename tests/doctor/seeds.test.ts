/**
 * The seeds' own example configurations, judged on the machines they were written for (or the one seed 003
 * shows): each gets the verdict a careful operator would give.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { diagnose, errors, fakeFs, MANAGER, ONE_GPU, sysfsFixtures } from "./helpers.ts";

const fx = sysfsFixtures();
afterAll(fx.cleanup);
const seed = (name: string) => readFileSync(`${import.meta.dir}/../fixtures/seeds/${name}`, "utf8");
const summary = (ds: ReturnType<typeof diagnose>) => ds.map((d) => `${d.severity} ${d.path}`);

describe("seed 003", () => {
  test("block 00 (the mock example) on seed 003's 64-PU machine: only pc1[2]'s cores are on the wrong NUMA node", () => {
    // Stores initialised and the persist store mounted, as on a prepared worker host.
    const dirs = ["store1", "store2", "store3", "remote"].map((d) => resolve("mock-tmp", d));
    const fs = fakeFs(
      Object.fromEntries(
        dirs.flatMap((d) => [
          [d, "dir" as const],
          [`${d}/.holder`, "file" as const],
        ]),
      ),
    );
    const ds = diagnose(seed("003-block-00.toml"), { sysfs: fx.path("two-socket-64"), facts: { fs } });
    expect(summary(ds)).toEqual(["error processors.pc1[2].cgroup.cpuset"]);
    expect(ds[0]!.line).toBe(94);
    expect(ds[0]!.message).toContain("Once instance has previously been poisoned");
  });

  test("block 00 on a 2-PU box like this one: every cpuset beyond PU 1 and numa_preferred = 1 are errors", () => {
    const ds = diagnose(seed("003-block-00.toml"), { sysfs: fx.path("small-2") });
    expect(
      errors(ds)
        .filter((d) => d.path.startsWith("processors."))
        .map((d) => d.path),
    ).toEqual([
      "processors.pc1[0].cgroup.cpuset",
      "processors.pc1[1].cgroup.cpuset",
      "processors.pc1[2].numa_preferred",
      "processors.pc1[2].cgroup.cpuset",
      "processors.pc2[1].cgroup.cpuset",
      "processors.c2[0].cgroup.cpuset",
    ]);
  });

  test("block 20 (48C + 4 GPU) is clean on a machine of that shape, and wrong on the 64-PU one", () => {
    const fits = fx.path("four-node-48");
    expect(
      diagnose(MANAGER + seed("003-block-20.toml"), {
        sysfs: fits,
        gpus: readFileSync(`${fits}/nvidia-smi.csv`, "utf8"),
      }),
    ).toEqual([]);
    const ds = diagnose(MANAGER + seed("003-block-20.toml"), { sysfs: fx.path("two-socket-64") });
    expect(summary(ds)).toEqual(["error processors.pc1[1].cgroup.cpuset"]);
    expect(ds[0]!.message).toContain('"12-19" has PUs 12-19 on NUMA node 0, but numa_preferred = 1');
  });

  test('block 24 ("0-41", "48-92") on the 64-PU machine: the SDR panic, the wrong node, and PUs that do not exist', () => {
    const ds = diagnose(MANAGER + seed("003-block-24.toml"), { sysfs: fx.path("two-socket-64") });
    expect(summary(ds)).toEqual([
      "error processors.pc1[0].cgroup.cpuset",
      "error processors.pc1[0].cgroup.cpuset",
      "error processors.pc1[1].cgroup.cpuset",
    ]);
    expect(ds[0]!.message).toContain(
      "42 cores in 11 L3 groups (L3 #0-#9: 4 of 4 cores each, PUs 0-39; L3 #10: 2 of 4 cores, PUs 40-41)",
    );
    expect(ds[0]!.message).toContain("right: `9`");
    expect(ds[0]!.message).toContain('Fix: cgroup.cpuset = "0-31" (whole L3 #0-#7, in NUMA node 0)');
    expect(ds[2]!.message).toContain("names PUs 64-92");
  });

  test("block 23 (a GPU pc2 and a CPU-only pc2) is clean", () => {
    expect(diagnose(MANAGER + seed("003-block-23.toml"), { sysfs: fx.path("two-socket-64") })).toEqual([]);
  });

  test("block 22 (the outsourced c2) needs its client installed, nothing else", () => {
    const bin = "/usr/local/bin/damocles-worker-c2-outsource";
    expect(summary(diagnose(MANAGER + seed("003-block-22.toml")))).toEqual(["error processors.c2[0].bin"]);
    expect(diagnose(MANAGER + seed("003-block-22.toml"), { facts: { fs: fakeFs({ [bin]: "exec" }) } })).toEqual([]);
  });
});

describe("seed 002 (WindowPoSt workers)", () => {
  // Seed 002 writes placeholders: "..." inside envs tables and a manager address host the loader rejects
  // (both pinned in tests/config). Filled in here so the rest of the file can be judged.
  const clean = (text: string) =>
    text
      .replace(/,\s*\.\.\.\s*}/g, " }")
      .replace(/\{\s*\.\.\.\s*}/g, "{}")
      .replace("your-damocles-manager-address-here", "127.0.0.1");
  const stores = { "/mnt/miner-6666-store": "dir" as const, "/mnt/miner-7777-store": "dir" as const };

  test("two jobs on one GPU: fine on a one-GPU machine once ~/my_algorithm exists; the open-file limit is checked", () => {
    const text = clean(seed("002-worker-two-jobs-one-gpu.toml"));
    const fs = fakeFs({ ...stores, "/home/op/my_algorithm": "exec" });
    expect(diagnose(text, { sysfs: fx.path("two-socket-64"), gpus: ONE_GPU, facts: { fs } })).toEqual([]);
    const low = diagnose(text, {
      sysfs: fx.path("two-socket-64"),
      gpus: ONE_GPU,
      facts: { fs, openFiles: { soft: 1024, hard: 1024 } },
    });
    expect(summary(low)).toEqual(["warning sealing_thread[0].plan"]);
    expect(low[0]!.message).toContain("Too many open files (os error 24)");
  });

  test("the same file without the prover binary or the mounted stores: errors for each", () => {
    const ds = diagnose(clean(seed("002-worker-two-jobs-one-gpu.toml")), {
      sysfs: fx.path("two-socket-64"),
      gpus: ONE_GPU,
    });
    expect(summary(ds)).toEqual([
      "error attached[0].location",
      "error attached[1].location",
      "error processors.window_post[0].bin",
      "error processors.window_post[1].bin",
    ]);
  });

  test('"[[processors. window_post]]" with concurrent = 2 (the two-GPU example) is clean', () => {
    const ds = diagnose(clean(seed("002-worker-two-gpus.toml")), {
      sysfs: fx.path("two-socket-64"),
      facts: { fs: fakeFs(stores) },
    });
    expect(ds).toEqual([]);
  });
});
