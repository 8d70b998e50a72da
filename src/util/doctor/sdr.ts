import type { Topology } from "../hwinfo/topology.ts";

/**
 * What rust-fil-proofs' multicore SDR does with a cpuset (storage-proofs-porep, stacked/vanilla/cores.rs):
 * it counts the cores it may use, walks up from the core level to the first level with fewer objects than
 * cores (normally the L3 caches), asserts `core_count % cache_count == 0` — the panic operators see as
 * "assertion failed: `(left == right)` left: `0`, right: `N`" — and then cuts the cores, in order, into
 * `cache_count` groups of `core_count / cache_count`. Groups only match caches when every cache holds the
 * same number of the cores. This module reproduces that arithmetic on our topology model.
 */

export type SdrLevel = "L2" | "L3" | "NUMANode" | "Package";

export interface SdrGroup {
  level: SdrLevel;
  /** The logical index shown by hwinfo (`L3 #3`) or the node/package id. */
  index: number;
  selectedCores: number;
  totalCores: number;
  selectedCpus: number[];
  allCpus: number[];
}

export interface SdrAnalysis {
  coreCount: number;
  /** The level rust-fil-proofs groups by; undefined when it finds at most one group (no cache grouping). */
  level?: SdrLevel;
  groups: SdrGroup[];
  /** `core_count % cache_count`: non-zero means the assertion panic. */
  remainder: number;
  /** Every touched group holds the same number of selected cores. */
  equal: boolean;
  /** Every touched group is entirely selected. */
  whole: boolean;
}

interface LevelView {
  level: SdrLevel;
  groupOf: (cpu: number) => number | undefined;
  cpusOf: (group: number) => number[];
}

function levels(topo: Topology): LevelView[] {
  const pu = new Map(topo.pus.map((p) => [p.id, p]));
  const out: LevelView[] = [];
  // L1 caches are per core everywhere, so they never have fewer objects than cores; start at L2.
  if (topo.caches.l2.length > 0)
    out.push({ level: "L2", groupOf: (c) => pu.get(c)?.l2, cpusOf: (g) => topo.caches.l2[g]?.cpus ?? [] });
  if (topo.caches.l3.length > 0)
    out.push({ level: "L3", groupOf: (c) => pu.get(c)?.l3, cpusOf: (g) => topo.caches.l3[g]?.cpus ?? [] });
  out.push({
    level: "NUMANode",
    groupOf: (c) => pu.get(c)?.node,
    cpusOf: (g) => topo.numaNodes.find((n) => n.id === g)?.cpus ?? [],
  });
  out.push({
    level: "Package",
    groupOf: (c) => pu.get(c)?.packageId,
    cpusOf: (g) => topo.packages.find((p) => p.id === g)?.cpus ?? [],
  });
  return out;
}

/** `cpus` are PUs the machine has (unknown ones are another rule's business). */
export function analyzeSdrCpuset(topo: Topology, cpus: readonly number[]): SdrAnalysis {
  const pu = new Map(topo.pus.map((p) => [p.id, p]));
  const selected = cpus.filter((c) => pu.has(c));
  // hwloc drops cores with no allowed PU; a core with any allowed PU counts once (SMT siblings share it).
  const coreFirstCpu = new Map<number, number>();
  for (const c of selected) {
    const core = pu.get(c)!.core;
    if (!coreFirstCpu.has(core)) coreFirstCpu.set(core, c);
  }
  const coreCount = coreFirstCpu.size;
  const none: SdrAnalysis = { coreCount, groups: [], remainder: 0, equal: true, whole: true };
  if (coreCount <= 1) return none;

  for (const view of levels(topo)) {
    const byGroup = new Map<number, number[]>();
    let complete = true;
    for (const first of coreFirstCpu.values()) {
      const g = view.groupOf(first);
      if (g === undefined) {
        complete = false;
        break;
      }
      byGroup.set(g, [...(byGroup.get(g) ?? []), first]);
    }
    if (!complete || byGroup.size >= coreCount) continue;
    if (byGroup.size <= 1) return none; // one shared cache: rust-fil-proofs groups heuristically and does not assert
    const selectedSet = new Set(selected);
    const groups: SdrGroup[] = [...byGroup.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([index, firsts]) => {
        const allCpus = view.cpusOf(index);
        return {
          level: view.level,
          index,
          selectedCores: firsts.length,
          totalCores: new Set(allCpus.map((c) => pu.get(c)?.core)).size,
          selectedCpus: allCpus.filter((c) => selectedSet.has(c)),
          allCpus,
        };
      });
    return {
      coreCount,
      level: view.level,
      groups,
      remainder: coreCount % groups.length,
      equal: groups.every((g) => g.selectedCores === groups[0]!.selectedCores),
      whole: groups.every((g) => g.selectedCores === g.totalCores),
    };
  }
  return none;
}

/**
 * Cpusets that satisfy the rule: the touched groups made whole, and the touched groups trimmed to
 * whole/equal ones. With `within` (the PUs of the processor's numa_preferred node), groups outside it are
 * dropped first, so the fix does not trade the L3 error for a NUMA one.
 */
export function sdrFixes(
  topo: Topology,
  a: SdrAnalysis,
  within?: readonly number[],
): { expand: number[]; trim: number[] } {
  const pu = new Map(topo.pus.map((p) => [p.id, p]));
  const inside = within && a.groups.filter((g) => g.allCpus.every((c) => within.includes(c)));
  const groups = inside && inside.length > 0 ? inside : a.groups;
  const expand = groups.flatMap((g) => g.allCpus);
  const full = groups.filter((g) => g.selectedCores === g.totalCores);
  let trim: number[];
  if (full.length > 0) trim = full.flatMap((g) => g.selectedCpus);
  else {
    // No group is whole: keep the same (smallest) number of cores from every touched group.
    const k = Math.min(...groups.map((g) => g.selectedCores));
    trim = groups.flatMap((g) => {
      const keepCores = [...new Set(g.selectedCpus.map((c) => pu.get(c)!.core))].slice(0, k);
      return g.selectedCpus.filter((c) => keepCores.includes(pu.get(c)!.core));
    });
  }
  const sort = (l: number[]) => [...new Set(l)].sort((x, y) => x - y);
  return { expand: sort(expand), trim: sort(trim) };
}
