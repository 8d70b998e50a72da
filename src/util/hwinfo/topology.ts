import { formatCpuset } from "../../core/config/fields.ts";
import { parseMeminfo, parseSysfsSize, SysfsReader } from "./sysfs.ts";

/**
 * The CPU/memory topology an operator plans cpusets with: packages, NUMA nodes, cache groups, cores
 * and processing units (PUs = logical CPUs, the numbers a cgroup cpuset names). Plain data, so it
 * can be printed, serialised with --json, and handed to the config doctor.
 */

export interface CacheGroup {
  /** Logical index ordered by the group's first PU, as hwloc numbers them (`L3 #0`, `L3 #1`, …). */
  index: number;
  level: number;
  type: string;
  sizeBytes?: number;
  cpus: number[];
}

export interface Core {
  index: number;
  packageId: number;
  /** The kernel's core_id (unique only within a package). */
  coreId: number;
  cpus: number[];
}

export interface NumaNode {
  id: number;
  cpus: number[];
  memTotalBytes?: number;
  memFreeBytes?: number;
}

export interface Package {
  id: number;
  cpus: number[];
  model?: string;
}

export interface Pu {
  id: number;
  packageId: number;
  node: number;
  /** Index into `cores`. */
  core: number;
  /** Logical indexes into the cache lists; absent when the kernel gave no such cache. */
  l1d?: number;
  l2?: number;
  l3?: number;
}

export interface Topology {
  /** The sysfs root this was read from ("/sys" for the running machine). */
  source: string;
  pus: Pu[];
  cores: Core[];
  packages: Package[];
  numaNodes: NumaNode[];
  /** False when the tree had no devices/system/node: everything is put in node 0. */
  numaFromSysfs: boolean;
  caches: { l1d: CacheGroup[]; l2: CacheGroup[]; l3: CacheGroup[] };
  memoryBytes?: number;
  /** What could not be read and what was assumed instead, in words for the operator. */
  notes: string[];
}

export interface ReadTopologyOptions {
  /** Where `cpuinfo`/`meminfo` come from: "/proc" for the running machine, the dump root otherwise. */
  procRoot?: string;
}

const CPU_DIR = "devices/system/cpu";
const NODE_DIR = "devices/system/node";

/**
 * Reads the topology under `sysfsRoot` (`<root>/devices/system/cpu/…`, `<root>/devices/system/node/…`).
 * Never throws: whatever is missing is reported in `notes` and replaced by the simplest safe assumption.
 */
