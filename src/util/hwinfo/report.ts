import { type DiskInfo, readDisks } from "./disks.ts";
import { formatSize } from "./format.ts";
import { type GpuReport, gpusFor } from "./gpus.ts";
import { describePlan, type NodePlan, planByNode } from "./plan.ts";
import { readTopology, type Topology } from "./topology.ts";
import { buildTree, renderTree, type TreeNode } from "./tree.ts";

/** Everything `util hwinfo` shows, gathered once so text and JSON say the same thing. */
export interface HwReport {
  source: string;
  topology: Topology;
  plan: NodePlan[];
  gpus: GpuReport;
  disks: DiskInfo[];
}

export interface CollectOptions {
  /** sysfs root; "/sys" (the default) is the running machine. */
  sysfs?: string;
  /** PATH for finding nvidia-smi. */
  path?: string;
}

export function collectHwinfo(opts: CollectOptions = {}): HwReport {
  const source = opts.sysfs ?? "/sys";
  const topology = readTopology(source);
  return {
    source,
    topology,
    plan: planByNode(topology),
    gpus: gpusFor(source, opts.path !== undefined ? { path: opts.path } : {}),
    disks: readDisks(source),
  };
}

export function renderHwinfo(r: HwReport, opts: { full?: boolean } = {}): string {
  const out: string[] = [];
  const t = r.topology;
  out.push(`CPU topology (${r.source}):`);
  if (t.pus.length === 0) out.push("  no CPUs found");
  else out.push(...renderTree(buildTree(t, opts)));

  out.push(
    "",
    "PC1 cpuset planning (multicore SDR needs whole L3 groups, or the same number of cores in each L3 group it touches):",
  );
  out.push(...describePlan(t).map((l) => `  ${l}`));

  out.push("", "Memory per NUMA node:");
  for (const n of t.numaNodes) {
    const free = n.memFreeBytes === undefined ? "" : `, ${formatSize(n.memFreeBytes)} free`;
    out.push(
      `  NUMANode #${n.id}: ${n.memTotalBytes === undefined ? "size unknown" : `${formatSize(n.memTotalBytes)} total`}${free}`,
    );
  }

  out.push("", "GPUs:");
  if (r.gpus.gpus === undefined) out.push(`  ${r.gpus.note ?? "unknown"}`);
  else if (r.gpus.gpus.length === 0) out.push(`  none (${r.gpus.source} lists no GPU)`);
  else {
    for (const g of r.gpus.gpus) {
      out.push(
        `  GPU #${g.index}: ${g.name}${g.memoryMiB === undefined ? "" : `, ${formatSize(g.memoryMiB * 1024 ** 2)}`}`,
      );
    }
  }

  out.push("", "Disks:");
  if (r.disks.length === 0) out.push("  none found");
  const nameWidth = Math.max(0, ...r.disks.map((d) => d.name.length));
  for (const d of r.disks) {
    const all = d.mounts ?? [];
    const mounts = opts.full ? all : all.slice(0, 1);
    const where = mounts
      .map((m) =>
        m.freeBytes === undefined
          ? m.mountpoint
          : `${m.mountpoint} ${formatSize(m.freeBytes)} free of ${formatSize(m.totalBytes)}`,
      )
      .join("; ");
    const more = !opts.full && all.length > 1 ? ` (+${all.length - 1} more mounts, see --full)` : "";
    const model = opts.full && d.model ? ` ${d.model}` : "";
    out.push(
      `  ${d.name.padEnd(nameWidth)}  ${d.type.padEnd(4)}  ${formatSize(d.sizeBytes).padStart(10)}${model}${where ? `  ${where}` : d.mounts ? "  not mounted" : ""}${more}`,
    );
  }

  if (t.notes.length > 0) {
    out.push("", "Notes:");
    for (const n of t.notes) out.push(`  - ${n}`);
  }
  return `${out.join("\n")}\n`;
}

/** The same report as one JSON document (the tree included, for tools that want the nesting). */
export function hwinfoJson(
  r: HwReport,
  opts: { full?: boolean } = {},
): { source: string; tree: TreeNode; summary: string[] } & Omit<HwReport, "source"> {
  return {
    source: r.source,
    topology: r.topology,
    tree: buildTree(r.topology, opts),
    plan: r.plan,
    summary: describePlan(r.topology),
    gpus: r.gpus,
    disks: r.disks,
  };
}
