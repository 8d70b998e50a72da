import { afterAll, describe, expect, test } from "bun:test";
import { analyzeSdrCpuset, sdrFixes } from "../../src/util/doctor/index.ts";
import { readTopology } from "../../src/util/hwinfo/topology.ts";
import { TWO_SOCKET_64 } from "../fixtures/sysfs/generate.ts";
import { at, diagnose, errors, MANAGER, sysfsFixtures, warnings } from "./helpers.ts";

const fx = sysfsFixtures();
afterAll(fx.cleanup);
const big = fx.path("two-socket-64");

const sdrPc1 = (cpuset: string, extra = "") =>
  `${MANAGER}[[processors.pc1]]\ncgroup.cpuset = "${cpuset}"\nenvs = { FIL_PROOFS_USE_MULTICORE_SDR = "1" }\n${extra}`;

describe("rule 1: multicore SDR cpusets and L3 groups", () => {
  test('seed 003\'s "0-6": error naming L3 #0 and #1, the panic, and "0-7"', () => {
    const ds = diagnose(sdrPc1("0-6"), { sysfs: big });
    expect(ds).toHaveLength(1);
    const d = ds[0]!;
    expect(d).toMatchObject({
      severity: "error",
      file: "worker.toml",
      line: 4,
      path: "processors.pc1[0].cgroup.cpuset",
    });
    expect(d.message).toContain('cgroup.cpuset "0-6" gives 7 cores in 2 L3 groups');
    expect(d.message).toContain("L3 #0: 4 of 4 cores, PUs 0-3; L3 #1: 3 of 4 cores, PUs 4-6");
    expect(d.message).toContain("assertion failed: `(left == right)` left: `0`, right: `1`");
    expect(d.message).toContain('Fix: cgroup.cpuset = "0-7" (whole L3 #0, #1), or cgroup.cpuset = "0-3" (whole L3 #0)');
  });

  test("whole groups pass: 0-7, 12-19, 32-63", () => {
    for (const set of ["0-7", "12-19", "32-63", "0-3"]) expect(diagnose(sdrPc1(set), { sysfs: big })).toEqual([]);
  });

  test("divisible but unequal (4 + 2 cores) is an error about straddled caches", () => {
    const [d] = diagnose(sdrPc1("0-5"), { sysfs: big });
    expect(d?.severity).toBe("error");
    expect(d?.message).toContain("unequal number of cores per L3 group");
    expect(d?.message).toContain("2 groups of 3");
    expect(d?.message).toContain('"0-7"');
  });

  test("equal partial groups are fine alone, and a warning when another processor uses the rest", () => {
    expect(diagnose(sdrPc1("0-1,4-5"), { sysfs: big })).toEqual([]);
    const ds = diagnose(sdrPc1("0-1,4-5", '[[processors.pc2]]\ncgroup.cpuset = "2-3"\n'), { sysfs: big });
    expect(ds.map((d) => [d.severity, d.path])).toEqual([["warning", "processors.pc1[0].cgroup.cpuset"]]);
    expect(ds[0]!.message).toContain("processors.pc2[0] runs on the rest of those caches");
  });

  test("without FIL_PROOFS_USE_MULTICORE_SDR the L3 rule does not apply", () => {
    expect(diagnose(`${MANAGER}[[processors.pc1]]\ncgroup.cpuset = "0-6"\n`, { sysfs: big })).toEqual([]);
    expect(diagnose(sdrPc1("0-6").replace('"1"', '"0"'), { sysfs: big })).toEqual([]);
    expect(diagnose(sdrPc1("0-6").replace('"1"', '"true"'), { sysfs: big })).toHaveLength(1);
  });

  test("SMT: siblings count as one core; whole L3 #0 is 0-3,8-11", () => {
    const smt = fx.path("smt-16");
    expect(diagnose(sdrPc1("0-3,8-11"), { sysfs: smt })).toEqual([]);
    expect(diagnose(sdrPc1("0-3"), { sysfs: smt })).toEqual([]);
    const [d] = diagnose(sdrPc1("0-4"), { sysfs: smt });
    expect(d?.message).toContain("5 cores in 2 L3 groups");
    expect(d?.message).toContain('cgroup.cpuset = "0-15" (whole L3 #0, #1)'); // both whole groups, threads included
    expect(d?.message).toContain('or cgroup.cpuset = "0-3" (whole L3 #0)'); // one thread per core is the whole group by cores
  });

  test("two SDR processors without cpusets pile onto the same cores", () => {
    const text = `${MANAGER}[[processors.pc1]]\nenvs = { FIL_PROOFS_USE_MULTICORE_SDR = "1" }\n[[processors.pc1]]\nenvs = { FIL_PROOFS_USE_MULTICORE_SDR = "1" }\n`;
    const ds = diagnose(text, { sysfs: big });
    expect(ds.map((d) => [d.severity, d.path])).toEqual([
      ["warning", "processors.pc1[1].envs.FIL_PROOFS_USE_MULTICORE_SDR"],
    ]);
  });

  test("no L3 information: one warning that the rule could not be checked", () => {
    const ds = diagnose(sdrPc1("0-6"), { sysfs: fx.path("no-cache", { ...TWO_SOCKET_64, caches: false }) });
    expect(ds.map((d) => d.severity)).toEqual(["warning"]);
    expect(ds[0]!.message).toContain("no L3 cache information");
  });

  test("the analysis reproduces rust-fil-proofs' arithmetic", () => {
    const topo = readTopology(big);
    const a = analyzeSdrCpuset(topo, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect([a.coreCount, a.level, a.groups.length, a.remainder, a.equal, a.whole]).toEqual([
      9,
      "L3",
      3,
      0,
      false,
      false,
    ]);
    expect(sdrFixes(topo, a)).toEqual({
      expand: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
      trim: [0, 1, 2, 3, 4, 5, 6, 7],
    });
    // One core per L3: hwloc looks further up (the NUMA node), finds one group, and does not assert.
    expect(analyzeSdrCpuset(topo, [0, 4, 8]).level).toBeUndefined();
  });
});

describe("rule 2: numa_preferred and the cpuset's node", () => {
  test("cores on node 0 with numa_preferred = 1: error quoting the poisoned Once", () => {
    const ds = diagnose(`${MANAGER}[[processors.pc1]]\nnuma_preferred = 1\ncgroup.cpuset = "12-13"\n`, { sysfs: big });
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({ severity: "error", line: 5, path: "processors.pc1[0].cgroup.cpuset" });
    expect(ds[0]!.message).toContain('"Once instance has previously been poisoned"');
    expect(ds[0]!.message).toContain(
      "Fix: numa_preferred = 0 (where these PUs are), or a cgroup.cpuset within NUMA node 1's PUs 32-63",
    );
  });

  test("a cpuset across both nodes suggests staying inside one", () => {
    const [d] = diagnose(`${MANAGER}[[processors.pc1]]\nnuma_preferred = 0\ncgroup.cpuset = "28-35"\n`, { sysfs: big });
    expect(d?.message).toContain("PUs 32-35 on NUMA node 1");
    expect(d?.message).toContain("split the processor into one per node");
  });

  test("a node the machine does not have", () => {
    const [d] = diagnose(`${MANAGER}[[processors.pc2]]\nnuma_preferred = 3\n`, { sysfs: big });
    expect(d).toMatchObject({ severity: "error", path: "processors.pc2[0].numa_preferred" });
    expect(d!.message).toContain("has NUMA nodes 0, 1");
  });

  test("a machine without NUMA information is node 0", () => {
    const small = fx.path("small-2");
    expect(
      diagnose(`${MANAGER}[[processors.pc1]]\nnuma_preferred = 0\ncgroup.cpuset = "0-1"\n`, { sysfs: small }),
    ).toEqual([]);
    const [d] = diagnose(`${MANAGER}[[processors.pc1]]\nnuma_preferred = 1\ncgroup.cpuset = "0-1"\n`, { sysfs: small });
    expect(d?.message).toContain("it shows no NUMA information, so it is one node, 0");
  });
});

describe("rule 4: cpusets that overlap or name missing PUs", () => {
  test("PUs the machine does not have: error naming them and the machine's range", () => {
    const ds = diagnose(`${MANAGER}[[processors.pc2]]\ncgroup.cpuset = "48-92"\n`, { sysfs: big });
    expect(errors(ds)).toHaveLength(1);
    expect(ds[0]!.message).toContain("names PUs 64-92, which the machine in");
    expect(ds[0]!.message).toContain("its online PUs are 0-63");
    expect(ds[0]!.message).toContain('the kernel rejects the cpuset ("Invalid argument"');
    expect(ds[0]!.message).toContain('e.g. "48-63"');
  });

  test("overlapping processors: a warning on the later one naming the earlier and the shared PUs", () => {
    const text = `${MANAGER}[[processors.pc2]]\ncgroup.cpuset = "8-11,24-27"\n[[processors.c2]]\ncgroup.cpuset = "24-31"\n[[processors.tree_d]]\ncgroup.cpuset = "40-45"\n`;
    const ds = diagnose(text, { sysfs: big });
    expect(ds.map((d) => [d.severity, d.path])).toEqual([["warning", "processors.c2[0].cgroup.cpuset"]]);
    expect(ds[0]!.message).toContain('shares PUs 24-27 with processors.pc2[0] ("8-11,24-27")');
    expect(at(ds, "processors.tree_d[0].cgroup.cpuset")).toEqual([]);
  });

  test("no topology at all: one warning that cpusets were not checked", () => {
    const ds = diagnose(`${MANAGER}[[processors.pc2]]\ncgroup.cpuset = "0-3"\n`);
    expect(warnings(ds).map((d) => d.message)[0]).toContain("cpuset and NUMA settings were not checked");
  });
});
