import { expect, test } from "bun:test";
import { busyLine, judgeLoad, parseLoadavg, parseProcStat } from "./machine-load.ts";

test("parseLoadavg and parseProcStat read the kernel's formats", () => {
  expect(parseLoadavg("0.35 0.42 0.52 1/89 3420\n")).toEqual({ load1: 0.35, load5: 0.42 });
  expect(() => parseLoadavg("")).toThrow("unreadable /proc/loadavg");
  const stat = "cpu  100 5 50 1000 20 1 2 3 0 0\ncpu0 50 2 25 500 10 0 1 1 0 0\n";
  expect(parseProcStat(stat)).toEqual({ total: 1181, idle: 1020 });
});

const at = (load1: number) => ({ load1, load5: load1, cores: 2 });

test("a quiet machine: the run's own threads at the end do not make it busy", () => {
  const v = judgeLoad(at(0.3), at(2.2), 1.95, 0.05);
  expect(v.busy).toBe(false);
  expect(v.reasons).toEqual([]);
});

test("busy at start, at end beyond the run's own share, or when others used a quarter of the cores", () => {
  expect(judgeLoad(at(2.5), at(2.1), 2, 0).reasons).toEqual(["load 2.5 at start"]);
  const end = judgeLoad(at(1), at(4.4), 1.2, 0.3);
  expect(end.busy).toBe(true);
  expect(end.reasons).toEqual(["load 4.4 at end (3.2 without this run's own threads)"]);
  expect(busyLine(end)).toStartWith("machine busy: load 3.2 on 2 cores — figures not publishable");
  expect(judgeLoad(at(1), at(2), 1.9, 0.8).reasons).toEqual([
    "other processes used 0.8 cores on average during the run",
  ]);
});
