import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  buildTree,
  describePlan,
  planByNode,
  readTopology,
  renderTree,
  type Topology,
} from "../../src/util/hwinfo/index.ts";
import { sysfsFixtures } from "../doctor/helpers.ts";
import { SMALL_2, TWO_SOCKET_64 } from "../fixtures/sysfs/generate.ts";

const fx = sysfsFixtures();
afterAll(fx.cleanup);

describe("readTopology on seed 003's two-socket machine", () => {
  const topo = readTopology(fx.path("two-socket-64"));

  test("64 PUs in 2 packages, 2 NUMA nodes and 16 L3 groups of 4", () => {
    expect(topo.pus).toHaveLength(64);
    expect(topo.packages.map((p) => p.id)).toEqual([0, 1]);
    expect(topo.packages[0]!.model).toBe("AMD EPYC 7542 32-Core Processor");
    expect(topo.numaNodes.map((n) => [n.id, n.cpus.length])).toEqual([
      [0, 32],
      [1, 32],
    ]);
    expect(topo.numaFromSysfs).toBe(true);
    expect(topo.caches.l3).toHaveLength(16);
    expect(topo.caches.l3.every((g) => g.cpus.length === 4 && g.sizeBytes === 16 * 1024 ** 2)).toBe(true);
    expect(topo.caches.l3[1]!.cpus).toEqual([4, 5, 6, 7]);
    expect(topo.pus.find((p) => p.id === 63)).toMatchObject({ packageId: 1, node: 1, l3: 15 });
    expect(topo.cores).toHaveLength(64);
    expect(topo.notes).toEqual([]);
  });

  test("memory per node and for the machine, as seed 003's tree prints it", () => {
    const gib = (b: number | undefined) => (b! / 1024 ** 3).toFixed(2);
    expect(topo.numaNodes.map((n) => gib(n.memTotalBytes))).toEqual(["251.57", "251.98"]);
    expect(gib(topo.memoryBytes)).toBe("503.55");
  });

  test("the tree shows Machine → Package → NUMANode → L3 → PUs, all 16 L3 and PU #63", () => {
    const lines = renderTree(buildTree(topo));
    expect(lines.slice(0, 6)).toEqual([
      "Machine (503.55 GiB)",
      "├── Package (#0 251.57 GiB) (AMD EPYC 7542 32-Core Processor)",
      "│   └── NUMANode (#0 251.57 GiB)",
      "│       ├── L3 (#0 16 MiB)",
      "│       │   └── PU #0 + PU #1 + PU #2 + PU #3",
      "│       ├── L3 (#1 16 MiB)",
    ]);
    for (let i = 0; i < 16; i++) expect(lines.filter((l) => l.includes(`L3 (#${i} 16 MiB)`))).toHaveLength(1);
    expect(lines.at(-1)).toBe("            └── PU #60 + PU #61 + PU #62 + PU #63");
    expect(lines.filter((l) => l.includes("NUMANode (#1 251.98 GiB)"))).toHaveLength(1);
  });

  test("the plan counts 8 whole L3 groups per node", () => {
    expect(planByNode(topo).map((p) => [p.node, p.wholeL3.length, p.sharedL3.length])).toEqual([
      [0, 8, 0],
      [1, 8, 0],
    ]);
    const text = describePlan(topo).join("\n");
    expect(text).toContain("NUMANode #0 (PUs 0-31): 8 whole L3 groups of 4 PUs (4 cores) each, L3 #0-#7");
    expect(text).toContain("NUMANode #1 (PUs 32-63): 8 whole L3 groups of 4 PUs (4 cores) each, L3 #8-#15");
    expect(text).toContain("0-3 | 4-7 | 8-11");
  });
});