export function readTopology(sysfsRoot = "/sys", opts: ReadTopologyOptions = {}): Topology {
  const fs = new SysfsReader(sysfsRoot);
  const procRoot = opts.procRoot ?? (sysfsRoot === "/sys" ? "/proc" : sysfsRoot);
  const proc = new SysfsReader(procRoot);
  const notes: string[] = [];

  const cpuIds = onlineCpus(fs, notes);
  const topo = cpuIds.map((id) => ({
    id,
    packageId: fs.int(`${CPU_DIR}/cpu${id}/topology/physical_package_id`),
    coreId: fs.int(`${CPU_DIR}/cpu${id}/topology/core_id`),
    siblings:
      fs.cpuList(`${CPU_DIR}/cpu${id}/topology/core_cpus_list`) ??
      fs.cpuList(`${CPU_DIR}/cpu${id}/topology/thread_siblings_list`),
  }));
  if (cpuIds.length > 0 && topo.some((t) => t.packageId === undefined || t.coreId === undefined)) {
    notes.push(
      `no complete cpu topology under ${fs.path(CPU_DIR)}/cpuN/topology: missing values are taken as package 0 and one core per PU`,
    );
  }

  // Packages, with the CPU model when cpuinfo is at hand.
  const models = cpuModels(proc.text("cpuinfo"));
  const packages = new Map<number, Package>();
  for (const t of topo) {
    const pid = t.packageId ?? 0;
    const p = packages.get(pid) ?? { id: pid, cpus: [] };
    p.cpus.push(t.id);
    const model = models.get(t.id);
    if (model && !p.model) p.model = model;
    packages.set(pid, p);
  }

  // Cores: SMT siblings share one. The sibling list is the kernel's own answer; package+core_id is the fallback.
  const online = new Set(cpuIds);
  const coreKeyOf = new Map<number, string>();
  for (const t of topo) {
    const sib = t.siblings?.filter((c) => online.has(c));
    coreKeyOf.set(
      t.id,
      sib && sib.length > 0
        ? `s:${formatCpuset(sib)}`
        : t.coreId !== undefined
          ? `c:${t.packageId ?? 0}:${t.coreId}`
          : `p:${t.id}`,
    );
  }
  const coreGroups = groupBy(cpuIds, (c) => coreKeyOf.get(c)!);
  const cores: Core[] = coreGroups.map((cpus, index) => {
    const first = topo.find((t) => t.id === cpus[0])!;
    return { index, packageId: first.packageId ?? 0, coreId: first.coreId ?? first.id, cpus };
  });

  // Caches, grouped by the set of PUs sharing them.
  const caches = readCaches(fs, cpuIds, online);
  if (cpuIds.length > 0 && caches.l3.length === 0) {
    notes.push(
      `no L3 cache information under ${fs.path(CPU_DIR)}/cpuN/cache: L3 groups are unknown, so multicore-SDR cpusets cannot be checked against them`,
    );
  }

  // NUMA nodes; without the node directory the machine is one node, which is what a non-NUMA kernel means.
  const nodeDirs = fs.numberedDirs(NODE_DIR, /^node(\d+)$/);
  const numaFromSysfs = nodeDirs.length > 0;
  let numaNodes: NumaNode[];
  if (numaFromSysfs) {
    numaNodes = nodeDirs.map(({ name, n }) => {
      const mem = parseMeminfo(fs.text(`${NODE_DIR}/${name}/meminfo`));
      return {
        id: n,
        cpus: (fs.cpuList(`${NODE_DIR}/${name}/cpulist`) ?? []).filter((c) => online.has(c)),
        memTotalBytes: mem.MemTotal,
        memFreeBytes: mem.MemFree,
      };
    });
    const placed = new Set(numaNodes.flatMap((n) => n.cpus));
    const stray = cpuIds.filter((c) => !placed.has(c));
    if (stray.length > 0) {
      notes.push(
        `PUs ${formatCpuset(stray)} are in no NUMA node's cpulist; they are shown under node ${numaNodes[0]!.id}`,
      );
      numaNodes[0]!.cpus = [...numaNodes[0]!.cpus, ...stray].sort((a, b) => a - b);
    }
  } else {
    const mem = parseMeminfo(proc.text("meminfo"));
    numaNodes = [{ id: 0, cpus: [...cpuIds], memTotalBytes: mem.MemTotal, memFreeBytes: mem.MemFree }];
    notes.push(`no NUMA information under ${fs.path(NODE_DIR)}: the whole machine is treated as NUMA node 0`);
  }
  const nodeOf = new Map<number, number>();
  for (const n of numaNodes) for (const c of n.cpus) if (!nodeOf.has(c)) nodeOf.set(c, n.id);

  // The kernel's own total wins: on some VMs hot-added memory is missing from the per-node meminfo files.
  const nodeSum = sumDefined(numaNodes.map((n) => n.memTotalBytes));
  const procTotal = parseMeminfo(proc.text("meminfo")).MemTotal;
  const memoryBytes = procTotal !== undefined && (nodeSum === undefined || procTotal > nodeSum) ? procTotal : nodeSum;

  const indexIn = (groups: CacheGroup[]) => {
    const m = new Map<number, number>();
    for (const g of groups) for (const c of g.cpus) m.set(c, g.index);
    return m;
  };
  const l1dOf = indexIn(caches.l1d);
  const l2Of = indexIn(caches.l2);
  const l3Of = indexIn(caches.l3);
  const coreOf = new Map<number, number>();
  for (const core of cores) for (const c of core.cpus) coreOf.set(c, core.index);

  const pus: Pu[] = topo.map((t) => ({
    id: t.id,
    packageId: t.packageId ?? 0,
    node: nodeOf.get(t.id) ?? 0,
    core: coreOf.get(t.id)!,
    ...(l1dOf.has(t.id) ? { l1d: l1dOf.get(t.id)! } : {}),
    ...(l2Of.has(t.id) ? { l2: l2Of.get(t.id)! } : {}),
    ...(l3Of.has(t.id) ? { l3: l3Of.get(t.id)! } : {}),
  }));

  return {
    source: sysfsRoot,
    pus,
    cores,
    packages: [...packages.values()].sort((a, b) => a.id - b.id),
    numaNodes,
    numaFromSysfs,
    caches,
    ...(memoryBytes !== undefined ? { memoryBytes } : {}),
    notes,
  };
}

