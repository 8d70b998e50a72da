import { formatCpuset } from "../../../core/config/index.ts";
import type { DoctorContext } from "../context.ts";

/**
 * Rule 4: a cpuset must name PUs the machine has (the kernel refuses the cgroup otherwise), and two
 * processors should not share PUs (both then run slower than planned, without any error saying why).
 */
export function cpusetRule(ctx: DoctorContext): void {
  const topo = ctx.topology;
  const withCpus = ctx.processors.filter((p) => p.cpus);
  if (topo) {
    const have = new Set(topo.pus.map((p) => p.id));
    const all = formatCpuset([...have]);
    for (const ref of withCpus) {
      const missing = ref.cpus!.filter((c) => !have.has(c));
      if (missing.length === 0) continue;
      ctx.error(
        [...ref.keys, "cgroup", "cpuset"],
        `cgroup.cpuset "${ref.proc.cgroup!.cpuset}" names PU${missing.length === 1 ? "" : "s"} ${formatCpuset(missing)}, which ${ctx.facts.machine} does not have (its online PUs are ${all}): ` +
          `the kernel rejects the cpuset ("Invalid argument", from the cgroup's cpuset.cpus or from taskset) and the processor does not start. ` +
          `Fix: use PUs within ${all} (see damocles util hwinfo)${missing.length < ref.cpus!.length ? `, e.g. "${formatCpuset(ref.cpus!.filter((c) => have.has(c)))}"` : ""}.`,
      );
    }
  }
  for (let j = 0; j < withCpus.length; j++) {
    const b = withCpus[j]!;
    const clashes: string[] = [];
    for (let i = 0; i < j; i++) {
      const a = withCpus[i]!;
      const shared = b.cpus!.filter((c) => a.cpus!.includes(c));
      if (shared.length > 0)
        clashes.push(
          `PU${shared.length === 1 ? "" : "s"} ${formatCpuset(shared)} with ${a.name} ("${a.proc.cgroup!.cpuset}")`,
        );
    }
    if (clashes.length === 0) continue;
    ctx.warn(
      [...b.keys, "cgroup", "cpuset"],
      `cgroup.cpuset "${b.proc.cgroup!.cpuset}" shares ${clashes.join("; ")}: the processors compete for those cores and each runs slower than planned, ` +
        `with nothing in the logs saying why. Fix: give each processor its own PUs (see damocles util hwinfo).`,
    );
  }
}
