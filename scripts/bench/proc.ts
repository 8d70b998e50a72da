/**
 * Reading a process from /proc (Linux): its CPU time, its memory and the CPUs it may run on, and the list
 * syntax taskset and Cpus_allowed_list use ("0-3,6"). Pure parsers beside thin readers so the parsing is tested.
 */
import { readFileSync } from "node:fs";

/** utime + stime in clock ticks from the text of /proc/<pid>/stat (the command name may hold spaces and parens). */
export function parseStatTicks(stat: string): number {
  const close = stat.lastIndexOf(")");
  if (close < 0) throw new Error(`not a /proc/<pid>/stat line: ${stat.slice(0, 80)}`);
  // Fields after the name start at field 3 (state); utime and stime are fields 14 and 15.
  const fields = stat
    .slice(close + 2)
    .trim()
    .split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`no utime/stime in: ${stat.slice(0, 120)}`);
  return utime + stime;
}

export interface ProcStatus {
  rssKiB: number;
  peakRssKiB: number;
  cpusAllowed: string;
}

/** VmRSS, VmHWM and Cpus_allowed_list from the text of /proc/<pid>/status. */
export function parseStatus(status: string): ProcStatus {
  const field = (name: string) => new RegExp(`^${name}:\\s*(.+)$`, "m").exec(status)?.[1]?.trim();
  const kib = (name: string) => Number.parseInt(field(name) ?? "0", 10);
  return { rssKiB: kib("VmRSS"), peakRssKiB: kib("VmHWM"), cpusAllowed: field("Cpus_allowed_list") ?? "?" };
}

/** "0-2,5" → [0, 1, 2, 5]. Throws on anything else, naming the text. */
export function parseCpuList(list: string): number[] {
  const cpus: number[] = [];
  for (const part of list.trim().split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`bad CPU list "${list}": expected e.g. "0", "0-3" or "0,2-3"`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw new Error(`bad CPU list "${list}": range ${part} runs backwards`);
    for (let c = lo; c <= hi; c++) cpus.push(c);
  }
  return [...new Set(cpus)].sort((a, b) => a - b);
}

/** [0, 1, 2, 5] → "0-2,5": the config's canonical cpuset form. */
export { formatCpuset as formatCpuList } from "../../src/core/config/fields.ts";

/**
 * The server (daemon or bare endpoint) gets the first half of the CPUs, the load generator the rest, so
 * neither steals the other's cycles. One CPU: both share it (the caller warns).
 */
export function splitCpus(cpus: readonly number[]): { server: number[]; load: number[] } {
  if (cpus.length < 2) return { server: [...cpus], load: [...cpus] };
  const half = Math.floor(cpus.length / 2);
  return { server: cpus.slice(0, half), load: cpus.slice(half) };
}

export const readStatTicks = (pid: number): number => parseStatTicks(readFileSync(`/proc/${pid}/stat`, "utf8"));
export const readStatus = (pid: number): ProcStatus => parseStatus(readFileSync(`/proc/${pid}/status`, "utf8"));