function onlineCpus(fs: SysfsReader, notes: string[]): number[] {
  const listed = fs.cpuList(`${CPU_DIR}/online`);
  if (listed && listed.length > 0) return listed;
  const dirs = fs.numberedDirs(CPU_DIR, /^cpu(\d+)$/).map((d) => d.n);
  if (dirs.length === 0) notes.push(`no CPU information under ${fs.path(CPU_DIR)}`);
  else notes.push(`${fs.path(`${CPU_DIR}/online`)} is unreadable: every cpuN directory is taken as online`);
  return dirs;
}

function readCaches(fs: SysfsReader, cpuIds: number[], online: Set<number>): Topology["caches"] {
  const byKey = new Map<string, { level: number; type: string; sizeBytes?: number; cpus: number[] }>();
  for (const cpu of cpuIds) {
    const base = `${CPU_DIR}/cpu${cpu}/cache`;
    for (const { name } of fs.numberedDirs(base, /^index(\d+)$/)) {
      const level = fs.int(`${base}/${name}/level`);
      if (level === undefined) continue;
      // Sizes and types are optional in dumps; an unknown type is treated as a unified cache.
      const type = fs.text(`${base}/${name}/type`) ?? "Unified";
      if (type === "Instruction") continue;
      const shared = (fs.cpuList(`${base}/${name}/shared_cpu_list`) ?? [cpu]).filter((c) => online.has(c));
      if (!shared.includes(cpu)) shared.push(cpu);
      shared.sort((a, b) => a - b);
      const key = `${level}:${type}:${formatCpuset(shared)}`;
      if (!byKey.has(key)) {
        const sizeBytes = parseSysfsSize(fs.text(`${base}/${name}/size`));
        byKey.set(key, { level, type, cpus: shared, ...(sizeBytes !== undefined ? { sizeBytes } : {}) });
      }
    }
  }
  const level = (n: number) =>
    [...byKey.values()]
      .filter((g) => g.level === n)
      .sort((a, b) => a.cpus[0]! - b.cpus[0]!)
      .map((g, index) => ({ index, ...g }));
  return { l1d: level(1), l2: level(2), l3: level(3) };
}

/** `model name` per processor from /proc/cpuinfo. */
function cpuModels(cpuinfo: string | undefined): Map<number, string> {
  const out = new Map<number, string>();
  if (!cpuinfo) return out;
  for (const block of cpuinfo.split(/\n\s*\n/)) {
    const id = /^processor\s*:\s*(\d+)/m.exec(block)?.[1];
    const model = /^model name\s*:\s*(.+)$/m.exec(block)?.[1];
    if (id !== undefined && model) out.set(Number(id), model.trim());
  }
  return out;
}

function groupBy(items: number[], key: (n: number) => string): number[][] {
  const m = new Map<string, number[]>();
  for (const it of items) {
    const k = key(it);
    const list = m.get(k) ?? [];
    list.push(it);
    m.set(k, list);
  }
  return [...m.values()].map((l) => l.sort((a, b) => a - b)).sort((a, b) => a[0]! - b[0]!);
}

function sumDefined(values: (number | undefined)[]): number | undefined {
  if (values.length === 0 || values.some((v) => v === undefined)) return undefined;
  return values.reduce<number>((a, b) => a + (b ?? 0), 0);
}
