import { formatSize } from "./format.ts";
import type { Topology } from "./topology.ts";

/**
 * The topology as a tree: Machine → Package → NUMANode → L3 → PUs (with --full also L2, L1d and Core).
 * Objects are nested by which PUs they cover rather than by a fixed order of levels, so machines where
 * one L3 spans two NUMA nodes (sub-NUMA clustering) still come out right: the bigger set is the parent.
 */

export type TreeKind = "Machine" | "Package" | "NUMANode" | "L3" | "L2" | "L1d" | "Core";

export interface TreeNode {
  kind: TreeKind;
  label: string;
  cpus: number[];
  children: TreeNode[];
  /** PUs directly below this object (not below any of its children). */
  pus: number[];
}

/** When two objects cover the same PUs, the lower rank is the parent (a package holding one node, etc.). */
const RANK: Record<TreeKind, number> = { Machine: 0, Package: 1, NUMANode: 2, L3: 3, L2: 4, L1d: 5, Core: 6 };

export function buildTree(topo: Topology, opts: { full?: boolean } = {}): TreeNode {
  const all = topo.pus.map((p) => p.id);
  const make = (kind: TreeKind, label: string, cpus: number[]): TreeNode => ({
    kind,
    label,
    cpus,
    children: [],
    pus: [],
  });
  const machine = make(
    "Machine",
    topo.memoryBytes === undefined ? "Machine" : `Machine (${formatSize(topo.memoryBytes)})`,
    all,
  );

  const objects: TreeNode[] = [];
  for (const p of topo.packages) {
    const mem = packageMemory(topo, p.cpus);
    const inner = [`#${p.id}`, mem === undefined ? undefined : formatSize(mem)].filter(Boolean).join(" ");
    objects.push(make("Package", `Package (${inner})${p.model ? ` (${p.model})` : ""}`, p.cpus));
  }
  const memoryOnly: TreeNode[] = [];
  for (const n of topo.numaNodes) {
    const inner = [`#${n.id}`, n.memTotalBytes === undefined ? undefined : formatSize(n.memTotalBytes)]
      .filter(Boolean)
      .join(" ");
    const node = make("NUMANode", `NUMANode (${inner})`, n.cpus);
    // A node without PUs (CXL, HBM-only) is contained in everything; hang it on the machine instead.
    if (n.cpus.length === 0) {
      node.label += " (no PUs)";
      memoryOnly.push(node);
    } else objects.push(node);
  }
  for (const c of topo.caches.l3) objects.push(make("L3", `L3 (#${c.index} ${formatSize(c.sizeBytes)})`, c.cpus));
  if (opts.full) {
    for (const c of topo.caches.l2) objects.push(make("L2", `L2 (#${c.index} ${formatSize(c.sizeBytes)})`, c.cpus));
    for (const c of topo.caches.l1d) objects.push(make("L1d", `L1d (#${c.index} ${formatSize(c.sizeBytes)})`, c.cpus));
    for (const c of topo.cores) objects.push(make("Core", `Core (#${c.index})`, c.cpus));
  }

  // Biggest first; equal sets ordered by rank so the usual level order wins ties.
  objects.sort((a, b) => b.cpus.length - a.cpus.length || RANK[a.kind] - RANK[b.kind]);
  const placed: TreeNode[] = [machine];
  const sets = new Map<TreeNode, Set<number>>([[machine, new Set(all)]]);
  for (const obj of objects) {
    const parent = smallestContaining(placed, sets, obj.cpus);
    parent.children.push(obj);
    placed.push(obj);
    sets.set(obj, new Set(obj.cpus));
  }
  for (const cpu of all) smallestContaining(placed, sets, [cpu]).pus.push(cpu);
  machine.children.push(...memoryOnly);
  sortTree(machine);
  return machine;
}

/** Scanning from the most recently placed (smallest, deepest) object finds the tightest container. */
function smallestContaining(placed: TreeNode[], sets: Map<TreeNode, Set<number>>, cpus: number[]): TreeNode {
  for (let i = placed.length - 1; i > 0; i--) {
    const s = sets.get(placed[i]!)!;
    if (cpus.every((c) => s.has(c))) return placed[i]!;
  }
  return placed[0]!;
}

function sortTree(node: TreeNode): void {
  node.children.sort((a, b) => (a.cpus[0] ?? Infinity) - (b.cpus[0] ?? Infinity) || RANK[a.kind] - RANK[b.kind]);
  node.pus.sort((a, b) => a - b);
  for (const c of node.children) sortTree(c);
}

function packageMemory(topo: Topology, cpus: number[]): number | undefined {
  const inPkg = new Set(cpus);
  const nodes = topo.numaNodes.filter((n) => n.cpus.length > 0 && n.cpus.every((c) => inPkg.has(c)));
  if (nodes.length === 0 || nodes.some((n) => n.memTotalBytes === undefined)) return undefined;
  return nodes.reduce((a, n) => a + n.memTotalBytes!, 0);
}

const PUS_PER_LINE = 16;

/** Box-drawing rendering, one object per line; the PUs right below an object share lines ("PU #0 + PU #1"). */
export function renderTree(root: TreeNode): string[] {
  const lines: string[] = [root.label];
  const walk = (node: TreeNode, prefix: string) => {
    const entries: ({ node: TreeNode } | { text: string })[] = node.children.map((c) => ({ node: c }));
    for (let i = 0; i < node.pus.length; i += PUS_PER_LINE) {
      entries.push({
        text: node.pus
          .slice(i, i + PUS_PER_LINE)
          .map((p) => `PU #${p}`)
          .join(" + "),
      });
    }
    entries.forEach((e, i) => {
      const last = i === entries.length - 1;
      const text = "node" in e ? e.node.label : e.text;
      lines.push(`${prefix}${last ? "└── " : "├── "}${text}`);
      if ("node" in e) walk(e.node, `${prefix}${last ? "    " : "│   "}`);
    });
  };
  walk(root, "");
  return lines;
}
