import { describe, expect, test } from "bun:test";
import { createConsola } from "consola";
import { describeMemoryPolicy, logMemoryPolicy, memoryPolicy, preferNumaNode } from "./mempolicy.ts";

describe("set_mempolicy / get_mempolicy through the addon", () => {
  // Every Linux machine has NUMA node 0. The policy stays on this test's thread, where preferring node 0
  // changes nothing that matters to the other tests.
  test("prefer node 0, then read it back", () => {
    expect(preferNumaNode(0)).toEqual({ mode: "preferred", nodes: [0] });
    expect(memoryPolicy()).toEqual({ mode: "preferred", nodes: [0] });
  });

  test("a node the machine does not have is refused with the nodes there are and the fix", () => {
    const before = memoryPolicy();
    expect(() => preferNumaNode(1000)).toThrow(/NUMA node 1000 does not exist .*nodes with memory: [0-9,-]+/);
    expect(() => preferNumaNode(1000)).toThrow("Fix: numa_preferred = one of those nodes");
    expect(() => preferNumaNode(5000)).toThrow("NUMA node 5000 is out of range: node ids go from 0 to 1023");
    expect(memoryPolicy()).toEqual(before);
  });
});

test("policies in words", () => {
  expect(describeMemoryPolicy({ mode: "preferred", nodes: [1] })).toBe("preferred node 1");
  expect(describeMemoryPolicy({ mode: "bind", nodes: [0, 1] })).toBe("bind nodes 0,1");
  expect(describeMemoryPolicy({ mode: "local", nodes: [] })).toBe("local");
  expect(describeMemoryPolicy({ mode: "default", nodes: [] })).toStartWith("default (");
});

test("a processor logs the policy in force, and warns when the node it was given is not in force", () => {
  const lines: string[] = [];
  const log = createConsola({ level: 3, reporters: [{ log: (o) => lines.push(`${o.type} ${o.args.join(" ")}`) }] });
  preferNumaNode(0);
  logMemoryPolicy(log, { VENUS_WORKER_NUMA_PREFERRED: "0" });
  expect(lines.pop()).toBe("info memory policy in force: preferred node 0");
  logMemoryPolicy(log, { VENUS_WORKER_NUMA_PREFERRED: "1" });
  expect(lines.pop()).toStartWith(
    "warn memory policy in force: preferred node 0, although VENUS_WORKER_NUMA_PREFERRED=1: this processor was not started",
  );
});
