import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";

/**
 * Is the machine quiet enough for a benchmark's figures to mean anything? Timings taken while other work
 * competes for the cores are not the proofs' cost, so the benchmark records the 1-minute load average at its
 * start and end and calls the run busy when it exceeds the core count.
 *
 * The end reading includes the benchmark's own threads (a proof keeps every core busy, which alone brings
 * the average to about the core count), so the end check discounts them: the cores the benchmark itself
 * used over the last minute (its CPU time in that minute / 60 s) are subtracted. What others used during the
 * whole run (machine CPU time from /proc/stat minus this process's) is recorded too, and more than a quarter
 * of the cores used by others also makes the run busy.
 */

export interface LoadReading {
  /** 1-minute load average. */
  load1: number;
  load5: number;
  /** Cores this process may use. */
  cores: number;
}

export interface LoadVerdict {
  cores: number;
  start: LoadReading;
  end: LoadReading;
  /** Cores this process kept busy over the last minute of the run (discounted from the end reading). */
  own_cores_last_minute: number;
  /** Cores used by other processes, averaged over the run (undefined off Linux). */
  others_cores?: number;
  busy: boolean;
  /** Why the run is busy (empty when it is not). */
  reasons: string[];
}

/** Parses /proc/loadavg ("0.35 0.42 0.52 1/89 3420"). */
export function parseLoadavg(text: string): { load1: number; load5: number } {
  const [a, b] = text.trim().split(/\s+/);
  const load1 = Number(a);
  const load5 = Number(b);
  if (!Number.isFinite(load1) || !Number.isFinite(load5)) throw new Error(`unreadable /proc/loadavg: ${text}`);
  return { load1, load5 };
}

/** Total and idle CPU ticks from /proc/stat's first ("cpu ") line. */
export function parseProcStat(text: string): { total: number; idle: number } {
  const line = text.split("\n").find((l) => l.startsWith("cpu "));
  if (!line) throw new Error("no cpu line in /proc/stat");
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest counted in user)
  const total = v.slice(0, 8).reduce((s, x) => s + x, 0);
  return { total, idle: (v[3] ?? 0) + (v[4] ?? 0) };
}

export function readLoad(): LoadReading {
  const cores = availableParallelism();
  try {
    return { ...parseLoadavg(readFileSync("/proc/loadavg", "utf8")), cores };
  } catch {
    return { load1: 0, load5: 0, cores };
  }
}

/** CPU seconds used by this process so far. */
function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Busy CPU seconds of the whole machine (from /proc/stat, USER_HZ = 100), undefined off Linux. */
function machineBusySeconds(): number | undefined {
  try {
    const s = parseProcStat(readFileSync("/proc/stat", "utf8"));
    return (s.total - s.idle) / 100;
  } catch {
    return undefined;
  }
}

interface Sample {
  at: number;
  own: number;
}

/**
 * Watches the machine from `start()` to `finish()`: loadavg at both ends, this process's CPU sampled every
 * `sampleSeconds` (to discount its own share of the end reading), the machine's busy time for the others' share.
 */
export class LoadWatch {
  private readonly startReading = readLoad();
  private readonly startMachine = machineBusySeconds();
  private readonly startOwn = ownCpuSeconds();
  private readonly startAt = performance.now();
  private readonly samples: Sample[] = [{ at: performance.now(), own: ownCpuSeconds() }];
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(sampleSeconds = 5) {
    this.timer = setInterval(() => {
      this.samples.push({ at: performance.now(), own: ownCpuSeconds() });
      // Keep a little over a minute of samples.
      while (this.samples.length > 2 && performance.now() - this.samples[1]!.at > 65_000) this.samples.shift();
    }, sampleSeconds * 1000);
    this.timer.unref?.();
  }

  get start(): LoadReading {
    return this.startReading;
  }

  finish(): LoadVerdict {
    clearInterval(this.timer);
    const now = performance.now();
    const own = ownCpuSeconds();
    const end = readLoad();
    const ref = this.samples.find((s) => now - s.at <= 60_000) ?? this.samples[0]!;
    // The load average weighs the whole last minute; samples cover less than that only in a short run.
    const ownCores = (own - ref.own) / 60;
    const machine = machineBusySeconds();
    const seconds = (now - this.startAt) / 1000;
    const others =
      machine !== undefined && this.startMachine !== undefined && seconds > 0
        ? Math.max(0, (machine - this.startMachine - (own - this.startOwn)) / seconds)
        : undefined;
    return judgeLoad(this.startReading, end, ownCores, others);
  }
}

/** Share of the cores other processes may use on average before the run counts as busy. */
export const OTHERS_LIMIT = 0.25;

const r2 = (x: number) => Math.round(x * 100) / 100;

/**
 * The verdict for a run: busy when the start load, or the end load less the run's own cores, exceeds the
 * cores, or when others used more than OTHERS_LIMIT of them.
 */
export function judgeLoad(start: LoadReading, end: LoadReading, ownCores: number, others?: number): LoadVerdict {
  const cores = start.cores;
  const reasons: string[] = [];
  if (start.load1 > cores) reasons.push(`load ${start.load1} at start`);
  const endOthers = end.load1 - ownCores;
  if (endOthers > cores) reasons.push(`load ${end.load1} at end (${r2(endOthers)} without this run's own threads)`);
  // Others keeping a quarter of the cores busy slow every proof noticeably even when no average says so.
  if (others !== undefined && others > cores * OTHERS_LIMIT)
    reasons.push(`other processes used ${r2(others)} cores on average during the run`);
  return {
    cores,
    start,
    end,
    own_cores_last_minute: r2(ownCores),
    ...(others === undefined ? {} : { others_cores: r2(others) }),
    busy: reasons.length > 0,
    reasons,
  };
}

/** The line the benchmark prints for a busy run. */
export function busyLine(v: LoadVerdict): string {
  const worst = Math.max(v.start.load1, v.end.load1 - v.own_cores_last_minute);
  return `machine busy: load ${r2(worst)} on ${v.cores} cores — figures not publishable (${v.reasons.join("; ")})`;
}