describe("degraded trees", () => {
  test("no node directory: the whole machine is NUMA node 0, memory from meminfo, and a note says so", () => {
    const topo = readTopology(fx.path("small-2"));
    expect(topo.numaFromSysfs).toBe(false);
    expect(topo.numaNodes).toEqual([
      { id: 0, cpus: [0, 1], memTotalBytes: SMALL_2.meminfoKiB! * 1024, memFreeBytes: SMALL_2.meminfoKiB! * 1024 },
    ]);
    expect(topo.notes.join("\n")).toContain("the whole machine is treated as NUMA node 0");
    expect(renderTree(buildTree(topo))).toEqual([
      "Machine (23.54 GiB)",
      "└── Package (#0 23.54 GiB) (AMD EPYC)",
      "    └── NUMANode (#0 23.54 GiB)",
      "        └── L3 (#0 32 MiB)",
      "            └── PU #0 + PU #1",
    ]);
  });

  test("no cache directories: PUs hang under their node and a note says L3 groups are unknown", () => {
    const topo = readTopology(fx.path("no-cache", { ...TWO_SOCKET_64, caches: false }));
    expect(topo.caches.l3).toEqual([]);
    expect(topo.notes.join("\n")).toContain("no L3 cache information");
    const lines = renderTree(buildTree(topo));
    expect(lines).toContain(
      "│       ├── PU #0 + PU #1 + PU #2 + PU #3 + PU #4 + PU #5 + PU #6 + PU #7 + PU #8 + PU #9 + PU #10 + PU #11 + PU #12 + PU #13 + PU #14 + PU #15",
    );
    expect(lines.join("\n")).toContain("PU #63");
    expect(describePlan(topo)[0]).toContain("L3 groups unknown");
  });

  test("an empty or missing root does not throw; the notes explain", () => {
    const empty = join(fx.root, "empty");
    mkdirSync(empty, { recursive: true });
    const topo = readTopology(empty);
    expect(topo.pus).toEqual([]);
    expect(topo.notes.join("\n")).toContain("no CPU information under");
    expect(readTopology(join(fx.root, "does-not-exist")).pus).toEqual([]);
  });

  test("without cpu/online every cpuN directory counts, with a note", () => {
    const dir = join(fx.root, "no-online");
    for (const n of [0, 1]) {
      mkdirSync(join(dir, `devices/system/cpu/cpu${n}/topology`), { recursive: true });
      writeFileSync(join(dir, `devices/system/cpu/cpu${n}/topology/physical_package_id`), "0\n");
      writeFileSync(join(dir, `devices/system/cpu/cpu${n}/topology/core_id`), `${n}\n`);
    }
    const topo = readTopology(dir);
    expect(topo.pus.map((p) => p.id)).toEqual([0, 1]);
    expect(topo.notes.join("\n")).toContain("every cpuN directory is taken as online");
  });
});

describe("SMT and --full", () => {
  const topo = readTopology(fx.path("smt-16"));

  test("siblings share a core; an L3 group holds both threads of its cores", () => {
    expect(topo.cores).toHaveLength(8);
    expect(topo.cores[0]!.cpus).toEqual([0, 8]);
    expect(topo.caches.l3[0]!.cpus).toEqual([0, 1, 2, 3, 8, 9, 10, 11]);
    expect(describePlan(topo)[0]).toContain("2 whole L3 groups of 8 PUs (4 cores) each");
  });

  test("--full adds L2 and Core levels", () => {
    const lines = renderTree(buildTree(topo, { full: true }));
    expect(lines).toContain("        │   ├── L2 (#0 512 KiB)");
    expect(lines).toContain("        │   │   └── Core (#0)");
    expect(lines).toContain("        │   │       └── PU #0 + PU #8");
    expect(renderTree(buildTree(topo)).some((l) => l.includes("Core"))).toBe(false);
  });
});

test("an L3 spanning two NUMA nodes (sub-NUMA clustering) becomes their parent", () => {
  const topo: Topology = {
    source: "hand-made",
    pus: [0, 1, 2, 3].map((id) => ({ id, packageId: 0, node: id < 2 ? 0 : 1, core: id, l3: 0 })),
    cores: [0, 1, 2, 3].map((i) => ({ index: i, packageId: 0, coreId: i, cpus: [i] })),
    packages: [{ id: 0, cpus: [0, 1, 2, 3] }],
    numaNodes: [
      { id: 0, cpus: [0, 1], memTotalBytes: 2 ** 30 },
      { id: 1, cpus: [2, 3], memTotalBytes: 2 ** 30 },
      { id: 2, cpus: [], memTotalBytes: 2 ** 30 },
    ],
    numaFromSysfs: true,
    caches: { l1d: [], l2: [], l3: [{ index: 0, level: 3, type: "Unified", sizeBytes: 2 ** 25, cpus: [0, 1, 2, 3] }] },
    memoryBytes: 3 * 2 ** 30,
    notes: [],
  };
  expect(renderTree(buildTree(topo))).toEqual([
    "Machine (3 GiB)",
    "├── Package (#0 2 GiB)",
    "│   └── L3 (#0 32 MiB)",
    "│       ├── NUMANode (#0 1 GiB)",
    "│       │   └── PU #0 + PU #1",
    "│       └── NUMANode (#1 1 GiB)",
    "│           └── PU #2 + PU #3",
    "└── NUMANode (#2 1 GiB) (no PUs)",
  ]);
  expect(planByNode(topo).map((p) => [p.node, p.wholeL3.length, p.sharedL3])).toEqual([
    [0, 0, [0]],
    [1, 0, [0]],
  ]);
});
