import type { ConfigDiagnostic } from "../../core/config/index.ts";
import { DoctorContext } from "./context.ts";
import { cpusetRule } from "./rules/cpusets.ts";
import { gpuRule } from "./rules/gpus.ts";
import { locksRule } from "./rules/locks.ts";
import { multicoreSdrRule } from "./rules/multicore-sdr.ts";
import { numaRule } from "./rules/numa.ts";
import { openFilesRule } from "./rules/open-files.ts";
import { paramsRule } from "./rules/params.ts";
import { pathsRule } from "./rules/paths.ts";
import type { DoctorInput } from "./types.ts";

export type Rule = (ctx: DoctorContext) => void;

/** In the order of the list; each rule reads the config and the machine facts, nothing else. */
export const RULES: readonly Rule[] = [
  multicoreSdrRule,
  numaRule,
  gpuRule,
  locksRule,
  cpusetRule,
  pathsRule,
  paramsRule,
  openFilesRule,
];

/**
 * The configuration doctor: findings about a schema-valid worker configuration on a given machine.
 * Severity "error" = the worker will fail or lose work (the check exits non-zero); "warning" = it runs,
 * but not as the operator planned. Each message quotes the symptom operators see and says the fix.
 */
export function diagnoseWorker(input: DoctorInput): ConfigDiagnostic[] {
  const ctx = new DoctorContext(input);
  const usesCpus = ctx.processors.some((p) => p.cpus || p.proc.numa_preferred !== undefined);
  if (!ctx.topology && usesCpus) {
    const why = input.facts.topology?.notes[0] ?? "it could not be read";
    ctx.warn(
      [],
      `cpuset and NUMA settings were not checked: no CPU topology for ${input.facts.machine} (${why}); run with --sysfs DIR to check against a dump`,
    );
  }
  for (const rule of RULES) rule(ctx);
  // File order reads best; findings without a line (file-level) come last, order otherwise kept.
  return ctx.findings
    .map((d, i) => ({ d, i }))
    .sort((a, b) => (a.d.line ?? Infinity) - (b.d.line ?? Infinity) || a.i - b.i)
    .map(({ d }) => d);
}
