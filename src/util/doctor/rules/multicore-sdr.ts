import { formatCpuset } from "../../../core/config/index.ts";
import { formatGroupIndexes } from "../../hwinfo/plan.ts";
import { type DoctorContext, envOf, listWords, type ProcessorRef, truthyEnv } from "../context.ts";
import { analyzeSdrCpuset, type SdrAnalysis, sdrFixes } from "../sdr.ts";

/**
 * Rule 1: a PC1 processor with FIL_PROOFS_USE_MULTICORE_SDR must get whole L3 groups, or the same number
 * of cores in every L3 group it touches (seed 003's cgroup.cpuset notes; seed 000's cores.rs panic).
 */
export function multicoreSdrRule(ctx: DoctorContext): void {
  const topo = ctx.topology;
  const sdr = ctx.processors.filter(
    (p) => p.stage === "pc1" && truthyEnv(envOf(p.proc, "FIL_PROOFS_USE_MULTICORE_SDR")),
  );
  if (!topo || sdr.length === 0) return;
  if (topo.caches.l3.length === 0) {
    ctx.warn(
      [...sdr[0]!.keys, "envs", "FIL_PROOFS_USE_MULTICORE_SDR"],
      `multicore SDR cpusets were not checked: ${ctx.facts.machine} has no L3 cache information (see damocles util hwinfo); make sure each PC1 cpuset covers whole L3 groups`,
    );
    return;
  }
  const machinePus = new Set(topo.pus.map((p) => p.id));
  for (const ref of sdr) {
    const keys = ref.cpus ? [...ref.keys, "cgroup", "cpuset"] : [...ref.keys, "envs", "FIL_PROOFS_USE_MULTICORE_SDR"];
    const cpus = (ref.cpus ?? topo.pus.map((p) => p.id)).filter((c) => machinePus.has(c));
    if (cpus.length === 0) continue; // cpusets naming only unknown PUs are reported by the cpuset rule
    const a = analyzeSdrCpuset(topo, cpus);
    if (!a.level || (a.equal && a.remainder === 0 && a.whole)) continue;
    const what = ref.cpus
      ? `cgroup.cpuset "${ref.proc.cgroup!.cpuset}"`
      : "no cgroup.cpuset (so every PU of the machine)";
    const detail = describeGroups(a);
    const fix = fixText(ctx, ref, a);
    if (a.remainder !== 0) {
      ctx.error(
        keys,
        `FIL_PROOFS_USE_MULTICORE_SDR is on and ${what} gives ${a.coreCount} cores in ${a.groups.length} ${a.level} groups (${detail}); ` +
          `${a.coreCount} is not a multiple of ${a.groups.length}, so PC1 panics as soon as it starts labelling: ` +
          `"assertion failed: \`(left == right)\` left: \`0\`, right: \`${a.remainder}\`" (storage-proofs-porep cores.rs). ${fix}`,
      );
    } else if (!a.equal) {
      ctx.error(
        keys,
        `FIL_PROOFS_USE_MULTICORE_SDR is on and ${what} gives an unequal number of cores per ${a.level} group (${detail}): ` +
          `rust-fil-proofs cuts the ${a.coreCount} cores in order into ${a.groups.length} groups of ${a.coreCount / a.groups.length}, ` +
          `so its SDR threads straddle ${a.level} caches and PC1 runs far slower than planned, without any error. ${fix}`,
      );
    } else {
      // Equal partial groups work (seed 003 allows them); they only hurt when another processor uses the rest.
      const rest = a.groups.flatMap((g) => g.allCpus.filter((c) => !g.selectedCpus.includes(c)));
      const sharers = ctx.processors.filter((o) => o !== ref && o.cpus?.some((c) => rest.includes(c)));
      if (sharers.length === 0) continue;
      ctx.warn(
        keys,
        `FIL_PROOFS_USE_MULTICORE_SDR is on and ${what} takes only part of ${a.level} ${groupNames(a)} (${detail}); ` +
          `${listWords(sharers.map((s) => s.name))} run${sharers.length === 1 ? "s" : ""} on the rest of those caches, which evicts the SDR working set and slows PC1. ${fix}`,
      );
    }
  }

  // Every process numbers its core groups from the first L3 group, so uncpuset'd SDR processes pile onto the same cores.
  const unbound = sdr.filter((r) => !r.cpus);
  if (unbound.length > 1) {
    for (const ref of unbound.slice(1)) {
      ctx.warn(
        [...ref.keys, "envs", "FIL_PROOFS_USE_MULTICORE_SDR"],
        `${ref.name} and ${unbound[0]!.name} both run multicore SDR without a cgroup.cpuset: each process binds its SDR threads starting from the same first L3 groups, ` +
          `so they fight over the same cores while others idle. Fix: give each its own whole L3 groups with cgroup.cpuset (see damocles util hwinfo).`,
      );
    }
  }
}

