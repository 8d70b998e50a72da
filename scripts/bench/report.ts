/** The human-readable report of bench-manager: one row per phase, the manager/bare ratios, per-method detail. */
import type { PhaseResult } from "./phase.ts";

const f = (n: number, digits = 1) => n.toFixed(digits);
const pad = (s: string, n: number) => s.padStart(n);

export function phaseTable(phases: readonly PhaseResult[]): string[] {
  const head = `${"target/mode".padEnd(20)}${pad("threads", 8)}${pad("req/s", 9)}${pad("p50 ms", 9)}${pad("p99 ms", 9)}${pad("max ms", 9)}${pad("errors", 8)}${pad("srv CPU%", 10)}${pad("RSS MiB", 9)}${pad("peak MiB", 10)}${pad("gen CPU%", 10)}`;
  const rows = phases.map((p) => {
    const l = p.load.latency;
    return `${`${p.target}/${p.mode}`.padEnd(20)}${pad(String(p.load.threads), 8)}${pad(f(p.load.requestsPerS, 0), 9)}${pad(f(l.p50Ms, 2), 9)}${pad(f(l.p99Ms, 2), 9)}${pad(f(l.maxMs, 1), 9)}${pad(String(l.errors), 8)}${pad(f(p.server.cpuPct), 10)}${pad(f(p.server.rssMiB), 9)}${pad(f(p.server.peakRssMiB), 10)}${pad(f(p.generator.cpuPct), 10)}`;
  });
  return [head, ...rows];
}

export interface Ratio {
  mode: PhaseResult["mode"];
  requestsPerS: number;
  p99: number;
}

/** manager ÷ bare for each mode measured on both. */
export function ratios(phases: readonly PhaseResult[]): Ratio[] {
  const out: Ratio[] = [];
  for (const m of phases.filter((p) => p.target === "manager")) {
    const b = phases.find((p) => p.target === "bare" && p.mode === m.mode);
    if (!b) continue;
    out.push({
      mode: m.mode,
      requestsPerS: m.load.requestsPerS / b.load.requestsPerS,
      p99: m.load.latency.p99Ms / b.load.latency.p99Ms,
    });
  }
  return out;
}

/** Per method, the manager's p50/p99 beside the bare endpoint's, slowest (by p99 ratio) first. */
export function methodTable(manager: PhaseResult, bare: PhaseResult | undefined): string[] {
  const lines = [
    `  ${"method".padEnd(28)}${pad("calls", 8)}${pad("p50 ms", 9)}${pad("p99 ms", 9)}${pad("bare p50", 10)}${pad("bare p99", 10)}${pad("p99 ×", 8)}`,
  ];
  const rows = Object.entries(manager.load.perMethod).map(([name, s]) => {
    const b = bare?.load.perMethod[name];
    return { name, s, b, x: b && b.p99Ms > 0 ? s.p99Ms / b.p99Ms : 0 };
  });
  rows.sort((a, z) => z.x - a.x || z.s.count - a.s.count);
  for (const { name, s, b, x } of rows) {
    lines.push(
      `  ${name.padEnd(28)}${pad(String(s.count), 8)}${pad(f(s.p50Ms, 2), 9)}${pad(f(s.p99Ms, 2), 9)}${pad(b ? f(b.p50Ms, 2) : "-", 10)}${pad(b ? f(b.p99Ms, 2) : "-", 10)}${pad(b ? f(x) : "-", 8)}`,
    );
  }
  return lines;
}
