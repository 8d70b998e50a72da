import { expect, test } from "bun:test";
import { formatCpuList, parseCpuList, parseStatTicks, parseStatus, splitCpus } from "./proc.ts";

test("utime+stime survive a command name with spaces and parens", () => {
  const stat = "4242 (bun (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 731 269 0 0 20 0 9 0 123 456 789";
  expect(parseStatTicks(stat)).toBe(1000);
  expect(() => parseStatTicks("garbage")).toThrow("not a /proc/<pid>/stat line");
});

test("status gives RSS, peak RSS and the allowed CPUs", () => {
  const status = "Name:\tbun\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nCpus_allowed:\t2\nCpus_allowed_list:\t1\n";
  expect(parseStatus(status)).toEqual({ rssKiB: 102400, peakRssKiB: 204800, cpusAllowed: "1" });
});

test("CPU lists round-trip and bad ones name the text", () => {
  expect(parseCpuList("0-2,5")).toEqual([0, 1, 2, 5]);
  expect(formatCpuList([5, 0, 1, 2])).toBe("0-2,5");
  expect(formatCpuList([1])).toBe("1");
  expect(() => parseCpuList("0-x")).toThrow('bad CPU list "0-x"');
  expect(() => parseCpuList("3-1")).toThrow("runs backwards");
});

test("the server gets the first half of the CPUs, the load the rest; one CPU is shared", () => {
  expect(splitCpus([0, 1])).toEqual({ server: [0], load: [1] });
  expect(splitCpus([0, 1, 2, 3, 4])).toEqual({ server: [0, 1], load: [2, 3, 4] });
  expect(splitCpus([0])).toEqual({ server: [0], load: [0] });
});