function groupNames(a: SdrAnalysis): string {
  return formatGroupIndexes(a.groups.map((g) => g.index));
}

/** "L3 #0-#9: 4 of 4 cores each, PUs 0-39; L3 #10: 2 of 4 cores, PUs 40-41": runs of alike groups share a line. */
function describeGroups(a: SdrAnalysis): string {
  const runs: SdrAnalysis["groups"][] = [];
  for (const g of a.groups) {
    const run = runs.at(-1);
    const last = run?.at(-1);
    if (
      run &&
      last &&
      last.index + 1 === g.index &&
      last.selectedCores === g.selectedCores &&
      last.totalCores === g.totalCores
    )
      run.push(g);
    else runs.push([g]);
  }
  return runs
    .map((run) => {
      const g = run[0]!;
      const each = run.length > 1 ? " each" : "";
      return `${a.level} ${formatGroupIndexes(run.map((r) => r.index))}: ${g.selectedCores} of ${g.totalCores} cores${each}, PUs ${formatCpuset(run.flatMap((r) => r.selectedCpus))}`;
    })
    .join("; ");
}

function fixText(ctx: DoctorContext, ref: ProcessorRef, a: SdrAnalysis): string {
  const topo = ctx.topology!;
  const node = topo.numaNodes.find((n) => n.id === ref.proc.numa_preferred);
  const { expand, trim } = sdrFixes(topo, a, node?.cpus);
  const options: string[] = [];
  const overlap = (cpus: number[]) =>
    ctx.processors.filter((o) => o !== ref && o.cpus?.some((c) => cpus.includes(c))).map((o) => o.name);
  const inNode = (cpus: number[]) =>
    node && cpus.every((c) => node.cpus.includes(c)) ? `, in NUMA node ${node.id}` : "";
  const describe = (cpus: number[], why: string) => {
    const clash = overlap(cpus);
    return `cgroup.cpuset = "${formatCpuset(cpus)}" (${why}${inNode(cpus)}${clash.length > 0 ? `; overlaps ${listWords(clash)}` : ""})`;
  };
  const coreOf = new Map(topo.pus.map((p) => [p.id, p.core]));
  const groupsIn = (cpus: number[]) => a.groups.filter((g) => g.allCpus.some((c) => cpus.includes(c)));
  // Whole by cores: taking one thread of every core of a group counts as the whole group.
  const isWhole = (cpus: number[]) =>
    groupsIn(cpus).every(
      (g) => new Set(cpus.filter((c) => g.allCpus.includes(c)).map((c) => coreOf.get(c))).size === g.totalCores,
    );
  const label = (cpus: number[]) =>
    `${isWhole(cpus) ? "whole" : "the same number of cores in each"} ${a.level} ${formatGroupIndexes(groupsIn(cpus).map((g) => g.index))}`;
  options.push(describe(expand, label(expand)));
  const current = a.groups.flatMap((g) => g.selectedCpus);
  if (trim.length > 0 && formatCpuset(trim) !== formatCpuset(expand) && formatCpuset(trim) !== formatCpuset(current))
    options.push(describe(trim, label(trim)));
  return `Fix: ${options.join(", or ")}.`;
}
