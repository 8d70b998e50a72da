import { formatCpuset } from "../../../core/config/index.ts";
import type { DoctorContext } from "../context.ts";

/**
 * Rule 2: `numa_preferred` and `cgroup.cpuset` must name the same NUMA node. When the cores sit on
 * another node than the memory, the processor dies with "Once instance has previously been poisoned"
 * (seed 000's Q&A).
 */
export function numaRule(ctx: DoctorContext): void {
  const topo = ctx.topology;
  if (!topo) return;
  const nodeIds = topo.numaNodes.map((n) => n.id);
  const nodeOf = new Map(topo.pus.map((p) => [p.id, p.node]));
  for (const ref of ctx.processors) {
    const preferred = ref.proc.numa_preferred;
    if (preferred === undefined) continue;
    const node = topo.numaNodes.find((n) => n.id === preferred);
    if (!node) {
      const none = topo.numaFromSysfs ? "" : " (it shows no NUMA information, so it is one node, 0)";
      ctx.error(
        [...ref.keys, "numa_preferred"],
        `numa_preferred = ${preferred}, but ${ctx.facts.machine} has NUMA node${nodeIds.length === 1 ? "" : "s"} ${nodeIds.join(", ")}${none}: ` +
          "the worker sets the processor's memory policy with set_mempolicy, which refuses a node that does not exist, so the processor does not start. " +
          `Fix: numa_preferred = ${nodeIds[0]} or another listed node (see damocles util hwinfo).`,
      );
      continue;
    }
    if (!ref.cpus) continue;
    const known = ref.cpus.filter((c) => nodeOf.has(c));
    const outside = known.filter((c) => nodeOf.get(c) !== preferred);
    if (outside.length === 0) continue;
    const nodesOfOutside = [...new Set(outside.map((c) => nodeOf.get(c)!))].sort((a, b) => a - b);
    const allOn = [...new Set(known.map((c) => nodeOf.get(c)!))];
    const fix =
      allOn.length === 1
        ? `Fix: numa_preferred = ${allOn[0]} (where these PUs are), or a cgroup.cpuset within NUMA node ${preferred}'s PUs ${formatCpuset(node.cpus)}.`
        : `Fix: keep the cpuset within NUMA node ${preferred}'s PUs ${formatCpuset(node.cpus)}, or split the processor into one per node.`;
    ctx.error(
      [...ref.keys, "cgroup", "cpuset"],
      `cgroup.cpuset "${ref.proc.cgroup!.cpuset}" has PUs ${formatCpuset(outside)} on NUMA node ${nodesOfOutside.join(", ")}, ` +
        `but numa_preferred = ${preferred} puts the processor's memory on node ${preferred}: the cores and the memory are on different nodes, ` +
        `which makes the processor fail with "Once instance has previously been poisoned". ${fix}`,
    );
  }
}
