import { formatCpuset } from "../../core/config/fields.ts";
import type { Topology } from "./topology.ts";

/**
 * How many whole L3 groups each NUMA node holds: the unit in which PC1 cpusets are planned, because
 * multicore SDR binds its producer threads per shared cache and needs the same core count in each.
 */

export interface NodePlan {
  node: number;
  cpus: number[];
  /** L3 groups entirely inside this node. */
  wholeL3: { index: number; cpus: number[]; cores: number }[];
  /** L3 groups this node shares with another node (sub-NUMA clustering); not a clean planning unit. */
  sharedL3: number[];
}

export function planByNode(topo: Topology): NodePlan[] {
  const coreOf = new Map(topo.pus.map((p) => [p.id, p.core]));
  return topo.numaNodes
    .filter((n) => n.cpus.length > 0)
    .map((n) => {
      const inNode = new Set(n.cpus);
      const whole: NodePlan["wholeL3"] = [];
      const shared: number[] = [];
      for (const g of topo.caches.l3) {
        const inside = g.cpus.filter((c) => inNode.has(c)).length;
        if (inside === 0) continue;
        if (inside === g.cpus.length)
          whole.push({ index: g.index, cpus: g.cpus, cores: new Set(g.cpus.map((c) => coreOf.get(c))).size });
        else shared.push(g.index);
      }
      return { node: n.id, cpus: n.cpus, wholeL3: whole, sharedL3: shared };
    });
}

/** "#0-#7", "#0, #1" or "#0, #2, #5" for a list of L3 indexes. */
export function formatGroupIndexes(indexes: readonly number[]): string {
  return formatCpuset(indexes)
    .split(",")
    .map((part) => {
      const [lo, hi] = part.split("-").map(Number);
      if (hi === undefined) return `#${lo}`;
      return hi === lo! + 1 ? `#${lo}, #${hi}` : `#${lo}-#${hi}`;
    })
    .join(", ");
}

export function describePlan(topo: Topology): string[] {
  if (topo.caches.l3.length === 0)
    return ["L3 groups unknown (no cache information): cpusets cannot be planned per L3 group"];
  const lines: string[] = [];
  for (const p of planByNode(topo)) {
    const head = `NUMANode #${p.node} (PUs ${formatCpuset(p.cpus)})`;
    if (p.wholeL3.length === 0) {
      lines.push(`${head}: no whole L3 group (shares L3 ${formatGroupIndexes(p.sharedL3)} with other nodes)`);
      continue;
    }
    const sizes = new Set(p.wholeL3.map((g) => `${g.cpus.length}/${g.cores}`));
    const first = p.wholeL3[0]!;
    const n = p.wholeL3.length;
    const shape =
      sizes.size === 1
        ? `of ${first.cpus.length} PU${first.cpus.length === 1 ? "" : "s"} (${first.cores} core${first.cores === 1 ? "" : "s"})${n > 1 ? " each" : ""}`
        : "of different sizes — give each PC1 processor groups of one size";
    lines.push(
      `${head}: ${n} whole L3 group${n === 1 ? "" : "s"} ${shape}, L3 ${formatGroupIndexes(p.wholeL3.map((g) => g.index))}`,
    );
    lines.push(`  ${p.wholeL3.map((g) => formatCpuset(g.cpus)).join(" | ")}`);
    if (p.sharedL3.length > 0)
      lines.push(`  also part of L3 ${formatGroupIndexes(p.sharedL3)}, shared with another node`);
  }
  return lines;
}
